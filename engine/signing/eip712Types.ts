/**
 * EIP-712 definitions of everything a user or an oracle signs. Usable directly with viem:
 * `hashTypedData({ domain, ...eip712Types.withdraw, message })`.
 *
 * INVARIANT: these are protocol constants. Changing a name, a type or the order of a field changes
 * every digest; the vectors in `vectors/eip712.json` pin them.
 *
 * Place-order params are flattened into `PlaceOrder` (no nested `Order` struct): one struct hash per
 * digest, and a wallet shows every field on one screen.
 */
export const eip712Types = {
  placeOrder: {
    primaryType: 'PlaceOrder',
    types: {
      PlaceOrder: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'marketId', type: 'uint32' },
        { name: 'side', type: 'uint8' },
        { name: 'kind', type: 'uint8' },
        { name: 'tif', type: 'uint8' },
        { name: 'priceTicks', type: 'uint64' },
        { name: 'sizeLots', type: 'uint64' },
        { name: 'triggerPriceTicks', type: 'uint64' },
        { name: 'reduceOnly', type: 'bool' },
        { name: 'postOnly', type: 'bool' },
        { name: 'stp', type: 'uint8' },
        { name: 'clientOrderId', type: 'uint64' },
        { name: 'expiresAtMs', type: 'uint64' },
      ],
    },
  },
  cancelOrder: {
    primaryType: 'CancelOrder',
    types: {
      CancelOrder: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'marketId', type: 'uint32' },
        { name: 'orderId', type: 'uint64' },
        { name: 'clientOrderId', type: 'uint64' },
      ],
    },
  },
  cancelAll: {
    primaryType: 'CancelAll',
    types: {
      CancelAll: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        // ALL_MARKETS (0xffffffff) stands for "every market".
        { name: 'marketId', type: 'uint32' },
      ],
    },
  },
  modifyOrder: {
    primaryType: 'ModifyOrder',
    types: {
      ModifyOrder: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'marketId', type: 'uint32' },
        { name: 'orderId', type: 'uint64' },
        { name: 'newPriceTicks', type: 'uint64' },
        { name: 'newSizeLots', type: 'uint64' },
      ],
    },
  },
  withdraw: {
    primaryType: 'Withdraw',
    types: {
      Withdraw: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'amountQuantums', type: 'uint256' },
      ],
    },
  },
  approveAgent: {
    primaryType: 'ApproveAgent',
    types: {
      ApproveAgent: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'agent', type: 'address' },
        { name: 'expiresAtMs', type: 'uint64' },
      ],
    },
  },
  revokeAgent: {
    primaryType: 'RevokeAgent',
    types: {
      RevokeAgent: [
        { name: 'account', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'agent', type: 'address' },
      ],
    },
  },
  priceObservation: {
    primaryType: 'PriceObservation',
    types: {
      PriceObservation: [
        { name: 'oracleId', type: 'uint32' },
        { name: 'priceTicks', type: 'uint64' },
        { name: 'publishTimeMs', type: 'uint64' },
      ],
    },
  },
} as const

export type Eip712Types = typeof eip712Types
/** Keys of `eip712Types`: every user op type, plus `priceObservation`. */
export type SignedKind = keyof Eip712Types

/** The domain's own struct, in the field order EIP-712 prescribes. */
export const eip712DomainType = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const
