import { bytesToHex, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OrderKind, type OrderParams, SelfTradePrevention, Side, TimeInForce } from '../../engine/ops.ts'
import { BatchBuilder, type BuiltBatch, TestSigner } from '../testing/batchBuilder.ts'
import { BatchReplayer, genesisCheckpoint, VerdictFault } from './batchReplayer.ts'
import { RecoveryPool } from './recoveryPool.ts'

const USDC = 1_000_000n
const alice = new TestSigner(0xa11ce)
const bob = new TestSigner(0xb0b)
const mallory = new TestSigner(0x6a11)

function limit(side: Side, priceTicks: number, sizeLots: number): OrderParams {
  return {
    marketId: 0,
    side,
    kind: OrderKind.Limit,
    tif: TimeInForce.GTC,
    priceTicks,
    sizeLots,
    triggerPriceTicks: 0,
    reduceOnly: false,
    postOnly: false,
    stp: SelfTradePrevention.ExpireMaker,
    clientOrderId: 0n,
    expiresAtMs: 0,
  }
}

/** Deposits, prices, a resting order and a cross, a withdrawal: every kind of signature and inbox use. */
function trade(b: BatchBuilder, shift: number): void {
  b.nowMs += 1_000
  b.price(1, 600_000 + shift)
  b.user(alice, { type: 'placeOrder', order: limit(Side.Buy, 600_000 + shift, 3) })
  b.user(bob, { type: 'placeOrder', order: limit(Side.Sell, 600_000 + shift, 2) })
  b.user(bob, { type: 'withdraw', amountQuantums: 5n * USDC })
}

/** r = s = 0: a signature that recovers to no key. */
function zeroSignature(): Uint8Array {
  const sig = new Uint8Array(65)
  sig[64] = 27
  return sig
}

let pool: RecoveryPool

beforeAll(async () => {
  pool = await RecoveryPool.start({ workers: 1 })
})

afterAll(async () => {
  await pool.close()
})

describe('BatchReplayer', () => {
  it('verifies honest batches to the builder roots, prepared ahead or one by one', async () => {
    const b = new BatchBuilder()
    b.deposit(alice.address, 10_000n * USDC)
    b.deposit(bob.address, 10_000n * USDC)
    trade(b, 0)
    const batches = [b.seal()]
    for (let i = 1; i <= 3; i++) {
      trade(b, i * 10)
      batches.push(b.seal())
    }
    batches.push(b.seal()) // an empty batch is legal
    const replayer = new BatchReplayer(b.config, pool)
    const first = await replayer.verify(batches[0]!, batches[0]!.posted, b.inbox)
    expect(first).toMatchObject({ batchIndex: 1, ok: true, ops: 6 })
    expect(first.stateRoot).toBe(batches[0]!.header.stateRoot)
    // The rest prepared two ahead, as the watcher does while it replays.
    const prepared = batches.slice(1).map((x) => replayer.prepare(x, x.posted))
    for (const [i, p] of prepared.entries()) {
      const v = await replayer.verifyPrepared(p, (from, to) => b.inbox.slice(from, to))
      expect(v, v.detail).toMatchObject({ batchIndex: i + 2, ok: true })
    }
    expect(replayer.batchIndex).toBe(5)
    expect(replayer.stateRoot).toBe(bytesToHex(b.engine.root()))
    expect(replayer.engine.state.seq).toBe(b.engine.state.seq)
  })

  it('calls a lying root, a forged signature, a bad signature, undecodable data and a skipped deposit WRONG, and stays at the parent', async () => {
    const b = new BatchBuilder()
    b.deposit(alice.address, 10_000n * USDC)
    b.deposit(bob.address, 10_000n * USDC)
    trade(b, 0)
    const one = b.seal()
    const replayer = new BatchReplayer(b.config, pool)
    expect((await replayer.verify(one, one.posted, b.inbox)).ok).toBe(true)
    let parentRoot = replayer.stateRoot

    const cases: { fault: VerdictFault; detail: RegExp; build: () => ReturnType<BatchBuilder['seal']> }[] = [
      {
        fault: VerdictFault.STATE_ROOT_MISMATCH,
        detail: /the batch claims 0x1{64}, replay gives/,
        build: () => b.seal({ header: (h) => ({ ...h, stateRoot: `0x${'11'.repeat(32)}` }) }),
      },
      {
        // Mallory signs Alice's order: it recovers to Mallory, the engine refuses it, the root differs.
        fault: VerdictFault.STATE_ROOT_MISMATCH,
        detail: /BAD_SIGNER|recovers to/,
        build: () =>
          b.seal({
            entries: (honest) =>
              honest.map((e) =>
                e.op.type === 'placeOrder' && e.op.account === alice.address
                  ? { ...e, signature: mallory.sign(new Uint8Array(32).fill(7)) }
                  : e,
              ),
          }),
      },
      {
        fault: VerdictFault.BAD_SIGNATURE,
        detail: /does not recover/,
        build: () =>
          b.seal({
            entries: (honest) =>
              honest.map((e) => (e.signature === null ? e : { ...e, signature: zeroSignature() })),
          }),
      },
      {
        fault: VerdictFault.UNDECODABLE,
        detail: /BAD_MAGIC/,
        build: () => b.seal({ posted: (p) => new Uint8Array([0x42, ...p.subarray(1)]) }),
      },
    ]
    for (const c of cases) {
      trade(b, 5)
      const wrong = c.build()
      b.prevRoot = wrong.honest.header.stateRoot
      const v = await replayer.verify(wrong, wrong.posted, b.inbox)
      expect(v, v.detail).toMatchObject({
        ok: false,
        fault: c.fault,
        batchIndex: Number(wrong.header.batchIndex),
      })
      expect(v.detail).toMatch(c.detail)
      // Still at the parent: the honest batch at the same index verifies.
      expect(replayer.stateRoot).toBe(parentRoot)
      const honest = await replayer.verify(wrong.honest, wrong.honest.posted, b.inbox)
      expect(honest, honest.detail).toMatchObject({ ok: true, stateRoot: wrong.honest.header.stateRoot })
      expect(replayer.stateRoot).toBe(bytesToHex(b.engine.root()))
      parentRoot = replayer.stateRoot
    }

    // A deposit on L1 that the batch skips while the header claims it consumed.
    b.deposit(alice.address, 1n * USDC)
    trade(b, 7)
    const skipped = b.seal({
      entries: (honest) =>
        honest.filter((e) => e.op.type !== 'deposit').map((e, i) => ({ ...e, seq: honest[0]!.seq + i })),
    })
    b.prevRoot = skipped.honest.header.stateRoot
    const v = await replayer.verify(skipped, skipped.posted, b.inbox)
    expect(v).toMatchObject({ ok: false, fault: VerdictFault.INBOX_COUNT_MISMATCH })
    expect(v.detail).toMatch(/inbox item 2 is skipped/)
    expect((await replayer.verify(skipped.honest, skipped.honest.posted, b.inbox)).ok).toBe(true)

    // A batch built on a root we did not verify.
    trade(b, 9)
    const orphan = b.seal({ header: (h) => ({ ...h, prevStateRoot: `0x${'22'.repeat(32)}` }) })
    expect(await replayer.verify(orphan, orphan.posted, b.inbox)).toMatchObject({
      ok: false,
      fault: VerdictFault.PREV_STATE_ROOT_MISMATCH,
    })
  })

  it('batch-checks known signers and gives the verdicts recovery alone gives, forged and broken signatures included', async () => {
    const batching = await RecoveryPool.start({ workers: 1 })
    const recovering = await RecoveryPool.start({ workers: 0, batchVerify: false })
    try {
      expect(batching.signatureCheck.mode).toBe('batch')
      const b = new BatchBuilder()
      b.deposit(alice.address, 10_000n * USDC)
      b.deposit(bob.address, 10_000n * USDC)
      const busy = (shift: number) => {
        for (let k = 0; k < 4; k++) trade(b, shift + k)
      }
      const replayers = [new BatchReplayer(b.config, batching), new BatchReplayer(b.config, recovering)]
      const verifyBoth = async (x: BuiltBatch) => {
        const verdicts = []
        for (const r of replayers) verdicts.push(await r.verify(x, x.posted, b.inbox))
        const [batched, recovered] = verdicts.map(({ ms: _ms, ...rest }) => rest)
        expect(batched).toEqual(recovered)
        return batched!
      }
      for (let i = 0; i < 2; i++) {
        busy(i * 10)
        expect((await verifyBoth(b.seal())).ok).toBe(true)
      }
      // The second batch's signers were known from the first.
      expect(batching.counts.batched).toBeGreaterThanOrEqual(20)
      expect(recovering.counts.batched).toBe(0)

      let forgedOnce = false
      let brokenOnce = false
      const cases: [VerdictFault, () => ReturnType<BatchBuilder['seal']>][] = [
        // One of Alice's orders signed by Mallory, among signatures that all match their known keys.
        [
          VerdictFault.STATE_ROOT_MISMATCH,
          () =>
            b.seal({
              entries: (honest) =>
                honest.map((e) => {
                  if (forgedOnce || e.op.type !== 'placeOrder' || e.op.account !== alice.address) return e
                  forgedOnce = true
                  return { ...e, signature: mallory.sign(new Uint8Array(32).fill(9)) }
                }),
            }),
        ],
        // One signature that recovers to no key.
        [
          VerdictFault.BAD_SIGNATURE,
          () =>
            b.seal({
              entries: (honest) =>
                honest.map((e) => {
                  if (brokenOnce || e.signature === null || e.op.type !== 'withdraw') return e
                  brokenOnce = true
                  return { ...e, signature: zeroSignature() }
                }),
            }),
        ],
      ]
      for (const [fault, build] of cases) {
        busy(40)
        const wrong = build()
        b.prevRoot = wrong.honest.header.stateRoot
        expect(await verifyBoth(wrong)).toMatchObject({ ok: false, fault })
        expect((await verifyBoth(wrong.honest)).ok).toBe(true)
      }
      expect(batching.counts.failedBatches).toBeGreaterThanOrEqual(2)
    } finally {
      await batching.close()
      await recovering.close()
    }
  })

  it('rebuilds from its checkpoint, and resets to a stored one', async () => {
    const b = new BatchBuilder()
    b.deposit(alice.address, 10_000n * USDC)
    b.deposit(bob.address, 10_000n * USDC)
    const replayer = new BatchReplayer(b.config, pool)
    const roots: Hex[] = []
    for (let i = 0; i < 4; i++) {
      trade(b, i)
      const x = b.seal()
      expect((await replayer.verify(x, x.posted, b.inbox)).ok).toBe(true)
      roots.push(x.header.stateRoot)
      if (i === 1) replayer.checkpoint()
    }
    const atFour = replayer.checkpoint()
    expect(atFour).toMatchObject({ batchIndex: 4, stateRoot: roots[3] })
    replayer.reset()
    expect(replayer.stateRoot).toBe(genesisCheckpoint(b.config).stateRoot)
    replayer.reset(atFour)
    expect(replayer.stateRoot).toBe(roots[3])
    trade(b, 50)
    const five = b.seal()
    expect((await replayer.verify(five, five.posted, b.inbox)).ok).toBe(true)
    expect(() => replayer.reset({ ...atFour, stateRoot: roots[0]! })).toThrow(/restores to/)
  })
})
