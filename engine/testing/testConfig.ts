import type { Address } from 'viem'
import { DEFAULT_FUNDING, DEFAULT_NONCE_WINDOW, type EngineConfig, type MarketConfig } from '../config.ts'

/** A deterministic address for tests and demos: 0x000…0{n in hex}. */
export function testAddress(n: number): Address {
  return `0x${n.toString(16).padStart(40, '0')}` as Address
}

export const ORACLE_SIGNERS: readonly Address[] = [testAddress(0xa1), testAddress(0xa2), testAddress(0xa3)]

const USDC = 1_000_000n

/** BTC-PERP: a lot is 0.0001 BTC and a tick 0.1 USD, so one lot at one tick is 10 quantums; 60,000 USD is 600,000 ticks. */
export const BTC_PERP: MarketConfig = {
  marketId: 0,
  symbol: 'BTC-PERP',
  oracleId: 1,
  quantumsPerLotTick: 10n,
  minOrderLots: 1,
  maxOrderLots: 1_000_000,
  marginTiers: [
    { upToNotionalQuantums: 1_000_000n * USDC, imfPpm: 20_000, mmfPpm: 10_000 },
    { upToNotionalQuantums: 5_000_000n * USDC, imfPpm: 50_000, mmfPpm: 25_000 },
    { upToNotionalQuantums: null, imfPpm: 100_000, mmfPpm: 50_000 },
  ],
  makerFeePpm: -100,
  takerFeePpm: 500,
  liquidationFeePpm: 5_000,
  funding: DEFAULT_FUNDING,
  priceBandPpm: 100_000,
  oracleMaxAgeMs: 60_000,
}

/** ETH-PERP: a lot is 0.001 ETH and a tick 0.01 USD, so one lot at one tick is 10 quantums; 3,000 USD is 300,000 ticks. */
export const ETH_PERP: MarketConfig = {
  ...BTC_PERP,
  marketId: 1,
  symbol: 'ETH-PERP',
  oracleId: 2,
  marginTiers: [
    { upToNotionalQuantums: 500_000n * USDC, imfPpm: 33_334, mmfPpm: 16_667 },
    { upToNotionalQuantums: null, imfPpm: 100_000, mmfPpm: 50_000 },
  ],
}

export function testConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    chainId: 31337n,
    settlementAddress: testAddress(0x5e771e),
    markets: [BTC_PERP, ETH_PERP],
    oracle: { signers: ORACLE_SIGNERS, threshold: 2, maxPublishDelayMs: 10_000 },
    nonceWindow: DEFAULT_NONCE_WINDOW,
    maxOpenOrdersPerAccount: 200,
    accountTreeDepth: 24,
    ...overrides,
  }
}
