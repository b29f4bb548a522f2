import { describe, expect, it } from 'vitest'
import { BlobSourceError, slotOfTimestamp } from './blobSource.ts'

describe('slotOfTimestamp', () => {
  it('finds mainnet slots from block times', () => {
    // Mainnet beacon genesis 1606824023, 12-second slots: the block at 1710338135 is in slot 8,626,176.
    expect(slotOfTimestamp(1_710_338_135n, 1_606_824_023n, 12n)).toBe(8_626_176n)
    expect(slotOfTimestamp(1_606_824_023n, 1_606_824_023n, 12n)).toBe(0n)
  })

  it('refuses a block time that is no slot start of that chain (a beacon node of another network)', () => {
    expect(() => slotOfTimestamp(1_710_338_136n, 1_606_824_023n, 12n)).toThrow(BlobSourceError)
    expect(() => slotOfTimestamp(1_606_824_000n, 1_606_824_023n, 12n)).toThrow(/same network as the RPC node/)
  })
})
