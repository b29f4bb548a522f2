import fc from 'fast-check'
import { type Address, bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { accountLeafHash } from '../commitment/accountLeaf.ts'
import { MAX_ACCOUNT_RECORDS_BYTES } from '../commitment/keccak256.ts'
import { IncrementalMerkleTree } from '../commitment/merkleTree.ts'
import { addAccount, addOrder, openPair, setMark } from '../invariants/testing/handBuiltState.ts'
import { Side } from '../ops.ts'
import { testConfig } from '../testing/testConfig.ts'
import { accountDataHash, escapeEquityQuantums } from './accountDigest.ts'
import { StateCommitment } from './commitState.ts'
import { EngineState } from './engineState.ts'

// StateCommitment builds leaves in batches (one WebAssembly call hashes many accounts' data and
// leaves). These tests hold it to the single-leaf path: accountLeafHash(address, escape equity,
// accountDataHash) for each account, set one by one into a tree of its own.

const hex = bytesToHex

function singleLeafAccountsRoot(state: EngineState): string {
  const tree = new IncrementalMerkleTree(state.config.accountTreeDepth)
  for (const a of state.accounts) {
    tree.setLeaf(
      a.accountId,
      accountLeafHash(a.address, escapeEquityQuantums(state, a), accountDataHash(state, a)),
    )
  }
  return hex(tree.root())
}

function addressOf(n: number, upper: boolean): Address {
  const digits = n.toString(16).padStart(40, '0')
  return `0x${upper ? digits.toUpperCase() : digits}` as Address
}

interface AccountSpec {
  collateral: bigint
  lots: number
  market: number
  orders: { side: boolean; lots: number; tick: number }[]
  signers: { other: number; nonces: number[] }[]
  agents: { agent: number; expiresAtMs: number }[]
  upper: boolean
}

const accountArb: fc.Arbitrary<AccountSpec> = fc.record({
  collateral: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 15n }),
  lots: fc.integer({ min: 0, max: 40 }),
  market: fc.nat(1),
  orders: fc.array(
    fc.record({ side: fc.boolean(), lots: fc.integer({ min: 1, max: 9 }), tick: fc.nat(5_000) }),
    { maxLength: 4 },
  ),
  // other = 0: the account's own window.
  signers: fc.array(fc.record({ other: fc.nat(3), nonces: fc.array(fc.nat(1_000_000), { maxLength: 20 }) }), {
    maxLength: 3,
  }),
  agents: fc.array(fc.record({ agent: fc.nat(50), expiresAtMs: fc.nat(10 ** 9) }), { maxLength: 3 }),
  upper: fc.boolean(),
})

function buildState(specs: readonly AccountSpec[], markA: number, markB: number): EngineState {
  const state = new EngineState(testConfig())
  setMark(state, 0, markA, 1)
  setMark(state, 1, markB, 1)
  state.insuranceFund.collateralQuantums = 1_000n
  for (const [i, spec] of specs.entries()) {
    const a = addAccount(state, addressOf(0xa000 + i, spec.upper), spec.collateral)
    if (spec.signers.length > 0) {
      const windows = new Map<Address, number[]>()
      for (const s of spec.signers) {
        windows.set(s.other === 0 ? a.address : addressOf(0xe000 + s.other, false), s.nonces)
      }
      a.nonces = windows
    }
    if (spec.agents.length > 0) {
      a.agents = new Map(
        spec.agents.map((g) => [addressOf(0xd000 + g.agent, g.agent % 2 === 1), g.expiresAtMs]),
      )
    }
    for (const o of spec.orders) {
      addOrder(state, a, {
        side: o.side ? Side.Buy : Side.Sell,
        priceTicks: o.side ? 500_000 - o.tick : 700_000 + o.tick,
        lots: o.lots,
      })
    }
  }
  // Positions in long/short pairs of neighbours, at a price away from the mark so equity moves with it.
  for (let i = 1; i + 1 < state.accounts.length; i += 2) {
    const spec = specs[i - 1]!
    if (spec.lots > 0)
      openPair(state, state.accounts[i]!, state.accounts[i + 1]!, spec.market, spec.lots, 550_000)
  }
  return state
}

describe('StateCommitment batched leaves', () => {
  it('equal the single-leaf path on random states, on the first root and after changes', () => {
    fc.assert(
      fc.property(
        fc.array(accountArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 900_000 }),
        fc.integer({ min: 1, max: 900_000 }),
        fc.array(fc.record({ pick: fc.nat(), delta: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }) }), {
          maxLength: 8,
        }),
        fc.integer({ min: -50_000, max: 50_000 }),
        (specs, markA, markB, changes, markMove) => {
          const state = buildState(specs, markA, markB)
          const commitment = new StateCommitment(state)
          expect(hex(commitment.rootParts().accountsRoot)).toBe(singleLeafAccountsRoot(state))
          // Dirty accounts and a mark move (every holder stale): the incremental root still agrees.
          for (const c of changes) {
            const id = c.pick % state.accounts.length
            state.accounts[id]!.collateralQuantums += c.delta
            state.dirtyAccounts.add(id)
          }
          state.markets[0]!.markPriceTicks = Math.max(1, state.markets[0]!.markPriceTicks + markMove)
          addAccount(state, addressOf(0xf000, false), 7n)
          expect(hex(commitment.rootParts().accountsRoot)).toBe(singleLeafAccountsRoot(state))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('agree for an account too large for one hashing call, among small ones', () => {
    const state = buildState([], 600_000, 300_000)
    for (let i = 0; i < 5; i++) addAccount(state, addressOf(0xb000 + i, false), 1_000n * BigInt(i))
    // 28 bytes per agent: this account's data alone exceeds one call's input.
    const agents = new Map<Address, number>()
    for (let k = 0; agents.size * 28 <= MAX_ACCOUNT_RECORDS_BYTES; k++)
      agents.set(addressOf(0xc0000 + k, false), k)
    state.accounts[3]!.agents = agents
    const commitment = new StateCommitment(state)
    expect(hex(commitment.rootParts().accountsRoot)).toBe(singleLeafAccountsRoot(state))
    agents.set(addressOf(0xcffff, false), 1)
    state.dirtyAccounts.add(3)
    state.dirtyAccounts.add(4)
    expect(hex(commitment.rootParts().accountsRoot)).toBe(singleLeafAccountsRoot(state))
  })

  it('recovers after an account that cannot be encoded, and builds every leaf once it can', () => {
    const state = buildState([], 600_000, 300_000)
    for (let i = 0; i < 4; i++) addAccount(state, addressOf(0xb100 + i, false), 10n)
    const bad = state.accounts[2]!
    bad.nonces = new Map([[bad.address, [1.5]]])
    const commitment = new StateCommitment(state)
    expect(() => commitment.root()).toThrow(/safe integer/)
    bad.nonces = new Map([[bad.address, [1, 2]]])
    expect(hex(commitment.rootParts().accountsRoot)).toBe(singleLeafAccountsRoot(state))
  })
})
