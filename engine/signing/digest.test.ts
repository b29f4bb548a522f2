import fc from 'fast-check'
import {
  type Address,
  bytesToHex,
  getAddress,
  hashDomain,
  hashTypedData,
  recoverAddress,
  recoverTypedDataAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import {
  ALL_MARKETS,
  OrderKind,
  type OrderParams,
  SelfTradePrevention,
  Side,
  TimeInForce,
  type UserOp,
  ZERO_ADDRESS,
} from '../ops.ts'
import { domainSeparator, observationDigest, userOpDigest } from './digest.ts'
import { eip712DomainType } from './eip712Types.ts'
import { signingDomain } from './signingDomain.ts'
import { observationTypedData, toTypedData } from './toTypedData.ts'

const MAX_U64 = (1n << 64n) - 1n
const MAX_U256 = (1n << 256n) - 1n

const addressArb: fc.Arbitrary<Address> = fc
  .tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean())
  .map(([bytes, checksummed]) => (checksummed ? getAddress(bytesToHex(bytes)) : bytesToHex(bytes)))
const uint64NumArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
)
const uint32Arb = fc.oneof(fc.nat({ max: 0xffff_ffff }), fc.constantFrom(0, 0xffff_ffff))
const uint64BigArb = fc.oneof(fc.bigInt({ min: 0n, max: MAX_U64 }), fc.constantFrom(0n, MAX_U64))
const nonceArb = fc.oneof(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), uint64NumArb)
const baseArb = fc.record({ signer: addressArb, account: addressArb, nonce: nonceArb })

const orderArb: fc.Arbitrary<OrderParams> = fc.record({
  marketId: uint32Arb,
  side: fc.constantFrom(...Object.values(Side)),
  kind: fc.constantFrom(...Object.values(OrderKind)),
  tif: fc.constantFrom(...Object.values(TimeInForce)),
  priceTicks: uint64NumArb,
  sizeLots: uint64NumArb,
  triggerPriceTicks: uint64NumArb,
  reduceOnly: fc.boolean(),
  postOnly: fc.boolean(),
  stp: fc.constantFrom(...Object.values(SelfTradePrevention)),
  clientOrderId: uint64BigArb,
  expiresAtMs: uint64NumArb,
})

const opArbs: { [K in UserOp['type']]: fc.Arbitrary<Extract<UserOp, { type: K }>> } = {
  placeOrder: fc.tuple(baseArb, orderArb).map(([b, order]) => ({ ...b, type: 'placeOrder' as const, order })),
  cancelOrder: fc
    .tuple(baseArb, uint32Arb, uint64NumArb, uint64BigArb)
    .map(([b, marketId, orderId, clientOrderId]) => ({
      ...b,
      type: 'cancelOrder' as const,
      marketId,
      orderId,
      clientOrderId,
    })),
  cancelAll: fc
    .tuple(baseArb, fc.option(uint32Arb))
    .map(([b, marketId]) => ({ ...b, type: 'cancelAll' as const, marketId })),
  modifyOrder: fc
    .tuple(baseArb, uint32Arb, uint64NumArb, uint64NumArb, uint64NumArb)
    .map(([b, marketId, orderId, newPriceTicks, newSizeLots]) => ({
      ...b,
      type: 'modifyOrder' as const,
      marketId,
      orderId,
      newPriceTicks,
      newSizeLots,
    })),
  withdraw: fc
    .tuple(baseArb, fc.oneof(fc.bigInt({ min: 0n, max: MAX_U256 }), fc.bigInt({ min: 0n, max: 10n ** 15n })))
    .map(([b, amountQuantums]) => ({ ...b, type: 'withdraw' as const, amountQuantums })),
  approveAgent: fc
    .tuple(baseArb, addressArb, uint64NumArb)
    .map(([b, agent, expiresAtMs]) => ({ ...b, type: 'approveAgent' as const, agent, expiresAtMs })),
  revokeAgent: fc
    .tuple(baseArb, addressArb)
    .map(([b, agent]) => ({ ...b, type: 'revokeAgent' as const, agent })),
}
const anyOpArb: fc.Arbitrary<UserOp> = fc.oneof(...Object.values(opArbs))
const domainArb = fc
  .tuple(fc.oneof(fc.bigInt({ min: 0n, max: MAX_U256 }), fc.bigInt({ min: 1n, max: 100_000n })), addressArb)
  .map(([chainId, contract]) => signingDomain(chainId, contract))

const domain = signingDomain(31337n, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
const separator = domainSeparator(domain.chainId, domain.verifyingContract)

describe('userOpDigest', () => {
  for (const [type, arb] of Object.entries(opArbs)) {
    it(`equals viem hashTypedData for random ${type} ops`, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<UserOp>, (op) => {
          expect(bytesToHex(userOpDigest(op, separator))).toBe(hashTypedData(toTypedData(op, domain)))
        }),
        { numRuns: 1000 },
      )
    })
  }

  it('equals viem hashTypedData for ops interleaved across types and domains', () => {
    // Shared buffers: a digest must not depend on what was hashed before it.
    fc.assert(
      fc.property(fc.array(fc.tuple(anyOpArb, domainArb), { minLength: 2, maxLength: 8 }), (pairs) => {
        for (const [op, d] of pairs) {
          const sep = domainSeparator(d.chainId, d.verifyingContract)
          expect(bytesToHex(userOpDigest(op, sep))).toBe(hashTypedData(toTypedData(op, d)))
        }
      }),
      { numRuns: 200 },
    )
  })

  it('ignores the signer and encodes a null cancel-all market as ALL_MARKETS', () => {
    fc.assert(
      fc.property(anyOpArb, addressArb, (op, other) => {
        expect(userOpDigest({ ...op, signer: other }, separator)).toEqual(userOpDigest(op, separator))
      }),
      { numRuns: 200 },
    )
    const base = { signer: ZERO_ADDRESS, account: ZERO_ADDRESS, nonce: 5, type: 'cancelAll' } as const
    expect(userOpDigest({ ...base, marketId: null }, separator)).toEqual(
      userOpDigest({ ...base, marketId: ALL_MARKETS }, separator),
    )
    expect(userOpDigest({ ...base, marketId: null }, separator)).not.toEqual(
      userOpDigest({ ...base, marketId: 0 }, separator),
    )
  })

  it('binds the chain and the settlement contract', () => {
    fc.assert(
      fc.property(anyOpArb, domainArb, domainArb, (op, a, b) => {
        fc.pre(
          a.chainId !== b.chainId || a.verifyingContract.toLowerCase() !== b.verifyingContract.toLowerCase(),
        )
        const da = userOpDigest(op, domainSeparator(a.chainId, a.verifyingContract))
        const db = userOpDigest(op, domainSeparator(b.chainId, b.verifyingContract))
        expect(da).not.toEqual(db)
      }),
      { numRuns: 300 },
    )
  })

  it('throws RangeError on values the signed types cannot hold, as viem does', () => {
    const ok: UserOp = {
      signer: ZERO_ADDRESS,
      account: ZERO_ADDRESS,
      nonce: 1,
      type: 'cancelOrder',
      marketId: 1,
      orderId: 2,
      clientOrderId: 3n,
    }
    const bad: UserOp[] = [
      { ...ok, nonce: -1 },
      { ...ok, nonce: 1.5 },
      { ...ok, marketId: 0x1_0000_0000 },
      { ...ok, clientOrderId: MAX_U64 + 1n },
      { ...ok, clientOrderId: -1n },
      { ...ok, account: '0x00' },
      { ...ok, account: '0xg000000000000000000000000000000000000000' },
      {
        signer: ZERO_ADDRESS,
        account: ZERO_ADDRESS,
        nonce: 1,
        type: 'withdraw',
        amountQuantums: MAX_U256 + 1n,
      },
    ]
    for (const op of bad) {
      expect(() => userOpDigest(op, separator)).toThrow(RangeError)
      expect(() => hashTypedData(toTypedData(op, domain))).toThrow()
    }
    // Stricter than viem, which would hash this exact double: engine numbers are safe integers.
    expect(() => userOpDigest({ ...ok, nonce: Number.MAX_SAFE_INTEGER + 1 }, separator)).toThrow(RangeError)
    expect(() => userOpDigest(ok, new Uint8Array(31))).toThrow(RangeError)
    // A failed call leaves nothing behind in the shared buffers.
    expect(bytesToHex(userOpDigest(ok, separator))).toBe(hashTypedData(toTypedData(ok, domain)))
  })
})

describe('observationDigest', () => {
  it('equals viem hashTypedData for random observations', () => {
    fc.assert(
      fc.property(
        uint32Arb,
        uint64NumArb,
        uint64NumArb,
        domainArb,
        (oracleId, priceTicks, publishTimeMs, d) => {
          const obs = { priceTicks, publishTimeMs }
          const sep = domainSeparator(d.chainId, d.verifyingContract)
          expect(bytesToHex(observationDigest(oracleId, obs, sep))).toBe(
            hashTypedData(observationTypedData(oracleId, obs, d)),
          )
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('domainSeparator', () => {
  it('equals viem hashDomain', () => {
    fc.assert(
      fc.property(domainArb, (d) => {
        expect(bytesToHex(domainSeparator(d.chainId, d.verifyingContract))).toBe(
          hashDomain({ domain: d, types: { EIP712Domain: [...eip712DomainType] } }),
        )
      }),
      { numRuns: 500 },
    )
  })
})

describe('signatures', () => {
  const keyArb = fc
    .bigInt({ min: 1n, max: 2n ** 255n })
    .map((k) => privateKeyToAccount(`0x${k.toString(16).padStart(64, '0')}`))

  it('recover the signer through viem typed data and through the fast digest', async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, anyOpArb, async (account, op) => {
        const typed = toTypedData(op, domain)
        const signature = await account.signTypedData(typed)
        expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(account.address)
        const hash = bytesToHex(userOpDigest(op, separator))
        expect(await recoverAddress({ hash, signature })).toBe(account.address)
        // The same signature on another deployment recovers someone else.
        const elsewhere = domainSeparator(domain.chainId + 1n, domain.verifyingContract)
        expect(await recoverAddress({ hash: bytesToHex(userOpDigest(op, elsewhere)), signature })).not.toBe(
          account.address,
        )
      }),
      { numRuns: 30 },
    )
  })

  it('recover an oracle signer from an observation', async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, uint32Arb, uint64NumArb, uint64NumArb, async (account, oracleId, p, t) => {
        const obs = { priceTicks: p, publishTimeMs: t }
        const signature = await account.signTypedData(observationTypedData(oracleId, obs, domain))
        const hash = bytesToHex(observationDigest(oracleId, obs, separator))
        expect(await recoverAddress({ hash, signature })).toBe(account.address)
      }),
      { numRuns: 10 },
    )
  })
})
