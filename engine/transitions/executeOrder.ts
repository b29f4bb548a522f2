import { MatchPlan } from '../book/matchPlan.ts'
import { Order } from '../book/order.ts'
import { CancelReason, OrderStatus } from '../events.ts'
import { OrderKind, type SelfTradePrevention, Side, TimeInForce } from '../ops.ts'
import { applyFill, type PositionChange, positionAfterTradeInto } from '../positions/applyFill.ts'
import { RejectCode, reject } from '../rejections.ts'
import {
  accountRisk,
  equityQuantums,
  type MarketOverride,
  meetsInitialMarginWith,
  NOTIONAL_EXACT,
} from '../risk/margin.ts'
import type { Account } from '../state/account.ts'
import type { MarketState } from '../state/marketState.ts'
import { maxBig, minBig } from '../units.ts'
import type { Tx } from './context.ts'
import { tradeFeeExact, tradeFeeQuantums } from './fees.ts'
import { closeOrder, emitOrderOf, fillRestingOrder, registerOrder, restOrder } from './openOrders.ts'
import type { OpResult } from './result.ts'

export interface ExecuteSpec {
  account: Account
  market: MarketState
  side: Side
  kind: OrderKind
  tif: TimeInForce
  limitPriceTicks: number
  sizeLots: number
  reduceOnly: boolean
  postOnly: boolean
  stp: SelfTradePrevention
  clientOrderId: bigint
  expiresAtMs: number
  triggerPriceTicks: number
  /** A liquidation order of `account`: no margin check, pays the liquidation fee to the insurance fund. */
  liquidation: boolean
  /**
   * The order comes from a stop or take-profit trigger. It still gets a new order id: time priority is
   * order-id order, and the old id ended with status `triggered`.
   */
  fromTrigger: boolean
  /** A resting order this one replaces (modify): cancelled only if this one is accepted. */
  replacing: Order | null
}

// One scratch plan: matching is never re-entered while a plan is in use.
const plan = new MatchPlan()

function restsAfterMatch(spec: ExecuteSpec): boolean {
  if (spec.liquidation || spec.reduceOnly) return false
  if (spec.tif !== TimeInForce.GTC && spec.tif !== TimeInForce.GTT) return false
  return (
    spec.kind === OrderKind.Limit ||
    spec.kind === OrderKind.StopLimit ||
    spec.kind === OrderKind.TakeProfitLimit
  )
}

// Scratch for the hot path; executeOrder is never re-entered while these are in use.
const after: PositionChange = { sizeLots: 0, costBasisQuantums: 0n, realizedQuantums: 0n }
const override: MarketOverride = {
  marketId: 0,
  sizeLots: 0,
  costBasisQuantums: 0n,
  openBidLots: 0,
  openAskLots: 0,
  collateralDeltaQuantums: 0n,
}
/** Per fill of the plan, when `feesExact`: notional, maker fee and taker fee, as exact doubles. */
const fillNotional: number[] = []
const fillMakerFee: number[] = []
const fillTakerFee: number[] = []

/**
 * Matches an incoming order, checks the taker's margin on the result before anything is mutated,
 * then applies the fills and rests what is left if its time in force says so.
 * Fills are computed first and applied second, so a rejected order leaves no trace but its nonce.
 */
export function executeOrder(tx: Tx, spec: ExecuteSpec): OpResult {
  const { account, market } = spec
  const state = tx.state
  const marketId = market.config.marketId
  const q = market.config.quantumsPerLotTick
  const am = account.markets[marketId]
  const sizeBefore = am === undefined ? 0 : am.sizeLots
  const isBuy = spec.side === Side.Buy

  let sizeLots = spec.sizeLots
  const mustReduce = spec.reduceOnly || market.reduceOnly
  if (mustReduce) {
    const reducible = isBuy ? -sizeBefore : sizeBefore
    if (reducible <= 0)
      return reject(spec.reduceOnly ? RejectCode.REDUCE_ONLY_WOULD_INCREASE : RejectCode.MARKET_REDUCE_ONLY)
    if (sizeLots > reducible) sizeLots = reducible
  }

  if (spec.postOnly) {
    const best = isBuy ? market.book.bestAskTicks() : market.book.bestBidTicks()
    if (best !== 0 && (isBuy ? best <= spec.limitPriceTicks : best >= spec.limitPriceTicks)) {
      return reject(RejectCode.POST_ONLY_WOULD_CROSS, `best opposite price ${best} ticks`)
    }
  }

  market.book.match(
    account.accountId,
    spec.side,
    spec.limitPriceTicks,
    sizeLots,
    spec.stp,
    tx.ctx.timestampMs,
    plan,
  )
  const filledLots = plan.filledLots
  if (spec.tif === TimeInForce.FOK && filledLots < sizeLots) {
    return reject(RejectCode.FOK_NOT_FILLED, `${filledLots} of ${sizeLots} lots available`)
  }
  const isMarketLike =
    spec.kind === OrderKind.Market ||
    spec.kind === OrderKind.StopMarket ||
    spec.kind === OrderKind.TakeProfitMarket
  if (isMarketLike && filledLots === 0 && !spec.liquidation && !spec.fromTrigger) {
    return reject(plan.takerStopped ? RejectCode.SELF_TRADE : RejectCode.NO_LIQUIDITY)
  }

  // The taker's side of every fill, aggregated: one position update per order. In exact doubles when
  // every notional fits (the same values, with one bigint per result instead of a dozen operations).
  const fillCount = plan.fillCount
  const table = state.marginTables[marketId]!
  let exact = table.feesExact
  let takerNotional = 0n
  let takerFees = 0n
  if (fillCount > 0) {
    if (exact) {
      const qNum = table.quantumsPerLotTick
      let notionalSum = 0
      let feeSum = 0
      for (let i = 0; i < fillCount; i++) {
        const notional = plan.lots[i]! * plan.makers[i]!.priceTicks * qNum
        notionalSum += notional
        if (!(notional < NOTIONAL_EXACT && notionalSum < NOTIONAL_EXACT)) {
          exact = false
          break
        }
        const takerFee = tradeFeeExact(notional, market.config.takerFeePpm)
        if (!spec.liquidation) feeSum += takerFee
        fillNotional[i] = notional
        fillTakerFee[i] = takerFee
        fillMakerFee[i] = tradeFeeExact(notional, market.config.makerFeePpm)
      }
      if (exact) {
        takerNotional = BigInt(notionalSum)
        takerFees = BigInt(feeSum)
      }
    }
    if (!exact) {
      for (let i = 0; i < fillCount; i++) {
        const notional = BigInt(plan.lots[i]!) * BigInt(plan.makers[i]!.priceTicks) * q
        takerNotional += notional
        if (!spec.liquidation) takerFees += tradeFeeQuantums(notional, market.config.takerFeePpm)
      }
    }
  }
  const signedLots = isBuy ? filledLots : -filledLots
  const signedNotional = isBuy ? takerNotional : -takerNotional
  const remaining = sizeLots - filledLots
  const rests = remaining > 0 && !plan.takerStopped && restsAfterMatch(spec) && !mustReduce

  if (!spec.liquidation) {
    positionAfterTradeInto(
      after,
      sizeBefore,
      am === undefined ? 0n : am.costBasisQuantums,
      signedLots,
      signedNotional,
    )
    const reduces =
      !rests &&
      Math.abs(after.sizeLots) <= Math.abs(sizeBefore) &&
      (after.sizeLots === 0 || Math.sign(after.sizeLots) === Math.sign(sizeBefore))
    if (!reduces) {
      const old = spec.replacing !== null && spec.replacing.level !== null ? spec.replacing : null
      const oldBid = old !== null && old.side === Side.Buy ? old.remainingLots : 0
      const oldAsk = old !== null && old.side === Side.Sell ? old.remainingLots : 0
      override.marketId = marketId
      override.sizeLots = after.sizeLots
      override.costBasisQuantums = after.costBasisQuantums
      override.openBidLots =
        (am === undefined ? 0 : am.openBidLots) - oldBid + (rests && isBuy ? remaining : 0)
      override.openAskLots =
        (am === undefined ? 0 : am.openAskLots) - oldAsk + (rests && !isBuy ? remaining : 0)
      override.collateralDeltaQuantums =
        after.realizedQuantums === 0n ? -takerFees : after.realizedQuantums - takerFees
      if (!meetsInitialMarginWith(state, account, override)) {
        const risk = accountRisk(state, account, override)
        return reject(
          RejectCode.INSUFFICIENT_MARGIN,
          `equity ${risk.equityQuantums} < initial margin ${risk.initialMarginQuantums} quantums after the order`,
        )
      }
    }
  }

  // From here on, nothing can reject: apply.
  if (spec.replacing !== null) closeOrder(tx, spec.replacing, OrderStatus.Cancelled, CancelReason.Modified)
  for (let i = 0; i < plan.cancelCount; i++) {
    const maker = plan.cancels[i]!
    const expired = plan.cancelReasons[i] === 'expired'
    closeOrder(
      tx,
      maker,
      expired ? OrderStatus.Expired : OrderStatus.Cancelled,
      expired ? CancelReason.Expired : CancelReason.SelfTrade,
    )
  }

  const orderId = state.nextOrderId++

  let makerFees = 0n
  for (let i = 0; i < fillCount; i++) {
    const maker = plan.makers[i]!
    const lots = plan.lots[i]!
    const priceTicks = maker.priceTicks
    let notional: bigint
    let makerFee: bigint
    let takerFee: bigint
    if (exact) {
      notional = BigInt(fillNotional[i]!)
      makerFee = BigInt(fillMakerFee[i]!)
      takerFee = spec.liquidation ? 0n : BigInt(fillTakerFee[i]!)
    } else {
      notional = BigInt(lots) * BigInt(priceTicks) * q
      makerFee = tradeFeeQuantums(notional, market.config.makerFeePpm)
      takerFee = spec.liquidation ? 0n : tradeFeeQuantums(notional, market.config.takerFeePpm)
    }
    makerFees += makerFee
    const makerAccount = state.accounts[maker.accountId]!
    applyFill(
      state,
      makerAccount,
      market,
      isBuy ? -lots : lots,
      isBuy ? -notional : notional,
      makerFee,
      tx.events,
    )
    tx.touched.add(makerAccount.accountId)
    fillRestingOrder(tx, maker, lots)
    tx.events.push({
      type: 'fill',
      marketId,
      makerOrderId: maker.orderId,
      takerOrderId: orderId,
      makerAccountId: maker.accountId,
      takerAccountId: account.accountId,
      takerSide: spec.side,
      priceTicks,
      sizeLots: lots,
      makerFeeQuantums: makerFee,
      takerFeeQuantums: takerFee,
      liquidation: spec.liquidation,
    })
  }
  if (filledLots > 0) {
    applyFill(state, account, market, signedLots, signedNotional, takerFees, tx.events)
    tx.touched.add(account.accountId)
    state.feesQuantums += takerFees + makerFees
  }
  if (spec.liquidation && filledLots > 0)
    chargeLiquidationFee(tx, account, takerNotional, market.config.liquidationFeePpm)

  if (rests) {
    const taker = new Order(
      orderId,
      account.accountId,
      marketId,
      spec.side,
      spec.kind,
      spec.tif,
      spec.limitPriceTicks,
      remaining,
      spec.reduceOnly,
      spec.postOnly,
      spec.stp,
      spec.clientOrderId,
      spec.triggerPriceTicks,
      spec.expiresAtMs,
    )
    // A stop or take-profit order only ever executes after its trigger fired.
    taker.triggered = spec.kind >= OrderKind.StopMarket
    registerOrder(tx, account, taker)
    restOrder(tx, account, market, taker)
  } else if (remaining === 0) {
    emitOrderOf(
      tx,
      orderId,
      account.accountId,
      marketId,
      spec.clientOrderId,
      OrderStatus.Filled,
      0,
      undefined,
    )
  } else {
    const reason = plan.takerStopped ? CancelReason.SelfTrade : CancelReason.ImmediateOrCancel
    emitOrderOf(
      tx,
      orderId,
      account.accountId,
      marketId,
      spec.clientOrderId,
      OrderStatus.Cancelled,
      remaining,
      reason,
    )
  }
  return { ok: true, orderId }
}

/** The liquidation fee goes to the insurance fund, and never takes the account below zero equity. */
function chargeLiquidationFee(tx: Tx, account: Account, notionalQuantums: bigint, feePpm: number): void {
  const nominal = tradeFeeQuantums(notionalQuantums, feePpm)
  const equity = equityQuantums(tx.state, account)
  const fee = minBig(nominal, maxBig(0n, equity))
  if (fee <= 0n) return
  account.collateralQuantums -= fee
  tx.state.insuranceFund.collateralQuantums += fee
  tx.state.dirtyAccounts.add(0)
}
