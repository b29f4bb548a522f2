import { keccak_256 } from '@noble/hashes/sha3.js'
import { createKeccak } from 'hash-wasm'
import type { Address } from 'viem'
import { accountLeafHash } from '../engine/commitment/accountLeaf.ts'
import { keccak256 } from '../engine/commitment/keccak256.ts'
import { IncrementalMerkleTree } from '../engine/commitment/merkleTree.ts'
import { collectGarbage, median } from './stats.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const LEAVES = QUICK ? 100_000 : 1_000_000
const TOUCHED = 10_000
const RUNS = QUICK ? 1 : 3
const DEPTH = 24
const ACCOUNT_DATA_BYTES = 160

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000
}

/** xorshift32: a fixed sequence of "random" accounts, the same on every run. */
function makeRng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

function syntheticAddress(i: number): Address {
  return `0x${(0x5ce00000 + i).toString(16).padStart(40, 'a')}` as Address
}

// Stands in for the engine's serialized account (~160 bytes of balances, positions and nonces): fixed
// filler with the account index and a version written in, so every account hashes differently.
const accountData = Uint8Array.from({ length: ACCOUNT_DATA_BYTES }, (_, k) => (k * 37 + 11) & 0xff)
const accountView = new DataView(accountData.buffer)
function accountLeaf(address: Address, i: number, version: number): Uint8Array {
  accountView.setUint32(0, i)
  accountView.setUint32(4, version)
  const dataHash = keccak256(accountData)
  return accountLeafHash(address, BigInt(i) * 1_000_000n + BigInt(version), dataHash)
}

function hashesPerSecond(hash: (d: Uint8Array) => Uint8Array, n: number): number {
  const d = new Uint8Array(64)
  const times: number[] = []
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      d[0] = i
      hash(d)
    }
    times.push(performance.now() - t0)
  }
  return n / (median(times) / 1000)
}

export async function run(): Promise<void> {
  const wasm = await createKeccak(256)
  const hashWasm = (d: Uint8Array): Uint8Array => {
    wasm.init()
    wasm.update(d)
    return wasm.digest('binary')
  }
  const n = QUICK ? 50_000 : 300_000
  const noble = hashesPerSecond(keccak_256, n)
  const hw = hashesPerSecond(hashWasm, n)
  const engine = hashesPerSecond(keccak256, n)
  console.log(`BENCH keccak_64b_per_s_noble ${Math.round(noble)} hashes/s`)
  console.log(`BENCH keccak_64b_per_s_hashwasm ${Math.round(hw)} hashes/s`)
  console.log(`BENCH keccak_64b_per_s_engine ${Math.round(engine)} hashes/s`)
  console.log(`RATIO keccak_hashwasm_vs_noble ${(hw / noble).toFixed(2)}`)
  console.log(`RATIO keccak_engine_vs_noble ${(engine / noble).toFixed(2)}`)

  const addresses: Address[] = []
  for (let i = 0; i < LEAVES; i++) addresses.push(syntheticAddress(i))

  const fullMs: number[] = []
  const fullCpuMs: number[] = []
  const touchMs: number[] = []
  const touchCpuMs: number[] = []
  let bytesPerLeaf = 0
  for (let r = 0; r < RUNS; r++) {
    collectGarbage()
    let cpu = process.cpuUsage()
    const t0 = performance.now()
    const tree = new IncrementalMerkleTree(DEPTH)
    for (let i = 0; i < LEAVES; i++) tree.setLeaf(i, accountLeaf(addresses[i]!, i, 0))
    tree.root()
    fullMs.push(performance.now() - t0)
    fullCpuMs.push(cpuMs(process.cpuUsage(cpu)))
    bytesPerLeaf = tree.byteLength / tree.leafCount

    const rng = makeRng(r + 1)
    const picks: number[] = []
    for (let k = 0; k < TOUCHED; k++) picks.push(rng() % LEAVES)
    collectGarbage()
    cpu = process.cpuUsage()
    const t1 = performance.now()
    for (const i of picks) tree.setLeaf(i, accountLeaf(addresses[i]!, i, r + 1))
    tree.root()
    touchMs.push(performance.now() - t1)
    touchCpuMs.push(cpuMs(process.cpuUsage(cpu)))
  }
  const size = QUICK ? '100k' : '1m'
  const full = median(fullMs)
  const touched = median(touchMs)
  console.log(`BENCH merkle_root_full_${size}_ms ${full.toFixed(1)} ms`)
  console.log(`BENCH merkle_root_10k_of_${size}_ms ${touched.toFixed(1)} ms`)
  // CPU time of the process, all threads: steadier than wall time on a shared machine.
  console.log(`BENCH merkle_root_full_${size}_cpu_ms ${median(fullCpuMs).toFixed(1)} ms`)
  console.log(`BENCH merkle_root_10k_of_${size}_cpu_ms ${median(touchCpuMs).toFixed(1)} ms`)
  console.log(`BENCH merkle_bytes_per_leaf ${bytesPerLeaf.toFixed(1)} bytes`)
  console.log(`RATIO merkle_root_full_vs_10k ${(full / touched).toFixed(1)}`)
}
