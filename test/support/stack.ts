import { type Address, bytesToHex } from 'viem'
import { expect } from 'vitest'
import { attachSigners, decodePostedBatch, replayDecodedBatch } from '../../engine/batch/replayBatch.ts'
import { Engine } from '../../engine/engine.ts'
import { recoverAddress } from '../../engine/signing/recoverAddress.ts'
import { Attester } from '../../prover-stub/attester.ts'
import { HttpAttesterClient } from '../../prover-stub/attesterClient.ts'
import { ChainReplayer } from '../../prover-stub/chainReplayer.ts'
import { AttestationProver } from '../../prover-stub/prover.ts'
import { type ProverServer, startProverServer } from '../../prover-stub/server.ts'
import type { SubmitResult } from '../../sequencer/api.ts'
import { Batcher } from '../../sequencer/batcher/batcher.ts'
import type { Prover } from '../../sequencer/batcher/prover.ts'
import { InboxReader } from '../../sequencer/l1/inboxReader.ts'
import { startTestNode, type TestNode } from '../../sequencer/testing/sequencerHarness.ts'
import type { SettlementClient } from '../../settlement-contracts/ts/client.ts'
import type { Devnet } from './devnet.ts'

/**
 * An operator's node on a devnet: a real Sequencer (SQLite log, manual clock), the L1 inbox reader and the
 * batcher, stepped by the test instead of timers so every scenario is deterministic.
 */
export interface Stack {
  node: TestNode
  inbox: InboxReader
  batcher: Batcher
  /** Reads the inbox, then runs one batcher tick (sealing first when `seal`). */
  step(options?: { seal?: boolean }): Promise<Awaited<ReturnType<Batcher['tick']>>>
  /** Replaces the batcher (after a restart of the node, or to change its prover). */
  rebuild(options?: { prover?: Prover | null; repostReverted?: boolean }): void
  dispose(): Promise<void>
}

export async function startStack(devnet: Devnet, options: { prover?: Prover | null } = {}): Promise<Stack> {
  const node = await startTestNode({ config: devnet.config })
  const make = (o: { prover?: Prover | null; repostReverted?: boolean }) => ({
    inbox: new InboxReader({
      sequencer: node.sequencer,
      client: devnet.as.proposer,
      confirmations: 0,
      fromBlock: devnet.deployment.deployBlock,
    }),
    batcher: new Batcher({
      sequencer: node.sequencer,
      client: devnet.as.proposer,
      prover: o.prover ?? null,
      maxOps: 10_000,
      intervalMs: 3_600_000,
      fromBlock: devnet.deployment.deployBlock,
      ...(o.repostReverted === undefined ? {} : { repostReverted: o.repostReverted }),
    }),
  })
  const stack: Stack = {
    node,
    ...make(options),
    async step(o = {}) {
      await stack.inbox.pollOnce()
      return stack.batcher.tick({ forceSeal: o.seal === true })
    },
    rebuild(o = {}) {
      Object.assign(stack, make({ prover: options.prover ?? null, ...o }))
    },
    async dispose() {
      await stack.inbox.stop()
      await stack.batcher.stop()
      await node.dispose()
    },
  }
  return stack
}

/** Expects an intent to be sequenced and accepted by the engine. */
export async function accepted(result: Promise<SubmitResult>): Promise<void> {
  const ack = await result
  expect(
    ack.ok && ack.outcome.ok,
    JSON.stringify(ack, (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
  ).toBe(true)
}

/**
 * What a user's own tool does when the operator is gone: replays every finalized batch from L1 with the
 * engine, checking each, and returns the engine at the last finalized root (for escape proofs).
 */
export async function replayFinalized(devnet: Devnet, reader: SettlementClient): Promise<Engine> {
  const finalized = Number(await reader.settlement.read.finalizedBatchIndex())
  const engine = Engine.create(devnet.config)
  const logs = await reader.proposedBatches({ fromBlock: devnet.deployment.deployBlock })
  const inbox = (await reader.inboxItems({ fromBlock: devnet.deployment.deployBlock })).map(({ item }) => ({
    index: Number(item.index),
    kind: item.kind === 0 ? ('deposit' as const) : ('forcedWithdrawal' as const),
    account: item.account.toLowerCase() as Address,
    amountQuantums: item.amountQuantums,
  }))
  for (let i = 1; i <= finalized; i++) {
    const hash = await reader.settlement.read.batchHashOf([BigInt(i)])
    const log = logs.find((l) => l.batchHash === hash)
    if (log === undefined) throw new Error(`no BatchProposed for live batch ${i}`)
    const decoded = decodePostedBatch(engine, await reader.batchData(log))
    if (!('entries' in decoded)) throw new Error(decoded.detail)
    const bad = attachSigners(
      decoded,
      decoded.jobs.map((j) => recoverAddress(j.digest, j.signature)),
    )
    if (bad !== null) throw new Error(bad.detail)
    const result = replayDecodedBatch(
      engine,
      decoded.entries,
      log.header,
      inbox.slice(engine.state.inboxConsumed),
    )
    if (!result.ok) throw new Error(`batch ${i}: ${result.detail}`)
  }
  expect(bytesToHex(engine.root())).toBe(await reader.settlement.read.finalizedStateRoot())
  return engine
}

/** The prover-stub as deployed: one HTTP attester per devnet attester key, and a coordinator in front. */
export async function startProverService(devnet: Devnet): Promise<{ url: string; close(): Promise<void> }> {
  const servers: ProverServer[] = []
  try {
    for (const privateKey of devnet.attesterKeys) {
      const replayer = new ChainReplayer({
        client: devnet.as.bystander,
        config: devnet.config,
        fromBlock: devnet.deployment.deployBlock,
      })
      servers.push(
        await startProverServer({
          service: { role: 'attester', attester: new Attester({ replayer, privateKey }) },
        }),
      )
    }
    const prover = new AttestationProver({
      client: devnet.as.bystander,
      attesters: servers.map((s) => new HttpAttesterClient(s.url)),
      fromBlock: devnet.deployment.deployBlock,
    })
    const coordinator = await startProverServer({ service: { role: 'coordinator', prover } })
    servers.push(coordinator)
    return {
      url: coordinator.url,
      close: async () => {
        await Promise.all(servers.map((s) => s.close()))
      },
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()))
    throw error
  }
}
