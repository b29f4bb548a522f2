import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type LiquidationThresholds,
  liquidationThresholds,
  type ThresholdPosition,
} from './liquidationThresholds.ts'

interface JsonPosition {
  marketId: number
  sizeLots: number
  markPriceTicks: number
  quantumsPerLotTick: string
  fundingIndexNanoQuantumsPerLot: string
  mmfMaxPpm: number
}

type JsonExpected =
  | { kind: 'marginal' }
  | {
      kind: 'thresholds'
      positions: {
        marketId: number
        valueThresholdNanoQuantumsPerLot: string
        priceHighTicks: string | null
      }[]
    }

interface JsonCase {
  name: string
  kind: string
  equityQuantums: string
  maintenanceMarginQuantums: string
  positions: JsonPosition[]
  expected: JsonExpected
}

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/liquidationThresholds.json', import.meta.url), 'utf8'),
) as { cases: JsonCase[] }

function revivePosition(p: JsonPosition): ThresholdPosition {
  return {
    marketId: p.marketId,
    sizeLots: p.sizeLots,
    markPriceTicks: p.markPriceTicks,
    quantumsPerLotTick: BigInt(p.quantumsPerLotTick),
    fundingIndexNanoQuantumsPerLot: BigInt(p.fundingIndexNanoQuantumsPerLot),
    mmfMaxPpm: p.mmfMaxPpm,
  }
}

function reviveExpected(e: JsonExpected): LiquidationThresholds {
  if (e.kind === 'marginal') return { kind: 'marginal' }
  if (e.kind !== 'thresholds')
    throw new Error(`unknown expected kind ${String((e as { kind: unknown }).kind)}`)
  return {
    kind: 'thresholds',
    positions: e.positions.map((p) => ({
      marketId: p.marketId,
      valueThresholdNanoQuantumsPerLot: BigInt(p.valueThresholdNanoQuantumsPerLot),
      priceHighTicks: p.priceHighTicks === null ? null : BigInt(p.priceHighTicks),
    })),
  }
}

describe('liquidationThresholds vectors', () => {
  it('has cases', () => {
    expect(vectors.cases.length).toBeGreaterThan(0)
  })
  for (const c of vectors.cases) {
    it(c.name, () => {
      switch (c.kind) {
        case 'thresholds': {
          const actual = liquidationThresholds(
            BigInt(c.equityQuantums),
            BigInt(c.maintenanceMarginQuantums),
            c.positions.map(revivePosition),
          )
          expect(actual).toEqual(reviveExpected(c.expected))
          break
        }
        default:
          throw new Error(`unknown vector kind ${c.kind}`)
      }
    })
  }
})
