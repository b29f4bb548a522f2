import type { Address } from 'viem'

export const SIGNING_DOMAIN_NAME = 'SCE'
export const SIGNING_DOMAIN_VERSION = '1'

/** The EIP-712 domain: binds every signature to one chain and one settlement contract. */
export interface SigningDomain {
  name: typeof SIGNING_DOMAIN_NAME
  version: typeof SIGNING_DOMAIN_VERSION
  chainId: bigint
  verifyingContract: Address
}

export function signingDomain(chainId: bigint, settlementAddress: Address): SigningDomain {
  return {
    name: SIGNING_DOMAIN_NAME,
    version: SIGNING_DOMAIN_VERSION,
    chainId,
    verifyingContract: settlementAddress,
  }
}
