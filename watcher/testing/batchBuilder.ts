import secp256k1 from 'secp256k1'
import { type Address, bytesToHex, type Hex, keccak256 as keccakHex, toHex } from 'viem'
import type { ApplyResult } from '../../engine/apply.ts'
import type { InboxRecord } from '../../engine/batch/replayBatch.ts'
import { packBatchData } from '../../engine/codec/batchEnvelope.ts'
import { encodeBatch } from '../../engine/codec/encodeBatch.ts'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import type { EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import type { Op, PriceObservation, SignedEntry, UserOp } from '../../engine/ops.ts'
import { domainSeparator, observationDigest, userOpDigest } from '../../engine/signing/digest.ts'
import { testConfig } from '../../engine/testing/testConfig.ts'
import type { BatchHeader } from '../../settlement-contracts/ts/client.ts'
import type { BatchToVerify } from '../replay/batchReplayer.ts'

/** A secp256k1 key for tests and benchmarks: the key is keccak256 of the seed's 8 bytes. */
export class TestSigner {
  readonly privateKey: Uint8Array
  readonly address: Address

  constructor(seed: number) {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(seed))
    let key = keccak256(bytes)
    while (!secp256k1.privateKeyVerify(key)) key = keccak256(key)
    this.privateKey = key
    this.address = bytesToHex(keccak256(secp256k1.publicKeyCreate(key, false).subarray(1)).subarray(12))
  }

  /** r ‖ s ‖ v, v = 27 + recovery id. */
  sign(digest: Uint8Array): Uint8Array {
    const { signature, recid } = secp256k1.ecdsaSign(digest, this.privateKey)
    const out = new Uint8Array(65)
    out.set(signature, 0)
    out[64] = 27 + recid
    return out
  }
}

export const TEST_ORACLE_SIGNERS: readonly TestSigner[] = [1, 2, 3].map((i) => new TestSigner(0x0bac1e + i))

/** The engine's test configuration with an oracle set whose keys the tests hold. */
export function builderConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return testConfig({
    oracle: { signers: TEST_ORACLE_SIGNERS.map((k) => k.address), threshold: 2, maxPublishDelayMs: 10_000 },
    ...overrides,
  })
}

/** One sealed batch as a proposer would post it, with the header `BatchProposed` would carry. */
export interface BuiltBatch extends BatchToVerify {
  posted: Uint8Array
  entries: SignedEntry[]
}

export interface SealOptions {
  /** Changes the header before it is "proposed" (a lying root, another inbox count). */
  header?: (honest: BatchHeader) => BatchHeader
  /** Changes the posted entries (a forged signature, a dropped deposit); the builder's engine keeps the honest state. */
  entries?: (honest: SignedEntry[]) => SignedEntry[]
  /** Posted bytes instead of the encoding. */
  posted?: (honest: Uint8Array) => Uint8Array
}

/**
 * Builds signed batches the way a sequencer and batcher would, without L1: its own engine applies each
 * op at the next seq, `seal` closes a batch and returns the posted bytes and the header a proposal of
 * them would record. The inbox is a list of records, as a watcher reads them from `InboxItemAppended`.
 */
export class BatchBuilder {
  readonly config: EngineConfig
  readonly engine: Engine
  readonly domain: Uint8Array
  readonly inbox: InboxRecord[] = []
  nowMs: number
  #entries: SignedEntry[] = []
  #batchIndex = 0n
  #prevRoot: Hex
  #nonce = 0

  constructor(config: EngineConfig = builderConfig(), startMs = 1_767_225_600_000) {
    this.config = config
    this.engine = Engine.create(config)
    this.domain = domainSeparator(config.chainId, config.settlementAddress)
    this.nowMs = startMs
    this.#prevRoot = bytesToHex(this.engine.root())
  }

  /** Applies `op` at the next seq and keeps it for the open batch. */
  append(op: Op, signature: Uint8Array | null, observationSignatures: Uint8Array[] = []): ApplyResult {
    const seq = this.engine.state.seq + 1
    const result = this.engine.apply(op, { seq, timestampMs: this.nowMs })
    this.#entries.push({ seq, timestampMs: this.nowMs, op, signature, observationSignatures })
    return result
  }

  /** An L1 deposit: appended to the inbox, then consumed. */
  deposit(account: Address, amountQuantums: bigint): ApplyResult {
    const index = this.inbox.length
    this.inbox.push({ index, kind: 'deposit', account, amountQuantums })
    return this.append({ type: 'deposit', account, amountQuantums, inboxIndex: index }, null)
  }

  /** A user op signed by `key` (or by `signWith`, to forge), with a fresh nonce unless given. */
  user(
    key: TestSigner,
    op: DistributiveOmit<UserOp, 'account' | 'signer' | 'nonce'> & { nonce?: number },
    signWith: TestSigner = key,
  ): ApplyResult {
    const full = {
      nonce: this.nowMs - 1_000 + (this.#nonce++ % 1_000),
      ...op,
      account: key.address,
      signer: key.address,
    } as UserOp
    return this.append(full, signWith.sign(userOpDigest(full, this.domain)))
  }

  /** A price for `oracleId` from the first `threshold` oracle keys, published now. */
  price(oracleId: number, priceTicks: number): ApplyResult {
    const signers = TEST_ORACLE_SIGNERS.slice(0, this.config.oracle.threshold)
    const observations: PriceObservation[] = signers.map((k) => ({
      signer: k.address,
      priceTicks,
      publishTimeMs: this.nowMs,
    }))
    return this.append(
      { type: 'oracleUpdate', oracleId, observations },
      null,
      signers.map((k) =>
        k.sign(observationDigest(oracleId, { priceTicks, publishTimeMs: this.nowMs }, this.domain)),
      ),
    )
  }

  /** The state root the next sealed batch builds on (the last sealed header's claim). */
  get prevRoot(): Hex {
    return this.#prevRoot
  }

  set prevRoot(root: Hex) {
    this.#prevRoot = root
  }

  /**
   * Seals the open batch as the next index. What is returned is tampered with by `options`; `honest` is
   * what an honest proposer would have posted. The next batch builds on the returned header's root.
   */
  seal(options: SealOptions = {}): BuiltBatch & { honest: BuiltBatch } {
    this.#batchIndex++
    const sealed = this.engine.sealBatch(this.#batchIndex)
    const honestEntries = this.#entries
    this.#entries = []
    const honestPosted = packBatchData(encodeBatch({ version: 1, entries: honestEntries }))
    const honestHeader: BatchHeader = {
      batchIndex: this.#batchIndex,
      epoch: 0n,
      prevStateRoot: this.#prevRoot,
      stateRoot: toHex(sealed.stateRoot),
      withdrawalsRoot: toHex(sealed.withdrawalsRoot),
      dataHash: keccakHex(honestPosted),
      inboxConsumed: BigInt(sealed.inboxConsumed),
      inboxAccumulator: `0x${'00'.repeat(32)}`,
      proposedAt: BigInt(Math.floor(this.nowMs / 1000)), // floor: L1 time is whole seconds
    }
    const honest = {
      header: honestHeader,
      batchHash: hashOf(honestHeader),
      posted: honestPosted,
      entries: honestEntries,
    }
    const entries = options.entries === undefined ? honestEntries : options.entries(honestEntries)
    let posted =
      entries === honestEntries ? honestPosted : packBatchData(encodeBatch({ version: 1, entries }))
    if (options.posted !== undefined) posted = options.posted(posted)
    let header: BatchHeader = { ...honestHeader, dataHash: keccakHex(posted) }
    if (options.header !== undefined) header = options.header(header)
    this.#prevRoot = header.stateRoot
    return { header, batchHash: hashOf(header), posted, entries, honest }
  }
}

/** A stand-in for the contract's header hash: unique per index, epoch, root and data. */
function hashOf(h: BatchHeader): Hex {
  return keccakHex(toHex(`${h.batchIndex}:${h.epoch}:${h.prevStateRoot}:${h.stateRoot}:${h.dataHash}`))
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
