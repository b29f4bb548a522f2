import type { EngineConfig } from './config.ts'
import { MAX_LOTS } from './units.ts'

const LOWER_ADDRESS = /^0x[0-9a-f]{40}$/

/** A genesis configuration the engine cannot run with. The message names the field and what it must be. */
export class EngineConfigError extends Error {
  override readonly name = 'EngineConfigError'
  constructor(
    readonly field: string,
    requirement: string,
  ) {
    super(`Invalid engine config: ${field} ${requirement}`)
  }
}

function int(x: unknown, min: number, max: number): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min && x <= max
}

/**
 * Checks everything the engine relies on without checking again: ids are positions, tiers are sorted and
 * end unbounded, fees cannot drain the fee pool, oracle signers are distinct lowercase addresses, and the
 * periods divide evenly. Throws EngineConfigError at the first problem.
 */
export function validateConfig(config: EngineConfig): void {
  const fail = (field: string, requirement: string): never => {
    throw new EngineConfigError(field, requirement)
  }
  if (typeof config.chainId !== 'bigint' || config.chainId <= 0n) fail('chainId', 'must be a positive bigint')
  if (!LOWER_ADDRESS.test(config.settlementAddress))
    fail('settlementAddress', 'must be a lowercase 0x address')
  if (config.markets.length === 0) fail('markets', 'must hold at least one market')
  const oracleIds = new Set<number>()
  config.markets.forEach((m, i) => {
    const at = `markets[${i}]`
    if (m.marketId !== i) fail(`${at}.marketId`, `must be ${i}: market ids are positions`)
    if (!int(m.oracleId, 0, 0xffff_ffff) || oracleIds.has(m.oracleId))
      fail(`${at}.oracleId`, 'must be a distinct uint32')
    oracleIds.add(m.oracleId)
    if (typeof m.quantumsPerLotTick !== 'bigint' || m.quantumsPerLotTick <= 0n)
      fail(`${at}.quantumsPerLotTick`, 'must be a positive bigint')
    if (!int(m.minOrderLots, 1, MAX_LOTS) || !int(m.maxOrderLots, m.minOrderLots, MAX_LOTS)) {
      fail(`${at}.minOrderLots/maxOrderLots`, `must satisfy 1 <= min <= max <= ${MAX_LOTS}`)
    }
    if (m.marginTiers.length === 0) fail(`${at}.marginTiers`, 'must hold at least one tier')
    let bound = 0n
    m.marginTiers.forEach((t, j) => {
      const tier = `${at}.marginTiers[${j}]`
      const last = j === m.marginTiers.length - 1
      if (last !== (t.upToNotionalQuantums === null))
        fail(`${tier}.upToNotionalQuantums`, 'must be null on the last tier only')
      if (t.upToNotionalQuantums !== null) {
        if (t.upToNotionalQuantums <= bound)
          fail(`${tier}.upToNotionalQuantums`, 'must increase from tier to tier')
        bound = t.upToNotionalQuantums
      }
      if (!int(t.mmfPpm, 1, 1_000_000) || !int(t.imfPpm, t.mmfPpm, 1_000_000)) {
        fail(tier, 'must satisfy 0 < mmfPpm <= imfPpm <= 1e6')
      }
    })
    if (!int(m.takerFeePpm, 0, 1_000_000) || !int(m.makerFeePpm, -m.takerFeePpm, 1_000_000)) {
      fail(
        `${at}.makerFeePpm/takerFeePpm`,
        'must satisfy 0 <= taker and -taker <= maker: rebates never exceed taker fees',
      )
    }
    if (!int(m.liquidationFeePpm, 0, 1_000_000)) fail(`${at}.liquidationFeePpm`, 'must be in [0, 1e6]')
    if (!int(m.priceBandPpm, 1, 1_000_000)) fail(`${at}.priceBandPpm`, 'must be in [1, 1e6]')
    if (!int(m.oracleMaxAgeMs, 1, Number.MAX_SAFE_INTEGER)) fail(`${at}.oracleMaxAgeMs`, 'must be positive')
    const f = m.funding
    if (
      !int(f.sampleIntervalMs, 1, Number.MAX_SAFE_INTEGER) ||
      !int(f.periodMs, f.sampleIntervalMs, Number.MAX_SAFE_INTEGER) ||
      f.periodMs % f.sampleIntervalMs !== 0
    ) {
      fail(`${at}.funding`, 'periodMs must be a positive multiple of sampleIntervalMs')
    }
    if (!int(f.maxRatePpm, 0, 1_000_000) || !int(f.interestRatePpm, -1_000_000, 1_000_000))
      fail(`${at}.funding`, 'rates must be within ±1e6 ppm')
    if (typeof f.impactNotionalQuantums !== 'bigint' || f.impactNotionalQuantums <= 0n)
      fail(`${at}.funding.impactNotionalQuantums`, 'must be positive')
  })
  const signers = config.oracle.signers
  if (signers.some((s) => !LOWER_ADDRESS.test(s)) || new Set(signers).size !== signers.length) {
    fail('oracle.signers', 'must be distinct lowercase 0x addresses')
  }
  if (!int(config.oracle.threshold, 1, signers.length))
    fail('oracle.threshold', `must be in [1, ${signers.length}]`)
  if (!int(config.oracle.maxPublishDelayMs, 0, Number.MAX_SAFE_INTEGER))
    fail('oracle.maxPublishDelayMs', 'must be >= 0')
  const nw = config.nonceWindow
  if (
    !int(nw.size, 1, 1_000) ||
    !int(nw.pastMs, 0, Number.MAX_SAFE_INTEGER) ||
    !int(nw.futureMs, 0, Number.MAX_SAFE_INTEGER)
  ) {
    fail('nonceWindow', 'size must be in [1, 1000] and the bounds >= 0')
  }
  if (!int(config.maxOpenOrdersPerAccount, 1, 100_000))
    fail('maxOpenOrdersPerAccount', 'must be in [1, 100000]')
  if (!int(config.accountTreeDepth, 1, 32)) fail('accountTreeDepth', 'must be in [1, 32]')
}
