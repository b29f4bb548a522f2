import { Side } from '../ops.ts'
import { EngineInvariantError } from '../rejections.ts'
import { accountRisk } from '../risk/margin.ts'
import { isTriggerKind } from '../snapshot/snapshotFormat.ts'
import type { Account, AccountMarket } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'

export const Invariant = {
  /** Σ equity (insurance fund included) + fees <= deposits − withdrawals, with at most the rounding slack. */
  Conservation: 'conservation',
  /** Long lots = short lots = market.openInterestLots, in every market. */
  OpenInterest: 'openInterest',
  /** market.holders is exactly the accounts with a non-zero position (the commitment relies on it). */
  Holders: 'holders',
  /** Best bid < best ask whenever both sides rest. */
  CrossedBook: 'crossedBook',
  /** No account, the insurance fund included, has negative equity at mark. */
  NegativeEquity: 'negativeEquity',
  /** A flat position carries no cost basis and no funding snapshot (a snapshot drops such entries). */
  FlatPosition: 'flatPosition',
  /** AccountMarket.openBidLots / openAskLots / openOrderCount equal the sums over the account's orders. */
  OrderExposure: 'orderExposure',
  /** ordersById, account.orders, clientOrderIds, the books and the untriggered sets agree. */
  OrderIndex: 'orderIndex',
  /**
   * Within a price level, orders queue in ascending order id. The commitment and the snapshot rebuild
   * books from (price, order id) alone, so any other queue order would not survive a restore.
   */
  BookPriority: 'bookPriority',
  /** The book's own structure (links, level totals, sort order). */
  BookStructure: 'bookStructure',
  /** accounts[i].accountId = i, accountIdByAddress agrees, markets[i].config.marketId = i. */
  Indexes: 'indexes',
} as const
export type Invariant = (typeof Invariant)[keyof typeof Invariant]

export interface InvariantViolation {
  invariant: Invariant
  details: string
}

interface MarketTally {
  longLots: number
  shortLots: number
  holders: number
  restingOrders: number
  untriggeredOrders: number
}

function checkAccountOrders(
  state: EngineState,
  account: Account,
  tallies: MarketTally[],
  out: InvariantViolation[],
): number {
  const id = account.accountId
  const markets = state.markets
  const orders = account.orders
  const bid = new Array<number>(markets.length).fill(0)
  const ask = new Array<number>(markets.length).fill(0)
  const count = new Array<number>(markets.length).fill(0)
  let seen = 0
  let withClientId = 0
  if (orders !== null) {
    let lastId = 0
    for (const [key, o] of orders) {
      seen++
      const where = `account ${id} order ${key}`
      if (key !== o.orderId || o.accountId !== id) {
        out.push({ invariant: Invariant.OrderIndex, details: `${where}: keyed or owned wrongly` })
        continue
      }
      if (o.orderId <= lastId) {
        out.push({
          invariant: Invariant.OrderIndex,
          details: `${where}: account.orders not in order-id order`,
        })
      }
      lastId = o.orderId
      if (o.orderId >= state.nextOrderId) {
        out.push({
          invariant: Invariant.OrderIndex,
          details: `${where}: id >= nextOrderId ${state.nextOrderId}`,
        })
      }
      if (state.ordersById.get(o.orderId) !== o) {
        out.push({ invariant: Invariant.OrderIndex, details: `${where}: missing from ordersById` })
      }
      if (!(Number.isSafeInteger(o.remainingLots) && o.remainingLots > 0)) {
        out.push({ invariant: Invariant.OrderIndex, details: `${where}: remainingLots ${o.remainingLots}` })
      }
      if (o.clientOrderId !== 0n) {
        withClientId++
        if (account.clientOrderIds?.get(o.clientOrderId) !== o) {
          out.push({ invariant: Invariant.OrderIndex, details: `${where}: missing from clientOrderIds` })
        }
      }
      const market = markets[o.marketId]
      if (market === undefined) {
        out.push({ invariant: Invariant.OrderIndex, details: `${where}: unknown market ${o.marketId}` })
        continue
      }
      count[o.marketId]!++
      const tally = tallies[o.marketId]!
      if (isTriggerKind(o.kind) && !o.triggered) {
        tally.untriggeredOrders++
        if (market.untriggered.get(o.orderId) !== o || o.level !== null) {
          out.push({
            invariant: Invariant.OrderIndex,
            details: `${where}: untriggered but not (only) in untriggered`,
          })
        }
      } else {
        tally.restingOrders++
        if (o.level === null || market.untriggered.has(o.orderId)) {
          out.push({ invariant: Invariant.OrderIndex, details: `${where}: should rest in the book` })
        }
        if (o.side === Side.Buy) bid[o.marketId]! += o.remainingLots
        else ask[o.marketId]! += o.remainingLots
      }
    }
  }
  compareOrderTotals(account, withClientId, bid, ask, count, markets.length, out)
  return seen
}

/**
 * The account's client order id index and per-market exposure against the totals its orders give
 * (`withClientId` orders with a client order id; lots and counts per market).
 */
function compareOrderTotals(
  account: Account,
  withClientId: number,
  bid: ArrayLike<number>,
  ask: ArrayLike<number>,
  count: ArrayLike<number>,
  marketCount: number,
  out: InvariantViolation[],
): void {
  const id = account.accountId
  const clientIds = account.clientOrderIds === null ? 0 : account.clientOrderIds.size
  if (clientIds !== withClientId) {
    out.push({
      invariant: Invariant.OrderIndex,
      details: `account ${id}: ${clientIds} client order ids for ${withClientId} orders that have one`,
    })
  }
  for (let m = 0; m < marketCount; m++) {
    const am = account.markets[m]
    const actualBid = am?.openBidLots ?? 0
    const actualAsk = am?.openAskLots ?? 0
    const actualCount = am?.openOrderCount ?? 0
    if (actualBid !== bid[m] || actualAsk !== ask[m] || actualCount !== count[m]) {
      out.push({
        invariant: Invariant.OrderExposure,
        details:
          `account ${id} market ${m}: bid/ask/count ${actualBid}/${actualAsk}/${actualCount}, ` +
          `orders say ${bid[m]}/${ask[m]}/${count[m]}`,
      })
    }
  }
}

/** Per-market totals of one account's orders, reused across accounts by the seal gate. */
let scratchBid = new Float64Array(8)
let scratchAsk = new Float64Array(8)
let scratchCount = new Float64Array(8)

/**
 * The seal gate's check of one changed account's orders: each is owned, in id order, below
 * `nextOrderId`, with lots left, resting or untriggered as its kind says; their totals per market equal
 * the account's exposure; every client order id is indexed. One pass, no lookups into state-wide maps.
 */
function checkChangedAccountOrders(state: EngineState, account: Account, out: InvariantViolation[]): void {
  const id = account.accountId
  const marketCount = state.markets.length
  if (scratchBid.length < marketCount) {
    scratchBid = new Float64Array(marketCount)
    scratchAsk = new Float64Array(marketCount)
    scratchCount = new Float64Array(marketCount)
  }
  const bid = scratchBid
  const ask = scratchAsk
  const count = scratchCount
  bid.fill(0, 0, marketCount)
  ask.fill(0, 0, marketCount)
  count.fill(0, 0, marketCount)
  let withClientId = 0
  const orders = account.orders
  if (orders !== null) {
    let lastId = 0
    for (const o of orders.values()) {
      const m = o.marketId
      if (
        o.accountId !== id ||
        o.orderId <= lastId ||
        o.orderId >= state.nextOrderId ||
        !(Number.isSafeInteger(o.remainingLots) && o.remainingLots > 0) ||
        !(m >= 0 && m < marketCount)
      ) {
        out.push({
          invariant: Invariant.OrderIndex,
          details: `account ${id} order ${o.orderId}: owner ${o.accountId}, market ${m}, ${o.remainingLots} lots, after order ${lastId}, next id ${state.nextOrderId}`,
        })
        lastId = o.orderId
        continue
      }
      lastId = o.orderId
      if (o.clientOrderId !== 0n) withClientId++
      count[m]!++
      if (isTriggerKind(o.kind) && !o.triggered) {
        if (o.level !== null)
          out.push({
            invariant: Invariant.OrderIndex,
            details: `account ${id} order ${o.orderId}: untriggered but in the book`,
          })
      } else {
        if (o.level === null)
          out.push({
            invariant: Invariant.OrderIndex,
            details: `account ${id} order ${o.orderId}: should rest in the book`,
          })
        if (o.side === Side.Buy) bid[m]! += o.remainingLots
        else ask[m]! += o.remainingLots
      }
    }
  }
  compareOrderTotals(account, withClientId, bid, ask, count, marketCount, out)
}

function checkBooks(state: EngineState, tallies: MarketTally[], out: InvariantViolation[]): void {
  for (const market of state.markets) {
    const m = market.config.marketId
    const book = market.book
    const bid = book.bestBidTicks()
    const ask = book.bestAskTicks()
    if (bid !== 0 && ask !== 0 && bid >= ask) {
      out.push({ invariant: Invariant.CrossedBook, details: `market ${m}: bid ${bid} >= ask ${ask}` })
    }
    const structure = book.checkInvariants()
    if (structure !== null)
      out.push({ invariant: Invariant.BookStructure, details: `market ${m}: ${structure}` })
    let resting = 0
    for (const side of [Side.Buy, Side.Sell]) {
      let lastPrice = -1
      let lastId = -1
      for (const o of book.ordersInPriority(side)) {
        resting++
        if (state.ordersById.get(o.orderId) !== o || o.marketId !== m || o.side !== side) {
          out.push({
            invariant: Invariant.OrderIndex,
            details: `market ${m}: book holds stray order ${o.orderId}`,
          })
        }
        if (o.priceTicks === lastPrice && o.orderId <= lastId) {
          out.push({
            invariant: Invariant.BookPriority,
            details: `market ${m} price ${o.priceTicks}: order ${o.orderId} queued after ${lastId}`,
          })
        }
        lastPrice = o.priceTicks
        lastId = o.orderId
      }
    }
    const tally = tallies[m]!
    if (resting !== tally.restingOrders || book.size !== resting) {
      out.push({
        invariant: Invariant.OrderIndex,
        details: `market ${m}: book holds ${resting} (size ${book.size}), accounts have ${tally.restingOrders} resting`,
      })
    }
    for (const [key, o] of market.untriggered) {
      if (key !== o.orderId || state.ordersById.get(key) !== o || o.marketId !== m) {
        out.push({ invariant: Invariant.OrderIndex, details: `market ${m}: stray untriggered order ${key}` })
      }
    }
    if (market.untriggered.size !== tally.untriggeredOrders) {
      out.push({
        invariant: Invariant.OrderIndex,
        details: `market ${m}: ${market.untriggered.size} untriggered, accounts have ${tally.untriggeredOrders}`,
      })
    }
  }
}

/**
 * Every invariant the engine keeps, checked from scratch in O(accounts × markets + orders). Returns the
 * violations (empty when all hold); never throws on a broken state.
 */
export function checkInvariants(state: EngineState): InvariantViolation[] {
  const out: InvariantViolation[] = []
  const markets = state.markets
  const tallies: MarketTally[] = markets.map(() => ({
    longLots: 0,
    shortLots: 0,
    holders: 0,
    restingOrders: 0,
    untriggeredOrders: 0,
  }))
  markets.forEach((market, i) => {
    if (market.config.marketId !== i) {
      out.push({ invariant: Invariant.Indexes, details: `markets[${i}] has id ${market.config.marketId}` })
    }
  })

  let equitySum = 0n
  let positions = 0
  let ordersSeen = 0
  const accounts = state.accounts
  for (let i = 0; i < accounts.length; i++) {
    const account = accounts[i]!
    const id = account.accountId
    if (id !== i || state.accountIdByAddress.get(account.address) !== i) {
      out.push({
        invariant: Invariant.Indexes,
        details: `accounts[${i}] has id ${id} or is not indexed by address`,
      })
    }
    const equity = accountRisk(state, account).equityQuantums
    equitySum += equity
    if (equity < 0n)
      out.push({ invariant: Invariant.NegativeEquity, details: `account ${id}: equity ${equity}` })

    for (let m = 0; m < account.markets.length; m++) {
      const am = account.markets[m]
      if (am === undefined) continue
      const tally = tallies[m]
      if (tally === undefined) {
        out.push({ invariant: Invariant.Indexes, details: `account ${id}: entry for unknown market ${m}` })
        continue
      }
      const size = am.sizeLots
      if (size !== 0) {
        positions++
        tally.holders++
        if (size > 0) tally.longLots += size
        else tally.shortLots -= size
      }
      checkPositionEntry(markets[m]!, id, am, out)
    }
    ordersSeen += checkAccountOrders(state, account, tallies, out)
  }
  if (state.ordersById.size !== ordersSeen) {
    out.push({
      invariant: Invariant.OrderIndex,
      details: `ordersById has ${state.ordersById.size} orders, accounts ${ordersSeen}`,
    })
  }

  for (const market of markets) {
    const m = market.config.marketId
    const tally = tallies[m]
    if (tally === undefined) continue
    checkPositionTotals(market, tally.longLots, tally.shortLots, tally.holders, out)
  }
  checkBooks(state, tallies, out)
  checkConservation(state, equitySum, positions, out)
  return out
}

/** The account is among the market's holders exactly when it has a position there; flat means nothing left. */
function checkPositionEntry(
  market: EngineState['markets'][number],
  accountId: number,
  am: AccountMarket,
  out: InvariantViolation[],
): void {
  const m = market.config.marketId
  const size = am.sizeLots
  const isHolder = market.holders.has(accountId)
  if ((size !== 0) !== isHolder) {
    out.push({
      invariant: Invariant.Holders,
      details: `market ${m}: account ${accountId} size ${size}, holder ${isHolder}`,
    })
  }
  if (size === 0 && (am.costBasisQuantums !== 0n || am.fundingIndexSnapshot !== 0n)) {
    out.push({
      invariant: Invariant.FlatPosition,
      details: `market ${m}: account ${accountId} is flat with cost basis ${am.costBasisQuantums}, funding snapshot ${am.fundingIndexSnapshot}`,
    })
  }
}

/** Long lots = short lots = the market's open interest, and one holder per position. */
function checkPositionTotals(
  market: EngineState['markets'][number],
  longLots: number,
  shortLots: number,
  positions: number,
  out: InvariantViolation[],
): void {
  const m = market.config.marketId
  if (longLots !== shortLots || longLots !== market.openInterestLots) {
    out.push({
      invariant: Invariant.OpenInterest,
      details: `market ${m}: long ${longLots}, short ${shortLots}, openInterestLots ${market.openInterestLots}`,
    })
  }
  if (market.holders.size !== positions) {
    out.push({
      invariant: Invariant.Holders,
      details: `market ${m}: ${market.holders.size} holders, ${positions} positions`,
    })
  }
}

/** Σ equity + fees against deposits − withdrawals, with at most one quantum of slack per position. */
function checkConservation(
  state: EngineState,
  equitySumQuantums: bigint,
  positions: number,
  out: InvariantViolation[],
): void {
  const claims = equitySumQuantums + state.feesQuantums
  const backing = state.totalDepositedQuantums - state.totalWithdrawnQuantums
  const slack = backing - claims
  const allowed = BigInt(positions)
  if (slack < 0n || slack > allowed) {
    out.push({
      invariant: Invariant.Conservation,
      details:
        `equity ${equitySumQuantums} + fees ${state.feesQuantums} vs deposits − withdrawals ${backing}: ` +
        `slack ${slack}, allowed 0..${allowed}`,
    })
  }
}

/**
 * The seal gate: the four invariants a batch must keep (conservation, open interest, uncrossed books, no
 * negative equity) over every account, with the holder, flat-position and order-count bookkeeping they
 * rest on; and the order indexes and exposure of the accounts in `changed` (those the batch touched).
 *
 * It costs O(changed accounts and their orders + holders of markets whose mark or funding moved +
 * markets), not O(accounts): `state.sealLedger` keeps what the last gate saw of every account (equity,
 * sizes, order counts) and their sums, and only accounts that can have changed are looked at again
 * (sealLedger.ts says why that covers every account). A fresh or restored state, and any gate that finds a
 * violation, start the next gate from scratch over every account. The books' internal links and queue
 * order, and the derived `ordersById`, are left to the full check that tests run after every operation
 * (`checkInvariants`).
 */
export function checkSealInvariants(state: EngineState, changed: Iterable<number>): InvariantViolation[] {
  const out: InvariantViolation[] = []
  const markets = state.markets
  const accounts = state.accounts
  const ledger = state.sealLedger
  markets.forEach((market, i) => {
    if (market.config.marketId !== i) {
      out.push({ invariant: Invariant.Indexes, details: `markets[${i}] has id ${market.config.marketId}` })
    }
  })
  if (out.length > 0) {
    ledger.reset()
    return out
  }
  const fromScratch = !ledger.initialized
  ledger.begin(markets.length, accounts.length)
  const look = (account: Account, ordersToo: boolean): void => {
    const id = account.accountId
    const equity = ledger.record(state, account)
    if (equity < 0n)
      out.push({ invariant: Invariant.NegativeEquity, details: `account ${id}: equity ${equity}` })
    for (let m = 0; m < account.markets.length; m++) {
      const am = account.markets[m]
      if (am === undefined) continue
      if (m >= markets.length) {
        out.push({ invariant: Invariant.Indexes, details: `account ${id}: entry for unknown market ${m}` })
        continue
      }
      checkPositionEntry(markets[m]!, id, am, out)
    }
    if (ordersToo) checkChangedAccountOrders(state, account, out)
  }
  const lookAt = (id: number, ordersToo: boolean): void => {
    const account = accounts[id]
    if (account === undefined) {
      out.push({ invariant: Invariant.Indexes, details: `account ${id} is changed but does not exist` })
      return
    }
    if (account.accountId !== id || state.accountIdByAddress.get(account.address) !== id) {
      out.push({
        invariant: Invariant.Indexes,
        details: `accounts[${id}] has id ${account.accountId} or is not indexed by address`,
      })
    }
    look(account, ordersToo)
  }
  for (const id of changed) if (!ledger.visited.has(id)) lookAt(id, true)
  if (fromScratch) {
    for (let id = 0; id < accounts.length; id++) if (!ledger.visited.has(id)) lookAt(id, false)
  } else {
    // Accounts opened since the last gate are changed ones; any other is taken in full too.
    for (let id = ledger.accountCount; id < accounts.length; id++)
      if (!ledger.visited.has(id)) lookAt(id, true)
    for (const market of markets) {
      if (!ledger.moved(state, market.config.marketId)) continue
      for (const id of market.holders) if (!ledger.visited.has(id)) lookAt(id, false)
    }
  }
  ledger.end(state, accounts.length)

  let positions = 0
  for (const market of markets) {
    const m = market.config.marketId
    checkPositionTotals(market, ledger.longLots[m]!, ledger.shortLots[m]!, ledger.holders[m]!, out)
    positions += ledger.holders[m]!
    const bid = market.book.bestBidTicks()
    const ask = market.book.bestAskTicks()
    if (bid !== 0 && ask !== 0 && bid >= ask) {
      out.push({ invariant: Invariant.CrossedBook, details: `market ${m}: bid ${bid} >= ask ${ask}` })
    }
    const held = market.book.size + market.untriggered.size
    if (held !== ledger.orders[m]) {
      out.push({
        invariant: Invariant.OrderIndex,
        details: `market ${m}: book and untriggered set hold ${held} orders, accounts count ${ledger.orders[m]}`,
      })
    }
  }
  checkConservation(state, ledger.equitySumQuantums, positions, out)
  // What a broken state recorded is not to be trusted: the next gate starts again from scratch.
  if (out.length > 0) ledger.reset()
  return out
}

/** Throws `EngineInvariantError` naming the first broken invariant and listing every violation. */
export function assertInvariants(state: EngineState): void {
  throwViolations(checkInvariants(state))
}

/** The seal gate (`checkSealInvariants`) as an assertion. */
export function assertSealInvariants(state: EngineState, changed: Iterable<number>): void {
  throwViolations(checkSealInvariants(state, changed))
}

function throwViolations(violations: InvariantViolation[]): void {
  const first = violations[0]
  if (first === undefined) return
  throw new EngineInvariantError(
    first.invariant,
    violations.map((v) => `${v.invariant}: ${v.details}`).join('; '),
  )
}
