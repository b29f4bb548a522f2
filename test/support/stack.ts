import { expect } from 'vitest'
import type { Engine } from '../../engine/engine.ts'
import { Side, TimeInForce } from '../../engine/ops.ts'
import { Attester } from '../../prover-stub/attester.ts'
import { HttpAttesterClient } from '../../prover-stub/attesterClient.ts'
import { ChainReplayer } from '../../prover-stub/chainReplayer.ts'
import { AttestationProver } from '../../prover-stub/prover.ts'
import { type ProverServer, startProverServer } from '../../prover-stub/server.ts'
import type { SubmitResult } from '../../sequencer/api.ts'
import { Batcher } from '../../sequencer/batcher/batcher.ts'
import type { Prover } from '../../sequencer/batcher/prover.ts'
import { InboxReader } from '../../sequencer/l1/inboxReader.ts'
import { MARK_TICKS, startTestNode, type TestNode } from '../../sequencer/testing/sequencerHarness.ts'
import type { TestKey } from '../../sequencer/testing/testKeys.ts'
import type { SettlementClient } from '../../settlement-contracts/ts/client.ts'
import { rebuildFinalizedState } from '../../watcher/exit/finalizedState.ts'
import { type Devnet, USDC } from './devnet.ts'

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
 * What a user's own tool does when the operator is gone (`npm run exit`): replays every finalized batch
 * from L1 with the engine, checking each, and returns the engine at the last finalized root.
 */
export async function replayFinalized(devnet: Devnet, reader: SettlementClient): Promise<Engine> {
  const state = await rebuildFinalizedState({
    client: reader,
    config: devnet.config,
    fromBlock: devnet.deployment.deployBlock,
  })
  expect(state.stateRoot).toBe(await reader.settlement.read.finalizedStateRoot())
  return state.engine
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

export async function prices(s: Stack, ticks: readonly number[] = MARK_TICKS): Promise<void> {
  for (const u of s.node.signer.prices(s.node.config, s.node.clock.nowMs(), ticks)) {
    await accepted(s.node.sequencer.submitOracleUpdate(u))
  }
}

/** `seller` rests an ask and `buyer` takes all of it with an IOC buy: one trade of `sizeLots` at `priceTicks`. */
export async function cross(
  s: Stack,
  seller: TestKey,
  buyer: TestKey,
  priceTicks: number,
  sizeLots: number,
): Promise<void> {
  await accepted(
    s.node.sequencer.submit(s.node.signer.place(seller, { side: Side.Sell, priceTicks, sizeLots })),
  )
  await accepted(
    s.node.sequencer.submit(
      s.node.signer.place(buyer, { side: Side.Buy, priceTicks, sizeLots, tif: TimeInForce.IOC }),
    ),
  )
}

/**
 * Batch 1 of the exit scenarios, posted by `s` and finalized: deposits of 5,000 (alice), 3,000 (bob) and
 * `carolQuantums` (carol), prices, a trade of `tradeLots` between alice and bob, and a 400 USDC
 * withdrawal by alice.
 */
export async function finalizeFirstBatch(
  d: Devnet,
  s: Stack,
  o: { carolQuantums: bigint; tradeLots: number },
): Promise<void> {
  await d.as.alice.deposit(5_000n * USDC, d.address('alice'))
  await d.as.bob.deposit(3_000n * USDC, d.address('bob'))
  await d.as.carol.deposit(o.carolQuantums, d.address('carol'))
  await s.step()
  await prices(s)
  await cross(s, d.keys.alice, d.keys.bob, MARK_TICKS[0], o.tradeLots)
  await accepted(
    s.node.sequencer.submit(
      s.node.signer.sign(d.keys.alice, { type: 'withdraw', amountQuantums: 400n * USDC }),
    ),
  )
  expect((await s.step({ seal: true })).posted).toEqual([1])
  await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()))
  expect((await s.step()).finalized).toEqual([1])
}
