import { describe, expect, it } from 'vitest'
import type { EngineConfig } from './config.ts'
import { Engine } from './engine.ts'
import { BTC_PERP, testConfig } from './testing/testConfig.ts'
import { EngineConfigError, validateConfig } from './validateConfig.ts'

describe('validateConfig', () => {
  it('accepts the test configuration', () => {
    expect(() => validateConfig(testConfig())).not.toThrow()
  })

  const broken: [string, (c: EngineConfig) => EngineConfig, RegExp][] = [
    [
      'a market id that is not its position',
      (c) => ({ ...c, markets: [{ ...BTC_PERP, marketId: 3 }] }),
      /markets\[0\]\.marketId/,
    ],
    [
      'a shared oracle id',
      (c) => ({ ...c, markets: [c.markets[0]!, { ...c.markets[1]!, oracleId: 1 }] }),
      /markets\[1\]\.oracleId/,
    ],
    [
      'tiers without an unbounded last tier',
      (c) => ({
        ...c,
        markets: [{ ...BTC_PERP, marginTiers: [{ upToNotionalQuantums: 5n, imfPpm: 2, mmfPpm: 1 }] }],
      }),
      /upToNotionalQuantums/,
    ],
    [
      'maintenance above initial',
      (c) => ({
        ...c,
        markets: [{ ...BTC_PERP, marginTiers: [{ upToNotionalQuantums: null, imfPpm: 1, mmfPpm: 2 }] }],
      }),
      /mmfPpm <= imfPpm/,
    ],
    [
      'a rebate above the taker fee',
      (c) => ({ ...c, markets: [{ ...BTC_PERP, makerFeePpm: -600 }] }),
      /rebates never exceed/,
    ],
    [
      'a checksummed oracle signer',
      (c) => ({ ...c, oracle: { ...c.oracle, signers: ['0x00000000000000000000000000000000000000A1'] } }),
      /oracle\.signers/,
    ],
    [
      'a threshold above the signer count',
      (c) => ({ ...c, oracle: { ...c.oracle, threshold: 4 } }),
      /oracle\.threshold/,
    ],
    [
      'a funding period that is not a multiple of the sample interval',
      (c) => ({ ...c, markets: [{ ...BTC_PERP, funding: { ...BTC_PERP.funding, periodMs: 90_000 } }] }),
      /multiple/,
    ],
    ['a tree deeper than 32', (c) => ({ ...c, accountTreeDepth: 33 }), /accountTreeDepth/],
  ]
  for (const [name, mutate, message] of broken) {
    it(`rejects ${name}, naming the field`, () => {
      const config = mutate(testConfig())
      expect(() => validateConfig(config)).toThrow(EngineConfigError)
      expect(() => Engine.create(config)).toThrow(message)
    })
  }
})
