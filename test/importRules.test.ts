import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The import rules of DESIGN.md, checked on every TypeScript file. A part may import itself, the parts
 * listed for it, and npm packages; `engine/` may use only hashing and encoding packages and no Node
 * built-ins at all outside its tests and vector generators.
 */
const ROOT = join(import.meta.dirname, '..')
const PARTS = [
  'engine',
  'settlement-contracts',
  'sequencer',
  'watcher',
  'prover-stub',
  'api',
  'test',
  'bench',
  'demo',
] as const
type Part = (typeof PARTS)[number]

const MAY_IMPORT: Record<Part, readonly Part[] | 'anything'> = {
  engine: [],
  'settlement-contracts': ['engine'],
  sequencer: ['engine', 'settlement-contracts'],
  watcher: ['engine', 'settlement-contracts'],
  'prover-stub': ['engine', 'settlement-contracts'],
  api: ['sequencer', 'engine'],
  test: 'anything',
  bench: 'anything',
  demo: 'anything',
}

/**
 * What engine source may import from npm: hashing and encoding, nothing with I/O. `secp256k1` is here
 * because signer recovery must be one implementation for every replayer (sequencer, watcher, prover):
 * two libraries that disagreed on an edge case (a high-s signature, say) would fork the state.
 * `fflate` inflates posted batch data.
 */
const ENGINE_PACKAGES = ['viem', '@noble/hashes', 'hash-wasm', 'secp256k1', 'fflate']

function isEngineToolFile(file: string): boolean {
  return (
    /\.(test|bench|fuzz)\.ts$/.test(file) ||
    /\/vectors\/generate\.ts$/.test(file) ||
    file.startsWith('engine/testing/')
  )
}

function* typescriptFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* typescriptFiles(path)
    else if (name.endsWith('.ts')) yield path
  }
}

function importsOf(source: string): string[] {
  const specifiers: string[] = []
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const m of source.matchAll(re)) specifiers.push((m[1] ?? m[2] ?? m[3])!)
  return specifiers
}

function partOf(path: string): Part | undefined {
  const first = relative(ROOT, path).split(sep)[0]
  return PARTS.find((p) => p === first)
}

function violations(): string[] {
  const found: string[] = []
  for (const part of PARTS) {
    let root: string
    try {
      root = join(ROOT, part)
      if (!statSync(root).isDirectory()) continue
    } catch {
      continue
    }
    const allowed = MAY_IMPORT[part]
    for (const file of typescriptFiles(root)) {
      const rel = relative(ROOT, file)
      const tool = part === 'engine' && isEngineToolFile(rel)
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = partOf(join(file, '..', spec))
          if (target === undefined) found.push(`${rel}: imports ${spec}, outside every part`)
          else if (target !== part && allowed !== 'anything' && !allowed.includes(target)) {
            found.push(`${rel}: ${part} may not import ${target} (${spec})`)
          }
        } else if (part === 'engine' && !tool) {
          if (spec.startsWith('node:')) found.push(`${rel}: engine may not import the Node built-in ${spec}`)
          else if (!ENGINE_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
            found.push(`${rel}: engine may import only hashing and encoding packages, not ${spec}`)
          }
        }
      }
    }
  }
  return found
}

describe('import rules', () => {
  it('every part imports only what DESIGN.md allows', () => {
    expect(violations()).toEqual([])
  })

  it('the checker sees every import form', () => {
    const src = `import a from './a.ts'\nimport type { B } from "../b.ts"\nexport { c } from './c.ts'\nimport './side.ts'\nconst d = await import('node:fs')`
    expect(importsOf(src)).toEqual(['./a.ts', '../b.ts', './c.ts', './side.ts', 'node:fs'])
  })
})
