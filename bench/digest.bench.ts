import { type Address, getAddress, hashTypedData, toHex } from 'viem'
import {
  OrderKind,
  SelfTradePrevention,
  Side,
  TimeInForce,
  type UserOp,
  ZERO_ADDRESS,
} from '../engine/ops.ts'
import { domainSeparator, userOpDigest } from '../engine/signing/digest.ts'
import { signingDomain } from '../engine/signing/signingDomain.ts'
import { toTypedData } from '../engine/signing/toTypedData.ts'
import { median } from './stats.ts'

/**
 * EIP-712 digests per second: the engine's fast path (`userOpDigest`) against viem's `hashTypedData`
 * on the same ops (viem gets its typed data prebuilt, outside the timing). A trading mix: half
 * place-order, a fifth cancel, the rest spread over the other types; 100 checksummed accounts.
 */

const QUICK = process.env.BENCH_QUICK === '1'
const OPS = QUICK ? 2_000 : 20_000
const RUNS = 3

/** xorshift32: the same ops every run, no Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
}

function makeOps(n: number): UserOp[] {
  const next = rng(0x5ce)
  const accounts: Address[] = []
  for (let i = 0; i < 100; i++) {
    accounts.push(getAddress(toHex(Uint8Array.from({ length: 20 }, () => next() & 0xff))))
  }
  const ops: UserOp[] = []
  let nonce = 1_767_225_600_000
  for (let i = 0; i < n; i++) {
    const account = accounts[next() % accounts.length]!
    const base = { signer: ZERO_ADDRESS, account, nonce: nonce++ }
    const pick = next() % 100
    if (pick < 50) {
      ops.push({
        ...base,
        type: 'placeOrder',
        order: {
          marketId: next() % 8,
          side: next() % 2 === 0 ? Side.Buy : Side.Sell,
          kind: OrderKind.Limit,
          tif: TimeInForce.GTC,
          priceTicks: 6_000_000 + (next() % 100_000),
          sizeLots: 1 + (next() % 10_000),
          triggerPriceTicks: 0,
          reduceOnly: false,
          postOnly: next() % 4 === 0,
          stp: SelfTradePrevention.ExpireMaker,
          clientOrderId: BigInt(next()),
          expiresAtMs: 0,
        },
      })
    } else if (pick < 70) {
      ops.push({ ...base, type: 'cancelOrder', marketId: next() % 8, orderId: next(), clientOrderId: 0n })
    } else if (pick < 80) {
      ops.push({
        ...base,
        type: 'modifyOrder',
        marketId: next() % 8,
        orderId: next(),
        newPriceTicks: 6_000_000 + (next() % 100_000),
        newSizeLots: 1 + (next() % 10_000),
      })
    } else if (pick < 85) {
      ops.push({ ...base, type: 'cancelAll', marketId: next() % 2 === 0 ? null : next() % 8 })
    } else if (pick < 90) {
      ops.push({ ...base, type: 'withdraw', amountQuantums: BigInt(next()) * 1_000n })
    } else if (pick < 95) {
      ops.push({
        ...base,
        type: 'approveAgent',
        agent: accounts[next() % 100]!,
        expiresAtMs: nonce + 86_400_000,
      })
    } else {
      ops.push({ ...base, type: 'revokeAgent', agent: accounts[next() % 100]! })
    }
  }
  return ops
}

function perSecond(count: number, body: () => void): number {
  const t0 = process.hrtime.bigint()
  body()
  const ns = Number(process.hrtime.bigint() - t0)
  return (count * 1e9) / ns
}

export async function run(): Promise<void> {
  const domain = signingDomain(31337n, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
  const separator = domainSeparator(domain.chainId, domain.verifyingContract)
  const ops = makeOps(OPS)
  const typed = ops.map((op) => toTypedData(op, domain))

  // Warm up both paths so the JIT has settled before timing.
  for (let i = 0; i < Math.min(2_000, OPS); i++) {
    userOpDigest(ops[i]!, separator)
    hashTypedData(typed[i]!)
  }

  let sink = 0
  const fast: number[] = []
  const viem: number[] = []
  for (let r = 0; r < RUNS; r++) {
    fast.push(
      perSecond(OPS, () => {
        for (const op of ops) sink ^= userOpDigest(op, separator)[0]!
      }),
    )
    viem.push(
      perSecond(OPS, () => {
        for (const t of typed) sink ^= hashTypedData(t).charCodeAt(2)
      }),
    )
  }
  if (sink === -1) console.log('unreachable')

  const fastPerS = median(fast)
  const viemPerS = median(viem)
  console.log(`BENCH digest_per_s ${Math.round(fastPerS)} digests/s`)
  console.log(`BENCH digest_viem_per_s ${Math.round(viemPerS)} digests/s`)
  console.log(`RATIO digest_vs_viem ${(fastPerS / viemPerS).toFixed(2)}`)
}
