import fc from 'fast-check'
import { type Address, bytesToHex, encodeAbiParameters, keccak256 as viemKeccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { accountLeafHash, EMPTY_ACCOUNT_LEAF } from './accountLeaf.ts'
import { refAccountLeaf } from './vectors/reference.ts'

const MAX_UINT256 = (1n << 256n) - 1n
const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b) as Address)
const arbBytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const arbEquity = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: MAX_UINT256 }),
  fc.constantFrom(0n, (1n << 64n) - 1n, 1n << 64n, MAX_UINT256),
)

describe('accountLeafHash', () => {
  it('equals keccak256(bytes.concat(keccak256(abi.encode(address, uint256, bytes32)))) built with viem', () => {
    fc.assert(
      fc.property(arbAddress, arbEquity, arbBytes32, (address, equity, dataHash) => {
        const inner = viemKeccak256(
          encodeAbiParameters(
            [{ type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }],
            [address, equity, bytesToHex(dataHash)],
          ),
        )
        expect(bytesToHex(accountLeafHash(address, equity, dataHash))).toBe(viemKeccak256(inner))
        expect(accountLeafHash(address, equity, dataHash)).toEqual(refAccountLeaf(address, equity, dataHash))
      }),
      { numRuns: 200 },
    )
  })

  it('ignores the case of the address', () => {
    const lower = '0x52908400098527886e0f7030069857d2e4169ee7' as Address
    const checksummed = '0x52908400098527886E0F7030069857D2E4169EE7' as Address
    const data = new Uint8Array(32).fill(3)
    expect(accountLeafHash(lower, 10n, data)).toEqual(accountLeafHash(checksummed, 10n, data))
  })

  it('binds every field', () => {
    const a = '0x52908400098527886e0f7030069857d2e4169ee7' as Address
    const b = '0x52908400098527886e0f7030069857d2e4169ee8' as Address
    const data = new Uint8Array(32)
    const base = bytesToHex(accountLeafHash(a, 5n, data))
    expect(bytesToHex(accountLeafHash(b, 5n, data))).not.toBe(base)
    expect(bytesToHex(accountLeafHash(a, 6n, data))).not.toBe(base)
    expect(bytesToHex(accountLeafHash(a, 5n, new Uint8Array(32).fill(1)))).not.toBe(base)
  })

  it('throws on a broken invariant: negative equity, bad address, bad hash length, out of range', () => {
    const a = '0x52908400098527886e0f7030069857d2e4169ee7' as Address
    const data = new Uint8Array(32)
    expect(() => accountLeafHash(a, -1n, data)).toThrow(/negative escape equity/)
    expect(() => accountLeafHash(a, MAX_UINT256 + 1n, data)).toThrow(/out of range/)
    expect(() => accountLeafHash('0x1234' as Address, 1n, data)).toThrow(/address/)
    expect(() => accountLeafHash('0x52908400098527886e0f7030069857d2e4169eg7' as Address, 1n, data)).toThrow(
      /address/,
    )
    for (const bad of [
      '0x52908400098527886e0f7030069857d2e4169e\u00e1',
      '0x52908400098527886e0f7030069857d2e4169e\u0167',
    ]) {
      expect(() => accountLeafHash(bad as Address, 1n, data)).toThrow(/address/)
    }
    expect(() => accountLeafHash('1x52908400098527886e0f7030069857d2e4169ee7' as Address, 1n, data)).toThrow(
      /address/,
    )
    expect(() => accountLeafHash(a, 1n, new Uint8Array(31))).toThrow(/32 bytes/)
  })

  it('has an empty leaf of 32 zero bytes', () => {
    expect(EMPTY_ACCOUNT_LEAF).toEqual(new Uint8Array(32))
  })
})
