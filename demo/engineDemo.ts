/**
 * The engine demo: two markets, a seeded oracle price walk and seeded random traders, some of them
 * over-leveraged. Prints fills, liquidations and the state root per round, then checks the invariants.
 * Usage: npm start [-- --seed N --rounds N --traders N]
 */
import { parseArgs } from 'node:util'
import { bytesToHex } from 'viem'
import type { EngineEvent } from '../engine/events.ts'
import { checkInvariants } from '../engine/invariants/checkInvariants.ts'
import { OrderKind, Side, TimeInForce } from '../engine/ops.ts'
import { StateCommitment } from '../engine/state/commitState.ts'
import { Harness } from '../engine/testing/harness.ts'
import { testAddress } from '../engine/testing/testConfig.ts'

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    rounds: { type: 'string', default: '20' },
    traders: { type: 'string', default: '200' },
  },
})
const seed = Number(values.seed)
const rounds = Number(values.rounds)
const traderCount = Number(values.traders)
if (![seed, rounds, traderCount].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error(
    'seed, rounds and traders must be positive whole numbers, e.g. npm start -- --seed 7 --rounds 10',
  )
  process.exit(2)
}

/** xorshift32: the demo's only randomness, seeded, so a run can be repeated exactly. */
let rng = seed >>> 0 || 1
function random(): number {
  rng ^= rng << 13
  rng ^= rng >>> 17
  rng ^= rng << 5
  return (rng >>> 0) / 2 ** 32
}
function pick(n: number): number {
  return Math.floor(random() * n)
}

const USDC = 1_000_000n
const h = new Harness()
h.keepLog = false
const commitment = new StateCommitment(h.state)
const markets = [
  { marketId: 0, oracleId: 1, symbol: 'BTC-PERP', priceTicks: 600_000 },
  { marketId: 1, oracleId: 2, symbol: 'ETH-PERP', priceTicks: 300_000 },
]
const makers = [testAddress(0x1000), testAddress(0x1001)]
const traders = Array.from({ length: traderCount }, (_, i) => testAddress(0x2000 + i))

for (const m of makers) h.deposit(m, 5_000_000n * USDC)
// A tenth of the traders run close to maximum leverage, so price moves liquidate some of them.
traders.forEach((t, i) => {
  h.deposit(t, (i % 10 === 0 ? 50n : 2_000n + BigInt(pick(8_000))) * USDC)
})
h.deposit('0x0000000000000000000000000000000000000000', 20_000n * USDC)
for (const m of markets) h.price(m.oracleId, m.priceTicks)

const totals = { fills: 0, liquidations: 0, deleverages: 0, rejected: 0 }
function tally(events: EngineEvent[]): void {
  for (const e of events) {
    if (e.type === 'fill') totals.fills++
    else if (e.type === 'liquidation') {
      totals.liquidations++
      console.log(
        `  liquidation: account ${e.accountId} ${e.sizeLots} lots of ${markets[e.marketId]!.symbol} via ${e.via} at ${e.priceTicks}`,
      )
    } else if (e.type === 'deleverage') totals.deleverages++
  }
}

console.log(
  `SCE engine demo: seed ${seed}, ${rounds} rounds, ${traderCount} traders, ${markets.length} markets`,
)
for (let round = 1; round <= rounds; round++) {
  const fillsBefore = totals.fills
  for (const m of markets) {
    // Makers quote 5 levels a side around the oracle price, after pulling last round's quotes.
    for (const maker of makers) {
      tally(
        h.run({
          type: 'cancelAll',
          account: maker,
          signer: maker,
          nonce: h.nextNonce(),
          marketId: m.marketId,
        }).events,
      )
      for (let level = 1; level <= 5; level++) {
        const spread = level * 50 + pick(50)
        tally(
          h.place(maker, {
            marketId: m.marketId,
            side: Side.Buy,
            priceTicks: m.priceTicks - spread,
            sizeLots: 200 + pick(800),
          }).events,
        )
        tally(
          h.place(maker, {
            marketId: m.marketId,
            side: Side.Sell,
            priceTicks: m.priceTicks + spread,
            sizeLots: 200 + pick(800),
          }).events,
        )
      }
    }
  }
  for (let i = 0; i < traderCount; i++) {
    const trader = traders[pick(traders.length)]!
    const m = markets[pick(markets.length)]!
    const side = random() < 0.5 ? Side.Buy : Side.Sell
    const marketable = random() < 0.4
    const away = (side === Side.Buy ? -1 : 1) * (marketable ? -400 : 20 + pick(300))
    const r = h.place(trader, {
      marketId: m.marketId,
      side,
      priceTicks: m.priceTicks + away,
      sizeLots: 10 + pick(trader === traders[0] ? 100 : 600),
      kind: marketable ? OrderKind.Market : OrderKind.Limit,
      tif: marketable ? TimeInForce.IOC : TimeInForce.GTC,
    })
    if (!r.result.ok) totals.rejected++
    tally(r.events)
  }
  // The oracle walks ±0.5% a step, with an occasional 4% shock.
  h.nowMs += 1_000
  for (const m of markets) {
    const shock = random() < 0.1 ? (random() < 0.5 ? -0.04 : 0.04) : (random() - 0.5) * 0.01
    m.priceTicks = Math.max(1, Math.round(m.priceTicks * (1 + shock)))
    const r = h.price(m.oracleId, m.priceTicks)
    if (r.result.ok) tally(r.events)
  }
  tally(h.advance(60_000).events)
  for (const m of markets) h.price(m.oracleId, m.priceTicks)
  const root = bytesToHex(commitment.root())
  console.log(
    `round ${String(round).padStart(3)}: BTC ${(markets[0]!.priceTicks / 10).toFixed(1)} ETH ${(markets[1]!.priceTicks / 100).toFixed(2)} fills ${totals.fills - fillsBefore} liquidations ${totals.liquidations} root ${root}`,
  )
}

const violations = checkInvariants(h.state)
console.log(
  `done: ${h.state.seq} operations, ${totals.fills} fills, ${totals.liquidations} liquidations, ${totals.deleverages} deleverages, ${totals.rejected} orders rejected`,
)
console.log(
  `insurance fund ${h.state.insuranceFund.collateralQuantums} quantums, fees ${h.state.feesQuantums} quantums`,
)
console.log(`state root ${bytesToHex(commitment.root())}`)
if (violations.length > 0) {
  console.error('invariant violations:', violations)
  process.exit(1)
}
console.log('invariants hold')
