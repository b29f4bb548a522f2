import { accountLeafHash } from '../commitment/accountLeaf.ts'
import { AccountLeafBatch } from '../commitment/accountLeafBatch.ts'
import { IncrementalMerkleTree } from '../commitment/merkleTree.ts'
import { stateRoot } from '../commitment/stateRoot.ts'
import type { Account } from './account.ts'
import { accountDataHash, appendAccountData, escapeEquityQuantums } from './accountDigest.ts'
import type { EngineState } from './engineState.ts'
import { globalsHash } from './globalsDigest.ts'
import { marketsHash } from './marketsDigest.ts'

export interface StateRootParts {
  accountsRoot: Uint8Array
  marketsHash: Uint8Array
  globalsHash: Uint8Array
}

export interface AccountProof {
  /** accountLeafHash(address, escapeEquityQuantums, accountDataHash). */
  leaf: Uint8Array
  /** Sibling hashes from the leaf up to `accountsRoot`, bottom-up; the leaf index is the account id. */
  proof: Uint8Array[]
  escapeEquityQuantums: bigint
  accountDataHash: Uint8Array
}

/**
 * The state root of one `EngineState`, kept up to date incrementally. The accounts tree has depth
 * `config.accountTreeDepth` and leaf index = account id.
 *
 * INVARIANT: after `refresh`, every leaf equals the leaf of the account as it is now. Leaves go stale
 * in two ways: the engine changes the account (it lands in `state.dirtyAccounts`), or a market's mark
 * or funding index moves, which changes the escape equity of every holder (`market.holders`).
 */
export class StateCommitment {
  readonly state: EngineState
  readonly #tree: IncrementalMerkleTree
  readonly #batch: AccountLeafBatch
  #initialized = false
  /** Mark and funding index of each market when its holders' leaves were last computed. */
  readonly #markTicks: number[] = []
  readonly #fundingIndex: bigint[] = []

  constructor(state: EngineState) {
    this.state = state
    this.#tree = new IncrementalMerkleTree(state.config.accountTreeDepth, state.accounts.length)
    this.#batch = new AccountLeafBatch(this.#tree)
  }

  /** stateRoot(accountsRoot, marketsHash, globalsHash). */
  root(): Uint8Array {
    const parts = this.rootParts()
    return stateRoot(parts.accountsRoot, parts.marketsHash, parts.globalsHash)
  }

  rootParts(): StateRootParts {
    this.refresh()
    return {
      accountsRoot: this.#tree.root(),
      marketsHash: marketsHash(this.state),
      globalsHash: globalsHash(this.state),
    }
  }

  /** The account's leaf and its proof against `rootParts().accountsRoot` of the current state. */
  accountProof(accountId: number): AccountProof {
    const account = this.state.accounts[accountId]
    if (account === undefined) throw new Error(`commitment: no account ${accountId}`)
    this.refresh()
    const escapeQuantums = escapeEquityQuantums(this.state, account)
    const dataHash = accountDataHash(this.state, account)
    return {
      leaf: accountLeafHash(account.address, escapeQuantums, dataHash),
      proof: this.#tree.proof(accountId),
      escapeEquityQuantums: escapeQuantums,
      accountDataHash: dataHash,
    }
  }

  /**
   * Recomputes every stale leaf; moves `state.dirtyAccounts` into `state.refreshedSinceSeal`. Cost: one
   * leaf per stale account.
   */
  refresh(): void {
    const state = this.state
    const accounts = state.accounts
    try {
      if (!this.#initialized) {
        for (const account of accounts) this.#addLeaf(account)
      } else {
        const dirty = state.dirtyAccounts
        for (const market of state.markets) {
          const id = market.config.marketId
          if (
            market.markPriceTicks === this.#markTicks[id] &&
            market.fundingIndexNanoQuantumsPerLot === this.#fundingIndex[id]
          ) {
            continue
          }
          for (const holder of market.holders) dirty.add(holder)
        }
        for (const accountId of dirty) {
          const account = accounts[accountId]
          if (account === undefined) throw new Error(`commitment: dirty account ${accountId} does not exist`)
          this.#addLeaf(account)
        }
      }
      this.#batch.flush()
    } catch (error) {
      // Nothing is marked done, so the next refresh rebuilds the same leaves.
      this.#batch.discard()
      throw error
    }
    this.#initialized = true
    const refreshed = state.refreshedSinceSeal
    for (const accountId of state.dirtyAccounts) refreshed.add(accountId)
    state.dirtyAccounts.clear()
    for (const market of state.markets) {
      const id = market.config.marketId
      this.#markTicks[id] = market.markPriceTicks
      this.#fundingIndex[id] = market.fundingIndexNanoQuantumsPerLot
    }
  }

  #addLeaf(account: Account): void {
    const w = this.#batch.begin(account.accountId, account.address, escapeEquityQuantums(this.state, account))
    appendAccountData(w, account)
    this.#batch.end()
  }
}
