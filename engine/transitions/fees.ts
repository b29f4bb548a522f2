import { divCeil, PPM, PPM_BIG } from '../units.ts'

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
  // Floor of a correctly rounded quotient is off by at most one; the remainder check corrects it.
  let hi = Math.floor(notionalQuantums / PPM)
  let lo = notionalQuantums - hi * PPM
  if (lo < 0) {
    hi--
    lo += PPM
  } else if (lo >= PPM) {
    hi++
    lo -= PPM
  }
  const scaled = lo * ppm
  let q = Math.floor(scaled / PPM)
  let r = scaled - q * PPM
  if (r < 0) {
    q--
    r += PPM
  } else if (r >= PPM) {
    q++
    r -= PPM
  }
  // A fee rounds up; a rebate rounds down.
  return feePpm >= 0 ? hi * ppm + q + (r > 0 ? 1 : 0) : -(hi * ppm + q)
}
