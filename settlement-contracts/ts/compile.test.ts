import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type ArtifactsManifest,
  CONTRACTS_ROOT,
  type CompiledContract,
  compileContracts,
  exportPrefix,
  readSources,
  sourcesFingerprint,
} from './compile.ts'
import * as abis from './generated/abis.ts'
import * as bytecodes from './generated/bytecode.ts'

/**
 * The committed artifacts and generated modules must be what the sources compile to today. When this
 * fails, run `npx tsx settlement-contracts/ts/compile.ts` and commit the result.
 */
const STALE =
  'stale: run `npx tsx settlement-contracts/ts/compile.ts` and commit artifacts/ and ts/generated/'

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(CONTRACTS_ROOT, 'artifacts', name), 'utf8')) as T
}

describe('contract artifacts', () => {
  const manifest = readJson<ArtifactsManifest>('manifest.json')

  it('the manifest fingerprints the current sources, settings and compiler', () => {
    expect(manifest.sourcesHash, STALE).toBe(sourcesFingerprint(readSources()))
    expect(abis.sourcesHash, STALE).toBe(manifest.sourcesHash)
  })

  it('recompiling gives the committed artifacts and generated exports, byte for byte', () => {
    const result = compileContracts()
    expect(result.sourcesHash).toBe(manifest.sourcesHash)
    expect(manifest.contracts, STALE).toEqual(result.contracts.map((c) => c.contractName))
    const generatedAbis = abis as Record<string, unknown>
    const generatedBytecode = bytecodes as Record<string, unknown>
    for (const c of result.contracts) {
      expect(readJson<CompiledContract>(`${c.contractName}.json`), `${c.contractName}: ${STALE}`).toEqual(c)
      const prefix = exportPrefix(c.contractName)
      expect(generatedAbis[`${prefix}Abi`], `${prefix}Abi: ${STALE}`).toEqual(
        c.abi.length > 0 ? c.abi : undefined,
      )
      const deployable = c.abi.length > 0 && c.bytecode !== '0x'
      expect(generatedBytecode[`${prefix}Bytecode`], `${prefix}Bytecode: ${STALE}`).toBe(
        deployable ? c.bytecode : undefined,
      )
    }
  }, 60_000)

  it('the fingerprint changes with any source byte', () => {
    const sources = readSources()
    const [first] = Object.keys(sources)
    expect(first).toBeDefined()
    const edited = { ...sources, [first!]: { content: `${sources[first!]!.content} ` } }
    expect(sourcesFingerprint(edited)).not.toBe(sourcesFingerprint(sources))
  })

  it('the Settlement runtime code fits the EIP-170 limit', () => {
    const settlement = readJson<CompiledContract>('Settlement.json')
    expect((settlement.deployedBytecode.length - 2) / 2).toBeLessThanOrEqual(24_576)
  })
})
