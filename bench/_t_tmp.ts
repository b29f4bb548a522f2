import type { Address } from 'viem'
import { accountLeafHash } from '../engine/commitment/accountLeaf.ts'
import { writeAddressWord } from '../engine/commitment/abiWords.ts'
import { keccak256, keccak256Twice } from '../engine/commitment/keccak256.ts'
const N = 1_000_000
const addrs: Address[] = []
for (let i = 0; i < N; i++) addrs.push(`0x${(0x5ce00000 + i).toString(16).padStart(40, 'a')}` as Address)
const data = new Uint8Array(160); const dv = new DataView(data.buffer)
const buf = new Uint8Array(96)
function cpu(f: () => void): number { const c = process.cpuUsage(); f(); const u = process.cpuUsage(c); return (u.user + u.system) / N }
for (let r = 0; r < 4; r++) {
  const a = cpu(() => { for (let i = 0; i < N; i++) { dv.setUint32(0, i); keccak256(data) } })
  const h = new Uint8Array(32)
  const b = cpu(() => { for (let i = 0; i < N; i++) accountLeafHash(addrs[i]!, BigInt(i), h) })
  const c = cpu(() => { for (let i = 0; i < N; i++) writeAddressWord(buf, 0, addrs[i]!) })
  const d = cpu(() => { for (let i = 0; i < N; i++) { buf[0] = i; keccak256Twice(buf) } })
  const e = cpu(() => { for (let i = 0; i < N; i++) { BigInt(i) } })
  console.log(`µs/op: data ${a.toFixed(3)} leaf ${b.toFixed(3)} addr ${c.toFixed(3)} twice96 ${d.toFixed(3)} bigint ${e.toFixed(3)}`)
}
