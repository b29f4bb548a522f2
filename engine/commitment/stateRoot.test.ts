import fc from 'fast-check'
import { bytesToHex, encodeAbiParameters, keccak256 as viemKeccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { stateRoot } from './stateRoot.ts'

const arbBytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe('stateRoot', () => {
  it('equals keccak256(abi.encode(bytes32, bytes32, bytes32)) built with viem', () => {
    fc.assert(
      fc.property(arbBytes32, arbBytes32, arbBytes32, (a, m, g) => {
        const expected = viemKeccak256(
          encodeAbiParameters(
            [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
            [bytesToHex(a), bytesToHex(m), bytesToHex(g)],
          ),
        )
        expect(bytesToHex(stateRoot(a, m, g))).toBe(expected)
      }),
      { numRuns: 100 },
    )
  })

  it('depends on the order of its parts', () => {
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    const c = new Uint8Array(32)
    expect(stateRoot(a, b, c)).not.toEqual(stateRoot(b, a, c))
  })

  it('rejects parts that are not 32 bytes', () => {
    expect(() => stateRoot(new Uint8Array(31), new Uint8Array(32), new Uint8Array(32))).toThrow(/32 bytes/)
  })
})
