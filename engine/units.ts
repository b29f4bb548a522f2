/**
 * Integer units and the only arithmetic helpers the engine uses for them.
 *
 * Naming: every quantity carries its unit in its name.
 * - `...Quantums`: USDC quantums, 10^6 quantums = 1 USDC. Always `bigint`.
 * - `...Lots`: whole lots of a market's base asset. A safe integer `number`, bounded by `MAX_LOTS`.
 * - `...Ticks`: whole ticks of a market's price. A safe integer `number`, bounded by `MAX_PRICE_TICKS`.
 * - `...Ppm`: parts per million. A safe integer `number`.
 * - `...Ms`: milliseconds of sequenced time (never the wall clock). A safe integer `number`.
 *
 * The notional of `sizeLots` at `priceTicks` is `sizeLots * priceTicks * quantumsPerLotTick`, exact.
 */

export const PPM = 1_000_000
export const PPM_BIG = 1_000_000n
export const QUANTUMS_PER_USDC = 1_000_000n

/** Sizes and prices stay below 2^40 so that `lots * ticks` stays exact in a double (< 2^80 is not needed: we multiply in bigint). */
export const MAX_LOTS = 2 ** 40
export const MAX_PRICE_TICKS = 2 ** 40

/** Funding indices are kept in nano-quantums per lot so that hourly rates of a few ppm stay exact. */
export const FUNDING_INDEX_SCALE = 1_000_000_000n

/**
 * floor(x / 1e6) for a safe integer x, exactly. The floor of the correctly rounded double quotient is off
 * by at most one; the remainder, exact in doubles, corrects it. The caller takes x - q * PPM as remainder.
 */
export function floorDivPpm(x: number): number {
  const q = Math.floor(x / PPM)
  const r = x - q * PPM
  return r < 0 ? q - 1 : r >= PPM ? q + 1 : q
}

/** floor(a * b / d) for d > 0, rounding toward negative infinity. */
export function mulDivFloor(a: bigint, b: bigint, d: bigint): bigint {
  const n = a * b
  const q = n / d
  return n % d !== 0n && n < 0n ? q - 1n : q
}

/** ceil(a * b / d) for d > 0, rounding toward positive infinity. */
export function mulDivCeil(a: bigint, b: bigint, d: bigint): bigint {
  const n = a * b
  const q = n / d
  return n % d !== 0n && n > 0n ? q + 1n : q
}

/** floor(n / d) for d > 0. */
export function divFloor(n: bigint, d: bigint): bigint {
  const q = n / d
  return n % d !== 0n && n < 0n ? q - 1n : q
}

/** ceil(n / d) for d > 0. */
export function divCeil(n: bigint, d: bigint): bigint {
  const q = n / d
  return n % d !== 0n && n > 0n ? q + 1n : q
}

export function absBig(x: bigint): bigint {
  return x < 0n ? -x : x
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

export function isLots(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0 && x <= MAX_LOTS
}

export function isPriceTicks(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0 && x <= MAX_PRICE_TICKS
}
