import { OrderBook as PeerOrderBook, Side as PeerSide, SelfTradePreventionMode } from 'nodejs-order-book'
import { MatchPlan } from '../engine/book/matchPlan.ts'
import { Order } from '../engine/book/order.ts'
import { OrderBook } from '../engine/book/orderBook.ts'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../engine/ops.ts'
import { MAX_PRICE_TICKS } from '../engine/units.ts'
import { collectGarbage, median } from './stats.ts'
import { generateWorkload, mulberry32, type Workload, type WorkloadOptions } from './workload.ts'

/**
 * Replays one seeded order-flow mix (bench/workload.ts) into our book, the way the engine drives it
 * (match, then remove / fillMaker, then insert the remainder), and into nodejs-order-book, in the same process.
 * Also measures the heap cost of a resting order.
 */

interface ReplayResult {
  seconds: number
  restingOrders: number
  tradedLots: number
  cancelsHit: number
}

function replayOurs(workload: Workload): ReplayResult {
  const book = new OrderBook(1)
  const plan = new MatchPlan()
  const byId: (Order | undefined)[] = new Array(workload.maxOrderId + 1).fill(undefined)
  const ops = workload.ops
  let tradedLots = 0
  let cancelsHit = 0
  const t0 = performance.now()
  for (let n = 0; n < ops.length; n++) {
    const op = ops[n]!
    if (op.type === 'cancel') {
      const order = byId[op.orderId]
      if (order !== undefined && order.level !== null) {
        book.remove(order)
        cancelsHit++
      }
      continue
    }
    const limitTicks = op.type === 'limit' ? op.priceTicks : op.side === Side.Buy ? MAX_PRICE_TICKS : 1
    book.match(op.accountId, op.side, limitTicks, op.sizeLots, SelfTradePrevention.ExpireMaker, 0, plan)
    for (let i = 0; i < plan.cancelCount; i++) book.remove(plan.cancels[i]!)
    for (let i = 0; i < plan.fillCount; i++) book.fillMaker(plan.makers[i]!, plan.lots[i]!)
    tradedLots += plan.filledLots
    const leftLots = op.sizeLots - plan.filledLots
    if (op.type === 'limit' && leftLots > 0 && !plan.takerStopped) {
      const order = new Order(
        op.orderId,
        op.accountId,
        1,
        op.side,
        OrderKind.Limit,
        TimeInForce.GTC,
        op.priceTicks,
        leftLots,
        false,
        false,
        SelfTradePrevention.ExpireMaker,
        0n,
        0,
        0,
      )
      book.insert(order)
      byId[op.orderId] = order
    }
  }
  const seconds = (performance.now() - t0) / 1000
  return { seconds, restingOrders: book.size, tradedLots, cancelsHit }
}

function replayPeer(workload: Workload, idStrings: string[], accountStrings: string[]): ReplayResult {
  const book = new PeerOrderBook()
  const ops = workload.ops
  const stpMode = SelfTradePreventionMode.EXPIRE_MAKER
  let tradedLots = 0
  let cancelsHit = 0
  const t0 = performance.now()
  for (let n = 0; n < ops.length; n++) {
    const op = ops[n]!
    if (op.type === 'cancel') {
      if (book.cancel(idStrings[op.orderId]!) !== undefined) cancelsHit++
      continue
    }
    const side = op.side === Side.Buy ? PeerSide.BUY : PeerSide.SELL
    const accountId = accountStrings[op.accountId]!
    const res =
      op.type === 'limit'
        ? book.limit({
            side,
            id: idStrings[op.orderId]!,
            size: op.sizeLots,
            price: op.priceTicks,
            accountId,
            stpMode,
          })
        : book.market({ side, size: op.sizeLots, accountId, stpMode })
    if (res.err !== null) throw new Error(`nodejs-order-book rejected op ${n}: ${res.err.message}`)
    tradedLots += op.sizeLots - res.quantityLeft
  }
  const seconds = (performance.now() - t0) / 1000
  const snapshot = book.snapshot()
  let restingOrders = 0
  for (const level of snapshot.bids) restingOrders += level.orders.length
  for (const level of snapshot.asks) restingOrders += level.orders.length
  return { seconds, restingOrders, tradedLots, cancelsHit }
}

function compareReplays(name: string, workload: Workload, ours: ReplayResult, peer: ReplayResult): void {
  const expected = `${workload.restingOrdersAtEnd} resting, ${workload.tradedLots} lots traded`
  for (const [who, r] of [
    ['ours', ours],
    ['nodejs-order-book', peer],
  ] as const) {
    if (r.restingOrders !== workload.restingOrdersAtEnd || r.tradedLots !== workload.tradedLots) {
      console.log(
        `WARNING ${name}: ${who} ended with ${r.restingOrders} resting, ${r.tradedLots} lots traded; expected ${expected}`,
      )
    }
  }
  if (ours.cancelsHit !== peer.cancelsHit) {
    console.log(
      `WARNING ${name}: cancels hit ${ours.cancelsHit} (ours) vs ${peer.cancelsHit} (nodejs-order-book)`,
    )
  }
}

function measureThroughput(
  name: string,
  seed: number,
  count: number,
  runs: number,
  opts: Partial<WorkloadOptions>,
): { oursOpsPerS: number; peerOpsPerS: number } {
  const workload = generateWorkload(seed, count, opts)
  console.log(
    `# ${name}: seed ${seed}, ${count} ops, ${workload.restingOrdersAtEnd} resting orders on ` +
      `${workload.levelsAtEnd} levels at the end, ${workload.tradedLots} lots traded`,
  )
  // Warm both up on a smaller mix of another seed, so the first timed run is not spent in the JIT.
  const warmup = generateWorkload(seed + 1, Math.min(count, 50_000), opts)
  const idStrings: string[] = []
  for (let id = 0; id <= Math.max(workload.maxOrderId, warmup.maxOrderId); id++) idStrings.push(`o${id}`)
  let maxAccountId = 0
  for (const op of [...workload.ops, ...warmup.ops]) {
    if (op.type !== 'cancel') maxAccountId = Math.max(maxAccountId, op.accountId)
  }
  const accountStrings: string[] = []
  for (let a = 0; a <= maxAccountId; a++) accountStrings.push(`a${a}`)
  replayOurs(warmup)
  replayPeer(warmup, idStrings, accountStrings)
  const oursSeconds: number[] = []
  const peerSeconds: number[] = []
  for (let r = 0; r < runs; r++) {
    collectGarbage()
    const ours = replayOurs(workload)
    collectGarbage()
    const peer = replayPeer(workload, idStrings, accountStrings)
    if (r === 0) compareReplays(name, workload, ours, peer)
    oursSeconds.push(ours.seconds)
    peerSeconds.push(peer.seconds)
  }
  return { oursOpsPerS: count / median(oursSeconds), peerOpsPerS: count / median(peerSeconds) }
}

/** Heap bytes per resting order, Order object included, over `count` orders spread on 2 x 1000 levels. */
function measureBytesPerRestingOrder(count: number): number {
  const next = mulberry32(7)
  collectGarbage()
  const book = new OrderBook(1)
  const before = process.memoryUsage().heapUsed
  for (let id = 1; id <= count; id++) {
    const side: Side = next() & 1 ? Side.Buy : Side.Sell
    const offset = 1 + (next() % 1000)
    const priceTicks = side === Side.Buy ? 1_000_000 - offset : 1_000_000 + offset
    const order = new Order(
      id,
      1 + (next() % 1000),
      1,
      side,
      OrderKind.Limit,
      TimeInForce.GTC,
      priceTicks,
      1 + (next() % 100),
      false,
      false,
      SelfTradePrevention.ExpireMaker,
      0n,
      0,
      0,
    )
    book.insert(order)
  }
  collectGarbage()
  const after = process.memoryUsage().heapUsed
  if (book.size !== count) console.log(`WARNING bytes_per_resting_order: book holds ${book.size} orders`)
  return (after - before) / count
}

export async function run(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1'
  const count = quick ? 100_000 : 1_000_000
  const runs = quick ? 1 : 3
  const seed = 20_261_124
  if (globalThis.gc === undefined)
    console.log('WARNING matching: run node with --expose-gc for stable figures')

  const main = measureThroughput('matching', seed, count, runs, {})
  console.log(`BENCH match_ops_per_s ${Math.round(main.oursOpsPerS)} ops/s`)
  console.log(`BENCH nodejs_order_book_ops_per_s ${Math.round(main.peerOpsPerS)} ops/s`)
  console.log(`RATIO match_vs_nodejs_order_book ${(main.oursOpsPerS / main.peerOpsPerS).toFixed(2)}`)

  const bytes = measureBytesPerRestingOrder(quick ? 100_000 : 1_000_000)
  console.log(`BENCH book_bytes_per_resting_order ${Math.round(bytes)} bytes`)
}
