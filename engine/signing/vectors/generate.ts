/**
 * Writes eip712.json: digests computed by viem (never by the fast path under test) and signatures by
 * a fixed, publicly known test key (anvil's account 0). Run from the repository root:
 *   npx tsx engine/signing/vectors/generate.ts
 * A script, not engine code: it is the only file under engine/signing that does I/O.
 */
import { writeFileSync } from 'node:fs'
import { type Address, getAddress, type Hex, hashDomain, hashTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { UserOp } from '../../ops.ts'
import { ALL_MARKETS, OrderKind, SelfTradePrevention, Side, TimeInForce, ZERO_ADDRESS } from '../../ops.ts'
import { MAX_LOTS, MAX_PRICE_TICKS } from '../../units.ts'
import { eip712DomainType, eip712Types } from '../eip712Types.ts'
import { encodeType } from '../encodeType.ts'
import { signingDomain } from '../signingDomain.ts'
import { observationTypedData, toTypedData } from '../toTypedData.ts'

const SIGNER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const signer = privateKeyToAccount(SIGNER_KEY)
const domain = signingDomain(31337n, '0x5FbDB2315678afecb367f032d93F642f64180aa3')

const MAX_U64 = (1n << 64n) - 1n
const MAX_U256 = (1n << 256n) - 1n
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const ALICE: Address = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const BOB: Address = getAddress('0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc')
const ONES: Address = getAddress('0xffffffffffffffffffffffffffffffffffffffff')
const NONCE = 1_767_225_600_000

const base = { signer: ZERO_ADDRESS, account: ALICE, nonce: NONCE } as const
const limitOrder = {
  marketId: 1,
  side: Side.Buy,
  kind: OrderKind.Limit,
  tif: TimeInForce.GTC,
  priceTicks: 6_500_000,
  sizeLots: 250,
  triggerPriceTicks: 0,
  reduceOnly: false,
  postOnly: false,
  stp: SelfTradePrevention.ExpireMaker,
  clientOrderId: 0n,
  expiresAtMs: 0,
}

const userOps: [string, UserOp][] = [
  ['placeOrder/limit-gtc', { ...base, type: 'placeOrder', order: limitOrder }],
  [
    'placeOrder/market-ioc-max-price',
    {
      ...base,
      type: 'placeOrder',
      order: {
        ...limitOrder,
        side: Side.Sell,
        kind: OrderKind.Market,
        tif: TimeInForce.IOC,
        priceTicks: MAX_PRICE_TICKS,
        sizeLots: MAX_LOTS,
      },
    },
  ],
  [
    'placeOrder/stop-limit-gtt-all-flags-max-uint64-client-id',
    {
      ...base,
      account: BOB,
      type: 'placeOrder',
      order: {
        marketId: 0xffff_fffe,
        side: Side.Sell,
        kind: OrderKind.StopLimit,
        tif: TimeInForce.GTT,
        priceTicks: MAX_SAFE,
        sizeLots: MAX_SAFE,
        triggerPriceTicks: MAX_SAFE,
        reduceOnly: true,
        postOnly: true,
        stp: SelfTradePrevention.ExpireBoth,
        clientOrderId: MAX_U64,
        expiresAtMs: MAX_SAFE,
      },
    },
  ],
  [
    'placeOrder/all-zero',
    {
      signer: ZERO_ADDRESS,
      account: ZERO_ADDRESS,
      nonce: 0,
      type: 'placeOrder',
      order: { ...limitOrder, marketId: 0, priceTicks: 0, sizeLots: 0 },
    },
  ],
  [
    'placeOrder/take-profit-market-fok',
    {
      ...base,
      nonce: MAX_SAFE,
      type: 'placeOrder',
      order: {
        ...limitOrder,
        kind: OrderKind.TakeProfitMarket,
        tif: TimeInForce.FOK,
        triggerPriceTicks: 7_000_000,
        stp: SelfTradePrevention.ExpireTaker,
        clientOrderId: 42n,
      },
    },
  ],
  [
    'cancelOrder/by-order-id',
    { ...base, type: 'cancelOrder', marketId: 1, orderId: 123_456, clientOrderId: 0n },
  ],
  [
    'cancelOrder/by-client-order-id-max',
    { ...base, type: 'cancelOrder', marketId: 3, orderId: 0, clientOrderId: MAX_U64 },
  ],
  [
    'cancelOrder/max-order-id',
    { ...base, type: 'cancelOrder', marketId: 0, orderId: MAX_SAFE, clientOrderId: 1n },
  ],
  ['cancelAll/all-markets-null', { ...base, type: 'cancelAll', marketId: null }],
  ['cancelAll/all-markets-explicit', { ...base, type: 'cancelAll', marketId: ALL_MARKETS }],
  ['cancelAll/one-market', { ...base, type: 'cancelAll', marketId: 7 }],
  [
    'modifyOrder/typical',
    { ...base, type: 'modifyOrder', marketId: 1, orderId: 99, newPriceTicks: 6_400_000, newSizeLots: 10 },
  ],
  [
    'modifyOrder/max',
    {
      ...base,
      type: 'modifyOrder',
      marketId: 0xffff_fffe,
      orderId: MAX_SAFE,
      newPriceTicks: MAX_PRICE_TICKS,
      newSizeLots: MAX_LOTS,
    },
  ],
  ['withdraw/one-usdc', { ...base, type: 'withdraw', amountQuantums: 1_000_000n }],
  ['withdraw/max-uint256', { ...base, account: ONES, type: 'withdraw', amountQuantums: MAX_U256 }],
  ['withdraw/zero', { ...base, type: 'withdraw', amountQuantums: 0n }],
  ['approveAgent/typical', { ...base, type: 'approveAgent', agent: BOB, expiresAtMs: NONCE + 86_400_000 }],
  ['approveAgent/max-expiry', { ...base, type: 'approveAgent', agent: ONES, expiresAtMs: MAX_SAFE }],
  ['revokeAgent/typical', { ...base, type: 'revokeAgent', agent: BOB }],
  ['revokeAgent/zero-agent', { ...base, type: 'revokeAgent', agent: ZERO_ADDRESS }],
]

const observations: [string, number, { priceTicks: number; publishTimeMs: number }][] = [
  ['observation/typical', 1, { priceTicks: 6_512_345, publishTimeMs: NONCE }],
  ['observation/max', 0xffff_ffff, { priceTicks: MAX_SAFE, publishTimeMs: MAX_SAFE }],
  ['observation/zero', 0, { priceTicks: 0, publishTimeMs: 0 }],
]

const otherDomains: [bigint, Address][] = [
  [1n, '0x5FbDB2315678afecb367f032d93F642f64180aa3'],
  [31337n, getAddress('0xe7f1725e7734ce288f8367e1bb143e90bb3f0512')],
  [MAX_U256, ZERO_ADDRESS],
]

/** JSON has no bigint: write them as decimal strings; the test knows which fields are bigint. */
function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
}

const cases: unknown[] = []
for (const [name, op] of userOps) {
  const typed = toTypedData(op, domain)
  cases.push({
    name,
    kind: 'userOp',
    op: toJson(op),
    digest: hashTypedData(typed),
    signature: await signer.signTypedData(typed),
  })
}
for (const [name, oracleId, observation] of observations) {
  const typed = observationTypedData(oracleId, observation, domain)
  cases.push({
    name,
    kind: 'observation',
    oracleId,
    observation,
    digest: hashTypedData(typed),
    signature: await signer.signTypedData(typed),
  })
}

const typeStrings: Record<string, string> = {
  EIP712Domain: encodeType('EIP712Domain', eip712DomainType),
}
for (const def of Object.values(eip712Types)) {
  const fields = (def.types as Record<string, readonly { name: string; type: string }[]>)[def.primaryType]!
  typeStrings[def.primaryType] = encodeType(def.primaryType, fields)
}

const domainHash = (chainId: bigint, verifyingContract: Address) =>
  hashDomain({
    domain: { ...signingDomain(chainId, verifyingContract) },
    types: { EIP712Domain: [...eip712DomainType] },
  })

const vectors = {
  description:
    'SCE EIP-712 vectors. Digests by viem hashTypedData; signatures (r||s||v, RFC 6979) by signerPrivateKey. bigint fields (clientOrderId, amountQuantums, chainId) are decimal strings.',
  signerPrivateKey: SIGNER_KEY,
  signer: signer.address,
  domain: toJson(domain),
  domainSeparator: domainHash(domain.chainId, domain.verifyingContract),
  typeStrings,
  domainCases: otherDomains.map(([chainId, verifyingContract]) => ({
    chainId: chainId.toString(),
    verifyingContract,
    domainSeparator: domainHash(chainId, verifyingContract),
  })),
  cases,
}

writeFileSync(new URL('./eip712.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`)
