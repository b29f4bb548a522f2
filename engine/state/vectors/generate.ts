/**
 * Writes digests.json: state digest vectors whose expected hashes come from the reference encoder in
 * digestCases.ts (viem encodePacked + viem keccak256), never from the engine code under test.
 * Run from the repository root:
 *   npx tsx engine/state/vectors/generate.ts
 * A script, not engine code: the only file under engine/state that does I/O.
 */
import { writeFileSync } from 'node:fs'
import type { Address } from 'viem'
import {
  type AccountJson,
  type DigestCase,
  type DigestVectors,
  type EngineConfigJson,
  type MarketLiveJson,
  type OrderJson,
  referenceExpected,
} from './digestCases.ts'

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const INT256_MAX = ((1n << 255n) - 1n).toString()
const INT256_MIN = (-(1n << 255n)).toString()
const U64_MAX = ((1n << 64n) - 1n).toString()

const config: EngineConfigJson = {
  chainId: '31337',
  settlementAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  markets: [
    {
      marketId: 0,
      symbol: 'BTC-PERP',
      oracleId: 1,
      quantumsPerLotTick: '10',
      minOrderLots: 1,
      maxOrderLots: 1_000_000,
      marginTiers: [
        { upToNotionalQuantums: '1000000000000', imfPpm: 20_000, mmfPpm: 10_000 },
        { upToNotionalQuantums: null, imfPpm: 100_000, mmfPpm: 50_000 },
      ],
      makerFeePpm: -100,
      takerFeePpm: 500,
      liquidationFeePpm: 5_000,
      funding: {
        periodMs: 3_600_000,
        sampleIntervalMs: 60_000,
        impactNotionalQuantums: '10000000000',
        maxRatePpm: 5_000,
        interestRatePpm: 12,
      },
      priceBandPpm: 100_000,
      oracleMaxAgeMs: 60_000,
    },
    {
      marketId: 1,
      symbol: 'ÉTH-PERP ✓',
      oracleId: 7,
      quantumsPerLotTick: '3',
      minOrderLots: 5,
      maxOrderLots: 2 ** 40,
      marginTiers: [{ upToNotionalQuantums: null, imfPpm: 50_000, mmfPpm: 30_000 }],
      makerFeePpm: 0,
      takerFeePpm: 700,
      liquidationFeePpm: 10_000,
      funding: {
        periodMs: 28_800_000,
        sampleIntervalMs: 5_000,
        impactNotionalQuantums: '1',
        maxRatePpm: 1,
        interestRatePpm: -3,
      },
      priceBandPpm: 1,
      oracleMaxAgeMs: 1,
    },
  ],
  oracle: {
    signers: [
      '0x00000000000000000000000000000000000000a2',
      '0x00000000000000000000000000000000000000A1' as Address,
      '0x00000000000000000000000000000000000000a3',
    ],
    threshold: 2,
    maxPublishDelayMs: 10_000,
  },
  nonceWindow: { size: 20, pastMs: 172_800_000, futureMs: 86_400_000 },
  maxOpenOrdersPerAccount: 200,
  accountTreeDepth: 24,
}

function order(o: Partial<OrderJson> & Pick<OrderJson, 'orderId'>): OrderJson {
  return {
    marketId: 0,
    side: 0,
    kind: 0,
    tif: 0,
    reduceOnly: false,
    postOnly: false,
    stp: 0,
    clientOrderId: '0',
    priceTicks: 600_000,
    remainingLots: 1,
    triggerPriceTicks: 0,
    expiresAtMs: 0,
    triggered: false,
    ...o,
  }
}

const emptyAccount: AccountJson = {
  accountId: 0,
  address: '0x0000000000000000000000000000000000000000',
  collateralQuantums: '0',
  markets: [],
  orders: [],
  nonces: [],
  agents: [],
}

const accounts: [string, AccountJson][] = [
  ['insurance-fund-empty', emptyAccount],
  [
    'collateral-only-negative',
    {
      ...emptyAccount,
      accountId: 9,
      address: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      collateralQuantums: '-1',
    },
  ],
  [
    'empty-market-entries-skipped',
    {
      ...emptyAccount,
      accountId: 3,
      address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      collateralQuantums: '1000000',
      markets: [
        {
          marketId: 1,
          sizeLots: 0,
          costBasisQuantums: '0',
          fundingIndexSnapshot: '12345',
          openBidLots: 0,
          openAskLots: 0,
          openOrderCount: 0,
        },
      ],
    },
  ],
  [
    'positions-orders-nonces-agents',
    {
      accountId: 42,
      address: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
      collateralQuantums: '123456789012345678901234567890',
      markets: [
        {
          marketId: 1,
          sizeLots: -250,
          costBasisQuantums: '-225000000',
          fundingIndexSnapshot: '-987654321',
          openBidLots: 0,
          openAskLots: 7,
          openOrderCount: 2,
        },
        {
          marketId: 0,
          sizeLots: 100,
          costBasisQuantums: '600000000',
          fundingIndexSnapshot: '5000000000',
          openBidLots: 5,
          openAskLots: 0,
          openOrderCount: 1,
        },
      ],
      orders: [
        order({ orderId: 3, side: 0, priceTicks: 599_000, remainingLots: 5, clientOrderId: '77' }),
        order({
          orderId: 8,
          marketId: 1,
          side: 1,
          kind: 3,
          tif: 3,
          reduceOnly: true,
          postOnly: true,
          stp: 2,
          clientOrderId: U64_MAX,
          priceTicks: 2 ** 40,
          remainingLots: 7,
          triggerPriceTicks: 290_000,
          expiresAtMs: 1_767_225_600_000,
          triggered: true,
        }),
        order({
          orderId: 5,
          marketId: 1,
          side: 1,
          kind: 4,
          tif: 0,
          stp: 1,
          triggerPriceTicks: 1,
          remainingLots: 2 ** 40,
        }),
      ],
      nonces: [
        [
          '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
          [1_767_225_600_003, 1_767_225_600_001, 1_767_225_600_002],
        ],
        ['0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65', [MAX_SAFE]],
      ],
      agents: [
        ['0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' as Address, 0],
        ['0x0000000000000000000000000000000000000001', 1_767_225_600_000],
      ],
    },
  ],
  [
    'int256-extremes',
    {
      ...emptyAccount,
      accountId: 2 ** 32 - 1,
      address: '0xffffffffffffffffffffffffffffffffffffffff',
      collateralQuantums: INT256_MIN,
      markets: [
        {
          marketId: 0,
          sizeLots: -(2 ** 40),
          costBasisQuantums: INT256_MAX,
          fundingIndexSnapshot: INT256_MIN,
          openBidLots: MAX_SAFE,
          openAskLots: 0,
          openOrderCount: 0,
        },
      ],
    },
  ],
]

const zeroLive: MarketLiveJson = {
  markPriceTicks: 0,
  oraclePublishTimeMs: 0,
  reduceOnly: true,
  fundingIndexNanoQuantumsPerLot: '0',
  fundingPeriodStartMs: 0,
  premiumSumPpm: 0,
  premiumSampleCount: 0,
  lastSampleMs: 0,
  openInterestLots: 0,
}

const cases: DigestCase[] = [
  { kind: 'engineConfig', name: 'engine-config', expected: '0x' },
  { kind: 'marketConfig', name: 'market-config-0', marketId: 0, expected: '0x' },
  { kind: 'marketConfig', name: 'market-config-1-unicode-symbol', marketId: 1, expected: '0x' },
  ...accounts.map(([name, account]): DigestCase => ({ kind: 'accountData', name, account, expected: '0x' })),
  { kind: 'markets', name: 'markets-genesis', markets: [zeroLive, zeroLive], expected: '0x' },
  {
    kind: 'markets',
    name: 'markets-live',
    markets: [
      {
        markPriceTicks: 612_345,
        oraclePublishTimeMs: 1_767_225_600_000,
        reduceOnly: false,
        fundingIndexNanoQuantumsPerLot: '-123456789012345678901',
        fundingPeriodStartMs: 1_767_225_000_000,
        premiumSumPpm: -4_321,
        premiumSampleCount: 17,
        lastSampleMs: 1_767_225_590_000,
        openInterestLots: 1_000,
      },
      { ...zeroLive, markPriceTicks: 2 ** 40, openInterestLots: MAX_SAFE },
    ],
    expected: '0x',
  },
  {
    kind: 'globals',
    name: 'globals-genesis',
    globals: {
      seq: 0,
      timestampMs: 0,
      nextOrderId: 1,
      feesQuantums: '0',
      totalDepositedQuantums: '0',
      totalWithdrawnQuantums: '0',
      fundingDustNanoQuantums: '0',
      inboxConsumed: 0,
      accountCount: 1,
      pendingWithdrawals: [],
    },
    expected: '0x',
  },
  {
    kind: 'globals',
    name: 'globals-with-withdrawals',
    globals: {
      seq: 1_000_001,
      timestampMs: 1_767_225_600_000,
      nextOrderId: 77_777,
      feesQuantums: '-5',
      totalDepositedQuantums: '999999999999999999',
      totalWithdrawnQuantums: '12345',
      fundingDustNanoQuantums: '999999999',
      inboxConsumed: 321,
      accountCount: 4,
      pendingWithdrawals: [
        {
          accountId: 2,
          account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
          amountQuantums: '12000',
          forced: false,
        },
        {
          accountId: 3,
          account: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
          amountQuantums: '345',
          forced: true,
        },
      ],
    },
    expected: '0x',
  },
]

for (const c of cases) c.expected = referenceExpected(config, c)
const vectors: DigestVectors = { config, cases }
const path = new URL('./digests.json', import.meta.url)
writeFileSync(path, `${JSON.stringify(vectors, null, 2)}\n`)
