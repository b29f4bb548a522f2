import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ThresholdHeap } from './thresholdHeap.ts'

function drain(heap: ThresholdHeap): [bigint, number][] {
  const out: [bigint, number][] = []
  while (heap.size > 0) {
    out.push([heap.topKey, heap.topAccountId])
    heap.pop()
  }
  return out
}

const byKey = (a: [bigint, number], b: [bigint, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

describe('ThresholdHeap', () => {
  it('pops in ascending key order, interleaved pushes and pops included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.bigInt(-(2n ** 90n), 2n ** 90n), fc.constant(null)), { maxLength: 300 }),
        (ops) => {
          const heap = new ThresholdHeap(1)
          const reference: bigint[] = []
          ops.forEach((key, i) => {
            if (key === null) {
              if (heap.size === 0) return
              reference.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
              expect(heap.topKey).toBe(reference.shift())
              heap.pop()
            } else {
              heap.push(key, i, 0)
              reference.push(key)
            }
            expect(heap.size).toBe(reference.length)
          })
          const rest = drain(heap).map(([k]) => k)
          expect(rest).toEqual(reference.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
        },
      ),
    )
  })

  it('compaction keeps exactly the entries whose version is current, still in heap order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.bigInt(-1000n, 1000n), stale: fc.boolean() }), { maxLength: 400 }),
        (entries) => {
          const heap = new ThresholdHeap()
          const versions = new Uint32Array(entries.length)
          entries.forEach((e, id) => {
            heap.push(e.key, id, 7)
            versions[id] = e.stale ? 8 : 7
          })
          heap.staleCount = entries.filter((e) => e.stale).length
          heap.compact(versions)
          expect(heap.staleCount).toBe(0)
          const live = entries.flatMap((e, id): [bigint, number][] => (e.stale ? [] : [[e.key, id]]))
          const got = drain(heap)
          expect(got.map(([k]) => k)).toEqual(live.sort(byKey).map(([k]) => k))
          expect(new Set(got.map(([, id]) => id))).toEqual(new Set(live.map(([, id]) => id)))
        },
      ),
    )
  })
})
