import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import type { Order } from '../book/order.ts'
import { accountLeafHash } from '../commitment/accountLeaf.ts'
import { IncrementalMerkleTree } from '../commitment/merkleTree.ts'
import { stateRoot } from '../commitment/stateRoot.ts'
import { addAccount, addOrder, openPair, sampleState } from '../invariants/testing/handBuiltState.ts'
import { Side } from '../ops.ts'
import { testConfig } from '../testing/testConfig.ts'
import { accountDataHash, escapeEquityQuantums } from './accountDigest.ts'
import { StateCommitment } from './commitState.ts'
import type { EngineState } from './engineState.ts'

const hex = bytesToHex

function freshRoot(state: EngineState): string {
  const saved = [...state.dirtyAccounts]
  const root = hex(new StateCommitment(state).root())
  for (const id of saved) state.dirtyAccounts.add(id)
  return root
}

/** Writes a field the type declares readonly, as a corrupted or hand-edited state could. */
function poke<T extends object>(target: T, key: string, value: unknown): void {
  ;(target as Record<string, unknown>)[key] = value
}

type Mutation = [name: string, mutate: (s: EngineState) => () => void]

function accountMutation(name: string, accountId: number, change: (s: EngineState) => () => void): Mutation {
  return [
    name,
    (s) => {
      const undo = change(s)
      s.dirtyAccounts.add(accountId)
      return () => {
        undo()
        s.dirtyAccounts.add(accountId)
      }
    },
  ]
}

function numberField<T extends object>(
  get: (s: EngineState) => T,
  key: string,
  delta = 1,
): (s: EngineState) => () => void {
  return (s) => {
    const target = get(s)
    const before = (target as Record<string, unknown>)[key]
    poke(target, key, typeof before === 'bigint' ? before + BigInt(delta) : (before as number) + delta)
    return () => poke(target, key, before)
  }
}

function firstOrder(s: EngineState): Order {
  return s.accounts[1]!.orders!.values().next().value!
}

const orderFields = [
  'orderId',
  'marketId',
  'side',
  'kind',
  'tif',
  'stp',
  'clientOrderId',
  'priceTicks',
  'remainingLots',
  'triggerPriceTicks',
  'expiresAtMs',
] as const

const mutations: Mutation[] = [
  accountMutation(
    'collateral',
    1,
    numberField((s) => s.accounts[1]!, 'collateralQuantums'),
  ),
  accountMutation(
    'fund collateral',
    0,
    numberField((s) => s.insuranceFund, 'collateralQuantums'),
  ),
  accountMutation(
    'sizeLots',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'sizeLots'),
  ),
  accountMutation(
    'costBasis',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'costBasisQuantums'),
  ),
  accountMutation(
    'fundingIndexSnapshot',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'fundingIndexSnapshot'),
  ),
  accountMutation(
    'openBidLots',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'openBidLots'),
  ),
  accountMutation(
    'openAskLots',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'openAskLots'),
  ),
  accountMutation(
    'openOrderCount',
    1,
    numberField((s) => s.accounts[1]!.market(0), 'openOrderCount'),
  ),
  ...orderFields.map((f) => accountMutation(`order.${f}`, 1, numberField(firstOrder, f))),
  accountMutation('order.reduceOnly', 1, (s) => {
    poke(firstOrder(s), 'reduceOnly', true)
    return () => poke(firstOrder(s), 'reduceOnly', false)
  }),
  accountMutation('order.postOnly', 1, (s) => {
    poke(firstOrder(s), 'postOnly', true)
    return () => poke(firstOrder(s), 'postOnly', false)
  }),
  accountMutation('order.triggered', 1, (s) => {
    firstOrder(s).triggered = true
    return () => {
      firstOrder(s).triggered = false
    }
  }),
  accountMutation('nonce value', 1, (s) => {
    const w = s.accounts[1]!.nonces!.get(s.accounts[1]!.address)!
    w[2]!++
    return () => {
      w[2]!--
    }
  }),
  accountMutation('nonce added', 1, (s) => {
    const w = s.accounts[1]!.nonces!.get(s.accounts[1]!.address)!
    w.push(2_000)
    return () => {
      w.pop()
    }
  }),
  accountMutation('nonce signer added', 1, (s) => {
    const n = s.accounts[1]!.nonces!
    n.set('0x00000000000000000000000000000000000000e1', [5])
    return () => {
      n.delete('0x00000000000000000000000000000000000000e1')
    }
  }),
  accountMutation('agent expiry', 1, (s) => {
    const agents = s.accounts[1]!.agents!
    agents.set('0x00000000000000000000000000000000000000d4', 500_001)
    return () => {
      agents.set('0x00000000000000000000000000000000000000d4', 500_000)
    }
  }),
  accountMutation('agent added', 1, (s) => {
    const agents = s.accounts[1]!.agents!
    agents.set('0x00000000000000000000000000000000000000d5', 1)
    return () => {
      agents.delete('0x00000000000000000000000000000000000000d5')
    }
  }),
  // Market and global fields: no dirty flag, they are hashed at every root.
  ['market mark (moves holders’ escape equity)', numberField((s) => s.markets[0]!, 'markPriceTicks', 100)],
  ['market funding index', numberField((s) => s.markets[0]!, 'fundingIndexNanoQuantumsPerLot', 7)],
  ['market oraclePublishTimeMs', numberField((s) => s.markets[0]!, 'oraclePublishTimeMs')],
  [
    'market reduceOnly',
    (s) => {
      s.markets[0]!.reduceOnly = true
      return () => {
        s.markets[0]!.reduceOnly = false
      }
    },
  ],
  ['market fundingPeriodStartMs', numberField((s) => s.markets[0]!, 'fundingPeriodStartMs')],
  ['market premiumSumPpm', numberField((s) => s.markets[0]!, 'premiumSumPpm', -3)],
  ['market premiumSampleCount', numberField((s) => s.markets[0]!, 'premiumSampleCount')],
  ['market lastSampleMs', numberField((s) => s.markets[0]!, 'lastSampleMs')],
  ['market openInterestLots', numberField((s) => s.markets[0]!, 'openInterestLots')],
  ['seq', numberField((s) => s, 'seq')],
  ['timestampMs', numberField((s) => s, 'timestampMs')],
  ['nextOrderId', numberField((s) => s, 'nextOrderId')],
  ['feesQuantums', numberField((s) => s, 'feesQuantums')],
  ['totalDepositedQuantums', numberField((s) => s, 'totalDepositedQuantums')],
  ['totalWithdrawnQuantums', numberField((s) => s, 'totalWithdrawnQuantums')],
  ['inboxConsumed', numberField((s) => s, 'inboxConsumed')],
  [
    'pending withdrawal',
    (s) => {
      s.pendingWithdrawals.push({
        accountId: 2,
        account: s.accounts[2]!.address,
        amountQuantums: 9n,
        forced: true,
      })
      return () => {
        s.pendingWithdrawals.pop()
      }
    },
  ],
]

describe('StateCommitment', () => {
  it('root = stateRoot(accountsRoot, marketsHash, globalsHash), and the first root covers every account', () => {
    const state = sampleState(testConfig())
    state.dirtyAccounts.clear()
    const c = new StateCommitment(state)
    const parts = c.rootParts()
    expect(hex(c.root())).toBe(hex(stateRoot(parts.accountsRoot, parts.marketsHash, parts.globalsHash)))
    // Independent accounts root: every leaf built by hand into a new tree.
    const tree = new IncrementalMerkleTree(state.config.accountTreeDepth)
    for (const a of state.accounts) {
      tree.setLeaf(
        a.accountId,
        accountLeafHash(a.address, escapeEquityQuantums(state, a), accountDataHash(state, a)),
      )
    }
    expect(hex(parts.accountsRoot)).toBe(hex(tree.root()))
  })

  it('changes when any committed field changes, and comes back when it is restored', () => {
    const state = sampleState(testConfig())
    const c = new StateCommitment(state)
    const original = hex(c.root())
    const seen = new Set<string>([original])
    for (const [name, mutate] of mutations) {
      const undo = mutate(state)
      const changed = hex(c.root())
      expect(changed, name).not.toBe(original)
      expect(changed, `${name} matches a fresh commitment`).toBe(freshRoot(state))
      expect(seen.has(changed), `${name} collides with another mutation`).toBe(false)
      seen.add(changed)
      undo()
      expect(hex(c.root()), `${name} undone`).toBe(original)
    }
  })

  it('re-commits every holder when a mark or funding index moves, with no dirty flags set', () => {
    const state = sampleState(testConfig())
    const c = new StateCommitment(state)
    c.root()
    expect(state.dirtyAccounts.size).toBe(0)
    state.markets[1]!.markPriceTicks += 1_000
    expect(hex(c.root())).toBe(freshRoot(state))
    state.markets[0]!.fundingIndexNanoQuantumsPerLot += 123_456_789n
    expect(hex(c.root())).toBe(freshRoot(state))
  })

  it('goes stale if a changed account is not marked dirty (the engine’s side of the contract)', () => {
    const state = sampleState(testConfig())
    const c = new StateCommitment(state)
    c.root()
    state.accounts[2]!.collateralQuantums += 1n
    expect(hex(c.root())).not.toBe(freshRoot(state))
    state.dirtyAccounts.add(2)
    expect(hex(c.root())).toBe(freshRoot(state))
  })

  it('proves each account leaf against the accounts root', () => {
    const state = sampleState(testConfig())
    const c = new StateCommitment(state)
    for (const a of state.accounts) {
      const p = c.accountProof(a.accountId)
      const { accountsRoot } = c.rootParts()
      expect(p.proof).toHaveLength(state.config.accountTreeDepth)
      expect(hex(p.leaf)).toBe(hex(accountLeafHash(a.address, p.escapeEquityQuantums, p.accountDataHash)))
      expect(IncrementalMerkleTree.verifyProof(p.leaf, a.accountId, p.proof, accountsRoot)).toBe(true)
      expect(IncrementalMerkleTree.verifyProof(p.leaf, a.accountId ^ 1, p.proof, accountsRoot)).toBe(false)
    }
    expect(c.accountProof(0).escapeEquityQuantums).toBe(0n)
    // A proof taken after a change proves the changed leaf.
    state.accounts[3]!.collateralQuantums += 5n
    state.dirtyAccounts.add(3)
    const p = c.accountProof(3)
    expect(IncrementalMerkleTree.verifyProof(p.leaf, 3, p.proof, c.rootParts().accountsRoot)).toBe(true)
    expect(() => c.accountProof(99)).toThrow()
  })

  it('matches a fresh commitment after random sequences of engine-like changes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              t: fc.constant('collateral' as const),
              id: fc.nat({ max: 3 }),
              d: fc.bigInt({ min: -1000n, max: 1000n }),
            }),
            fc.record({
              t: fc.constant('mark' as const),
              m: fc.nat({ max: 1 }),
              d: fc.integer({ min: -5000, max: 5000 }),
            }),
            fc.record({
              t: fc.constant('funding' as const),
              m: fc.nat({ max: 1 }),
              d: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
            }),
            fc.record({
              t: fc.constant('trade' as const),
              m: fc.nat({ max: 1 }),
              lots: fc.integer({ min: 1, max: 50 }),
            }),
            fc.record({
              t: fc.constant('order' as const),
              id: fc.integer({ min: 1, max: 3 }),
              lots: fc.integer({ min: 1, max: 9 }),
            }),
            fc.record({ t: fc.constant('account' as const), n: fc.nat({ max: 1000 }) }),
            fc.constant({ t: 'root' as const }),
          ),
          { maxLength: 25 },
        ),
        (steps) => {
          const state = sampleState(testConfig())
          const c = new StateCommitment(state)
          c.root()
          for (const step of steps) {
            switch (step.t) {
              case 'collateral':
                state.accounts[step.id]!.collateralQuantums += step.d
                state.dirtyAccounts.add(step.id)
                break
              case 'mark':
                state.markets[step.m]!.markPriceTicks = Math.max(
                  1,
                  state.markets[step.m]!.markPriceTicks + step.d,
                )
                break
              case 'funding':
                state.markets[step.m]!.fundingIndexNanoQuantumsPerLot += step.d
                break
              case 'trade': {
                // A new pair of accounts opens a position at the mark: both leaves are dirty, and both become holders.
                const long = addAccount(
                  state,
                  `0x${(0xb000 + state.accounts.length).toString(16).padStart(40, '0')}`,
                  10n ** 12n,
                )
                const short = addAccount(
                  state,
                  `0x${(0xb000 + state.accounts.length).toString(16).padStart(40, '0')}`,
                  10n ** 12n,
                )
                openPair(state, long, short, step.m, step.lots, state.markets[step.m]!.markPriceTicks)
                break
              }
              case 'order':
                addOrder(state, state.accounts[step.id]!, {
                  side: Side.Buy,
                  priceTicks: 500_000 + step.lots,
                  lots: step.lots,
                })
                break
              case 'account':
                addAccount(
                  state,
                  `0x${(0xc000 + state.accounts.length).toString(16).padStart(40, '0')}`,
                  BigInt(step.n),
                )
                break
              case 'root':
                c.root()
                break
            }
          }
          expect(hex(c.root())).toBe(freshRoot(state))
        },
      ),
      { numRuns: 60 },
    )
  })
})
