import type { Logger } from 'pino'
import { type Address, encodeAbiParameters, type Hex, keccak256 } from 'viem'
import type { DepositOp, ForcedWithdrawalOp } from '../../engine/ops.ts'
import {
  type InboxItem,
  type InboxItemLog,
  InboxKind,
  type SettlementClient,
} from '../../settlement-contracts/ts/client.ts'
import { IntakeCode, type SubmitResult } from '../api.ts'
import type { SequencerMetrics } from '../metrics.ts'
import { Repeating } from '../repeating.ts'
import type { Sequencer } from '../sequencer.ts'

export interface InboxReaderOptions {
  sequencer: Pick<Sequencer, 'submitL1' | 'status'>
  /** Reads only; its account never signs anything here. */
  client: SettlementClient
  /** An event is read once its block has this many blocks on top of it. Default 2. */
  confirmations?: number
  /** Between the end of one poll and the start of the next. Default 1,000. */
  pollIntervalMs?: number
  /** The Settlement deployment block: where scans start. */
  fromBlock: bigint
  logger?: Logger
  metrics?: Pick<SequencerMetrics, 'inboxLag'>
  /** Called once when the reader stops for good (see InboxReaderErrorCode). */
  onFault?: (error: InboxReaderError) => void
}

export const InboxReaderErrorCode = {
  /** L1 items the sequencer already consumed are no longer on the confirmed chain, or differ there. */
  INBOX_REORG_TOO_DEEP: 'INBOX_REORG_TOO_DEEP',
  /** A deposit the sequencer already consumed was reclaimed on L1, so no batch can consume it. */
  INBOX_RECLAIMED: 'INBOX_RECLAIMED',
} as const
export type InboxReaderErrorCode = (typeof InboxReaderErrorCode)[keyof typeof InboxReaderErrorCode]

export class InboxReaderError extends Error {
  override readonly name = 'InboxReaderError'
  readonly code: InboxReaderErrorCode
  readonly shortMessage: string

  constructor(code: InboxReaderErrorCode, shortMessage: string, details: string) {
    super(`${shortMessage}\n\nDetails: ${details}`)
    this.code = code
    this.shortMessage = shortMessage
  }
}

/** Most blocks in one eth_getLogs: what common RPC providers accept. */
const MAX_LOG_RANGE_BLOCKS = 2_000n
/** Bounds one poll, so that a long catch-up still answers stop() and submits as it goes. */
const MAX_RANGES_PER_POLL = 25
/** Submissions awaited together: the sequencer keeps their order, and they share group commits. */
const MAX_IN_FLIGHT = 4_096
/** The contract's "no cap" value (type(uint48).max). */
const NO_INBOX_CAP = 2n ** 48n - 1n
/** Refusals that end a poll without skipping anything: the next poll starts again from inboxConsumed. */
const RETRY_LATER: ReadonlySet<string> = new Set([
  IntakeCode.INBOX_ORDER,
  IntakeCode.HALTED,
  IntakeCode.CLOSED,
  IntakeCode.OVERLOADED,
])

/**
 * The accumulator after `item`: keccak256(abi.encode(previous, item)), as Settlement.sol's
 * `_appendInbox` and `nextInboxAccumulator` compute it. InboxItem is a static struct, so its
 * encoding is its fields in order.
 */
export function nextInboxAccumulator(previous: Hex, item: InboxItem): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint8' },
        { type: 'address' },
        { type: 'address' },
        { type: 'uint256' },
        { type: 'uint256' },
        { type: 'uint256' },
      ],
      [previous, item.kind, item.sender, item.account, item.amountQuantums, item.index, item.timestamp],
    ),
  )
}

/** The engine op for an inbox item; addresses lowercased, as the codec requires. */
export function inboxItemToOp(item: InboxItem): DepositOp | ForcedWithdrawalOp {
  return {
    type: item.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
    account: item.account.toLowerCase() as Address,
    amountQuantums: item.amountQuantums,
    inboxIndex: Number(item.index),
  }
}

/**
 * Follows the settlement contract's inbox and hands each item to the sequencer exactly once, in inbox
 * order, after `confirmations` blocks.
 *
 * INVARIANT (exactly once): the next index is always the sequencer's durable `inboxConsumed`, and the
 * sequencer refuses any other (INBOX_ORDER), so neither a restart nor a retry can duplicate or skip.
 * INVARIANT (same items as L1): every item is checked against the contract's accumulator chain at the
 * confirmed block before it is submitted, and each poll checks that the chain still commits to what was
 * sequenced. A reorg shallower than `confirmations` never reaches the confirmed blocks; a deeper one
 * that changes sequenced items stops the reader (INBOX_REORG_TOO_DEEP) rather than diverge from L1.
 */
export class InboxReader {
  readonly #sequencer: Pick<Sequencer, 'submitL1' | 'status'>
  readonly #client: SettlementClient
  readonly #confirmations: bigint
  readonly #pollIntervalMs: number
  readonly #fromBlock: bigint
  readonly #logger: Logger | undefined
  readonly #metrics: Pick<SequencerMetrics, 'inboxLag'> | undefined
  readonly #onFault: ((error: InboxReaderError) => void) | undefined

  /** The last confirmed block whose events are in `#pending` (or were sequenced). */
  #scannedTo: bigint
  /** Confirmed items at or past inboxConsumed, in index order. */
  #pending: InboxItemLog[] = []
  /** What the sequenced prefix commits to, as last checked: the accumulator after `count` items. */
  #sequenced: { count: number; accumulator: Hex } | null = null
  #forcedDeadlineSeconds: bigint | null = null
  readonly #warnedForced = new Set<number>()
  #capWarned = false

  #fault: InboxReaderError | null = null
  #polling: Promise<{ submitted: number }> | null = null
  readonly #loop: Repeating

  constructor(options: InboxReaderOptions) {
    const confirmations = options.confirmations ?? 2
    if (!Number.isSafeInteger(confirmations) || confirmations < 0) {
      throw new RangeError(`confirmations must be a whole number >= 0, got ${confirmations}`)
    }
    const pollIntervalMs = options.pollIntervalMs ?? 1_000
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
      throw new RangeError(`pollIntervalMs must be >= 0, got ${pollIntervalMs}`)
    }
    if (options.fromBlock < 0n) throw new RangeError('fromBlock must be the deployment block, >= 0')
    this.#sequencer = options.sequencer
    this.#client = options.client
    this.#confirmations = BigInt(confirmations)
    this.#pollIntervalMs = pollIntervalMs
    this.#fromBlock = options.fromBlock
    this.#logger = options.logger
    this.#metrics = options.metrics
    this.#onFault = options.onFault
    this.#scannedTo = options.fromBlock - 1n
    this.#loop = new Repeating({
      task: () => this.pollOnce(),
      everyMs: this.#pollIntervalMs,
      onError: (error) => this.#logger?.warn({ err: error }, 'inbox poll failed; retrying'),
      shouldContinue: () => this.#fault === null,
    })
  }

  /** Set once the reader has stopped for good; it then submits nothing. */
  get fault(): InboxReaderError | null {
    return this.#fault
  }

  /** Polls now, then `pollIntervalMs` after each poll ends; the timer never keeps the process alive. */
  start(): void {
    this.#loop.start()
  }

  /** Stops the timer and waits for a poll in flight. */
  async stop(): Promise<void> {
    await this.#loop.stop()
    await this.#polling?.catch(() => undefined)
  }

  /** One poll: scan new confirmed blocks, check the accumulator chain, submit what is next. Never overlaps itself. */
  pollOnce(): Promise<{ submitted: number }> {
    if (this.#fault !== null) return Promise.resolve({ submitted: 0 })
    if (this.#polling !== null) return this.#polling
    const poll = this.#poll().finally(() => {
      this.#polling = null
    })
    this.#polling = poll
    return poll
  }

  async #poll(): Promise<{ submitted: number }> {
    const client = this.#client
    // cacheTime 0: viem caches the block number, and a stale head would hide a rollback.
    const head = await client.client.getBlockNumber({ cacheTime: 0 })
    const confirmed = head - this.#confirmations
    if (confirmed < this.#fromBlock) {
      this.#metrics?.inboxLag(0, 0)
      return { submitted: 0 }
    }
    if (confirmed < this.#scannedTo) {
      // The confirmed tip went back: a reorg deeper than `confirmations`. Forget what those blocks held;
      // the accumulator checks below tell whether sequenced items were among them.
      this.#logger?.warn(
        { confirmed, scannedTo: this.#scannedTo, confirmations: Number(this.#confirmations) },
        'confirmed L1 blocks were reorganised away; raise confirmations if this recurs',
      )
      this.#scannedTo = confirmed
      this.#pending = this.#pending.filter((p) => p.blockNumber <= confirmed)
    }

    const status = await this.#sequencer.status()
    if (status.halted !== null) return { submitted: 0 }
    const consumed = status.inboxConsumed
    this.#forgetSequenced(consumed)

    const settlement = client.settlement.read
    const at = { blockNumber: confirmed }
    const [length, cap] = await Promise.all([settlement.inboxLength(at), settlement.inboxCap(at)])
    if (length < BigInt(consumed)) {
      this.#raise(
        InboxReaderErrorCode.INBOX_REORG_TOO_DEEP,
        consumed - 1,
        this.#sequenced?.count === consumed ? this.#sequenced.accumulator : null,
        null,
        `the confirmed L1 inbox holds ${length} items but ${consumed} were sequenced`,
      )
      return { submitted: 0 }
    }
    const chainAccumulator = (
      await settlement.inboxAccumulatorAt([BigInt(consumed)], at)
    ).toLowerCase() as Hex
    const known = this.#sequenced
    if (known !== null && known.count === consumed && known.accumulator !== chainAccumulator) {
      this.#raise(
        InboxReaderErrorCode.INBOX_REORG_TOO_DEEP,
        consumed - 1,
        known.accumulator,
        chainAccumulator,
        `the confirmed L1 inbox no longer commits to the ${consumed} items sequenced`,
      )
      return { submitted: 0 }
    }
    this.#sequenced = { count: consumed, accumulator: chainAccumulator }
    if (cap !== NO_INBOX_CAP && cap < BigInt(consumed)) {
      this.#raise(
        InboxReaderErrorCode.INBOX_RECLAIMED,
        Number(cap),
        null,
        null,
        `deposit ${cap} was reclaimed on L1 after the sequencer consumed it`,
      )
      return { submitted: 0 }
    }

    await this.#scan(confirmed, consumed)
    const ready = this.#verify(consumed, chainAccumulator, length, cap, confirmed)
    if (ready === null) return { submitted: 0 }
    // The chain of events is anchored at `consumed`; anchor its end too, so events from blocks a reorg
    // replaced (with the same item count) are never submitted.
    const lastReady = ready.at(-1)
    if (lastReady !== undefined) {
      const end = (await settlement.inboxAccumulatorAt([lastReady.item.index + 1n], at)).toLowerCase() as Hex
      if (end !== lastReady.accumulator.toLowerCase()) {
        this.#rescan(Number(lastReady.item.index), Number(lastReady.item.index), end, lastReady.accumulator)
        return { submitted: 0 }
      }
    }

    const submitted = await this.#submit(ready)
    await this.#watchForced(head, consumed + submitted)
    const lagItems = Number(length) - consumed - submitted
    this.#metrics?.inboxLag(Math.max(0, lagItems), Number(confirmed - this.#scannedTo))
    return { submitted }
  }

  /** Drops items below `consumed`, keeping what the last of them committed to. */
  #forgetSequenced(consumed: number): void {
    let drop = 0
    while (drop < this.#pending.length && Number(this.#pending[drop]!.item.index) < consumed) drop++
    if (drop === 0) return
    const last = this.#pending[drop - 1]!
    if (Number(last.item.index) === consumed - 1) {
      this.#sequenced = { count: consumed, accumulator: last.accumulator.toLowerCase() as Hex }
    }
    this.#pending = this.#pending.slice(drop)
    for (const index of this.#warnedForced) if (index < consumed) this.#warnedForced.delete(index)
  }

  async #scan(confirmed: bigint, consumed: number): Promise<void> {
    for (let ranges = 0; this.#scannedTo < confirmed && ranges < MAX_RANGES_PER_POLL; ranges++) {
      const fromBlock = this.#scannedTo + 1n
      const toBlock =
        fromBlock + MAX_LOG_RANGE_BLOCKS - 1n < confirmed ? fromBlock + MAX_LOG_RANGE_BLOCKS - 1n : confirmed
      const logs = await this.#client.inboxItems({ fromBlock, toBlock })
      const last = this.#pending.at(-1)
      let next = last === undefined ? consumed : Number(last.item.index) + 1
      for (const log of logs) {
        const index = Number(log.item.index)
        // Earlier items are sequenced already; a repeat of a pending one is caught by #verify.
        if (index < next) continue
        this.#pending.push(log)
        next = index + 1
      }
      this.#scannedTo = toBlock
    }
  }

  /**
   * The pending items that may be submitted now, each checked against the accumulator chain from
   * `chainAccumulator` (the contract's, after `consumed` items, at the confirmed block); null when the
   * confirmed events and state disagree, after scheduling a rescan.
   */
  #verify(
    consumed: number,
    chainAccumulator: Hex,
    length: bigint,
    cap: bigint,
    confirmed: bigint,
  ): InboxItemLog[] | null {
    let accumulator = chainAccumulator
    let expected = consumed
    const ready: InboxItemLog[] = []
    for (const log of this.#pending) {
      const index = Number(log.item.index)
      const computed = index === expected ? nextInboxAccumulator(accumulator, log.item) : null
      if (computed === null || computed !== log.accumulator.toLowerCase()) {
        return this.#rescan(index, expected, computed, log.accumulator)
      }
      accumulator = computed
      expected++
      if (BigInt(index) < cap) ready.push(log)
    }
    const all = this.#scannedTo === confirmed
    if (all && BigInt(expected) !== length) {
      return this.#rescan(expected, Number(length), null, null)
    }
    if (BigInt(expected) > cap && !this.#capWarned) {
      this.#capWarned = true
      this.#logger?.warn(
        { cap: Number(cap), length: Number(length) },
        'the L1 inbox is capped by a reclaimed deposit; later items cannot be consumed by any batch',
      )
    }
    return ready
  }

  /**
   * Confirmed events that do not chain to the confirmed state: a reorg deeper than `confirmations`
   * under items not sequenced yet. Nothing sequenced is wrong, so scan again from the deployment.
   */
  #rescan(index: number, expected: number, computed: Hex | null, onChain: Hex | null): null {
    this.#logger?.error(
      { index, expected, computed, onChain, confirmations: Number(this.#confirmations) },
      'confirmed inbox events do not match the contract (a reorg deeper than confirmations?); rescanning from the deployment block',
    )
    this.#pending = []
    this.#scannedTo = this.#fromBlock - 1n
    return null
  }

  async #submit(ready: readonly InboxItemLog[]): Promise<number> {
    let submitted = 0
    for (let start = 0; start < ready.length; start += MAX_IN_FLIGHT) {
      const chunk = ready.slice(start, start + MAX_IN_FLIGHT)
      const results = await Promise.all(chunk.map((log) => this.#sequencer.submitL1(inboxItemToOp(log.item))))
      let refused: { index: number; result: Exclude<SubmitResult, { ok: true }> } | null = null
      for (let i = 0; i < results.length; i++) {
        const result = results[i]!
        const log = chunk[i]!
        if (result.ok) {
          submitted++
          this.#sequenced = {
            count: Number(log.item.index) + 1,
            accumulator: log.accumulator.toLowerCase() as Hex,
          }
        } else if (refused === null) {
          refused = { index: Number(log.item.index), result }
        }
      }
      if (refused !== null) {
        const { index, result } = refused
        const fields = { index, code: result.code, reason: result.message }
        if (RETRY_LATER.has(result.code)) this.#logger?.info(fields, 'inbox item refused; retrying next poll')
        else this.#logger?.error(fields, 'inbox item refused; the reader retries it and never skips it')
        break
      }
    }
    return submitted
  }

  /** Warns about confirmed forced withdrawal requests still unsequenced after a quarter of their deadline. */
  async #watchForced(head: bigint, sequenced: number): Promise<void> {
    const waiting = this.#pending.filter(
      (p) =>
        p.item.kind === InboxKind.ForcedWithdrawal &&
        Number(p.item.index) >= sequenced &&
        !this.#warnedForced.has(Number(p.item.index)),
    )
    if (waiting.length === 0) return
    this.#forcedDeadlineSeconds ??= await this.#client.settlement.read.FORCED_INCLUSION_DEADLINE()
    const deadline = this.#forcedDeadlineSeconds
    const now = (await this.#client.client.getBlock({ blockNumber: head })).timestamp
    for (const p of waiting) {
      const ageSeconds = now - p.item.timestamp
      if (ageSeconds * 4n <= deadline) continue
      const index = Number(p.item.index)
      this.#warnedForced.add(index)
      this.#logger?.warn(
        {
          index,
          account: p.item.account.toLowerCase(),
          ageSeconds: Number(ageSeconds),
          deadlineSeconds: Number(deadline),
          freezableInSeconds: Number(deadline - ageSeconds),
        },
        'a forced withdrawal request is still unsequenced; once a finalized batch has not consumed it by the deadline, anyone can freeze the contract',
      )
    }
  }

  #raise(code: InboxReaderErrorCode, index: number, ours: Hex | null, chain: Hex | null, what: string): void {
    const advice =
      code === InboxReaderErrorCode.INBOX_REORG_TOO_DEEP
        ? 'L1 reorganised deeper than `confirmations` blocks under items already sequenced. Stop the node, raise `confirmations`, and rebuild the sequencer state from the canonical L1 inbox; nothing more is read until then.'
        : 'A deposit the sequencer consumed was reclaimed before any batch consumed it. Stop the node and rebuild the sequencer state from the canonical L1 inbox; post batches well within the deposit reclaim delay.'
    const error = new InboxReaderError(
      code,
      `${code}: ${what}. ${advice}`,
      `index ${index}, sequenced accumulator ${ours ?? 'unknown'}, L1 accumulator ${chain ?? 'absent'}`,
    )
    this.#fault = error
    // The loop sees the fault and does not schedule another poll.
    this.#logger?.fatal({ code, index, ours, chain }, error.shortMessage)
    this.#onFault?.(error)
  }
}
