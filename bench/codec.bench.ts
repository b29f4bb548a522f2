import { type Address, encodeAbiParameters, type Hex } from 'viem'
import type { BatchData } from '../engine/codec/batchData.ts'
import { decodeBatch } from '../engine/codec/decodeBatch.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import {
  type Op,
  OrderKind,
  type OrderParams,
  type PlaceOrderOp,
  SelfTradePrevention,
  type SignedEntry,
  TimeInForce,
  ZERO_ADDRESS,
} from '../engine/ops.ts'
import { collectGarbage, median } from './stats.ts'

/**
 * The batch codec on a realistic 1000-entry batch: 70% place orders from 50 market makers and 200
 * traders, 20% cancels, 5% oracle updates with 3 observations, and a few modifies, deposits,
 * withdrawals and time advances. Peer: the same place orders as Solidity `abi.encode` (viem), the
 * format a contract-first design would post.
 */

const QUICK = process.env.BENCH_QUICK === '1'
const RUNS = 3
const ENCODE_REPS = QUICK ? 20 : 300
const ABI_REPS = QUICK ? 2 : 10

/** mulberry32: the same batch on every run. */
function makeRng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const address = (tag: number, i: number): Address =>
  `0x${tag.toString(16).padStart(8, '0')}${(i * 2654435761).toString(16).padStart(32, '0').slice(-32)}` as Address

function realisticBatch(): BatchData {
  const rand = makeRng(20_240_601)
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1))
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const makers = Array.from({ length: 50 }, (_, i) => address(0x5ce0_0001, i))
  const traders = Array.from({ length: 200 }, (_, i) => address(0x5ce0_0002, i))
  // BTC, ETH and eight smaller markets, in ticks of 0.01 USD.
  const midTicks = [6_500_000, 350_000, 15_000, 12_000, 5_000, 2_500, 900, 600, 150, 40]
  const makerCloid = makers.map(() => BigInt(int(1, 2 ** 31)))
  const signature = () => {
    const s = new Uint8Array(65)
    for (let k = 0; k < 64; k++) s[k] = int(0, 255)
    s[64] = int(27, 28)
    return s
  }
  let timestampMs = 1_717_171_717_171
  let orderId = 48_000_000
  let inboxIndex = 91_000
  const entries: SignedEntry[] = []
  for (let seq = 7_000_000; entries.length < 1000; seq++) {
    timestampMs += rand() < 0.5 ? 0 : int(1, 3)
    const nonce = timestampMs - int(0, 300)
    const marketId = rand() < 0.6 ? int(0, 1) : int(0, 9)
    const mid = midTicks[marketId]!
    const roll = rand()
    let op: Op
    let signed = true
    let observationSignatures: Uint8Array[] = []
    if (roll < 0.7) {
      const byMaker = rand() < 0.8
      const m = int(0, makers.length - 1)
      const kind = byMaker
        ? OrderKind.Limit
        : pick([OrderKind.Limit, OrderKind.Limit, OrderKind.Market, OrderKind.StopMarket])
      const side = rand() < 0.5 ? 0 : 1
      const order: OrderParams = {
        marketId,
        side,
        kind,
        tif: kind === OrderKind.Market ? TimeInForce.IOC : TimeInForce.GTC,
        priceTicks: mid + (side === 0 ? -1 : 1) * int(0, Math.ceil(mid / 500)),
        sizeLots: byMaker ? int(1, 2_000) : int(1, 200),
        triggerPriceTicks: kind === OrderKind.StopMarket ? mid - int(1, Math.ceil(mid / 100)) : 0,
        reduceOnly: !byMaker && rand() < 0.1,
        postOnly: byMaker,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: byMaker ? ++makerCloid[m]! : rand() < 0.3 ? BigInt(int(1, 10_000)) : 0n,
        expiresAtMs: 0,
      }
      const account = byMaker ? makers[m]! : pick(traders)
      op = { type: 'placeOrder', account, signer: ZERO_ADDRESS, nonce, order }
    } else if (roll < 0.9) {
      const byCloid = rand() < 0.3
      op = {
        type: 'cancelOrder',
        account: rand() < 0.85 ? pick(makers) : pick(traders),
        signer: ZERO_ADDRESS,
        nonce,
        marketId,
        orderId: byCloid ? 0 : orderId - int(0, 50_000),
        clientOrderId: byCloid ? BigInt(int(1, 2 ** 31)) : 0n,
      }
    } else if (roll < 0.95) {
      op = {
        type: 'oracleUpdate',
        oracleId: marketId,
        observations: [0, 1, 2].map(() => ({
          signer: ZERO_ADDRESS,
          priceTicks: mid + int(-5, 5),
          publishTimeMs: timestampMs - int(100, 1_500),
        })),
      }
      signed = false
      observationSignatures = [signature(), signature(), signature()]
    } else if (roll < 0.98) {
      op = {
        type: 'modifyOrder',
        account: pick(makers),
        signer: ZERO_ADDRESS,
        nonce,
        marketId,
        orderId: orderId - int(0, 5_000),
        newPriceTicks: mid + int(-10, 10),
        newSizeLots: int(1, 2_000),
      }
    } else if (roll < 0.99) {
      op = {
        type: 'deposit',
        account: pick(traders),
        amountQuantums: BigInt(int(100, 100_000)) * 1_000_000n,
        inboxIndex: inboxIndex++,
      }
      signed = false
    } else if (roll < 0.995) {
      op = {
        type: 'withdraw',
        account: pick(traders),
        signer: ZERO_ADDRESS,
        nonce,
        amountQuantums: BigInt(int(1, 10_000)) * 1_000_000n,
      }
    } else {
      op = { type: 'timeAdvance' }
      signed = false
    }
    orderId += int(0, 3)
    entries.push({ seq, timestampMs, op, signature: signed ? signature() : null, observationSignatures })
  }
  return { version: 1, entries }
}

function calldataGas(bytes: Uint8Array): number {
  let gas = 0
  for (const b of bytes) gas += b === 0 ? 4 : 16
  return gas
}

const PLACE_ORDER_ABI = [
  {
    type: 'tuple',
    components: [
      { name: 'seq', type: 'uint64' },
      { name: 'timestampMs', type: 'uint64' },
      { name: 'account', type: 'address' },
      { name: 'nonce', type: 'uint64' },
      { name: 'marketId', type: 'uint32' },
      { name: 'side', type: 'uint8' },
      { name: 'kind', type: 'uint8' },
      { name: 'tif', type: 'uint8' },
      { name: 'priceTicks', type: 'uint64' },
      { name: 'sizeLots', type: 'uint64' },
      { name: 'triggerPriceTicks', type: 'uint64' },
      { name: 'reduceOnly', type: 'bool' },
      { name: 'postOnly', type: 'bool' },
      { name: 'stp', type: 'uint8' },
      { name: 'clientOrderId', type: 'uint64' },
      { name: 'expiresAtMs', type: 'uint64' },
      { name: 'signature', type: 'bytes' },
    ],
  },
] as const

function abiEncodePlaceOrder(entry: SignedEntry): Hex {
  const op = entry.op as PlaceOrderOp
  const o = op.order
  const sig = `0x${Buffer.from(entry.signature!).toString('hex')}` as Hex
  return encodeAbiParameters(PLACE_ORDER_ABI, [
    {
      seq: BigInt(entry.seq),
      timestampMs: BigInt(entry.timestampMs),
      account: op.account,
      nonce: BigInt(op.nonce),
      marketId: o.marketId,
      side: o.side,
      kind: o.kind,
      tif: o.tif,
      priceTicks: BigInt(o.priceTicks),
      sizeLots: BigInt(o.sizeLots),
      triggerPriceTicks: BigInt(o.triggerPriceTicks),
      reduceOnly: o.reduceOnly,
      postOnly: o.postOnly,
      stp: o.stp,
      clientOrderId: o.clientOrderId,
      expiresAtMs: BigInt(o.expiresAtMs),
      signature: sig,
    },
  ])
}

function opsPerSecond(entries: number, reps: number, f: () => void): number {
  const rates: number[] = []
  for (let run = 0; run < RUNS; run++) {
    collectGarbage()
    const t0 = performance.now()
    for (let r = 0; r < reps; r++) f()
    rates.push((entries * reps) / ((performance.now() - t0) / 1000))
  }
  return median(rates)
}

export async function run(): Promise<void> {
  const batch = realisticBatch()
  const entries = batch.entries.length
  const bytes = encodeBatch(batch)

  // Warm up the JIT before timing.
  for (let r = 0; r < 50; r++) decodeBatch(encodeBatch(batch))

  let sink = 0
  const encodeRate = opsPerSecond(entries, ENCODE_REPS, () => {
    sink += encodeBatch(batch).length
  })
  const decodeRate = opsPerSecond(entries, ENCODE_REPS, () => {
    sink += decodeBatch(bytes).entries.length
  })

  // Bytes per place order: a batch of only the place orders, so its header and its address table
  // (each distinct account once) are shared among them, as they would be on L1.
  const places = batch.entries.filter((e) => e.op.type === 'placeOrder')
  const placeBatch: BatchData = {
    version: 1,
    entries: places.map((e, i) => ({ ...e, seq: 1 + i })),
  }
  const placeBytes = encodeBatch(placeBatch)
  const codecBytesPerPlace = placeBytes.length / places.length
  const codecGasPerPlace = calldataGas(placeBytes) / places.length

  const abiEncoded = places.map(abiEncodePlaceOrder)
  const abiBytes = abiEncoded.map((h) => Buffer.from(h.slice(2), 'hex'))
  const abiBytesPerPlace = abiBytes.reduce((a, b) => a + b.length, 0) / places.length
  const abiGasPerPlace = abiBytes.reduce((a, b) => a + calldataGas(b), 0) / places.length
  const abiRate = opsPerSecond(places.length, ABI_REPS, () => {
    for (const e of places) sink += abiEncodePlaceOrder(e).length
  })
  const codecPlaceRate = opsPerSecond(places.length, ENCODE_REPS, () => {
    sink += encodeBatch(placeBatch).length
  })
  if (sink === 0) console.log('unreachable')

  const kinds = new Map<string, number>()
  for (const e of batch.entries) kinds.set(e.op.type, (kinds.get(e.op.type) ?? 0) + 1)
  console.log(
    `# batch: ${entries} entries, ${bytes.length} bytes; ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  )
  console.log(`BENCH codec_encode_ops_per_s ${Math.round(encodeRate)} ops/s`)
  console.log(`BENCH codec_decode_ops_per_s ${Math.round(decodeRate)} ops/s`)
  console.log(`BENCH codec_bytes_per_place_order ${codecBytesPerPlace.toFixed(1)} bytes`)
  console.log(`BENCH codec_calldata_gas_per_place_order ${codecGasPerPlace.toFixed(0)} gas`)
  console.log(`BENCH codec_bytes_per_entry ${(bytes.length / entries).toFixed(1)} bytes`)
  console.log(`BENCH abi_bytes_per_place_order ${abiBytesPerPlace.toFixed(1)} bytes`)
  console.log(`BENCH abi_calldata_gas_per_place_order ${abiGasPerPlace.toFixed(0)} gas`)
  console.log(`BENCH abi_encode_place_orders_per_s ${Math.round(abiRate)} ops/s`)
  console.log(`RATIO codec_vs_abi_gas_per_place_order ${(abiGasPerPlace / codecGasPerPlace).toFixed(2)}`)
  console.log(`RATIO codec_vs_abi_encode_speed ${(codecPlaceRate / abiRate).toFixed(1)}`)
}
