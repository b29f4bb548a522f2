import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import secp256k1 from 'secp256k1'
import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { z } from 'zod'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import type { EngineConfig } from '../../engine/config.ts'
import { EngineConfigError } from '../../engine/validateConfig.ts'
import type { DataMode } from '../../settlement-contracts/ts/client.ts'
import {
  engineConfigOf,
  engineConfigShape,
  jsonBigint,
  jsonInt,
} from '../../settlement-contracts/ts/genesis.ts'
import { SequencerError, SequencerErrorCode } from '../errors.ts'
import type { Durability } from '../log/opLog.ts'

/**
 * The node's configuration: a JSON file (`--config <file>` or SCE_CONFIG) overlaid by environment
 * variables, validated by zod at start. Field reference: docs/operations.md, "Configuration".
 */
export interface NodeConfig {
  /** Absolute. Holds sequencer.db. */
  dataDir: string
  /** chainId and settlementAddress live here: they are part of the EIP-712 domain. */
  engine: EngineConfig
  /** The operator's L1 key, for the batcher (not built yet). Never logged; see `describeNodeConfig`. */
  operatorPrivateKey: Hex | null
  /** L1 JSON-RPC endpoint, for the inbox reader and batcher (not built yet). */
  rpcUrl: string | null
  /**
   * The batcher: seal every `maxOps` ops or `intervalMs`, whichever comes first; `proverUrl` is the
   * prover-stub coordinator that answers challenges; `repostReverted` re-posts our reverted batches;
   * `dataMode` is how batch data goes to L1.
   */
  batch: {
    maxOps: number
    intervalMs: number
    proverUrl: string | null
    repostReverted: boolean
    /** `'blobs'` (EIP-4844, the default) or `'calldata'`; see docs/operations.md, "Batches". */
    dataMode: DataMode
  }
  /**
   * Devnet only: a simulated oracle publisher signing a seeded random walk with these oracle keys. Never
   * set on a real deployment: the oracle set's keys belong to the oracle operators.
   */
  devOracle: { privateKeys: Hex[]; seed: number; intervalMs: number; startPriceTicks: number[] } | null
  /** Following L1: the inbox reader's confirmations and polling, and where event scans start. */
  l1: { confirmations: number; pollIntervalMs: number; fromBlock: bigint }
  durability: Durability
  workers: number
  snapshotIntervalOps: number
  snapshotsKept: number
  timeAdvanceIntervalMs: number
  maxGroupOps: number
  maxPendingIntents: number
  logLevel: LogLevel
  /** Loopback port serving Prometheus `/metrics`; null for none. */
  metricsPort: number | null
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** Environment variables and the config field each one sets. */
export const ENV_VARS = {
  SCE_DATA_DIR: 'dataDir',
  SCE_CHAIN_ID: 'chainId',
  SCE_SETTLEMENT_ADDRESS: 'settlementAddress',
  SCE_OPERATOR_PRIVATE_KEY: 'operatorPrivateKey',
  SCE_RPC_URL: 'rpcUrl',
  SCE_DURABILITY: 'durability',
  SCE_WORKERS: 'workers',
  SCE_SNAPSHOT_INTERVAL_OPS: 'snapshotIntervalOps',
  SCE_SNAPSHOTS_KEPT: 'snapshotsKept',
  SCE_TIME_ADVANCE_INTERVAL_MS: 'timeAdvanceIntervalMs',
  SCE_MAX_GROUP_OPS: 'maxGroupOps',
  SCE_MAX_PENDING_INTENTS: 'maxPendingIntents',
  SCE_BATCH_MAX_OPS: 'batch.maxOps',
  SCE_BATCH_INTERVAL_MS: 'batch.intervalMs',
  SCE_PROVER_URL: 'batch.proverUrl',
  SCE_BATCH_DATA_MODE: 'batch.dataMode',
  SCE_L1_CONFIRMATIONS: 'l1.confirmations',
  SCE_L1_FROM_BLOCK: 'l1.fromBlock',
  SCE_LOG_LEVEL: 'logLevel',
  SCE_METRICS_PORT: 'metricsPort',
} as const

const int = jsonInt

const fileSchema = z.strictObject({
  dataDir: z.string().min(1),
  ...engineConfigShape,
  operatorPrivateKey: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits')
    .nullable()
    .default(null),
  rpcUrl: z.url().nullable().default(null),
  batch: z
    .strictObject({
      maxOps: int(1).default(1_000),
      intervalMs: int(1).default(2_000),
      proverUrl: z.url().nullable().default(null),
      repostReverted: z.boolean().default(false),
      dataMode: z.enum(['blobs', 'calldata']).default('blobs'),
    })
    .default({ maxOps: 1_000, intervalMs: 2_000, proverUrl: null, repostReverted: false, dataMode: 'blobs' }),
  devOracle: z
    .strictObject({
      privateKeys: z
        .array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits'))
        .min(1),
      seed: jsonInt(0, 0xffff_ffff).default(1),
      intervalMs: jsonInt(10).default(1_000),
      startPriceTicks: z.array(jsonInt(1)).min(1),
    })
    .nullable()
    .default(null),
  l1: z
    .strictObject({
      confirmations: int(0, 1_000).default(2),
      pollIntervalMs: int(10).default(1_000),
      fromBlock: jsonBigint.default(0n),
    })
    .default({ confirmations: 2, pollIntervalMs: 1_000, fromBlock: 0n }),
  durability: z.enum(['full', 'normal']).default('full'),
  workers: int(0, 256).optional(),
  snapshotIntervalOps: int(0).default(100_000),
  snapshotsKept: int(1, 100).default(2),
  timeAdvanceIntervalMs: int(0).default(1_000),
  maxGroupOps: int(1, 1_000_000).default(8_192),
  maxPendingIntents: int(1).default(100_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  metricsPort: int(0, 65_535).nullable().default(null),
})

export interface LoadNodeConfigOptions {
  /** Path of the JSON file; defaults to env SCE_CONFIG. Optional when the environment sets everything required. */
  file?: string
  env?: Readonly<Record<string, string | undefined>>
}

/** Reads, merges and validates; throws SequencerError CONFIG_INVALID listing every problem. */
export function loadNodeConfig(options: LoadNodeConfigOptions = {}): NodeConfig {
  const env = options.env ?? process.env
  const file = options.file ?? env.SCE_CONFIG
  let raw: Record<string, unknown> = {}
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw invalid([`cannot read the config file ${file}: ${(error as Error).message}`])
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>
    } catch (error) {
      throw invalid([`${file} is not valid JSON: ${(error as Error).message}`])
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalid([`${file} must hold a JSON object`])
  }
  const fromEnv = new Map<string, string>()
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    setPath(raw, path, value)
    fromEnv.set(path, name)
  }
  const parsed = fileSchema.safeParse(raw)
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => {
        const path = issue.path.map(String).join('.')
        const source = fromEnv.has(path) ? ` (from ${fromEnv.get(path)})` : ''
        return `${path === '' ? '(root)' : path}${source}: ${issue.message}`
      }),
    )
  }
  const c = parsed.data
  let engine: EngineConfig
  try {
    engine = engineConfigOf(c)
  } catch (error) {
    if (error instanceof EngineConfigError) throw invalid([error.message])
    throw error
  }
  const baseDir = file !== undefined && !fromEnv.has('dataDir') ? dirname(resolve(file)) : process.cwd()
  return {
    dataDir: resolve(baseDir, c.dataDir),
    engine,
    operatorPrivateKey: c.operatorPrivateKey === null ? null : (c.operatorPrivateKey.toLowerCase() as Hex),
    rpcUrl: c.rpcUrl,
    batch: c.batch,
    devOracle:
      c.devOracle === null
        ? null
        : { ...c.devOracle, privateKeys: c.devOracle.privateKeys.map((k) => k as Hex) },
    l1: c.l1,
    durability: c.durability,
    workers: c.workers ?? availableParallelism(),
    snapshotIntervalOps: c.snapshotIntervalOps,
    snapshotsKept: c.snapshotsKept,
    timeAdvanceIntervalMs: c.timeAdvanceIntervalMs,
    maxGroupOps: c.maxGroupOps,
    maxPendingIntents: c.maxPendingIntents,
    logLevel: c.logLevel,
    metricsPort: c.metricsPort,
  }
}

/** What may be logged about a configuration: everything but the key, which is shown as its address. */
export function describeNodeConfig(c: NodeConfig): Record<string, unknown> {
  return {
    dataDir: c.dataDir,
    chainId: c.engine.chainId.toString(),
    settlementAddress: c.engine.settlementAddress,
    markets: c.engine.markets.map((m) => m.symbol),
    oracleSigners: c.engine.oracle.signers,
    operatorAddress: c.operatorPrivateKey === null ? null : operatorAddress(c.operatorPrivateKey),
    rpcUrl: c.rpcUrl === null ? null : redactUrl(c.rpcUrl),
    batch: { ...c.batch, proverUrl: c.batch.proverUrl === null ? null : redactUrl(c.batch.proverUrl) },
    l1: { ...c.l1, fromBlock: c.l1.fromBlock.toString() },
    devOracle:
      c.devOracle === null ? null : { signers: c.devOracle.privateKeys.length, seed: c.devOracle.seed },
    durability: c.durability,
    workers: c.workers,
    snapshotIntervalOps: c.snapshotIntervalOps,
    timeAdvanceIntervalMs: c.timeAdvanceIntervalMs,
    metricsPort: c.metricsPort,
  }
}

/** The L1 address of a private key (the key itself never leaves this function). */
export function operatorAddress(privateKey: Hex): Address {
  const key = hexToBytes(privateKey)
  if (!secp256k1.privateKeyVerify(key))
    throw invalid(['operatorPrivateKey: is not a valid secp256k1 private key'])
  const pub = secp256k1.publicKeyCreate(key, false)
  return bytesToHex(keccak256(pub.subarray(1)).subarray(12)) as Address
}

/** RPC URLs often carry an API key in the path or query: keep scheme and host only. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname === '/' && u.search === '' ? '' : '/…'}`
  } catch {
    return '(invalid url)'
  }
}

function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    if (typeof next !== 'object' || next === null) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[parts.at(-1)!] = value
}

function invalid(problems: string[]): SequencerError {
  return new SequencerError(
    SequencerErrorCode.CONFIG_INVALID,
    `Invalid sequencer configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    { details: 'See docs/operations.md, "Configuration".' },
  )
}
