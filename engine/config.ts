import type { Address } from 'viem'

/**
 * A margin tier. Tiers apply like tax brackets: the part of a position's notional that lies in a tier
 * is margined at that tier's fraction, so the requirement grows continuously with size, with no cliff.
 */
export interface MarginTier {
  /** Upper bound of the tier's notional, exclusive. The last tier must be unbounded (`null`). */
  upToNotionalQuantums: bigint | null
  imfPpm: number
  mmfPpm: number
}

export interface FundingParams {
  /** Length of one funding period. Hourly by default. */
  periodMs: number
  /** How often the premium is sampled within a period. */
  sampleIntervalMs: number
  /** Notional used to find the impact bid and impact ask in the book. */
  impactNotionalQuantums: bigint
  /** The funding rate per period is clamped to ±this. */
  maxRatePpm: number
  /** Constant interest component per period, added to the premium before the clamp. */
  interestRatePpm: number
}

export interface MarketConfig {
  marketId: number
  symbol: string
  oracleId: number
  /** Notional, in quantums, of one lot at one tick. Fixes both tick and lot size in USDC terms. */
  quantumsPerLotTick: bigint
  minOrderLots: number
  maxOrderLots: number
  /** Sorted by bound; at least one, the last unbounded. */
  marginTiers: readonly MarginTier[]
  /** Negative is a rebate paid to the maker. */
  makerFeePpm: number
  takerFeePpm: number
  /** Fee charged on liquidated notional, paid into the insurance fund. */
  liquidationFeePpm: number
  funding: FundingParams
  /** An oracle update may move the price by at most this fraction of the last accepted price. */
  priceBandPpm: number
  /** A price older than this, in sequenced time, puts the market into reduce-only mode. */
  oracleMaxAgeMs: number
}

export interface OracleSetConfig {
  signers: readonly Address[]
  /** Minimum number of distinct valid observations for an update; the price is their median. */
  threshold: number
  /** Observations whose publish time is older than this relative to the sequenced time are rejected. */
  maxPublishDelayMs: number
}

export interface NonceWindowConfig {
  /** How many of the highest nonces each signer keeps. */
  size: number
  /** A nonce must lie in [timestamp - pastMs, timestamp + futureMs]. */
  pastMs: number
  futureMs: number
}

export interface EngineConfig {
  /** EIP-712 domain: a signature never replays on another chain or deployment. */
  chainId: bigint
  settlementAddress: Address
  markets: readonly MarketConfig[]
  oracle: OracleSetConfig
  nonceWindow: NonceWindowConfig
  maxOpenOrdersPerAccount: number
  /** Accounts are leaves of a tree of this depth. */
  accountTreeDepth: number
}

export const DEFAULT_NONCE_WINDOW: NonceWindowConfig = {
  size: 20,
  pastMs: 2 * 24 * 3600 * 1000,
  futureMs: 24 * 3600 * 1000,
}

export const DEFAULT_FUNDING: FundingParams = {
  periodMs: 3600 * 1000,
  sampleIntervalMs: 60 * 1000,
  impactNotionalQuantums: 10_000n * 1_000_000n,
  maxRatePpm: 5_000,
  interestRatePpm: 12,
}
