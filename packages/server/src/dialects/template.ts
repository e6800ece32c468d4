import type { Template } from './description.ts'

/** Fills a template: "$name" strings become values; keys whose value is undefined are dropped. */
export function fill(template: Template, values: Readonly<Record<string, unknown>>): unknown {
  if (typeof template === 'string') return template.startsWith('$') ? values[template.slice(1)] : template
  if (Array.isArray(template)) return template.map((item) => fill(item, values))
  if (template === null || typeof template !== 'object') return template
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(template)) {
    const filled = fill(value, values)
    if (filled !== undefined) out[key] = filled
  }
  return out
}
