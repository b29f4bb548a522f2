import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { Side } from '../engine/ops.ts'
import type { SequencerStatus } from '../sequencer/api.ts'
import type { SignedIntent } from '../sequencer/intake/signedIntent.ts'
import { OpLog } from '../sequencer/log/opLog.ts'
import { IpcSequencerClient } from '../sequencer/node/ipcClient.ts'
import { replayFromGenesis } from '../sequencer/recovery/restoreEngine.ts'
import { IntentSigner, MARK_TICKS, USDC } from '../sequencer/testing/sequencerHarness.ts'
import { sequencerTestConfig, TestKey } from '../sequencer/testing/testKeys.ts'
import { engineConfigToJson } from '../settlement-contracts/ts/genesis.ts'

/**
 * The crash test of the sequencer node: a real node process under load is killed with SIGKILL at
 * random points, then restarted. After every kill:
 * - every intent the node acknowledged is in the log, at the seq of its acknowledgement;
 * - the restarted node (latest snapshot + log tail) reports the root of a replay of the log from genesis.
 * The seed is printed with any failure; SEQ_RECOVERY_SEED replays one.
 */

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'sequencer', 'node', 'main.ts')
const ROUNDS = 5
const SEED = Number(process.env.SEQ_RECOVERY_SEED ?? Date.now() % 1_000_000)

const dir = mkdtempSync(join(tmpdir(), 'sce-recovery-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const config = sequencerTestConfig()
const configFile = join(dir, 'node.json')
writeFileSync(
  configFile,
  JSON.stringify({
    ...engineConfigToJson(config),
    dataDir: 'data',
    workers: 1,
    durability: 'full',
    snapshotIntervalOps: 97,
    snapshotsKept: 2,
    timeAdvanceIntervalMs: 250,
    logLevel: 'warn',
  }),
)

function mulberry32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function startNode(): { child: ChildProcess; client: IpcSequencerClient; stderr: () => string } {
  const child = fork(MAIN, ['--config', configFile], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, SCE_DEV_INBOX: '1' },
  })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return { child, client: new IpcSequencerClient(child), stderr: () => err }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}

/** What the log on disk says: the signature at each seq, and the root of a replay from genesis. */
function inspectLog(): { lastSeq: number; signatures: (string | null)[]; genesisRoot: string } {
  const log = OpLog.open({ path: join(dir, 'data', 'sequencer.db'), config })
  try {
    const signatures = [...log.entries()].map((e) => (e.signature === null ? null : bytesToHex(e.signature)))
    return {
      lastSeq: log.lastSeq,
      signatures,
      genesisRoot: bytesToHex(replayFromGenesis(config, log).root()),
    }
  } finally {
    log.close()
  }
}

describe('sequencer node under SIGKILL', () => {
  it(`loses no acknowledged intent, and recovers the root of a replay from genesis (seed ${SEED})`, async () => {
    const rng = mulberry32(SEED)
    const keys = Array.from({ length: 6 }, (_, i) => TestKey.fromSeed(0xc0de + i))
    const signer = new IntentSigner(config, Date.now() - 1_000)
    const acked = new Map<number, string>()
    let clientOrderId = 1n
    let expected: { lastSeq: number; genesisRoot: string } | null = null
    let restoredFromSnapshot = 0

    const nextIntent = (): SignedIntent => {
      const key = keys[rng() % keys.length]!
      const roll = rng() % 10
      if (roll < 7) {
        const side = rng() % 2 === 0 ? Side.Buy : Side.Sell
        const offset = (rng() % 30) - 12
        return signer.place(key, {
          side,
          priceTicks: MARK_TICKS[0] + (side === Side.Buy ? -offset : offset),
          sizeLots: 1 + (rng() % 20),
          clientOrderId: clientOrderId++,
        })
      }
      if (roll < 9) {
        const id = clientOrderId - 1n - BigInt(rng() % 20)
        return signer.sign(key, {
          type: 'cancelOrder',
          marketId: 0,
          orderId: 0,
          clientOrderId: id > 0n ? id : 1n,
        })
      }
      return signer.sign(key, { type: 'cancelAll', marketId: null })
    }

    for (let round = 0; round <= ROUNDS; round++) {
      const { child, client, stderr } = startNode()
      let ready: SequencerStatus
      try {
        ready = await client.ready
      } catch (error) {
        throw new Error(`round ${round}: the node did not start: ${String(error)}\n${stderr()}`)
      }
      if (expected !== null) {
        expect(ready.seq, `round ${round}: recovered seq`).toBe(expected.lastSeq)
        expect(ready.stateRoot, `round ${round}: recovered root vs replay from genesis`).toBe(
          expected.genesisRoot,
        )
        if (ready.snapshotSeq > 0 && ready.snapshotSeq < ready.seq) restoredFromSnapshot++
      }
      if (round === 0) {
        const deposits = await Promise.all(
          keys.map((k, i) =>
            client.submitL1({
              type: 'deposit',
              account: k.address,
              amountQuantums: 1_000_000n * USDC,
              inboxIndex: i,
            }),
          ),
        )
        expect(deposits.every((d) => d.ok)).toBe(true)
      }
      for (const update of signer.prices(config, Date.now())) await client.submitOracleUpdate(update)

      if (round === ROUNDS) {
        // The same interface across the process boundary: events arrive in seq order, matching the acks.
        const seen: number[] = []
        const off = client.subscribe((op) => seen.push(op.seq))
        await client.status()
        const acks = await Promise.all(Array.from({ length: 10 }, () => client.submit(nextIntent())))
        await client.status()
        off()
        const seqs = acks.flatMap((a) => (a.ok ? [a.seq] : []))
        expect(seqs.length).toBeGreaterThan(0)
        expect(seqs.every((seq) => seen.includes(seq))).toBe(true)
        expect(seen).toEqual(seen.map((_, i) => seen[0]! + i))
        child.kill('SIGTERM')
        await exited(child)
        expect(child.exitCode, stderr()).toBe(0)
        break
      }

      // Load: bursts of pipelined intents; acknowledgements recorded as they arrive.
      let stop = false
      const inflight: Promise<unknown>[] = []
      let ackedThisRound = 0
      const load = (async () => {
        while (!stop) {
          for (let k = 0; k < 20 && !stop; k++) {
            const intent = nextIntent()
            inflight.push(
              client.submit(intent).then(
                (r) => {
                  if (!r.ok) return
                  expect(acked.has(r.seq), `seq ${r.seq} acknowledged twice`).toBe(false)
                  acked.set(r.seq, intent.signature)
                  ackedThisRound++
                },
                () => {},
              ),
            )
          }
          await sleep(1)
        }
      })()
      while (ackedThisRound < 50) await sleep(5)
      await sleep(rng() % 400)
      child.kill('SIGKILL')
      await exited(child)
      stop = true
      await load
      await Promise.all(inflight)

      const onDisk = inspectLog()
      for (const [seq, signature] of acked) {
        expect(onDisk.signatures[seq - 1], `acknowledged seq ${seq} (round ${round}, seed ${SEED})`).toBe(
          signature,
        )
      }
      expected = onDisk
    }
    expect(acked.size).toBeGreaterThan(ROUNDS * 50)
    expect(restoredFromSnapshot, 'at least one restart used a snapshot and a log tail').toBeGreaterThan(0)
  }, 90_000)
})
