import { divCeil, PPM_BIG } from '../units.ts'

/** A trading fee on a notional. Fees round up (against the account); rebates round down (in favour of the protocol). */
export function tradeFeeQuantums(notionalQuantums: bigint, feePpm: number): bigint {
  if (feePpm >= 0) return divCeil(notionalQuantums * BigInt(feePpm), PPM_BIG)
  return -((notionalQuantums * BigInt(-feePpm)) / PPM_BIG)
}
