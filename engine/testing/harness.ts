import type { Address } from 'viem'
import { type ApplyResult, apply } from '../apply.ts'
import type { EngineConfig } from '../config.ts'
import type { EngineEvent } from '../events.ts'
import {
  type Op,
  OrderKind,
  type OrderParams,
  type PlaceOrderOp,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from '../ops.ts'
import { EngineState } from '../state/engineState.ts'
import { ORACLE_SIGNERS, testConfig } from './testConfig.ts'

/**
 * Sequences operations the way the sequencer does (consecutive seq, non-decreasing time) for tests,
 * the demo and benchmarks. Signers are set to the account itself: signature checks are the sequencer's.
 */
export class Harness {
  readonly state: EngineState
  nowMs: number
  private nonce = 0
  private inbox = 0
  readonly log: { op: Op; seq: number; timestampMs: number }[] = []
  keepLog = true

  constructor(config: EngineConfig = testConfig(), startMs = 1_700_000_000_000) {
    this.state = new EngineState(config)
    this.nowMs = startMs
  }

  run(op: Op): ApplyResult {
    const seq = this.state.seq + 1
    if (this.keepLog) this.log.push({ op, seq, timestampMs: this.nowMs })
    return apply(this.state, op, { seq, timestampMs: this.nowMs })
  }

  advance(ms: number): ApplyResult {
    this.nowMs += ms
    return this.run({ type: 'timeAdvance' })
  }

  deposit(account: Address, amountQuantums: bigint): ApplyResult {
    return this.run({ type: 'deposit', account, amountQuantums, inboxIndex: this.inbox++ })
  }

  /** A price from two of the three test oracle signers, published now. */
  price(oracleId: number, priceTicks: number): ApplyResult {
    return this.run({
      type: 'oracleUpdate',
      oracleId,
      observations: [
        { signer: ORACLE_SIGNERS[0]!, priceTicks, publishTimeMs: this.nowMs },
        { signer: ORACLE_SIGNERS[1]!, priceTicks, publishTimeMs: this.nowMs },
      ],
    })
  }

  nextNonce(): number {
    // Unique and inside the window: the current time plus a counter below one second.
    this.nonce = (this.nonce + 1) % 1000
    return this.nowMs - 1000 + this.nonce
  }

  place(
    account: Address,
    order: Partial<OrderParams> & Pick<OrderParams, 'side' | 'priceTicks' | 'sizeLots'>,
  ): ApplyResult {
    const op: PlaceOrderOp = {
      type: 'placeOrder',
      account,
      signer: account,
      nonce: this.nextNonce(),
      order: {
        marketId: 0,
        kind: OrderKind.Limit,
        tif: TimeInForce.GTC,
        triggerPriceTicks: 0,
        reduceOnly: false,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: 0n,
        expiresAtMs: 0,
        ...order,
      },
    }
    return this.run(op)
  }

  buy(account: Address, priceTicks: number, sizeLots: number, extra: Partial<OrderParams> = {}): ApplyResult {
    return this.place(account, { side: Side.Buy, priceTicks, sizeLots, ...extra })
  }

  sell(
    account: Address,
    priceTicks: number,
    sizeLots: number,
    extra: Partial<OrderParams> = {},
  ): ApplyResult {
    return this.place(account, { side: Side.Sell, priceTicks, sizeLots, ...extra })
  }

  cancel(account: Address, orderId: number, marketId = 0): ApplyResult {
    return this.run({
      type: 'cancelOrder',
      account,
      signer: account,
      nonce: this.nextNonce(),
      marketId,
      orderId,
      clientOrderId: 0n,
    })
  }

  position(account: Address, marketId = 0): number {
    return this.state.accountByAddress(account)?.markets[marketId]?.sizeLots ?? 0
  }

  collateral(account: Address): bigint {
    return this.state.accountByAddress(account)?.collateralQuantums ?? 0n
  }
}

export function eventsOf<T extends EngineEvent['type']>(
  r: ApplyResult,
  type: T,
): Extract<EngineEvent, { type: T }>[] {
  return r.events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type)
}
