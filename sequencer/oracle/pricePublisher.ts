import type { Logger } from 'pino'
import secp256k1 from 'secp256k1'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import type { EngineConfig } from '../../engine/config.ts'
import { domainSeparator, observationDigest } from '../../engine/signing/digest.ts'
import { MAX_PRICE_TICKS } from '../../engine/units.ts'
import type { SubmitResult } from '../api.ts'
import type { SignedOracleUpdate } from '../intake/parseOracleUpdate.ts'
import { Repeating } from '../repeating.ts'
import type { Sequencer } from '../sequencer.ts'

export interface SimulatedPricePublisherOptions {
  sequencer: Pick<Sequencer, 'submitOracleUpdate'>
  /** The deployment (chain id and settlement: the signing domain) and its markets. */
  config: EngineConfig
  /** Oracle private keys, each in `config.oracle.signers`; at least `config.oracle.threshold` of them. */
  oracleKeys: readonly Hex[]
  /** Where each market's walk starts: by oracle id (an object), or by market position (an array). */
  startPriceTicks: Readonly<Record<number, number>> | readonly number[]
  /** Same seed, same walk. */
  seed: number
  /** Default 1,000. */
  intervalMs?: number
  /** Largest move per update as a fraction of the price; default a quarter of each market's priceBandPpm. */
  maxStepPpm?: number
  /** Publish time source in ms; default Date.now. */
  clock?: () => number
  logger?: Logger
}

export const PricePublisherErrorCode = { PUBLISHER_CONFIG_INVALID: 'PUBLISHER_CONFIG_INVALID' } as const
export type PricePublisherErrorCode = (typeof PricePublisherErrorCode)[keyof typeof PricePublisherErrorCode]

export class PricePublisherError extends Error {
  override readonly name = 'PricePublisherError'
  readonly code: PricePublisherErrorCode = PricePublisherErrorCode.PUBLISHER_CONFIG_INVALID
}

export interface PublishedPrice {
  oracleId: number
  priceTicks: number
  publishTimeMs: number
}

/**
 * One update for `oracleId`: every key signs the same observation, r ‖ s ‖ v (v = 27 + recovery id)
 * over the engine's EIP-712 observation digest for `domain` (`domainSeparator(chainId, settlement)`).
 */
export function signOracleUpdate(
  domain: Uint8Array,
  oracleId: number,
  observation: { priceTicks: number; publishTimeMs: number },
  privateKeys: readonly (Hex | Uint8Array)[],
): SignedOracleUpdate {
  const digest = observationDigest(oracleId, observation, domain)
  return {
    oracleId,
    observations: privateKeys.map((key) => {
      const { signature, recid } = secp256k1.ecdsaSign(
        digest,
        typeof key === 'string' ? hexToBytes(key) : key,
      )
      const rsv = new Uint8Array(65)
      rsv.set(signature, 0)
      rsv[64] = 27 + recid
      return {
        priceTicks: observation.priceTicks,
        publishTimeMs: observation.publishTimeMs,
        signature: bytesToHex(rsv),
      }
    }),
  }
}

/** mulberry32: a 32-bit state, full period, plenty for a price walk; not for anything secret. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

interface Walk {
  oracleId: number
  maxStepPpm: bigint
  /** The last price the engine accepted (or the start): each step is taken from it. */
  priceTicks: number
}

/**
 * The devnet's oracle: a seeded random walk per market, signed by every configured oracle key and
 * submitted as one update per market per interval.
 *
 * Each step moves at most `maxStepPpm` of the last accepted price (rounded down), and a rejected update
 * does not move the walk, so an honest walk with the default step (a quarter of the band) never hits
 * the engine's band rule. Integer ticks only, never below 1.
 */
export class SimulatedPricePublisher {
  readonly #sequencer: Pick<Sequencer, 'submitOracleUpdate'>
  readonly #domain: Uint8Array
  readonly #keys: readonly Uint8Array[]
  readonly #walks: Walk[]
  readonly #random: () => number
  readonly #intervalMs: number
  readonly #clock: () => number
  readonly #logger: Logger | undefined
  #last: PublishedPrice[] = []
  readonly #loop: Repeating
  #publishing: Promise<SubmitResult[]> | null = null

  constructor(options: SimulatedPricePublisherOptions) {
    const { config } = options
    const fail = (message: string): never => {
      throw new PricePublisherError(`PUBLISHER_CONFIG_INVALID: ${message}`)
    }
    const signers = new Set(config.oracle.signers.map((s) => s.toLowerCase()))
    const keys: Uint8Array[] = []
    const seen = new Set<string>()
    for (const [i, key] of options.oracleKeys.entries()) {
      const bytes = /^0x[0-9a-fA-F]{64}$/.test(key) ? hexToBytes(key) : null
      if (bytes === null || !secp256k1.privateKeyVerify(bytes))
        fail(`oracleKeys[${i}] is not a secp256k1 private key (0x and 64 hex digits)`)
      const address = privateKeyToAddress(key).toLowerCase()
      if (!signers.has(address)) fail(`oracleKeys[${i}] (${address}) is not in config.oracle.signers`)
      if (seen.has(address)) fail(`oracleKeys[${i}] (${address}) is given twice`)
      seen.add(address)
      keys.push(bytes!)
    }
    if (keys.length < config.oracle.threshold) {
      fail(`${keys.length} oracle keys given; the oracle threshold needs ${config.oracle.threshold}`)
    }
    const intervalMs = options.intervalMs ?? 1_000
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) fail(`intervalMs must be > 0, got ${intervalMs}`)
    if (!Number.isSafeInteger(options.seed)) fail(`seed must be a safe integer, got ${options.seed}`)
    const starts = options.startPriceTicks
    this.#walks = config.markets.map((market, position) => {
      const start = Array.isArray(starts)
        ? (starts as readonly number[])[position]
        : (starts as Readonly<Record<number, number>>)[market.oracleId]
      if (start === undefined || !Number.isSafeInteger(start) || start < 1) {
        return fail(`startPriceTicks has no whole, positive price for market ${market.symbol}`)
      }
      const maxStepPpm = options.maxStepPpm ?? Math.floor(market.priceBandPpm / 4) // down: inside the band
      if (!Number.isSafeInteger(maxStepPpm) || maxStepPpm < 0) {
        return fail(`maxStepPpm must be a whole number >= 0, got ${maxStepPpm}`)
      }
      return { oracleId: market.oracleId, maxStepPpm: BigInt(maxStepPpm), priceTicks: start }
    })
    this.#sequencer = options.sequencer
    this.#domain = domainSeparator(config.chainId, config.settlementAddress)
    this.#keys = keys
    // The seed's high bits fold in, so seeds that differ only above bit 31 still differ.
    this.#random = mulberry32((options.seed ^ Math.floor(options.seed / 2 ** 32)) >>> 0)
    this.#intervalMs = intervalMs
    this.#clock = options.clock ?? Date.now
    this.#logger = options.logger
    this.#loop = new Repeating({
      task: () => this.publishOnce(),
      everyMs: this.#intervalMs,
      onError: (error) => this.#logger?.error({ err: error }, 'price publish failed; retrying'),
    })
  }

  /** What the last publish sent, one entry per market. */
  get lastPublished(): readonly PublishedPrice[] {
    return this.#last
  }

  /** Publishes now, then every `intervalMs` after each publish ends; the timer never keeps the process alive. */
  start(): void {
    this.#loop.start()
  }

  /** Stops the timer and waits for a publish in flight. */
  async stop(): Promise<void> {
    await this.#loop.stop()
    await this.#publishing?.catch(() => undefined)
  }

  /** Takes one step of every market's walk, signs and submits it; results in market order. */
  publishOnce(): Promise<SubmitResult[]> {
    const publishing = this.#publish().finally(() => {
      if (this.#publishing === publishing) this.#publishing = null
    })
    this.#publishing = publishing
    return publishing
  }

  async #publish(): Promise<SubmitResult[]> {
    const publishTimeMs = this.#clock()
    const next = this.#walks.map((walk) => ({
      oracleId: walk.oracleId,
      priceTicks: this.#step(walk),
      publishTimeMs,
    }))
    this.#last = next
    const results = await Promise.all(
      next.map((p) =>
        this.#sequencer.submitOracleUpdate(signOracleUpdate(this.#domain, p.oracleId, p, this.#keys)),
      ),
    )
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!
      const walk = this.#walks[i]!
      const price = next[i]!
      if (result.ok && result.outcome.ok) {
        walk.priceTicks = price.priceTicks
        this.#logger?.debug({ ...price, seq: result.seq }, 'price published')
      } else {
        const code = result.ok ? (result.outcome.ok ? null : result.outcome.code) : result.code
        this.#logger?.warn(
          { ...price, code },
          'price update not accepted; the walk stays at the last accepted price',
        )
      }
    }
    return results
  }

  /** The next price: uniform in [p − s, p + s] with s = floor(p · maxStepPpm / 1e6), within [1, MAX_PRICE_TICKS]. */
  #step(walk: Walk): number {
    const p = walk.priceTicks
    const s = Number((BigInt(p) * walk.maxStepPpm) / 1_000_000n) // rounded down: never past the step
    const r = this.#random()
    // Two draws make 64 bits, so the modulo bias is negligible for any span of ticks.
    const wide = (BigInt(r) << 32n) | BigInt(this.#random())
    const delta = Number(wide % BigInt(2 * s + 1)) - s
    return Math.min(MAX_PRICE_TICKS, Math.max(1, p + delta))
  }
}
