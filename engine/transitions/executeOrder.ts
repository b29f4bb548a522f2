import { MatchPlan } from '../book/matchPlan.ts'
import { Order } from '../book/order.ts'
import { CancelReason, OrderStatus } from '../events.ts'
import { OrderKind, type SelfTradePrevention, Side, TimeInForce } from '../ops.ts'
import { RejectCode, reject } from '../rejections.ts'
import { accountRisk, meetsInitialMargin } from '../risk/margin.ts'
import { applyFill, positionAfterTrade } from '../positions/applyFill.ts'
import type { Account } from '../state/account.ts'
import type { MarketState } from '../state/marketState.ts'
import { maxBig, minBig } from '../units.ts'
import type { Tx } from './context.ts'
import { tradeFeeQuantums } from './fees.ts'
import { closeOrder, emitOrder, fillRestingOrder, registerOrder, restOrder } from './openOrders.ts'
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
  return spec.kind === OrderKind.Limit || spec.kind === OrderKind.StopLimit || spec.kind === OrderKind.TakeProfitLimit
}

/**
 * Matches an incoming order, checks the taker's margin on the result before anything is mutated,
 * then applies the fills and rests what is left if its time in force says so.
 * Fills are computed first and applied second, so a rejected order leaves no trace but its nonce.
 */
export function executeOrder(tx: Tx, spec: ExecuteSpec): OpResult {
  const { account, market } = spec
  const state = tx.state
  const q = market.config.quantumsPerLotTick
  const am = account.markets[market.config.marketId]
  const sizeBefore = am === undefined ? 0 : am.sizeLots
  const isBuy = spec.side === Side.Buy

  let sizeLots = spec.sizeLots
  const mustReduce = spec.reduceOnly || market.reduceOnly
  if (mustReduce) {
    const reducible = isBuy ? -sizeBefore : sizeBefore
    if (reducible <= 0) return reject(spec.reduceOnly ? RejectCode.REDUCE_ONLY_WOULD_INCREASE : RejectCode.MARKET_REDUCE_ONLY)
    if (sizeLots > reducible) sizeLots = reducible
  }

  if (spec.postOnly) {
    const best = isBuy ? market.book.bestAskTicks() : market.book.bestBidTicks()
    if (best !== 0 && (isBuy ? best <= spec.limitPriceTicks : best >= spec.limitPriceTicks)) {
      return reject(RejectCode.POST_ONLY_WOULD_CROSS, `best opposite price ${best} ticks`)
    }
  }

  market.book.match(account.accountId, spec.side, spec.limitPriceTicks, sizeLots, spec.stp, tx.ctx.timestampMs, plan)
  const filledLots = plan.filledLots
  if (spec.tif === TimeInForce.FOK && filledLots < sizeLots) {
    return reject(RejectCode.FOK_NOT_FILLED, `${filledLots} of ${sizeLots} lots available`)
  }
  const isMarketLike = spec.kind === OrderKind.Market || spec.kind === OrderKind.StopMarket || spec.kind === OrderKind.TakeProfitMarket
  if (isMarketLike && filledLots === 0 && !spec.liquidation && !spec.fromTrigger) {
    return reject(plan.takerStopped ? RejectCode.SELF_TRADE : RejectCode.NO_LIQUIDITY)
  }

  // The taker's side of every fill, aggregated: one position update per order.
  let takerNotional = 0n
  let takerFees = 0n
  for (let i = 0; i < plan.fillCount; i++) {
    const notional = BigInt(plan.lots[i]!) * BigInt(plan.makers[i]!.priceTicks) * q
    takerNotional += notional
    if (!spec.liquidation) takerFees += tradeFeeQuantums(notional, market.config.takerFeePpm)
  }
  const signedLots = isBuy ? filledLots : -filledLots
  const signedNotional = isBuy ? takerNotional : -takerNotional
  const remaining = sizeLots - filledLots
  const rests = remaining > 0 && !plan.takerStopped && restsAfterMatch(spec) && !mustReduce

  if (!spec.liquidation) {
    const after = positionAfterTrade(sizeBefore, am === undefined ? 0n : am.costBasisQuantums, signedLots, signedNotional)
    const reduces =
      !rests && Math.abs(after.sizeLots) <= Math.abs(sizeBefore) && (after.sizeLots === 0 || Math.sign(after.sizeLots) === Math.sign(sizeBefore))
    if (!reduces) {
      const old = spec.replacing !== null && spec.replacing.level !== null ? spec.replacing : null
      const oldBid = old !== null && old.side === Side.Buy ? old.remainingLots : 0
      const oldAsk = old !== null && old.side === Side.Sell ? old.remainingLots : 0
      const risk = accountRisk(state, account, {
        marketId: market.config.marketId,
        sizeLots: after.sizeLots,
        costBasisQuantums: after.costBasisQuantums,
        openBidLots: (am?.openBidLots ?? 0) - oldBid + (rests && isBuy ? remaining : 0),
        openAskLots: (am?.openAskLots ?? 0) - oldAsk + (rests && !isBuy ? remaining : 0),
        collateralDeltaQuantums: after.realizedQuantums - takerFees,
      })
      if (!meetsInitialMargin(risk)) {
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
    closeOrder(tx, maker, expired ? OrderStatus.Expired : OrderStatus.Cancelled, expired ? CancelReason.Expired : CancelReason.SelfTrade)
  }

  const orderId = state.nextOrderId++
  const taker = new Order(
    orderId,
    account.accountId,
    market.config.marketId,
    spec.side,
    spec.kind,
    spec.tif,
    spec.limitPriceTicks,
    sizeLots,
    spec.reduceOnly,
    spec.postOnly,
    spec.stp,
    spec.clientOrderId,
    spec.triggerPriceTicks,
    spec.expiresAtMs,
  )
  // A stop or take-profit order only ever executes after its trigger fired.
  taker.triggered = spec.kind >= OrderKind.StopMarket

  let makerFees = 0n
  for (let i = 0; i < plan.fillCount; i++) {
    const maker = plan.makers[i]!
    const lots = plan.lots[i]!
    const priceTicks = maker.priceTicks
    const notional = BigInt(lots) * BigInt(priceTicks) * q
    const makerFee = tradeFeeQuantums(notional, market.config.makerFeePpm)
    makerFees += makerFee
    const makerAccount = state.accounts[maker.accountId]!
    applyFill(state, makerAccount, market, isBuy ? -lots : lots, isBuy ? -notional : notional, makerFee, tx.events)
    tx.touched.add(makerAccount.accountId)
    fillRestingOrder(tx, maker, lots)
    tx.events.push({
      type: 'fill',
      marketId: market.config.marketId,
      makerOrderId: maker.orderId,
      takerOrderId: orderId,
      makerAccountId: maker.accountId,
      takerAccountId: account.accountId,
      takerSide: spec.side,
      priceTicks,
      sizeLots: lots,
      makerFeeQuantums: makerFee,
      takerFeeQuantums: spec.liquidation ? 0n : tradeFeeQuantums(notional, market.config.takerFeePpm),
      liquidation: spec.liquidation,
    })
  }
  if (filledLots > 0) {
    applyFill(state, account, market, signedLots, signedNotional, takerFees, tx.events)
    tx.touched.add(account.accountId)
  }
  state.feesQuantums += takerFees + makerFees
  if (spec.liquidation && filledLots > 0) chargeLiquidationFee(tx, account, takerNotional, market.config.liquidationFeePpm)

  taker.remainingLots = remaining
  if (rests) {
    registerOrder(tx, account, taker)
    restOrder(tx, account, market, taker)
  } else if (remaining === 0) {
    emitOrder(tx, taker, OrderStatus.Filled)
  } else {
    emitOrder(tx, taker, OrderStatus.Cancelled, plan.takerStopped ? CancelReason.SelfTrade : CancelReason.ImmediateOrCancel)
  }
  return { ok: true, orderId }
}

/** The liquidation fee goes to the insurance fund, and never takes the account below zero equity. */
function chargeLiquidationFee(tx: Tx, account: Account, notionalQuantums: bigint, feePpm: number): void {
  const nominal = tradeFeeQuantums(notionalQuantums, feePpm)
  const equity = accountRisk(tx.state, account).equityQuantums
  const fee = minBig(nominal, maxBig(0n, equity))
  if (fee <= 0n) return
  account.collateralQuantums -= fee
  tx.state.insuranceFund.collateralQuantums += fee
  tx.state.dirtyAccounts.add(0)
}
