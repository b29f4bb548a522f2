import { type Address, bytesToHex, type Hex } from 'viem'
import { z } from 'zod'
import { DEFAULT_FUNDING, DEFAULT_NONCE_WINDOW, type EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import { engineConfigHash } from '../../engine/state/globalsDigest.ts'
import { EngineConfigError, validateConfig } from '../../engine/validateConfig.ts'
import type { SettlementClient } from './client.ts'
import type { SettlementGenesis } from './deploy.ts'

/**
 * The engine configuration as JSON (bigints as decimal strings): what a deployment writes next to the
 * contract, what the sequencer's config file embeds, and what a watcher or prover reads to replay. The
 * contract commits to it twice: CONFIG_HASH is `engineConfigHash(config)`, and GENESIS_STATE_ROOT
 * commits to the markets; `checkGenesisOnChain` checks both.
 */
export function engineConfigToJson(config: EngineConfig): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(
      {
        chainId: config.chainId,
        settlementAddress: config.settlementAddress,
        markets: config.markets,
        oracle: config.oracle,
        nonceWindow: config.nonceWindow,
        maxOpenOrdersPerAccount: config.maxOpenOrdersPerAccount,
        accountTreeDepth: config.accountTreeDepth,
      },
      (_, v) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  ) as Record<string, unknown>
}

/** JSON and environment values arrive as strings; integers are accepted as decimal strings too. */
const intString = (v: unknown): unknown => (typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v)
export const jsonInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(intString, z.number().int('must be a whole number').min(min).max(max))
export const jsonBigint = z
  .union([z.bigint(), z.number().int(), z.string().regex(/^[0-9]+$/, 'must be a decimal integer string')])
  .transform((v) => BigInt(v))
export const jsonAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits')
  .transform((s) => s.toLowerCase() as Address)

const fundingSchema = z.strictObject({
  periodMs: jsonInt(1),
  sampleIntervalMs: jsonInt(1),
  impactNotionalQuantums: jsonBigint,
  maxRatePpm: jsonInt(0),
  interestRatePpm: jsonInt(-1_000_000, 1_000_000),
})

const marketSchema = z.strictObject({
  marketId: jsonInt(0, 0xffff_ffff),
  symbol: z.string().min(1),
  oracleId: jsonInt(0, 0xffff_ffff),
  quantumsPerLotTick: jsonBigint,
  minOrderLots: jsonInt(1),
  maxOrderLots: jsonInt(1),
  marginTiers: z
    .array(
      z.strictObject({ upToNotionalQuantums: jsonBigint.nullable(), imfPpm: jsonInt(0), mmfPpm: jsonInt(0) }),
    )
    .min(1),
  makerFeePpm: jsonInt(-1_000_000, 1_000_000),
  takerFeePpm: jsonInt(0, 1_000_000),
  liquidationFeePpm: jsonInt(0, 1_000_000),
  funding: fundingSchema.optional(),
  priceBandPpm: jsonInt(0),
  oracleMaxAgeMs: jsonInt(1),
})

/** The engine fields of a config object; other keys (node settings) are the caller's to check. */
export const engineConfigShape = {
  chainId: jsonBigint,
  settlementAddress: jsonAddress,
  markets: z.array(marketSchema).min(1),
  oracle: z.strictObject({
    signers: z.array(jsonAddress).min(1),
    threshold: jsonInt(1),
    maxPublishDelayMs: jsonInt(0),
  }),
  nonceWindow: z.strictObject({ size: jsonInt(1), pastMs: jsonInt(0), futureMs: jsonInt(0) }).optional(),
  maxOpenOrdersPerAccount: jsonInt(1),
  accountTreeDepth: jsonInt(1, 48),
}

const engineConfigSchema = z.strictObject(engineConfigShape)

export type EngineConfigFields = z.infer<typeof engineConfigSchema>

/** The EngineConfig of parsed engine fields, defaults filled in; throws EngineConfigError when unusable. */
export function engineConfigOf(c: EngineConfigFields): EngineConfig {
  const config: EngineConfig = {
    chainId: c.chainId,
    settlementAddress: c.settlementAddress,
    markets: c.markets.map((m) => ({ ...m, funding: m.funding ?? DEFAULT_FUNDING })),
    oracle: c.oracle,
    nonceWindow: c.nonceWindow ?? DEFAULT_NONCE_WINDOW,
    maxOpenOrdersPerAccount: c.maxOpenOrdersPerAccount,
    accountTreeDepth: c.accountTreeDepth,
  }
  validateConfig(config)
  return config
}

export class GenesisError extends Error {
  override readonly name = 'GenesisError'
}

/** Parses engine configuration JSON (as `engineConfigToJson` writes it); throws GenesisError listing every problem. */
export function parseEngineConfig(json: unknown): EngineConfig {
  const parsed = engineConfigSchema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.')
      return `  - ${path === '' ? '(root)' : path}: ${issue.message}`
    })
    throw new GenesisError(`Invalid engine configuration:\n${problems.join('\n')}`)
  }
  try {
    return engineConfigOf(parsed.data)
  } catch (error) {
    if (error instanceof EngineConfigError)
      throw new GenesisError(`Invalid engine configuration: ${error.message}`)
    throw error
  }
}

/** The contract's genesis for `config`: the empty engine's root and the config hash. */
export function genesisOf(config: EngineConfig): SettlementGenesis {
  return {
    stateRoot: bytesToHex(Engine.create(config).root()),
    configHash: bytesToHex(engineConfigHash(config)),
  }
}

/**
 * Checks that `config` is the one the deployment at `client` committed to: same chain, same contract,
 * CONFIG_HASH and GENESIS_STATE_ROOT equal to ours. A replayer must not start on any other.
 */
export async function checkGenesisOnChain(client: SettlementClient, config: EngineConfig): Promise<void> {
  const chainId = BigInt(await client.client.getChainId())
  if (chainId !== config.chainId) {
    throw new GenesisError(
      `the RPC serves chain ${chainId}, the engine configuration is for chain ${config.chainId}`,
    )
  }
  if (client.settlementAddress.toLowerCase() !== config.settlementAddress) {
    throw new GenesisError(
      `the engine configuration is for the settlement at ${config.settlementAddress}, not ${client.settlementAddress}`,
    )
  }
  const ours = genesisOf(config)
  const [configHash, stateRoot] = await Promise.all([
    client.settlement.read.CONFIG_HASH(),
    client.settlement.read.GENESIS_STATE_ROOT(),
  ])
  const mismatch = (what: string, chain: Hex, mine: Hex) =>
    new GenesisError(
      `${what} on chain is ${chain}; this engine configuration gives ${mine}: wrong configuration file`,
    )
  if (configHash.toLowerCase() !== ours.configHash) throw mismatch('CONFIG_HASH', configHash, ours.configHash)
  if (stateRoot.toLowerCase() !== ours.stateRoot)
    throw mismatch('GENESIS_STATE_ROOT', stateRoot, ours.stateRoot)
}
