import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { engineConfigToJson } from '../../settlement-contracts/ts/genesis.ts'
import { sequencerTestConfig, TestKey } from '../testing/testKeys.ts'
import { describeNodeConfig, loadNodeConfig } from './nodeConfig.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sce-config-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const engine = sequencerTestConfig()
const KEY = TestKey.fromSeed(77)

function write(content: unknown): string {
  const file = join(dir, 'node.json')
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

describe('loadNodeConfig', () => {
  it('reads the engine configuration back exactly, with defaults and a dataDir relative to the file', () => {
    const file = write({ ...engineConfigToJson(engine), dataDir: 'data' })
    const c = loadNodeConfig({ file, env: {} })
    expect(c.engine).toEqual(engine)
    expect(c.dataDir).toBe(join(dir, 'data'))
    expect(c).toMatchObject({
      durability: 'full',
      snapshotIntervalOps: 100_000,
      operatorPrivateKey: null,
      metricsPort: null,
    })
  })

  it('lets environment variables override the file, and reads a config from the environment alone', () => {
    const file = write({ ...engineConfigToJson(engine), dataDir: 'data', workers: 4 })
    const c = loadNodeConfig({
      file,
      env: { SCE_WORKERS: '1', SCE_DURABILITY: 'normal', SCE_BATCH_MAX_OPS: '50', SCE_DATA_DIR: '/var/sce' },
    })
    expect(c).toMatchObject({
      workers: 1,
      durability: 'normal',
      batch: { maxOps: 50, intervalMs: 2_000 },
      dataDir: '/var/sce',
    })
    const viaEnv = loadNodeConfig({ env: { SCE_CONFIG: file, SCE_CHAIN_ID: '1' } })
    expect(viaEnv.engine.chainId).toBe(1n)
  })

  it('lists every problem, naming the field and the variable it came from', () => {
    const file = write({ ...engineConfigToJson(engine), dataDir: 'data', durability: 'sometimes', bogus: 1 })
    let message = ''
    try {
      loadNodeConfig({ file, env: { SCE_WORKERS: 'many', SCE_SETTLEMENT_ADDRESS: '0x12' } })
    } catch (error) {
      message = (error as Error).message
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
    }
    expect(message).toMatch(/settlementAddress \(from SCE_SETTLEMENT_ADDRESS\)/)
    expect(message).toMatch(/workers \(from SCE_WORKERS\)/)
    expect(message).toMatch(/durability/)
    expect(message).toMatch(/bogus/)
  })

  it('passes the engine’s own validation errors through', () => {
    const json = engineConfigToJson(engine) as { markets: { marketId: number }[] }
    json.markets[1]!.marketId = 5
    expect(() => loadNodeConfig({ file: write({ ...json, dataDir: 'd' }), env: {} })).toThrow(
      /markets\[1\]\.marketId/,
    )
    expect(() => loadNodeConfig({ file: write('{not json'), env: {} })).toThrow(/not valid JSON/)
  })

  it('never puts the operator key in what may be logged', () => {
    const file = write({
      ...engineConfigToJson(engine),
      dataDir: 'data',
      rpcUrl: 'https://rpc.example/v2/SECRET',
    })
    const c = loadNodeConfig({ file, env: { SCE_OPERATOR_PRIVATE_KEY: KEY.privateKeyHex } })
    expect(c.operatorPrivateKey).toBe(KEY.privateKeyHex)
    const described = JSON.stringify(describeNodeConfig(c))
    expect(described).not.toContain(KEY.privateKeyHex.slice(2))
    expect(described).not.toContain('SECRET')
    expect(describeNodeConfig(c).operatorAddress).toBe(KEY.address)
  })
})
