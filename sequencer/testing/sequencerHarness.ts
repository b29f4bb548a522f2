import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EngineConfig } from '../../engine/config.ts'
import {
  OrderKind,
  type OrderParams,
  SelfTradePrevention,
  Side,
  TimeInForce,
  type UserOp,
} from '../../engine/ops.ts'
import { domainSeparator } from '../../engine/signing/digest.ts'
import type { Ack, SequencerApi, SubmitResult } from '../api.ts'
import { ManualClock } from '../clock.ts'
import type { SignedIntent } from '../intake/signedIntent.ts'
import { Sequencer, type SequencerOptions } from '../sequencer.ts'
import { sequencerTestConfig, TEST_ORACLE_KEYS, type TestKey } from './testKeys.ts'

export const T0_MS = 1_767_225_600_000
export const USDC = 1_000_000n
/** Both test markets trade around 60,000 USD (BTC) and 3,000 USD (ETH). */
export const MARK_TICKS = [600_000, 300_000] as const

/** A plain resting buy of 10 lots at `priceTicks` in `marketId`. */
export function limitOrder(overrides: Partial<OrderParams> = {}): OrderParams {
  return {
    marketId: 0,
    side: Side.Buy,
    kind: OrderKind.Limit,
    tif: TimeInForce.GTC,
    priceTicks: MARK_TICKS[0] - 1_000,
    sizeLots: 10,
    triggerPriceTicks: 0,
    reduceOnly: false,
    postOnly: false,
    stp: SelfTradePrevention.ExpireMaker,
    clientOrderId: 0n,
    expiresAtMs: 0,
    ...overrides,
  }
}

/** Signs user ops for one deployment; nonces count up from the clock so they are fresh and distinct. */
export class IntentSigner {
  readonly domain: Uint8Array
  #nonce: number

  constructor(config: EngineConfig, firstNonce: number) {
    this.domain = domainSeparator(config.chainId, config.settlementAddress)
    this.#nonce = firstNonce
  }

  nextNonce(): number {
    return this.#nonce++
  }

  /** `op` without account, signer and nonce: filled in for `key` (acting for `account`, itself by default). */
  sign(
    key: TestKey,
    op: DistributiveOmit<UserOp, 'account' | 'signer' | 'nonce'> & { nonce?: number },
    account = key.address,
  ): SignedIntent {
    const full = { nonce: this.nextNonce(), ...op, account, signer: key.address } as UserOp
    return key.signIntent(full, this.domain)
  }

  place(key: TestKey, order: Partial<OrderParams> = {}): SignedIntent {
    return this.sign(key, { type: 'placeOrder', order: limitOrder(order) })
  }

  /** A signed price update for every market, at `publishTimeMs`. */
  prices(config: EngineConfig, publishTimeMs: number, ticks: readonly number[] = MARK_TICKS) {
    return config.markets.map((m, i) => ({
      oracleId: m.oracleId,
      observations: TEST_ORACLE_KEYS.map((k) =>
        k.signObservation(m.oracleId, { priceTicks: ticks[i] ?? MARK_TICKS[0], publishTimeMs }, this.domain),
      ),
    }))
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export interface TestNode {
  sequencer: Sequencer
  clock: ManualClock
  dir: string
  config: EngineConfig
  signer: IntentSigner
  reopen(options?: Partial<SequencerOptions>): Promise<Sequencer>
  dispose(): Promise<void>
}

/** A sequencer on a fresh temporary directory with a manual clock; no recovery threads, no automatic time advance. */
export async function startTestNode(options: Partial<SequencerOptions> = {}): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'sce-seq-'))
  const config = options.config ?? sequencerTestConfig()
  const clock = new ManualClock(T0_MS)
  const base: SequencerOptions = {
    config,
    dataDir: dir,
    clock,
    workers: 0,
    timeAdvanceIntervalMs: 0,
    durability: 'normal',
    ...options,
  }
  const node: TestNode = {
    sequencer: await Sequencer.open(base),
    clock,
    dir,
    config,
    signer: new IntentSigner(config, T0_MS - 60_000),
    async reopen(more = {}) {
      await node.sequencer.close()
      node.sequencer = await Sequencer.open({ ...base, ...more })
      return node.sequencer
    },
    async dispose() {
      await node.sequencer.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return node
}

/** Deposits for each key (in inbox order from `firstInboxIndex`) and fresh prices for every market. */
export async function fundAndPrice(
  api: Sequencer,
  node: Pick<TestNode, 'config' | 'signer' | 'clock'>,
  keys: readonly TestKey[],
  firstInboxIndex = 0,
  amountQuantums = 1_000_000n * USDC,
): Promise<void> {
  const acks = await Promise.all([
    ...keys.map((k, i) =>
      api.submitL1({ type: 'deposit', account: k.address, amountQuantums, inboxIndex: firstInboxIndex + i }),
    ),
    ...node.signer.prices(node.config, node.clock.nowMs()).map((u) => api.submitOracleUpdate(u)),
  ])
  for (const ack of acks)
    if (!ack.ok || !ack.outcome.ok) throw new Error(`setup failed: ${JSON.stringify(ack)}`)
}

export function expectSequenced(result: SubmitResult): Ack {
  if (!result.ok) throw new Error(`refused: ${result.code}: ${result.message}`)
  return result
}

export type { SequencerApi }
