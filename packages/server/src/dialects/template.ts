import type { Template } from './description.ts'

type Values = Readonly<Record<string, unknown>>
export type Render = (values: Values) => unknown

/**
 * Compiles a template once, for the life of the dialect: "$name" strings become values, and
 * keys whose value is undefined are dropped, so optional fields disappear.
 */
export function compile(template: Template): Render {
  if (typeof template === 'string' && template.startsWith('$')) {
    const name = template.slice(1)
    return (values) => values[name]
  }
  if (Array.isArray(template)) {
    const items = template.map(compile)
    return (values) => items.map((item) => item(values))
  }
  if (template !== null && typeof template === 'object') {
    const fields = Object.entries(template).map(([key, value]) => [key, compile(value)] as const)
    return (values) => {
      const out: Record<string, unknown> = {}
      for (const [key, field] of fields) {
        const value = field(values)
        if (value !== undefined) out[key] = value
      }
      return out
    }
  }
  return () => template
}
