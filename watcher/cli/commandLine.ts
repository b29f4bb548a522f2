import { parseArgs } from 'node:util'
import type { z } from 'zod'

export type CommandLine<T> =
  | { help: true }
  | {
      help: false
      positionals: string[]
      /** Every problem found, each naming its option; empty when `data` is set. */
      problems: string[]
      /** The checked options, or null when the schema refused them. */
      data: T | null
    }

/**
 * Reads `argv`, every option a string (plus `--help`/`-h`), checks the options with `schema`, and lists
 * every problem at once: unknown options, options without a value, missing or malformed ones. The
 * `key` option may come from the environment variable `keyEnv` instead (the flag shows in `ps`).
 */
export function readCommandLine<T>(
  argv: readonly string[],
  stringOptions: readonly string[],
  schema: z.ZodType<T>,
  keyEnv: { name: string; value: string | undefined },
): CommandLine<T> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(stringOptions.map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
    allowPositionals: true,
  })
  if (values.help === true) return { help: true }
  const problems: string[] = []
  const input: Record<string, unknown> = { ...values }
  for (const name of stringOptions) {
    if (input[name] === true) {
      problems.push(`--${name}: needs a value`)
      delete input[name]
    }
  }
  if (input.key === undefined && keyEnv.value !== undefined && keyEnv.value !== '') input.key = keyEnv.value
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push(`--${k}: unknown option`)
        continue
      }
      const name = String(issue.path[0] ?? '')
      const from = name === 'key' && values.key === undefined ? ` (from ${keyEnv.name})` : ''
      problems.push(`--${name}${from}: ${input[name] === undefined ? 'is required' : issue.message}`)
    }
  }
  return { help: false, positionals, problems, data: parsed.success ? parsed.data : null }
}
