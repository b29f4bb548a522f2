import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { OrderKind, Side, TimeInForce } from '../engine/ops.ts'
import type { SequencedOp, SubmitResult } from './api.ts'
import { SequencerError } from './errors.ts'
import { OpLog } from './log/opLog.ts'
import { createPromMetrics } from './metrics.ts'
import { startMetricsServer } from './node/metricsServer.ts'
import { replayFromGenesis } from './recovery/restoreEngine.ts'
import {
  expectSequenced,
  fundAndPrice,
  limitOrder,
  MARK_TICKS,
  startTestNode,
  T0_MS,
  type TestNode,
  USDC,
} from './testing/sequencerHarness.ts'
import { sequencerTestConfig, TestKey } from './testing/testKeys.ts'

const ALICE = TestKey.fromSeed(0xa11ce)
const BOB = TestKey.fromSeed(0xb0b)
const MALLORY = TestKey.fromSeed(0x6a11)
const AGENT = TestKey.fromSeed(0xa6e47)

let nodes: TestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.dispose()))
  nodes = []
})

async function start(options: Parameters<typeof startTestNode>[0] = {}): Promise<TestNode> {
  const node = await startTestNode(options)
  nodes.push(node)
  return node
}

function readLog(node: TestNode) {
  const log = OpLog.open({ path: join(node.dir, 'sequencer.db'), config: node.config })
  try {
    return [...log.entries()]
  } finally {
    log.close()
  }
}

describe('ordering and acknowledgement', () => {
  it('acknowledges in submission order with consecutive seqs, and publishes the same ops in order', async () => {
    const node = await start({ workers: 2, recoveryChunkJobs: 7 })
    const s = node.sequencer
    const keys = Array.from({ length: 12 }, (_, i) => TestKey.fromSeed(100 + i))
    await fundAndPrice(s, node, keys)
    const seen: SequencedOp[] = []
    s.subscribe((op) => seen.push(op))
    const intents = Array.from({ length: 300 }, (_, i) =>
      node.signer.place(keys[i % keys.length]!, {
        side: i % 2 === 0 ? Side.Buy : Side.Sell,
        priceTicks: MARK_TICKS[0] + (i % 2 === 0 ? -1 - (i % 9) : 1 + (i % 9)),
      }),
    )
    // Bursts of different sizes, so that chunks, workers and groups interleave.
    const acks: Promise<SubmitResult>[] = []
    for (let i = 0; i < intents.length; ) {
      const burst = 1 + (i % 23)
      for (const intent of intents.slice(i, i + burst)) acks.push(s.submit(intent))
      i += burst
      if (i % 2 === 0) await new Promise((r) => setImmediate(r))
    }
    const results = (await Promise.all(acks)).map(expectSequenced)
    const firstSeq = results[0]!.seq
    expect(results.map((r) => r.seq)).toEqual(intents.map((_, i) => firstSeq + i))
    expect(seen.map((op) => op.seq)).toEqual(intents.map((_, i) => firstSeq + i))
    expect(seen.every((op) => op.type === 'placeOrder' && op.outcome.ok)).toBe(true)

    const logged = readLog(node).slice(firstSeq - 1)
    expect(logged.map((e) => bytesToHex(e.signature!))).toEqual(intents.map((i) => i.signature))
    expect(logged.map((e) => (e.op.type === 'placeOrder' ? e.op.signer : null))).toEqual(
      intents.map((_, i) => keys[i % keys.length]!.address),
    )
  })

  it('takes one timestamp per group from the clock and never lets it go back', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const a = expectSequenced(await node.sequencer.submit(node.signer.place(ALICE)))
    node.clock.timeMs -= 5_000
    const b = await node.sequencer.submit(node.signer.place(ALICE))
    node.clock.timeMs += 10_000
    const c = await node.sequencer.submit(node.signer.place(ALICE))
    expect([a, b, c].map((r) => r.ok && r.timestampMs)).toEqual([T0_MS, T0_MS, T0_MS + 5_000])
  })

  it('sequences a time advance once the interval has passed', async () => {
    const node = await start({ timeAdvanceIntervalMs: 1_000 })
    const types: string[] = []
    node.sequencer.subscribe((op) => types.push(op.type))
    await fundAndPrice(node.sequencer, node, [ALICE])
    node.clock.advance(1_500)
    await node.sequencer.submit(node.signer.place(ALICE))
    expect(types.slice(-2)).toEqual(['timeAdvance', 'placeOrder'])
  })
})

describe('prechecks: refused before sequencing, nothing logged', () => {
  it('refuses a signature from a key that is neither the account nor its agent', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const before = (await node.sequencer.status()).seq
    const forged = node.signer.sign(MALLORY, { type: 'withdraw', amountQuantums: USDC }, ALICE.address)
    expect(await node.sequencer.submit(forged)).toMatchObject({ ok: false, code: 'BAD_SIGNER' })
    expect(await node.sequencer.submit({ ...forged, account: '0x1234' })).toMatchObject({
      code: 'BAD_REQUEST',
      field: 'account',
    })
    expect((await node.sequencer.status()).seq).toBe(before)
  })

  it('refuses a reused nonce, in the same burst and later', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const intent = node.signer.place(ALICE)
    const [first, again] = await Promise.all([node.sequencer.submit(intent), node.sequencer.submit(intent)])
    expect(first.ok).toBe(true)
    expect(again).toMatchObject({ ok: false, code: 'NONCE_REUSED' })
    expect(await node.sequencer.submit(intent)).toMatchObject({ ok: false, code: 'NONCE_REUSED' })
    const stale = node.signer.sign(ALICE, {
      type: 'cancelAll',
      marketId: null,
      nonce: T0_MS - 3 * 86_400_000,
    })
    expect(await node.sequencer.submit(stale)).toMatchObject({ ok: false, code: 'NONCE_OUT_OF_WINDOW' })
  })

  it('lets the window admit N concurrent nonces of one signer in one group, then refuses older ones', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const size = node.config.nonceWindow.size
    const nonces = Array.from({ length: size + 2 }, (_, i) => T0_MS - 1_000 + i * 2)
    // Highest first, so the two lowest fall below the window once it is full.
    const intents = nonces
      .reverse()
      .map((nonce) => node.signer.sign(ALICE, { type: 'cancelAll', marketId: 0, nonce }))
    const results = await Promise.all(intents.map((i) => node.sequencer.submit(i)))
    expect(results.slice(0, size).every((r) => r.ok)).toBe(true)
    expect(results.slice(size)).toMatchObject([{ code: 'NONCE_TOO_OLD' }, { code: 'NONCE_TOO_OLD' }])
  })

  it('applies the agent scope and expiry, and admits an agent approved earlier in the same group', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const s = node.sequencer
    const approve = node.signer.sign(ALICE, {
      type: 'approveAgent',
      agent: AGENT.address,
      expiresAtMs: T0_MS + 60_000,
    })
    const trade = node.signer.sign(AGENT, { type: 'placeOrder', order: limitOrder() }, ALICE.address)
    const [approved, traded] = await Promise.all([s.submit(approve), s.submit(trade)])
    expect(approved).toMatchObject({ ok: true, outcome: { ok: true } })
    expect(traded).toMatchObject({ ok: true, outcome: { ok: true } })
    const withdraw = node.signer.sign(AGENT, { type: 'withdraw', amountQuantums: USDC }, ALICE.address)
    expect(await s.submit(withdraw)).toMatchObject({ ok: false, code: 'AGENT_NOT_ALLOWED' })
    node.clock.advance(61_000)
    const late = node.signer.sign(AGENT, { type: 'cancelAll', marketId: null }, ALICE.address)
    expect(await s.submit(late)).toMatchObject({ ok: false, code: 'AGENT_EXPIRED' })
  })

  it('refuses expired GTT orders and malformed order combinations with the engine’s codes', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE])
    const gtt = node.signer.place(ALICE, { tif: TimeInForce.GTT, expiresAtMs: T0_MS - 1 })
    expect(await node.sequencer.submit(gtt)).toMatchObject({ ok: false, code: 'ORDER_EXPIRED' })
    const marketGtc = node.signer.place(ALICE, { kind: OrderKind.Market })
    expect(await node.sequencer.submit(marketGtc)).toMatchObject({ ok: false, code: 'BAD_ORDER_TYPE' })
  })

  it('refuses an oracle update signed outside the oracle set', async () => {
    const node = await start()
    const update = node.signer.prices(node.config, T0_MS)[0]!
    const forged = {
      ...update,
      observations: [
        MALLORY.signObservation(update.oracleId, { priceTicks: 1, publishTimeMs: T0_MS }, node.signer.domain),
      ],
    }
    expect(await node.sequencer.submitOracleUpdate(forged)).toMatchObject({
      ok: false,
      code: 'ORACLE_UNKNOWN_SIGNER',
    })
  })

  it('takes L1 items only in inbox order', async () => {
    const node = await start()
    const s = node.sequencer
    const deposit = { type: 'deposit' as const, account: ALICE.address, amountQuantums: USDC, inboxIndex: 1 }
    expect(await s.submitL1(deposit)).toMatchObject({ ok: false, code: 'INBOX_ORDER' })
    expect(await s.submitL1({ ...deposit, inboxIndex: 0, amountQuantums: 0n })).toMatchObject({
      code: 'BAD_REQUEST',
    })
    const [a, b] = await Promise.all([s.submitL1({ ...deposit, inboxIndex: 0 }), s.submitL1(deposit)])
    expect([a.ok, b.ok]).toEqual([true, true])
  })
})

describe('engine outcomes', () => {
  it('acknowledges an engine rejection with its code; the nonce is spent', async () => {
    const node = await start()
    await fundAndPrice(node.sequencer, node, [ALICE], 0, 10n * USDC)
    const big = node.signer.place(ALICE, { sizeLots: 900_000 })
    const ack = await node.sequencer.submit(big)
    expect(ack).toMatchObject({ ok: true, outcome: { ok: false, code: 'INSUFFICIENT_MARGIN' } })
    expect(await node.sequencer.submit(big)).toMatchObject({ ok: false, code: 'NONCE_REUSED' })
  })

  it('answers account and book queries from the applied state', async () => {
    const node = await start()
    const s = node.sequencer
    await fundAndPrice(s, node, [ALICE, BOB])
    expectSequenced(await s.submit(node.signer.place(ALICE, { priceTicks: MARK_TICKS[0], sizeLots: 5 })))
    expectSequenced(
      await s.submit(node.signer.place(BOB, { side: Side.Sell, priceTicks: MARK_TICKS[0], sizeLots: 2 })),
    )
    const alice = await s.account(ALICE.address.toUpperCase().replace('0X', '0x'))
    expect(alice).toMatchObject({
      positions: [{ marketId: 0, sizeLots: 2 }],
      openOrders: [{ remainingLots: 3 }],
    })
    expect(await s.orderBook(0, 5)).toMatchObject({
      bids: [{ priceTicks: MARK_TICKS[0], sizeLots: 3 }],
      asks: [],
    })
    expect(await s.account(MALLORY.address)).toBeNull()
    expect(await s.orderBook(99, 5)).toBeNull()
  })

  it('keeps delivering to other subscribers when one throws, and stops after unsubscribe', async () => {
    const node = await start()
    const got: number[] = []
    node.sequencer.subscribe(() => {
      throw new Error('bad subscriber')
    })
    const off = node.sequencer.subscribe((op) => got.push(op.seq))
    await fundAndPrice(node.sequencer, node, [ALICE])
    off()
    await node.sequencer.submit(node.signer.place(ALICE))
    expect(got).toEqual([1, 2, 3])
  })
})

describe('metrics', () => {
  it('counts intents by type and code, and times acknowledgements and commits', async () => {
    const metrics = createPromMetrics()
    const node = await start({ metrics })
    await fundAndPrice(node.sequencer, node, [ALICE])
    const intent = node.signer.place(ALICE)
    await node.sequencer.submit(intent)
    await node.sequencer.submit(intent)
    await node.sequencer.submit({ ...intent, type: 'nope' } as never)
    const text = await metrics.registry.metrics()
    expect(text).toMatch(/sce_intents_received_total\{type="placeOrder"\} 2/)
    expect(text).toMatch(/sce_intents_rejected_total\{code="NONCE_REUSED",stage="precheck"\} 1/)
    expect(text).toMatch(/sce_intents_rejected_total\{code="BAD_REQUEST",stage="intake"\} 1/)
    expect(text).toMatch(/sce_intents_sequenced_total\{type="placeOrder",outcome="ok"\} 1/)
    expect(text).toMatch(/sce_ack_latency_seconds_count 4/)
    expect(text).toMatch(/sce_log_commit_seconds_count \d+/)
    expect(text).toMatch(/sce_sequenced_seq 4/)
  })

  it('serves them on loopback', async () => {
    const metrics = createPromMetrics()
    metrics.received('placeOrder')
    const server = await startMetricsServer(metrics.registry, 0)
    try {
      const { port } = server.address() as AddressInfo
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(res.status).toBe(200)
      expect(await res.text()).toMatch(/sce_intents_received_total\{type="placeOrder"\} 1/)
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    } finally {
      server.close()
    }
  })
})

describe('capacity, halts and shutdown', () => {
  it('refuses beyond maxPendingIntents with OVERLOADED', async () => {
    const node = await start({ maxPendingIntents: 3 })
    await fundAndPrice(node.sequencer, node, [ALICE])
    const results = await Promise.all(
      Array.from({ length: 5 }, () => node.sequencer.submit(node.signer.place(ALICE))),
    )
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false])
    expect(results[4]).toMatchObject({ code: 'OVERLOADED' })
  })

  it('answers everything in flight before close returns, then refuses with CLOSED', async () => {
    const node = await start({ workers: 1 })
    await fundAndPrice(node.sequencer, node, [ALICE])
    const inflight = Array.from({ length: 20 }, () => node.sequencer.submit(node.signer.place(ALICE)))
    await node.sequencer.close()
    expect((await Promise.all(inflight)).every((r) => r.ok)).toBe(true)
    expect(await node.sequencer.submit(node.signer.place(ALICE))).toMatchObject({ code: 'CLOSED' })
  })

  it('halts when the engine breaks an invariant, and will not restart on that log', async () => {
    // Depth 2: the insurance fund and three accounts; a fourth deposit cannot be placed in the tree.
    const node = await start({ config: sequencerTestConfig({ accountTreeDepth: 2 }) })
    const s = node.sequencer
    const halts: string[] = []
    s.onHalt((h) => halts.push(h.code))
    const keys = [1, 2, 3, 4].map((i) => TestKey.fromSeed(200 + i))
    const results = await Promise.all(
      keys.map((k, i) =>
        s.submitL1({ type: 'deposit', account: k.address, amountQuantums: USDC, inboxIndex: i }),
      ),
    )
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false])
    expect(results[3]).toMatchObject({ code: 'HALTED' })
    expect(halts).toEqual(['ENGINE_INVARIANT'])
    expect((await s.status()).halted).toMatchObject({ code: 'ENGINE_INVARIANT', seq: 4 })
    expect(await s.submit(node.signer.place(keys[0]!))).toMatchObject({ code: 'HALTED' })
    await expect(node.reopen()).rejects.toThrow(SequencerError)
    await expect(node.reopen()).rejects.toMatchObject({ code: 'ENGINE_INVARIANT' })
  })
})

describe('restart', () => {
  it('recovers the same state from snapshot and log tail as a replay from genesis gives', async () => {
    let fromSnapshot = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ops: fc.integer({ min: 0, max: 30 }),
            snapshotEvery: fc.integer({ min: 0, max: 25 }),
            snapshotOnClose: fc.boolean(),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (sessions, seed) => {
          const node = await start({ snapshotIntervalOps: sessions[0]!.snapshotEvery })
          const keys = [ALICE, BOB, TestKey.fromSeed(seed % 1000)]
          await fundAndPrice(node.sequencer, node, keys)
          let x = seed
          const next = () => {
            x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0
            return x
          }
          for (const session of sessions) {
            const s = await node.reopen({
              snapshotIntervalOps: session.snapshotEvery,
              snapshotOnClose: false,
            })
            const intents = Array.from({ length: session.ops }, () => {
              const key = keys[next() % keys.length]!
              const roll = next() % 10
              if (roll < 6) {
                const side = next() % 2 === 0 ? Side.Buy : Side.Sell
                const offset = (next() % 40) - 20
                return node.signer.place(key, {
                  side,
                  priceTicks: MARK_TICKS[0] + offset,
                  sizeLots: 1 + (next() % 50),
                })
              }
              if (roll < 8)
                return node.signer.sign(key, { type: 'cancelAll', marketId: next() % 2 === 0 ? 0 : null })
              return node.signer.sign(key, {
                type: 'withdraw',
                amountQuantums: BigInt(1 + (next() % 1000)) * USDC,
              })
            })
            await Promise.all(intents.map((i) => s.submit(i)))
            node.clock.advance(next() % 3_000)
            const before = await s.status()
            const after = await node.reopen({
              snapshotIntervalOps: session.snapshotEvery,
              snapshotOnClose: session.snapshotOnClose,
            })
            const recovered = await after.status()
            expect(recovered.seq).toBe(before.seq)
            expect(recovered.stateRoot).toBe(before.stateRoot)
            if (recovered.snapshotSeq > 0 && recovered.snapshotSeq < recovered.seq) fromSnapshot++
            const log = OpLog.open({ path: join(node.dir, 'sequencer.db'), config: node.config })
            try {
              expect(bytesToHex(replayFromGenesis(node.config, log).root())).toBe(recovered.stateRoot)
            } finally {
              log.close()
            }
          }
          await node.dispose()
          nodes = nodes.filter((n) => n !== node)
        },
      ),
      { seed: 0x5e9, numRuns: 8 },
    )
    expect(fromSnapshot).toBeGreaterThan(0)
  })
})
