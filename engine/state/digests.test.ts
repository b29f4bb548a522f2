import fc from 'fast-check'
import { type Address, bytesToHex, type Hex, keccak256 as viemKeccak } from 'viem'
import { describe, expect, it } from 'vitest'
import { addAccount, openPair, sampleState, setMark } from '../invariants/testing/handBuiltState.ts'
import { testConfig } from '../testing/testConfig.ts'
import { FUNDING_INDEX_SCALE } from '../units.ts'
import { accountDataEncoding, accountDataHash, escapeEquityQuantums } from './accountDigest.ts'
import { EngineState } from './engineState.ts'
import { engineConfigHash, globalsEncoding, globalsHash } from './globalsDigest.ts'
import { marketConfigHash, marketsHash } from './marketsDigest.ts'
import {
  type AccountJson,
  type AccountMarketJson,
  accountFromJson,
  applyMarketsLive,
  type DigestCase,
  type DigestVectors,
  engineConfigFromJson,
  type OrderJson,
  referenceAccountData,
  referenceExpected,
  stateWithGlobals,
} from './vectors/digestCases.ts'
import vectorsJson from './vectors/digests.json' with { type: 'json' }

const vectors = vectorsJson as DigestVectors
const config = engineConfigFromJson(vectors.config)

function actual(c: DigestCase): Hex {
  switch (c.kind) {
    case 'engineConfig':
      return bytesToHex(engineConfigHash(config))
    case 'marketConfig':
      return bytesToHex(marketConfigHash(config.markets[c.marketId]!))
    case 'accountData':
      return bytesToHex(accountDataHash(new EngineState(config), accountFromJson(c.account)))
    case 'markets': {
      const state = new EngineState(config)
      applyMarketsLive(state, c.markets)
      return bytesToHex(marketsHash(state))
    }
    case 'globals':
      return bytesToHex(globalsHash(stateWithGlobals(config, c.globals)))
    default: {
      const unknown: never = c
      throw new Error(`unknown digest vector kind ${(unknown as { kind: string }).kind}`)
    }
  }
}

describe('digest vectors', () => {
  it('has cases of every kind', () => {
    const kinds = new Set(vectors.cases.map((c) => c.kind))
    expect([...kinds].sort()).toEqual(['accountData', 'engineConfig', 'globals', 'marketConfig', 'markets'])
  })
  for (const c of vectors.cases) {
    it(`${c.kind}/${c.name}`, () => {
      // The file agrees with the reference encoder, and the engine agrees with the file.
      expect(referenceExpected(vectors.config, c)).toBe(c.expected)
      expect(actual(c)).toBe(c.expected)
    })
  }
})

const SAFE = Number.MAX_SAFE_INTEGER
const arbAddress = fc
  .tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean())
  .map(([b, upper]) => {
    const hex = bytesToHex(b).slice(2)
    return `0x${upper ? hex.toUpperCase() : hex}` as Address
  })
const arbInt256 = fc.bigInt({ min: -(1n << 255n), max: (1n << 255n) - 1n })
const arbSmallBig = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n })
const arbBig = fc.oneof(arbSmallBig, arbInt256).map(String)
const arbMarketEntry = (marketId: number): fc.Arbitrary<AccountMarketJson> =>
  fc.record({
    marketId: fc.constant(marketId),
    sizeLots: fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
    costBasisQuantums: fc.oneof(fc.constant('0'), arbBig),
    fundingIndexSnapshot: arbBig,
    openBidLots: fc.nat({ max: SAFE }),
    openAskLots: fc.nat({ max: SAFE }),
    openOrderCount: fc.oneof(fc.constant(0), fc.nat({ max: 1000 })),
  })
const arbOrder: fc.Arbitrary<Omit<OrderJson, 'orderId'>> = fc.record({
  marketId: fc.nat({ max: 1 }),
  side: fc.nat({ max: 1 }),
  kind: fc.nat({ max: 5 }),
  tif: fc.nat({ max: 3 }),
  reduceOnly: fc.boolean(),
  postOnly: fc.boolean(),
  stp: fc.nat({ max: 2 }),
  clientOrderId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
  priceTicks: fc.integer({ min: 1, max: 2 ** 40 }),
  remainingLots: fc.integer({ min: 1, max: 2 ** 40 }),
  triggerPriceTicks: fc.nat({ max: 2 ** 40 }),
  expiresAtMs: fc.nat({ max: SAFE }),
  triggered: fc.boolean(),
})
const arbAccount: fc.Arbitrary<AccountJson> = fc.record({
  accountId: fc.nat({ max: 2 ** 32 - 1 }),
  address: arbAddress,
  collateralQuantums: arbBig,
  markets: fc
    .tuple(fc.option(arbMarketEntry(0)), fc.option(arbMarketEntry(1)), fc.boolean())
    .map(([a, b, reverse]) => {
      const list = [a, b].filter((m): m is AccountMarketJson => m !== null)
      return reverse ? list.reverse() : list
    }),
  orders: fc
    .uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 5 })
    .chain((ids) => fc.tuple(...ids.map((id) => arbOrder.map((o) => ({ ...o, orderId: id }))))),
  nonces: fc.uniqueArray(
    fc.tuple(arbAddress, fc.uniqueArray(fc.integer({ min: -SAFE, max: SAFE }), { maxLength: 5 })),
    {
      maxLength: 3,
      selector: (e) => e[0].toLowerCase(),
    },
  ),
  agents: fc.uniqueArray(fc.tuple(arbAddress, fc.nat({ max: SAFE })), {
    maxLength: 3,
    selector: (e) => e[0].toLowerCase(),
  }),
})

describe('accountDataHash', () => {
  it('encodes exactly the documented layout (checked against viem encodePacked)', () => {
    const state = new EngineState(config)
    fc.assert(
      fc.property(arbAccount, (j) => {
        const account = accountFromJson(j)
        const reference = referenceAccountData(j)
        expect(bytesToHex(accountDataEncoding(state, account))).toBe(reference)
        expect(bytesToHex(accountDataHash(state, account))).toBe(viemKeccak(reference))
      }),
      { numRuns: 300 },
    )
  })

  it('does not depend on the insertion order of nonce signers and agents, nor on address case', () => {
    const state = new EngineState(config)
    const a = accountFromJson({
      accountId: 1,
      address: '0x00000000000000000000000000000000000000aa',
      collateralQuantums: '5',
      markets: [],
      orders: [],
      nonces: [
        ['0x00000000000000000000000000000000000000b1', [3, 1, 2]],
        ['0x00000000000000000000000000000000000000a1', [9]],
      ],
      agents: [
        ['0x00000000000000000000000000000000000000c2', 10],
        ['0x00000000000000000000000000000000000000c1', 20],
      ],
    })
    const b = accountFromJson({
      accountId: 1,
      address: '0x00000000000000000000000000000000000000AA' as Address,
      collateralQuantums: '5',
      markets: [],
      orders: [],
      nonces: [
        ['0x00000000000000000000000000000000000000A1' as Address, [9]],
        ['0x00000000000000000000000000000000000000b1', [1, 2, 3]],
      ],
      agents: [
        ['0x00000000000000000000000000000000000000c1', 20],
        ['0x00000000000000000000000000000000000000C2' as Address, 10],
      ],
    })
    expect(bytesToHex(accountDataHash(state, a))).toBe(bytesToHex(accountDataHash(state, b)))
    b.agents!.set('0x00000000000000000000000000000000000000c1', 21)
    expect(bytesToHex(accountDataHash(state, a))).not.toBe(bytesToHex(accountDataHash(state, b)))
  })

  it('rejects a non-integer field instead of hashing it', () => {
    const state = new EngineState(config)
    const account = accountFromJson({ ...emptyJson(), markets: [] })
    account.market(0).sizeLots = 1.5
    expect(() => accountDataHash(state, account)).toThrow(/not a safe integer/)
  })
})

function emptyJson(): AccountJson {
  return {
    accountId: 1,
    address: '0x00000000000000000000000000000000000000aa',
    collateralQuantums: '0',
    markets: [],
    orders: [],
    nonces: [],
    agents: [],
  }
}

describe('escapeEquityQuantums', () => {
  it('is collateral + unrealized PnL at mark − pending funding, rounded against the account', () => {
    const state = new EngineState(testConfig())
    setMark(state, 0, 600_000)
    const long = addAccount(state, '0x00000000000000000000000000000000000000a1', 1_000_000_000n)
    const short = addAccount(state, '0x00000000000000000000000000000000000000a2', 1_000_000_000n)
    openPair(state, long, short, 0, 3, 600_000)
    setMark(state, 0, 610_000)
    const q = state.markets[0]!.config.quantumsPerLotTick
    const pnl = 3n * 10_000n * q
    expect(escapeEquityQuantums(state, long)).toBe(1_000_000_000n + pnl)
    expect(escapeEquityQuantums(state, short)).toBe(1_000_000_000n - pnl)
    // Longs pay 1/3 nano-quantum per lot: 1 nano-quantum in all, rounded up to a whole quantum for the payer,
    // and the receiving short gets the rounded-down 0.
    state.markets[0]!.fundingIndexNanoQuantumsPerLot += FUNDING_INDEX_SCALE / 3n
    expect(escapeEquityQuantums(state, long)).toBe(1_000_000_000n + pnl - 1n)
    expect(escapeEquityQuantums(state, short)).toBe(1_000_000_000n - pnl + 0n)
  })

  it('is 0 for negative equity and for the insurance fund', () => {
    const state = sampleState(testConfig())
    expect(state.insuranceFund.collateralQuantums).toBeGreaterThan(0n)
    expect(escapeEquityQuantums(state, state.insuranceFund)).toBe(0n)
    const a = state.accounts[1]!
    a.collateralQuantums = -(10n ** 15n)
    expect(escapeEquityQuantums(state, a)).toBe(0n)
  })
})

describe('marketsHash and globalsHash', () => {
  it('commit to every live market field and global counter', () => {
    const state = sampleState(testConfig())
    const mutations: [string, () => void][] = [
      ['markPriceTicks', () => state.markets[1]!.markPriceTicks++],
      ['oraclePublishTimeMs', () => state.markets[1]!.oraclePublishTimeMs++],
      ['reduceOnly', () => (state.markets[1]!.reduceOnly = !state.markets[1]!.reduceOnly)],
      ['fundingIndex', () => state.markets[1]!.fundingIndexNanoQuantumsPerLot--],
      ['fundingPeriodStartMs', () => state.markets[1]!.fundingPeriodStartMs++],
      ['premiumSumPpm', () => state.markets[1]!.premiumSumPpm--],
      ['premiumSampleCount', () => state.markets[1]!.premiumSampleCount++],
      ['lastSampleMs', () => state.markets[1]!.lastSampleMs++],
      ['openInterestLots', () => state.markets[1]!.openInterestLots++],
    ]
    for (const [name, mutate] of mutations) {
      const before = bytesToHex(marketsHash(state))
      const globals = bytesToHex(globalsHash(state))
      mutate()
      expect(bytesToHex(marketsHash(state)), name).not.toBe(before)
      expect(bytesToHex(globalsHash(state)), name).toBe(globals)
    }
    const globalMutations: [string, () => void][] = [
      ['seq', () => state.seq++],
      ['timestampMs', () => state.timestampMs++],
      ['nextOrderId', () => state.nextOrderId++],
      ['feesQuantums', () => state.feesQuantums++],
      ['totalDepositedQuantums', () => state.totalDepositedQuantums++],
      ['totalWithdrawnQuantums', () => state.totalWithdrawnQuantums++],
      ['inboxConsumed', () => state.inboxConsumed++],
      ['accounts.length', () => addAccount(state, '0x00000000000000000000000000000000000000f1')],
      [
        'pendingWithdrawals',
        () =>
          state.pendingWithdrawals.push({
            accountId: 1,
            account: state.accounts[1]!.address,
            amountQuantums: 1n,
            forced: false,
          }),
      ],
      ['pendingWithdrawals[0].amount', () => state.pendingWithdrawals[0]!.amountQuantums++],
      ['pendingWithdrawals[0].forced', () => (state.pendingWithdrawals[0]!.forced = true)],
    ]
    for (const [name, mutate] of globalMutations) {
      const before = bytesToHex(globalsEncoding(state))
      mutate()
      expect(bytesToHex(globalsEncoding(state)), name).not.toBe(before)
    }
  })

  it('commits to the engine config and each market config', () => {
    const base = testConfig()
    const variants = [
      testConfig({ chainId: 1n }),
      testConfig({ settlementAddress: '0x00000000000000000000000000000000000000ff' }),
      testConfig({ maxOpenOrdersPerAccount: 201 }),
      testConfig({ accountTreeDepth: 25 }),
      testConfig({ nonceWindow: { ...base.nonceWindow, size: 21 } }),
      testConfig({ oracle: { ...base.oracle, threshold: 3 } }),
      testConfig({ oracle: { ...base.oracle, signers: [...base.oracle.signers].reverse() } }),
    ]
    const baseHash = bytesToHex(engineConfigHash(base))
    for (const v of variants) expect(bytesToHex(engineConfigHash(v))).not.toBe(baseHash)
    const m = base.markets[0]!
    const marketVariants = [
      { ...m, symbol: 'BTC-PERP2' },
      { ...m, takerFeePpm: m.takerFeePpm + 1 },
      {
        ...m,
        marginTiers: m.marginTiers.slice(0, 2).concat([{ upToNotionalQuantums: null, imfPpm: 1, mmfPpm: 1 }]),
      },
      { ...m, funding: { ...m.funding, maxRatePpm: m.funding.maxRatePpm + 1 } },
      { ...m, oracleMaxAgeMs: m.oracleMaxAgeMs + 1 },
    ]
    const marketHash = bytesToHex(marketConfigHash(m))
    for (const v of marketVariants) expect(bytesToHex(marketConfigHash(v))).not.toBe(marketHash)
  })
})
