/**
 * Writes the commitment test vectors next to this file. Run from the repository root:
 *   npx tsx engine/commitment/vectors/generate.ts
 * Inputs are derived from fixed labels, so the output only changes when the encodings do.
 * The TypeScript tests and the Solidity tests both check these files.
 */
import { writeFileSync } from 'node:fs'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Address, bytesToHex, getAddress } from 'viem'
import { accountLeafHash } from '../accountLeaf.ts'
import { IncrementalMerkleTree } from '../merkleTree.ts'
import { stateRoot } from '../stateRoot.ts'
import { withdrawalLeafHash, withdrawalProof, withdrawalsRoot } from '../withdrawalsTree.ts'
import { MAX_TREE_DEPTH, zeroHash } from '../zeroHashes.ts'

const label = (s: string): Uint8Array => keccak_256(new TextEncoder().encode(`sce-vectors/${s}`))
const addressOf = (s: string): Address => getAddress(bytesToHex(label(s).slice(12)))
const hex = bytesToHex
const MAX_UINT256 = (1n << 256n) - 1n

function accountLeaves() {
  const inputs: [string, Address, bigint, Uint8Array][] = [
    ['zero equity', addressOf('alice'), 0n, label('alice/data')],
    ['one quantum', addressOf('bob'), 1n, label('bob/data')],
    ['1000 USDC', addressOf('carol'), 1_000_000_000n, label('carol/data')],
    ['2^64 - 1', addressOf('dave'), (1n << 64n) - 1n, label('dave/data')],
    ['2^64', addressOf('erin'), 1n << 64n, label('erin/data')],
    ['max uint256', addressOf('frank'), MAX_UINT256, label('frank/data')],
    ['zero address, zero data', '0x0000000000000000000000000000000000000000', 5n, new Uint8Array(32)],
    [
      'all-ones address',
      '0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF',
      123_456_789n,
      new Uint8Array(32).fill(0xff),
    ],
  ]
  return {
    kind: 'accountLeaf',
    description:
      'keccak256(bytes.concat(keccak256(abi.encode(address, uint256 escapeEquityQuantums, bytes32 accountDataHash))))',
    cases: inputs.map(([name, address, equity, dataHash]) => ({
      name,
      address,
      escapeEquityQuantums: equity.toString(),
      accountDataHash: hex(dataHash),
      leaf: hex(accountLeafHash(address, equity, dataHash)),
    })),
  }
}

function withdrawal(i: number, chainId = 31337n, batchIndex = 7n) {
  return {
    chainId,
    settlement: addressOf('settlement'),
    batchIndex,
    withdrawalIndex: i,
    account: addressOf(`withdrawer/${i}`),
    amountQuantums: BigInt(i + 1) * 1_000_000n + 17n,
  }
}

function withdrawalLeaves() {
  const inputs = [
    withdrawal(0),
    withdrawal(1),
    withdrawal(65_535),
    withdrawal(3, 1n, 0n),
    { ...withdrawal(4, 1n, (1n << 64n) + 1n), amountQuantums: MAX_UINT256 },
  ]
  return {
    kind: 'withdrawalLeaf',
    description:
      'keccak256(bytes.concat(keccak256(abi.encode(uint256 chainId, address settlement, uint256 batchIndex, uint256 withdrawalIndex, address account, uint256 amountQuantums))))',
    cases: inputs.map((w) => ({
      name: `chain ${w.chainId} batch ${w.batchIndex} index ${w.withdrawalIndex}`,
      chainId: w.chainId.toString(),
      settlement: w.settlement,
      batchIndex: w.batchIndex.toString(),
      withdrawalIndex: w.withdrawalIndex,
      account: w.account,
      amountQuantums: w.amountQuantums.toString(),
      leaf: hex(withdrawalLeafHash(w)),
    })),
  }
}

function treeCase(name: string, depth: number, indices: number[]) {
  const tree = new IncrementalMerkleTree(depth)
  const leaves = indices.map((index) => ({ index, leaf: label(`${name}/leaf/${index}`) }))
  for (const { index, leaf } of leaves) tree.setLeaf(index, leaf)
  return {
    name,
    depth,
    root: hex(tree.root()),
    leaves: leaves.map(({ index, leaf }) => ({
      index,
      leaf: hex(leaf),
      proof: tree.proof(index).map((x) => hex(x)),
    })),
  }
}

function merkleTrees() {
  return {
    kind: 'merkleTree',
    description:
      'Fixed-depth binary tree, node = keccak256(left ++ right), empty leaf = 32 zero bytes; proofs are bottom-up siblings',
    cases: [
      treeCase('depth 4, empty', 4, []),
      treeCase('depth 4, one leaf at 0', 4, [0]),
      treeCase('depth 4, five leaves', 4, [0, 1, 2, 9, 15]),
      treeCase(
        'depth 4, full',
        4,
        Array.from({ length: 16 }, (_, i) => i),
      ),
      treeCase('depth 1, both', 1, [0, 1]),
      treeCase('depth 24, three sparse', 24, [0, 4_097, 70_001]),
    ],
  }
}

function withdrawalsRoots() {
  const batch = (n: number) => Array.from({ length: n }, (_, i) => withdrawal(i))
  const cases = [0, 1, 3, 8].map((n) => {
    const ws = batch(n)
    const leaves = ws.map(withdrawalLeafHash)
    return {
      name: `${n} withdrawals`,
      withdrawals: ws.map((w) => ({
        withdrawalIndex: w.withdrawalIndex,
        account: w.account,
        amountQuantums: w.amountQuantums.toString(),
      })),
      chainId: '31337',
      settlement: addressOf('settlement'),
      batchIndex: '7',
      root: hex(withdrawalsRoot(leaves)),
      proofs: leaves.map((_, i) => withdrawalProof(leaves, i).map((x) => hex(x))),
    }
  })
  return {
    kind: 'withdrawalsRoot',
    description:
      'Depth-16 tree over a batch of withdrawal leaves in order; an empty batch has root zeroHash(16)',
    cases,
  }
}

function stateRoots() {
  const inputs: [string, Uint8Array, Uint8Array, Uint8Array][] = [
    ['all zero', new Uint8Array(32), new Uint8Array(32), new Uint8Array(32)],
    ['labels', label('accounts'), label('markets'), label('globals')],
    ['empty depth-24 accounts', zeroHash(24), label('markets'), label('globals')],
  ]
  return {
    kind: 'stateRoot',
    description: 'keccak256(abi.encode(bytes32 accountsRoot, bytes32 marketsHash, bytes32 globalsHash))',
    cases: inputs.map(([name, a, m, g]) => ({
      name,
      accountsRoot: hex(a),
      marketsHash: hex(m),
      globalsHash: hex(g),
      stateRoot: hex(stateRoot(a, m, g)),
    })),
  }
}

function zeroHashes() {
  return {
    kind: 'zeroHashes',
    description: 'zeroHash(0) = 32 zero bytes; zeroHash(i + 1) = keccak256(zeroHash(i) ++ zeroHash(i))',
    cases: [
      {
        name: `levels 0..${MAX_TREE_DEPTH}`,
        hashes: Array.from({ length: MAX_TREE_DEPTH + 1 }, (_, i) => hex(zeroHash(i))),
      },
    ],
  }
}

const VECTOR_FILES = {
  'accountLeaves.json': accountLeaves,
  'withdrawalLeaves.json': withdrawalLeaves,
  'merkleTrees.json': merkleTrees,
  'withdrawalsRoots.json': withdrawalsRoots,
  'stateRoots.json': stateRoots,
  'zeroHashes.json': zeroHashes,
} as const

for (const [file, build] of Object.entries(VECTOR_FILES)) {
  writeFileSync(new URL(file, import.meta.url), `${JSON.stringify(build(), null, 2)}\n`)
}
