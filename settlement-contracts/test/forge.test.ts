import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Runs the Solidity suite (unit, fuzz, invariant, reentrancy, vectors, gas) as part of `npm test`.
const script = fileURLToPath(new URL('../script/forge-test.mjs', import.meta.url))

describe('forge suite', () => {
  it('passes offline with the npm forge and solc', () => {
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    const output = `${result.stdout}\n${result.stderr}`
    expect(result.error, output).toBeUndefined()
    expect(result.status, output).toBe(0)
    expect(output).toMatch(/test suites .* 0 failed/)
  }, 600_000)
})
