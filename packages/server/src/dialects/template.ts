import type { Template } from './description.ts'

type Values = Readonly<Record<string, unknown>>
/** The JSON text of a template's value, or undefined where the value is absent. */
type Part = (values: Values) => string | undefined
export type Render = (values: Values) => string

/**
 * Compiles a template once, for the life of the dialect, into a function that writes its JSON
 * text: "$name" strings become values, and keys whose value is undefined are dropped, so
 * optional fields disappear.
 *
 * The values named in `verbatim` are strings that JSON never escapes, by how they are made (a
 * compact JWS and a refresh token are base64url and dots), and are written between quotes as
 * they are. JSON.stringify reads every character of a string to escape it, and an access token
 * is hundreds of them: about 7,000 instructions a token (`npm run bench -- --instructions`).
 */
export function compile(template: Template, verbatim: ReadonlySet<string> = new Set()): Render {
  const part = compilePart(template, verbatim)
  return (values) => part(values) ?? 'null'
}

function compilePart(template: Template, verbatim: ReadonlySet<string>): Part {
  if (typeof template === 'string' && template.startsWith('$')) {
    const name = template.slice(1)
    if (verbatim.has(name))
      return (values) => {
        const value = values[name]
        return typeof value === 'string' ? `"${value}"` : json(value)
      }
    return (values) => json(values[name])
  }
  if (Array.isArray(template)) {
    const items = template.map((item) => compilePart(item, verbatim))
    // JSON.stringify's rule: an absent item of an array is null.
    return (values) => `[${items.map((item) => item(values) ?? 'null').join(',')}]`
  }
  if (template !== null && typeof template === 'object') {
    const fields = Object.entries(template).map(
      ([key, value]) => ({ key: `${JSON.stringify(key)}:`, part: compilePart(value, verbatim) }) as const,
    )
    return (values) => {
      let out = ''
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i]!
        const text = field.part(values)
        if (text !== undefined) out += out === '' ? field.key + text : `,${field.key}${text}`
      }
      return `{${out}}`
    }
  }
  const constant = JSON.stringify(template)
  return () => constant
}

/** JSON.stringify, whose answer is undefined for undefined (and for functions and symbols). */
function json(value: unknown): string | undefined {
  return JSON.stringify(value) as string | undefined
}
