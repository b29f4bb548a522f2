import { type Address, bytesToHex, type Hex } from 'viem'
import { unpackBatchData } from '../codec/batchEnvelope.ts'
import { CodecError } from '../codec/codecError.ts'
import { decodeBatch } from '../codec/decodeBatch.ts'
import type { Engine } from '../engine.ts'
import type { SignedEntry } from '../ops.ts'
import { RejectCode } from '../rejections.ts'
import { domainSeparator, observationDigest, userOpDigest } from '../signing/digest.ts'
import type { SealedBatch } from './sealBatch.ts'

/**
 * What makes a posted batch right, in one place: the sequencer's batcher builds batches that pass it,
 * and a watcher or prover replays every posted batch through it (docs/protocol.md, "Batch validity").
 *
 * A batch is right when, replayed on the state its parent sealed:
 * 1. its posted bytes unpack and decode (canonical codec, seqs continuing the parent's);
 * 2. every signature recovers to a signer;
 * 3. every L1 op is the next inbox item, exactly as the contract recorded it;
 * 4. it consumes exactly the inbox items its header claims;
 * 5. the engine applies every entry without breaking an invariant, and the seal's gate passes;
 * 6. the sealed state root and withdrawals root equal the header's.
 *
 * Anything else is a fault with a stable code; the batch must be challenged.
 */
export const BatchFault = {
  UNDECODABLE: 'UNDECODABLE',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  INBOX_MISMATCH: 'INBOX_MISMATCH',
  INBOX_COUNT_MISMATCH: 'INBOX_COUNT_MISMATCH',
  ENGINE_INVARIANT: 'ENGINE_INVARIANT',
  STATE_ROOT_MISMATCH: 'STATE_ROOT_MISMATCH',
  WITHDRAWALS_ROOT_MISMATCH: 'WITHDRAWALS_ROOT_MISMATCH',
} as const
export type BatchFault = (typeof BatchFault)[keyof typeof BatchFault]

/** The header fields a replay checks, as `BatchProposed` carries them. */
export interface ClaimedBatch {
  batchIndex: bigint
  stateRoot: Hex
  withdrawalsRoot: Hex
  /** Inbox items consumed in total after this batch. */
  inboxConsumed: bigint
}

/** One L1 inbox item as the contract recorded it (`InboxItemAppended`). */
export interface InboxRecord {
  index: number
  kind: 'deposit' | 'forcedWithdrawal'
  /** Lowercase. For a forced withdrawal, the requester. */
  account: Address
  amountQuantums: bigint
}

/** Where a signature sits: its entry, and the observation for oracle updates (else -1). */
export interface SignatureSlot {
  entryIndex: number
  observationIndex: number
}

/** One signature to recover, at its slot. */
export interface SignatureJob extends SignatureSlot {
  digest: Uint8Array
  signature: Uint8Array
  /**
   * Who is expected to sign, for a verifier that remembers keys: the account for a user op (its own key
   * or its agent's), `oracle <id>/<k>` for observation k of an oracle update. A hint, never a check.
   */
  signerHint: string
}

/**
 * Where a batch starts, which is all decoding checks it against: the seq after the parent's last, the
 * parent's last time, and the domain every signature is bound to.
 */
export interface BatchPosition {
  chainId: bigint
  settlementAddress: Address
  /** The seq the first entry must carry. */
  firstSeq: number
  /** The first entry's time may not be earlier. */
  minTimestampMs: number
}

export interface DecodedBatch {
  entries: SignedEntry[]
  /** In entry order; user ops first-and-only, oracle updates one per observation. */
  jobs: SignatureJob[]
}

/** Decoded entries and where their signatures sit, without digests (a worker computes those). */
export interface DecodedEntries {
  entries: SignedEntry[]
  jobs: SignatureSlot[]
}

export type BatchFaultReport = { ok: false; fault: BatchFault; detail: string; seq: number | null }

/** A replay's first business rejection of a user op: a hint of why a root differs, never a fault alone. */
export interface ReplayRejection {
  seq: number
  type: string
  account: Address | null
  code: string
  signer: Address | null
}

export type ReplayResult =
  | {
      ok: true
      sealed: SealedBatch
      /** Entries replayed. */
      ops: number
      /** The first few ops the engine rejected, for diagnostics. */
      rejections: ReplayRejection[]
    }
  | (BatchFaultReport & { rejections: ReplayRejection[] })

const MAX_REPORTED_REJECTIONS = 8

/** The position after the engine's last applied entry: where its next batch starts. */
export function nextBatchPosition(engine: Engine): BatchPosition {
  const state = engine.state
  return {
    chainId: state.config.chainId,
    settlementAddress: state.config.settlementAddress,
    firstSeq: state.seq + 1,
    minTimestampMs: state.timestampMs,
  }
}

/**
 * Step 1: unpack and decode posted data against the engine's current position, and list the
 * signatures to recover. The engine is not touched.
 */
export function decodePostedBatch(engine: Engine, posted: Uint8Array): DecodedBatch | BatchFaultReport {
  const position = nextBatchPosition(engine)
  const decoded = decodePostedEntries(position, posted)
  if (!('entries' in decoded)) return decoded
  return { entries: decoded.entries, jobs: signatureJobs(position, decoded.entries) }
}

/** Step 1 without the digests: the entries, and the slot of every signature in `signatureJobs` order. */
export function decodePostedEntries(
  position: BatchPosition,
  posted: Uint8Array,
): DecodedEntries | BatchFaultReport {
  const unpacked = unpackPosted(posted)
  return unpacked instanceof Uint8Array ? decodeUnpackedEntries(position, unpacked) : unpacked
}

/** The codec bytes inside posted batch data (inflated when deflated), or why there are none. */
export function unpackPosted(posted: Uint8Array): Uint8Array | BatchFaultReport {
  try {
    return unpackBatchData(posted)
  } catch (error) {
    return undecodable(error)
  }
}

/** `decodePostedEntries` on bytes `unpackPosted` already took out of their envelope. */
export function decodeUnpackedEntries(
  position: BatchPosition,
  unpacked: Uint8Array,
): DecodedEntries | BatchFaultReport {
  let entries: SignedEntry[]
  try {
    entries = decodeBatch(unpacked, {
      expectedFirstSeq: position.firstSeq,
      minFirstTimestampMs: position.minTimestampMs,
    }).entries
  } catch (error) {
    return undecodable(error)
  }
  const jobs: SignatureSlot[] = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const op = entry.op
    if (op.type === 'oracleUpdate') {
      for (let k = 0; k < op.observations.length; k++) jobs.push({ entryIndex: i, observationIndex: k })
    } else if (entry.signature !== null) {
      jobs.push({ entryIndex: i, observationIndex: -1 })
    }
  }
  return { entries, jobs }
}

function undecodable(error: unknown): BatchFaultReport {
  if (!(error instanceof CodecError)) throw error
  return { ok: false, fault: BatchFault.UNDECODABLE, detail: `${error.code}: ${error.message}`, seq: null }
}

/** Every signature of `entries` with its digest, in entry order; the order `attachSigners` expects. */
export function signatureJobs(position: BatchPosition, entries: readonly SignedEntry[]): SignatureJob[] {
  const domain = domainSeparator(position.chainId, position.settlementAddress)
  const jobs: SignatureJob[] = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const op = entry.op
    if (op.type === 'oracleUpdate') {
      for (let k = 0; k < op.observations.length; k++) {
        jobs.push({
          entryIndex: i,
          observationIndex: k,
          digest: observationDigest(op.oracleId, op.observations[k]!, domain),
          signature: entry.observationSignatures[k]!,
          signerHint: `oracle ${op.oracleId}/${k}`,
        })
      }
    } else if (entry.signature !== null) {
      jobs.push({
        entryIndex: i,
        observationIndex: -1,
        digest: userOpDigest(op as Parameters<typeof userOpDigest>[0], domain),
        signature: entry.signature,
        signerHint: (op as { account: Address }).account,
      })
    }
  }
  return jobs
}

/**
 * Step 2: sets every signer from `signers[i]`, the address recovered for `jobs[i]` (null when it does
 * not recover). How they were recovered (worker threads, one thread) is the caller's choice.
 */
export function attachSigners(
  decoded: DecodedEntries,
  signers: readonly (Address | null)[],
): BatchFaultReport | null {
  const { entries, jobs } = decoded
  for (let j = 0; j < jobs.length; j++) {
    const job = jobs[j]!
    const entry = entries[job.entryIndex]!
    const signer = signers[j] ?? null
    if (signer === null) {
      const what =
        job.observationIndex < 0 ? 'its signature' : `observation ${job.observationIndex}'s signature`
      return {
        ok: false,
        fault: BatchFault.BAD_SIGNATURE,
        detail: `entry seq ${entry.seq} (${entry.op.type}): ${what} does not recover to a public key`,
        seq: entry.seq,
      }
    }
    const op = entry.op
    if (op.type === 'oracleUpdate') {
      ;(op.observations[job.observationIndex] as { signer: Address }).signer = signer
    } else {
      ;(op as { signer: Address }).signer = signer
    }
  }
  return null
}

/**
 * Steps 3 to 6: applies the entries to `engine`, seals batch `claimed.batchIndex`, and compares.
 * `inbox` must hold the contract's items from `engine.state.inboxConsumed` on, at least up to
 * `claimed.inboxConsumed` (more is fine).
 *
 * On a fault the engine is left part-way through the batch: the caller must restore it (from a
 * snapshot) before replaying anything else. On success it is sealed, ready for the next batch.
 */
export function replayDecodedBatch(
  engine: Engine,
  entries: readonly SignedEntry[],
  claimed: ClaimedBatch,
  inbox: readonly InboxRecord[],
): ReplayResult {
  const state = engine.state
  const rejections: ReplayRejection[] = []
  const fault = (fault: BatchFault, detail: string, seq: number | null): ReplayResult => ({
    ok: false,
    fault,
    detail,
    seq,
    rejections,
  })
  const inboxStart = state.inboxConsumed
  const claimedConsumed = claimed.inboxConsumed
  for (const entry of entries) {
    const op = entry.op
    if (op.type === 'deposit' || op.type === 'forcedWithdrawal') {
      const item = inbox[op.inboxIndex - inboxStart]
      const want = `${op.type} of ${op.amountQuantums} for ${op.account} as inbox item ${op.inboxIndex}`
      if (op.inboxIndex !== state.inboxConsumed) {
        return fault(
          BatchFault.INBOX_MISMATCH,
          `entry seq ${entry.seq}: ${want}, but item ${state.inboxConsumed} is next: the inbox is consumed in order`,
          entry.seq,
        )
      }
      if (item === undefined || BigInt(op.inboxIndex) >= claimedConsumed) {
        return fault(
          BatchFault.INBOX_MISMATCH,
          `entry seq ${entry.seq}: ${want}, but the header consumes only ${claimedConsumed} items` +
            (item === undefined ? ' and L1 has no such item' : ''),
          entry.seq,
        )
      }
      if (item.kind !== op.type || item.account !== op.account || item.amountQuantums !== op.amountQuantums) {
        return fault(
          BatchFault.INBOX_MISMATCH,
          `entry seq ${entry.seq}: ${want}, but L1 inbox item ${item.index} is a ${item.kind} of ` +
            `${item.amountQuantums} for ${item.account}`,
          entry.seq,
        )
      }
    }
    let outcome: ReturnType<Engine['apply']>
    try {
      outcome = engine.apply(op, { seq: entry.seq, timestampMs: entry.timestampMs })
    } catch (error) {
      // Any throw is the batch's fault: an entry the engine cannot apply cannot be proven either.
      const message = error instanceof Error ? error.message : String(error)
      return fault(BatchFault.ENGINE_INVARIANT, `entry seq ${entry.seq} (${op.type}): ${message}`, entry.seq)
    }
    if (!outcome.result.ok && rejections.length < MAX_REPORTED_REJECTIONS) {
      rejections.push({
        seq: entry.seq,
        type: op.type,
        account: 'account' in op ? op.account : null,
        code: outcome.result.code,
        signer: 'signer' in op ? op.signer : null,
      })
    }
  }
  if (BigInt(state.inboxConsumed) !== claimedConsumed) {
    const next = state.inboxConsumed
    return fault(
      BatchFault.INBOX_COUNT_MISMATCH,
      `the header claims ${claimedConsumed} inbox items consumed, the batch consumes through ${next}` +
        (BigInt(next) < claimedConsumed ? `: inbox item ${next} is skipped` : ''),
      null,
    )
  }
  let sealed: SealedBatch
  try {
    sealed = engine.sealBatch(claimed.batchIndex)
  } catch (error) {
    // Any throw is the batch's fault: an entry the engine cannot apply cannot be proven either.
    const message = error instanceof Error ? error.message : String(error)
    return fault(BatchFault.ENGINE_INVARIANT, `at the seal: ${message}`, null)
  }
  const stateRoot = bytesToHex(sealed.stateRoot)
  if (stateRoot !== claimed.stateRoot.toLowerCase()) {
    return fault(
      BatchFault.STATE_ROOT_MISMATCH,
      `state root: the batch claims ${claimed.stateRoot}, replay gives ${stateRoot}${hint(rejections)}`,
      null,
    )
  }
  const withdrawalsRoot = bytesToHex(sealed.withdrawalsRoot)
  if (withdrawalsRoot !== claimed.withdrawalsRoot.toLowerCase()) {
    return fault(
      BatchFault.WITHDRAWALS_ROOT_MISMATCH,
      `withdrawals root: the batch claims ${claimed.withdrawalsRoot}, replay gives ${withdrawalsRoot}`,
      null,
    )
  }
  return { ok: true, sealed, ops: entries.length, rejections }
}

/** Points at a rejected op whose signer is not the account: the usual sign of a forged intent. */
function hint(rejections: readonly ReplayRejection[]): string {
  const forged = rejections.find(
    (r) => r.code === RejectCode.BAD_SIGNER || (r.signer !== null && r.signer !== r.account),
  )
  if (forged === undefined)
    return rejections.length === 0
      ? ''
      : `; first rejection: seq ${rejections[0]!.seq} ${rejections[0]!.code}`
  return `; seq ${forged.seq} (${forged.type} for ${forged.account}) was rejected ${forged.code} on replay: its signature recovers to ${forged.signer}`
}
