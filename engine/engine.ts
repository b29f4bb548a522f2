import { apply } from './apply.ts'
import { type SealedBatch, sealBatch } from './batch/sealBatch.ts'
import type { EngineConfig } from './config.ts'
import type { Op, OpContext } from './ops.ts'
import { accountRisk } from './risk/margin.ts'
import { restoreSnapshot } from './snapshot/restoreSnapshot.ts'
import { serializeSnapshot } from './snapshot/serializeSnapshot.ts'
import { type AccountProof, StateCommitment } from './state/commitState.ts'
import { EngineState } from './state/engineState.ts'
import type { ApplyResult } from './transitions/result.ts'
import { validateConfig } from './validateConfig.ts'

/**
 * The engine as the sequencer, the watcher and the prover use it: the state, its incremental
 * commitment, and the derived indexes kept in step.
 */
export class Engine {
  readonly state: EngineState
  readonly commitment: StateCommitment

  constructor(state: EngineState) {
    this.state = state
    this.commitment = new StateCommitment(state)
  }

  /** Throws EngineConfigError when the configuration is unusable. */
  static create(config: EngineConfig): Engine {
    validateConfig(config)
    return new Engine(new EngineState(config))
  }

  /** Restores a snapshot and rebuilds what the snapshot does not hold: the liquidation index. */
  static restore(config: EngineConfig, snapshot: Uint8Array): Engine {
    validateConfig(config)
    const state = restoreSnapshot(config, snapshot)
    rebuildLiquidationIndex(state)
    return new Engine(state)
  }

  apply(op: Op, ctx: OpContext): ApplyResult {
    return apply(this.state, op, ctx)
  }

  root(): Uint8Array {
    return this.commitment.root()
  }

  snapshot(): Uint8Array {
    return serializeSnapshot(this.state)
  }

  accountProof(accountId: number): AccountProof {
    return this.commitment.accountProof(accountId)
  }

  sealBatch(batchIndex: bigint): SealedBatch {
    const { chainId, settlementAddress } = this.state.config
    return sealBatch(this.commitment, { batchIndex, chainId, settlement: settlementAddress })
  }
}

/** Indexes every account with a position, in ascending id, as if each had just been checked. */
export function rebuildLiquidationIndex(state: EngineState): void {
  for (const account of state.accounts) {
    if (account.accountId === 0 || !account.hasPositions()) continue
    if (state.liquidationIndex.update(state, account, accountRisk(state, account)))
      state.edgeAccounts.add(account.accountId)
  }
}
