import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AccountIdSet } from './accountIdSet.ts'

type Step = { op: 'add' | 'delete' | 'has'; id: number } | { op: 'clear' } | { op: 'drain' }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('add' as const), id: fc.oneof(fc.nat(40), fc.nat(5_000)) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), id: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('has' as const), id: fc.nat(5_000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
)

describe('AccountIdSet', () => {
  it('behaves as a Set of ids, and drains in ascending order', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 300 }), (steps) => {
        const set = new AccountIdSet()
        const ref = new Set<number>()
        const out: number[] = []
        for (const s of steps) {
          if (s.op === 'add') {
            set.add(s.id)
            ref.add(s.id)
          } else if (s.op === 'delete') {
            expect(set.delete(s.id)).toBe(ref.delete(s.id))
          } else if (s.op === 'has') {
            expect(set.has(s.id)).toBe(ref.has(s.id))
          } else if (s.op === 'clear') {
            set.clear()
            ref.clear()
          } else {
            set.drainSorted(out)
            expect(out).toEqual([...ref].sort((a, b) => a - b))
            ref.clear()
          }
          expect(set.size).toBe(ref.size)
          expect([...set].sort((a, b) => a - b)).toEqual([...ref].sort((a, b) => a - b))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('iterates in insertion order while nothing is deleted', () => {
    const set = new AccountIdSet()
    for (const id of [7, 3, 2_000, 3, 0]) set.add(id)
    expect([...set]).toEqual([7, 3, 2_000, 0])
  })
})
