import type { FastifyReply, FastifyRequest } from 'fastify'
import { LogController } from 'fastify'
import pino, { type Logger } from 'pino'

/**
 * JSON logs that never carry a credential: headers are not logged at all, and the URL is
 * logged without its query string, where a careless client may have put a secret. Standard
 * output is written asynchronously in batches of 4 KiB or 200 ms, whichever comes first
 * (flushed on shutdown): under load a line does not cost a system call on the token path,
 * and an idle server's lines still show at once. The token endpoints' access lines are
 * batched before they get here (http/access-log.ts), so they show within 400 ms.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      serializers: {
        req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url?.split('?')[0],
          remoteAddress: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    (destination as pino.DestinationStream | undefined) ??
      pino.destination({
        dest: 1,
        sync: false,
        minLength: 4096,
        periodicFlush: 200,
      }),
  )
}

/** One access-log line per request, when it completes, rather than one on arrival and one on completion. */
export class AccessLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else reply.log.info(line, 'request completed')
  }
}
