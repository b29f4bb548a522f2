import type { Hex } from 'viem'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { domainSeparator } from '../../engine/signing/digest.ts'
import type { SubmitResult } from '../api.ts'
import { MARK_TICKS, startTestNode, type TestNode } from '../testing/sequencerHarness.ts'
import { TEST_ORACLE_KEYS, TestKey } from '../testing/testKeys.ts'
import { PricePublisherError, SimulatedPricePublisher, signOracleUpdate } from './pricePublisher.ts'

const KEYS: Hex[] = TEST_ORACLE_KEYS.map((k) => k.privateKeyHex)
const nodes: TestNode[] = []

async function node(): Promise<TestNode> {
  const n = await startTestNode()
  nodes.push(n)
  return n
}

function publisher(n: TestNode, seed: number, more: { clock?: () => number; oracleKeys?: Hex[] } = {}) {
  return new SimulatedPricePublisher({
    sequencer: n.sequencer,
    config: n.config,
    oracleKeys: more.oracleKeys ?? KEYS,
    startPriceTicks: [...MARK_TICKS],
    seed,
    clock: more.clock ?? (() => n.clock.nowMs()),
  })
}

/** The engine's verdict: 'ok', its rejection code, or the intake refusal code. */
function verdict(result: SubmitResult): string {
  if (!result.ok) return `refused ${result.code}`
  return result.outcome.ok ? 'ok' : result.outcome.code
}

async function marks(n: TestNode): Promise<number[]> {
  return Promise.all(
    n.config.markets.map(async (_, i) => (await n.sequencer.orderBook(i, 1))!.markPriceTicks),
  )
}

/** Publishes `steps` times, a second apart on the node's clock; returns every published price. */
async function walk(n: TestNode, p: SimulatedPricePublisher, steps: number): Promise<number[][]> {
  const prices: number[][] = []
  for (let i = 0; i < steps; i++) {
    n.clock.timeMs += 1_000
    const results = await p.publishOnce()
    expect(results.map(verdict)).toEqual(n.config.markets.map(() => 'ok'))
    prices.push(p.lastPublished.map((x) => x.priceTicks))
  }
  return prices
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.dispose()))
})

describe('SimulatedPricePublisher', () => {
  it('publishes signed updates the engine accepts, moving the mark price within a quarter band per step', async () => {
    const n = await node()
    const p = publisher(n, 42)
    const prices = await walk(n, p, 40)
    expect(await marks(n)).toEqual(prices.at(-1))
    const bands = n.config.markets.map((m) => m.priceBandPpm)
    let previous: readonly number[] = MARK_TICKS
    for (const step of prices) {
      step.forEach((price, i) => {
        expect(Number.isSafeInteger(price) && price >= 1).toBe(true)
        const bound = Math.floor((previous[i]! * Math.floor(bands[i]! / 4)) / 1_000_000)
        expect(Math.abs(price - previous[i]!)).toBeLessThanOrEqual(bound)
      })
      previous = step
    }
    // It does move: a walk stuck at the start would pass the bounds above.
    expect(new Set(prices.map((s) => s[0])).size).toBeGreaterThan(10)
    expect(prices.at(-1)).not.toEqual([...MARK_TICKS])
  })

  it('is deterministic: the same seed gives the same walk, another seed another', async () => {
    const [a, b, c] = await Promise.all([node(), node(), node()])
    const [walkA, walkB, walkC] = await Promise.all([
      walk(a, publisher(a, 7), 25),
      walk(b, publisher(b, 7), 25),
      walk(c, publisher(c, 8), 25),
    ])
    expect(walkB).toEqual(walkA)
    expect(walkC).not.toEqual(walkA)
    expect(await marks(b)).toEqual(await marks(a))
  })

  it('gets the engine rejections back for a stale publish time and an out-of-band jump', async () => {
    const n = await node()
    const p = publisher(n, 1)
    await walk(n, p, 1)
    const accepted = await marks(n)

    n.clock.timeMs += 1_000
    const lagging = publisher(n, 1, { clock: () => n.clock.nowMs() - n.config.oracle.maxPublishDelayMs - 1 })
    expect((await lagging.publishOnce()).map(verdict)).toEqual(['ORACLE_STALE', 'ORACLE_STALE'])
    expect(await marks(n)).toEqual(accepted)

    n.clock.timeMs += 1_000
    const domain = domainSeparator(n.config.chainId, n.config.settlementAddress)
    const market = n.config.markets[0]!
    const jump = accepted[0]! + Math.ceil((accepted[0]! * market.priceBandPpm) / 1_000_000) + 1
    const outOfBand = signOracleUpdate(
      domain,
      market.oracleId,
      { priceTicks: jump, publishTimeMs: n.clock.nowMs() },
      KEYS,
    )
    expect(verdict(await n.sequencer.submitOracleUpdate(outOfBand))).toBe('ORACLE_OUT_OF_BAND')
    // The same helper at a price inside the band is accepted: the rejection was the jump, not the signing.
    const inBand = signOracleUpdate(
      domain,
      market.oracleId,
      { priceTicks: accepted[0]! + 1, publishTimeMs: n.clock.nowMs() },
      KEYS,
    )
    expect(verdict(await n.sequencer.submitOracleUpdate(inBand))).toBe('ok')
    expect((await marks(n))[0]).toBe(accepted[0]! + 1)
  })

  it('keeps the walk at the last accepted price after a rejected update', async () => {
    const n = await node()
    const p = publisher(n, 3)
    const [first] = await walk(n, p, 1)
    // Same publish time again: the engine refuses it as not newer.
    expect((await p.publishOnce()).map(verdict)).toEqual(['ORACLE_NOT_NEWER', 'ORACLE_NOT_NEWER'])
    n.clock.timeMs += 1_000
    await p.publishOnce()
    const bands = n.config.markets.map((m) => m.priceBandPpm)
    p.lastPublished.forEach((x, i) => {
      const bound = Math.floor((first![i]! * Math.floor(bands[i]! / 4)) / 1_000_000)
      expect(Math.abs(x.priceTicks - first![i]!)).toBeLessThanOrEqual(bound)
    })
    expect(await marks(n)).toEqual(p.lastPublished.map((x) => x.priceTicks))
  })

  it('signs r ‖ s ‖ v over the observation digest with v 27 or 28, as the engine recovers it', async () => {
    const n = await node()
    const domain = domainSeparator(n.config.chainId, n.config.settlementAddress)
    const update = signOracleUpdate(domain, 1, { priceTicks: 600_000, publishTimeMs: n.clock.nowMs() }, KEYS)
    expect(update.observations).toHaveLength(KEYS.length)
    for (const [i, o] of update.observations.entries()) {
      expect(o.signature).toMatch(/^0x[0-9a-f]{130}$/)
      expect([27, 28]).toContain(Number.parseInt(o.signature.slice(-2), 16))
      // The harness signs the same digest with the same RFC 6979 nonces.
      expect(o.signature).toBe(TEST_ORACLE_KEYS[i]!.signObservation(1, o, domain).signature)
    }
    expect(verdict(await n.sequencer.submitOracleUpdate(update))).toBe('ok')
  })

  it('refuses a configuration that could not publish, with a stable code', async () => {
    const n = await node()
    const make = (oracleKeys: Hex[]) => () => publisher(n, 1, { oracleKeys })
    const expectCode = (f: () => unknown, text: RegExp) => {
      expect(f).toThrow(PricePublisherError)
      expect(f).toThrow(/PUBLISHER_CONFIG_INVALID/)
      expect(f).toThrow(text)
    }
    expectCode(make(KEYS.slice(0, 1)), /threshold needs 2/)
    expectCode(make([KEYS[0]!, TestKey.fromSeed(99).privateKeyHex]), /not in config\.oracle\.signers/)
    expectCode(make([KEYS[0]!, KEYS[0]!]), /given twice/)
    expectCode(make(['0x1234', KEYS[1]!]), /not a secp256k1 private key/)
    expect(
      () =>
        new SimulatedPricePublisher({
          sequencer: n.sequencer,
          config: n.config,
          oracleKeys: KEYS,
          startPriceTicks: { 1: 600_000 },
          seed: 1,
        }),
    ).toThrow(/no whole, positive price for market/)
  })

  it('runs on its timer until stopped', async () => {
    const n = await node()
    const p = new SimulatedPricePublisher({
      sequencer: n.sequencer,
      config: n.config,
      oracleKeys: KEYS,
      startPriceTicks: { 1: MARK_TICKS[0], 2: MARK_TICKS[1] },
      seed: 5,
      intervalMs: 60_000,
      clock: () => n.clock.nowMs(),
    })
    p.start()
    // The first publish is immediate; the next is a minute away, so exactly one lands.
    await vi.waitFor(async () => expect((await marks(n))[0]).toBeGreaterThan(0))
    await p.stop()
    expect(await marks(n)).toEqual(p.lastPublished.map((x) => x.priceTicks))
    expect((await n.sequencer.status()).seq).toBe(2)
  })
})
