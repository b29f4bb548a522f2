/**
 * The engine's real state root at scale (accounts with collateral, nonce windows, positions and resting
 * orders, not synthetic leaves): the full root of 1M accounts, the root after 10k accounts changed, a mark
 * move that re-commits every holder; snapshot size, serialize and restore; the invariant checker.
 * BENCH_QUICK=1 shrinks the state for a smoke run (the names keep their 1m, the sizes do not).
 */
import type { Address } from 'viem'
import { checkInvariants, checkSealInvariants } from '../engine/invariants/checkInvariants.ts'
import {
  addAccount,
  addOrder,
  openPair,
  sampleState,
  setMark,
} from '../engine/invariants/testing/handBuiltState.ts'
import { Side } from '../engine/ops.ts'
import { restoreSnapshot } from '../engine/snapshot/restoreSnapshot.ts'
import { serializeSnapshot } from '../engine/snapshot/serializeSnapshot.ts'
import { StateCommitment } from '../engine/state/commitState.ts'
import { EngineState } from '../engine/state/engineState.ts'
import { testConfig } from '../engine/testing/testConfig.ts'
import { median } from './stats.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const ACCOUNTS = QUICK ? 20_000 : 1_000_000

function time(fn: () => void): number {
  const t0 = performance.now()
  fn()
  return performance.now() - t0
}

function addressOf(i: number): Address {
  return `0x${(0x100000 + i).toString(16).padStart(40, '0')}` as Address
}

/** Half the accounts hold a BTC position (in long/short pairs), every tenth has a resting order, each a nonce window of 5. */
function buildState(n: number): EngineState {
  const state = new EngineState(testConfig())
  setMark(state, 0, 600_000, 1)
  setMark(state, 1, 300_000, 1)
  for (let i = 1; i < n; i++) {
    const a = addAccount(state, addressOf(i), 10_000_000_000n + BigInt(i))
    a.nonces = new Map([[a.address, [1_000 + i, 1_001 + i, 1_002 + i, 1_003 + i, 1_004 + i]]])
  }
  for (let i = 1; i + 1 < n / 2; i += 2)
    openPair(state, state.accounts[i]!, state.accounts[i + 1]!, 0, 1 + (i % 50), 600_000)
  for (let i = 1; i < n; i += 10) {
    addOrder(state, state.accounts[i]!, {
      side: i % 20 === 1 ? Side.Buy : Side.Sell,
      priceTicks: i % 20 === 1 ? 590_000 - (i % 997) : 610_000 + (i % 997),
      lots: 1 + (i % 9),
    })
  }
  return state
}

export async function run(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  const state = buildState(ACCOUNTS)
  const holders = state.markets[0]!.holders.size
  gc?.()

  const full: number[] = []
  let commitment = new StateCommitment(state)
  for (let r = 0; r < (QUICK ? 3 : 3); r++) {
    commitment = new StateCommitment(state)
    full.push(time(() => commitment.root()))
  }
  console.log(`BENCH root_full_1m_ms ${median(full).toFixed(0)} ms`)

  // The seal's invariant gate: once over every account (a fresh or restored engine), then on what changed.
  let violations = 0
  const gateFull = time(() => (violations += checkSealInvariants(state, []).length))
  console.log(`BENCH seal_gate_full_1m_ms ${gateFull.toFixed(0)} ms`)

  const dirty: number[] = []
  const gate: number[] = []
  const touched = QUICK ? 200 : 10_000
  for (let r = 0; r < 7; r++) {
    for (let k = 0; k < touched; k++) {
      const id = 1 + ((r * 7_919 + k * 104_729) % (ACCOUNTS - 1))
      state.accounts[id]!.collateralQuantums += 1n
      state.dirtyAccounts.add(id)
    }
    state.totalDepositedQuantums += BigInt(touched) // as deposits would: conservation holds
    gate.push(time(() => (violations += checkSealInvariants(state, state.dirtyAccounts).length)))
    dirty.push(time(() => commitment.root()))
  }
  console.log(`BENCH root_10k_of_1m_ms ${median(dirty).toFixed(1)} ms`)
  console.log(`BENCH seal_gate_10k_of_1m_ms ${median(gate).toFixed(1)} ms`)

  const move: number[] = []
  const gateMove: number[] = []
  for (let r = 0; r < 5; r++) {
    state.markets[0]!.markPriceTicks += r % 2 === 0 ? 100 : -100
    gateMove.push(time(() => (violations += checkSealInvariants(state, state.dirtyAccounts).length)))
    move.push(time(() => commitment.root()))
  }
  const moveMs = median(move)
  console.log(`BENCH root_mark_move_${holders}_holders_ms ${moveMs.toFixed(0)} ms`)
  console.log(`BENCH seal_gate_mark_move_${holders}_holders_ms ${median(gateMove).toFixed(0)} ms`)
  console.log(`BENCH root_mark_move_per_holder_us ${((moveMs * 1000) / holders).toFixed(2)} us`)
  console.log(`RATIO root_mark_move_vs_full ${(moveMs / median(full)).toFixed(3)}`)
  if (violations > 0) console.log(`WARNING the seal gate found ${violations} violations`)

  let bytes: Uint8Array = new Uint8Array()
  const ser: number[] = []
  for (let r = 0; r < 3; r++) ser.push(time(() => (bytes = serializeSnapshot(state))))
  console.log(`BENCH snapshot_serialize_1m_ms ${median(ser).toFixed(0)} ms`)
  console.log(`BENCH snapshot_size_1m_mb ${(bytes.length / 1e6).toFixed(1)} MB`)
  console.log(`BENCH snapshot_bytes_per_account ${(bytes.length / ACCOUNTS).toFixed(1)} bytes`)

  let restored: EngineState | null = null
  const res: number[] = []
  for (let r = 0; r < 3; r++) {
    restored = null
    gc?.()
    res.push(time(() => (restored = restoreSnapshot(state.config, bytes))))
  }
  console.log(`BENCH snapshot_restore_1m_ms ${median(res).toFixed(0)} ms`)
  const same = Buffer.from(new StateCommitment(restored!).root()).equals(Buffer.from(commitment.root()))
    ? 1
    : 0
  if (same !== 1) console.log('WARNING the restored root differs from the original')
  restored = null
  gc?.()

  // A test-sized state: a few hundred accounts, checked after every op in tests.
  const small = sampleState(testConfig())
  for (let i = 0; i < 300; i++) addAccount(small, addressOf(5_000_000 + i), 1_000_000_000n)
  for (let i = 4; i + 1 < small.accounts.length; i += 2)
    openPair(small, small.accounts[i]!, small.accounts[i + 1]!, i % 2, 1 + i, 300_000 * (2 - (i % 2)))
  for (let i = 4; i < small.accounts.length; i += 3)
    addOrder(small, small.accounts[i]!, { side: Side.Buy, priceTicks: 500_000 - i, lots: 2 })
  const inv: number[] = []
  for (let r = 0; r < 21; r++) inv.push(time(() => checkInvariants(small)))
  console.log(
    `BENCH check_invariants_${small.accounts.length}_accounts_us ${(median(inv) * 1000).toFixed(0)} us`,
  )
}
