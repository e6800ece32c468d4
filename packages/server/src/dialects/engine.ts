import type { ClientCredentials, OAuthError, TokenRequest, TokenResult } from '@gatehouse/core'
import { OAuthError as Err, JWT_BEARER_ASSERTION } from '@gatehouse/core'
import { decodeJwt } from 'jose'
import { parseBasicAuth } from '../http/basic-auth.ts'
import { optional, parseForm } from '../http/form.ts'
import { parseJsonObject } from '../http/json.ts'
import { type HttpInput, type HttpReply, header } from '../http/types.ts'
import type { CredentialFields, DialectDescription, DialectRoute } from './description.ts'
import type { TokenDialect } from './dialect.ts'
import { compile } from './template.ts'

// The answer's values that JSON never escapes (TokenResult says why), written as they are.
const TOKENS = new Set(['access_token', 'refresh_token'])

/** Turns a dialect description into the parse/render adapter the listener calls. */
export function createDialect(description: DialectDescription): TokenDialect {
  const { credentials: fields, policy } = description
  const success = compile(description.success, TOKENS)
  const failure = compile(description.error)
  const tokenRequest = (
    http: HttpInput,
    route: DialectRoute,
    body: Record<string, string>,
  ): TokenRequest => ({
    grantType:
      route.grantType ??
      (description.grantTypeField ? optional(body, description.grantTypeField) : undefined),
    credentials: credentialsOf(
      fields,
      body,
      header(http, 'authorization'),
      route.requiresClientSecret === true,
    ),
    parameters: body,
    policy,
    remoteAddress: http.remoteAddress,
  })
  return {
    name: description.name,
    routes: description.routes,
    grants: policy.grants,

    // One function literal per body format: the closures made from one literal share V8's type
    // feedback, so with a single `parse` JSON requests shaped the code that form requests ran
    // (V8 inlined parseForm into it on thin feedback; bench/HISTORY.md has the measurements).
    parse:
      description.body === 'form'
        ? (http: HttpInput, route: DialectRoute) => tokenRequest(http, route, parseForm(http))
        : (http: HttpInput, route: DialectRoute) => tokenRequest(http, route, parseJsonObject(http)),

    render(result: TokenResult): HttpReply {
      return {
        status: 200,
        json: success({
          access_token: result.accessToken,
          token_type: result.tokenType,
          expires_in: result.expiresIn,
          scope: result.scope,
          refresh_token: result.refreshToken,
        }),
      }
    },

    renderError(error: OAuthError, credentials?: ClientCredentials): HttpReply {
      const entry = description.errors[error.code] ?? {}
      // A body over the limit keeps its 413, and a wrong method its 405, whatever the table says.
      const status =
        error.status === 413 || error.status === 405 ? error.status : (entry.status ?? error.status)
      const headers: Record<string, string> = {}
      // RFC 6749 §5.2: a failed Basic authentication is answered with the scheme it used.
      if (status === 401 && credentials?.method === 'client_secret_basic') {
        headers['www-authenticate'] = 'Basic realm="gatehouse", charset="UTF-8"'
      }
      if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter)
      const json = failure({
        status,
        code: entry.code ?? error.code,
        message: entry.message ?? error.description,
      })
      return { status, headers, json }
    },
  }
}

/** RFC 7523 §2.2's client_assertion, with the subject it claims (checked later, with the signature). */
function clientAssertion(body: Record<string, string>): { jwt: string; subject: string } | undefined {
  const type = optional(body, 'client_assertion_type')
  const jwt = optional(body, 'client_assertion')
  if (type === undefined && jwt === undefined) return undefined
  if (type !== JWT_BEARER_ASSERTION || jwt === undefined) {
    throw new Err('invalid_request', `client_assertion needs client_assertion_type ${JWT_BEARER_ASSERTION}.`)
  }
  let subject: unknown
  try {
    subject = decodeJwt(jwt).sub
  } catch {
    throw new Err('invalid_request', 'client_assertion is not a JWT.')
  }
  if (typeof subject !== 'string' || subject === '')
    throw new Err('invalid_request', 'client_assertion has no sub.')
  return { jwt, subject }
}

export function credentialsOf(
  fields: CredentialFields,
  body: Record<string, string>,
  authorization: string | undefined,
  secretRequired: boolean,
): ClientCredentials | undefined {
  if (fields.scheme === 'signature') {
    const clientId = optional(body, fields.clientId)
    const time = optional(body, fields.time)
    const signature = optional(body, fields.signature)
    if (!clientId || !time || !signature) {
      throw new Err(
        'invalid_request',
        `The ${fields.clientId}, ${fields.time} and ${fields.signature} fields are required.`,
      )
    }
    if (!/^\d{1,16}$/.test(time))
      throw new Err(
        'invalid_request',
        `The ${fields.time} field must be a Unix time in seconds or milliseconds.`,
      )
    return { method: 'signature', clientId, time, signature }
  }
  const basic = fields.basic ? parseBasicAuth(authorization) : undefined
  const bodyId = optional(body, fields.clientId)
  const bodySecret = optional(body, fields.clientSecret)
  const assertion = clientAssertion(body)
  if (assertion !== undefined) {
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method.
    if (basic || bodySecret !== undefined)
      throw new Err('invalid_request', 'Use one client authentication method, not several.')
    const clientId = bodyId ?? assertion.subject
    if (bodyId !== undefined && assertion.subject !== bodyId)
      throw new Err('invalid_request', 'client_id does not match the assertion.')
    return { method: 'private_key_jwt', clientId, assertion: assertion.jwt }
  }
  if (basic) {
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method.
    if (bodySecret !== undefined)
      throw new Err(
        'invalid_request',
        'Use one client authentication method, not both Basic and a secret in the body.',
      )
    if (bodyId !== undefined && bodyId !== basic.clientId)
      throw new Err('invalid_request', 'client_id does not match the Basic credentials.')
    return { method: 'client_secret_basic', clientId: basic.clientId, secret: basic.secret }
  }
  if (secretRequired && (bodyId === undefined || bodySecret === undefined)) {
    throw new Err('invalid_request', `The ${fields.clientId} and ${fields.clientSecret} fields are required.`)
  }
  if (bodyId === undefined) return undefined
  if (bodySecret === undefined) return { method: 'none', clientId: bodyId }
  return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret }
}
