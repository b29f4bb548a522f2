import { type Address, bytesToHex, type Hex } from 'viem'
import {
  attachSigners,
  decodePostedBatch,
  type InboxRecord,
  replayDecodedBatch,
} from '../../engine/batch/replayBatch.ts'
import type { EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import { recoverAddress } from '../../engine/signing/recoverAddress.ts'
import type { PendingWithdrawal } from '../../engine/state/engineState.ts'
import type { ProposedBatchLog, SettlementClient } from '../../settlement-contracts/ts/client.ts'
import { InboxKind } from '../../settlement-contracts/ts/client.ts'
import type { RecoveryPool } from '../replay/recoveryPool.ts'

/**
 * The state at the last finalized batch, rebuilt from L1 data alone: what a user needs to leave when the
 * operator is gone (an escape proof against the finalized root, the leaves of finalized withdrawals).
 * Every finalized batch is replayed with the engine and must reproduce its header's roots: the contract
 * finalized it, so a mismatch means this configuration or code is not the deployment's.
 */
export interface FinalizedState {
  engine: Engine
  batchIndex: number
  stateRoot: Hex
  /** The first batch replayed (1, or the one after a checkpoint): withdrawals are known from it on. */
  firstReplayed: number
  /** Per finalized batch with withdrawals: the withdrawals and their tree's leaves, in order. */
  withdrawals: Map<number, { withdrawals: readonly PendingWithdrawal[]; leaves: readonly Uint8Array[] }>
}

export interface RebuildParameters {
  client: SettlementClient
  config: EngineConfig
  /** The settlement's deployment block: where event scans start. */
  fromBlock: bigint
  /** Signer recovery; the calling thread (slower) without one. */
  pool?: RecoveryPool
  /** Largest block range per log query; default 2,000. */
  maxBlockRange?: number
  /** Called after each batch. */
  onProgress?: (batchIndex: number, finalized: number, ops: number) => void
  /**
   * Start from this verified state (a watcher's checkpoint) instead of genesis: its batch must be live
   * and at or below the finalized one. Withdrawals of batches up to it are then not listed.
   */
  from?: { batchIndex: number; batchHash: Hex; snapshot: Uint8Array }
}

export class RebuildError extends Error {
  override name = 'RebuildError'
}

/** Replays batches 1 to `finalizedBatchIndex()` (read at one block) and returns the engine there. */
export async function rebuildFinalizedState(params: RebuildParameters): Promise<FinalizedState> {
  const { client, config } = params
  const reader = client.client
  const at = { blockNumber: await reader.getBlockNumber({ cacheTime: 0 }) }
  const finalized = Number(await client.settlement.read.finalizedBatchIndex(at))
  const range = BigInt(params.maxBlockRange ?? 2_000)
  const proposals = new Map<Hex, ProposedBatchLog>()
  const inbox: InboxRecord[] = []
  for (let from = params.fromBlock; from <= at.blockNumber; from += range) {
    const to = from + range - 1n < at.blockNumber ? from + range - 1n : at.blockNumber
    const [proposed, items] = await Promise.all([
      client.proposedBatches({ fromBlock: from, toBlock: to }),
      client.inboxItems({ fromBlock: from, toBlock: to }),
    ])
    for (const p of proposed) proposals.set(p.batchHash.toLowerCase() as Hex, p)
    for (const { item } of items) {
      inbox.push({
        index: Number(item.index),
        kind: item.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
        account: item.account.toLowerCase() as Address,
        amountQuantums: item.amountQuantums,
      })
    }
  }
  let engine = Engine.create(config)
  let first = 1
  if (params.from !== undefined) {
    const { batchIndex, batchHash, snapshot } = params.from
    const live = (await client.settlement.read.batchHashOf([BigInt(batchIndex)], at)).toLowerCase()
    if (batchIndex > finalized || live !== batchHash.toLowerCase()) {
      throw new RebuildError(
        `the checkpoint at batch ${batchIndex} (${batchHash}) is not a finalized batch of this settlement`,
      )
    }
    engine = Engine.restore(config, snapshot)
    first = batchIndex + 1
  }
  const withdrawals: FinalizedState['withdrawals'] = new Map()
  for (let i = first; i <= finalized; i++) {
    const hash = (await client.settlement.read.batchHashOf([BigInt(i)], at)).toLowerCase() as Hex
    const proposal = proposals.get(hash)
    if (proposal === undefined) {
      throw new RebuildError(
        `finalized batch ${i} has no BatchProposed log after block ${params.fromBlock}: pass the settlement's deployment block`,
      )
    }
    const decoded = decodePostedBatch(engine, await client.batchData(proposal))
    if (!('entries' in decoded)) throw new RebuildError(`finalized batch ${i}: ${decoded.detail}`)
    const signers =
      params.pool === undefined
        ? decoded.jobs.map((j) => recoverAddress(j.digest, j.signature))
        : await params.pool.recover(decoded.jobs)
    const bad = attachSigners(decoded, signers)
    if (bad !== null) throw new RebuildError(`finalized batch ${i}: ${bad.detail}`)
    const replayed = replayDecodedBatch(
      engine,
      decoded.entries,
      proposal.header,
      inbox.slice(engine.state.inboxConsumed),
    )
    if (!replayed.ok) {
      throw new RebuildError(
        `finalized batch ${i} does not replay (${replayed.fault}: ${replayed.detail}): the engine configuration or version is not the deployment's`,
      )
    }
    if (replayed.sealed.withdrawals.length > 0) {
      withdrawals.set(i, {
        withdrawals: replayed.sealed.withdrawals,
        leaves: replayed.sealed.withdrawalLeaves,
      })
    }
    params.onProgress?.(i, finalized, replayed.ops)
  }
  const stateRoot = bytesToHex(engine.root())
  const onChain = (await client.settlement.read.finalizedStateRoot(at)).toLowerCase()
  if (stateRoot !== onChain) {
    throw new RebuildError(`the rebuilt root ${stateRoot} is not the finalized root ${onChain}`)
  }
  return { engine, batchIndex: finalized, stateRoot, withdrawals, firstReplayed: first }
}
