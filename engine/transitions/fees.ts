import { divCeil, floorDivPpm, PPM, PPM_BIG } from '../units.ts'

/** A trading fee on a notional. Fees round up (against the account); rebates round down (in favour of the protocol). */
export function tradeFeeQuantums(notionalQuantums: bigint, feePpm: number): bigint {
  if (feePpm >= 0) return divCeil(notionalQuantums * BigInt(feePpm), PPM_BIG)
  return -((notionalQuantums * BigInt(-feePpm)) / PPM_BIG)
}

/**
 * tradeFeeQuantums in doubles, the same value: for an integer notional in [0, 2^52) and an integer fee of at
 * most 1e6 ppm either way. The notional splits as hi * 1e6 + lo, so notional * fee / 1e6 = hi * fee +
 * lo * fee / 1e6, where hi * fee <= notional and lo * fee < 1e12 stay exact.
 */
export function tradeFeeExact(notionalQuantums: number, feePpm: number): number {
  const ppm = feePpm < 0 ? -feePpm : feePpm
  const hi = floorDivPpm(notionalQuantums)
  const scaled = (notionalQuantums - hi * PPM) * ppm
  const q = floorDivPpm(scaled)
  const r = scaled - q * PPM
  // A fee rounds up; a rebate rounds down.
  return feePpm >= 0 ? hi * ppm + q + (r > 0 ? 1 : 0) : -(hi * ppm + q)
}
