import { type Address, encodeAbiParameters, type Hex } from 'viem'
import type { BatchHeader } from '../settlement-contracts/ts/client.ts'

/** What binds public values to one deployment: the contract fills these from `block.chainid`, itself, CONFIG_HASH. */
export interface PublicValuesDomain {
  chainId: bigint
  settlement: Address
  configHash: Hex
}

const PUBLIC_VALUES_TYPES = [
  { type: 'uint256', name: 'chainId' },
  { type: 'address', name: 'settlement' },
  { type: 'bytes32', name: 'configHash' },
  { type: 'uint256', name: 'batchIndex' },
  { type: 'bytes32', name: 'prevStateRoot' },
  { type: 'bytes32', name: 'stateRoot' },
  { type: 'bytes32', name: 'withdrawalsRoot' },
  { type: 'bytes32', name: 'dataHash' },
  { type: 'uint256', name: 'inboxConsumed' },
  { type: 'bytes32', name: 'inboxAccumulator' },
] as const

/**
 * The public values of `header` as Settlement's `_publicValues` builds them (docs/contracts.md, "prove"):
 * ten words, 320 bytes. A prover rebuilds them from its own configuration rather than trusting L1's copy,
 * and checks the two are equal: a difference means it replays under another engine configuration.
 */
export function encodePublicValues(domain: PublicValuesDomain, header: BatchHeader): Hex {
  return encodeAbiParameters(PUBLIC_VALUES_TYPES, [
    domain.chainId,
    domain.settlement,
    domain.configHash,
    header.batchIndex,
    header.prevStateRoot,
    header.stateRoot,
    header.withdrawalsRoot,
    header.dataHash,
    header.inboxConsumed,
    header.inboxAccumulator,
  ])
}
