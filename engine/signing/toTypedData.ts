import type { MessageDefinition, TypedData } from 'viem'
import { ALL_MARKETS, type UserOp } from '../ops.ts'
import { type Eip712Types, eip712Types, type SignedKind } from './eip712Types.ts'
import type { SigningDomain } from './signingDomain.ts'

/** Ready for viem's `hashTypedData`, `signTypedData` and `recoverTypedDataAddress`. */
export interface SceTypedData<K extends SignedKind> {
  domain: SigningDomain
  types: Eip712Types[K]['types']
  primaryType: Eip712Types[K]['primaryType']
  message: MessageOf<Eip712Types[K]>
}

type MessageOf<def> = def extends { types: infer types extends TypedData; primaryType: infer p }
  ? p extends keyof types
    ? MessageDefinition<types, p>['message']
    : never
  : never

/** Typed data of an op whose type is not known statically: still accepted by viem, with a loose message type. */
export interface AnySceTypedData {
  domain: SigningDomain
  types: TypedData
  primaryType: string
  message: Record<string, unknown>
}

/** Exact for one op type; `AnySceTypedData` for the `UserOp` union, which viem's generics cannot take. */
export type UserOpTypedData<op extends UserOp = UserOp> = UserOp extends op
  ? AnySceTypedData
  : op extends UserOp
    ? SceTypedData<op['type']>
    : never

/**
 * The typed data a user signs for `op` (for clients, the API and tests; the engine's hot path is
 * `userOpDigest`). uint64 fields become bigint, as viem types them; `signer` is not signed.
 */
export function toTypedData<op extends UserOp>(op: op, domain: SigningDomain): UserOpTypedData<op> {
  return build(op, domain) as UserOpTypedData<op>
}

function build(op: UserOp, domain: SigningDomain): SceTypedData<UserOp['type']> {
  const account = op.account
  const nonce = BigInt(op.nonce)
  switch (op.type) {
    case 'placeOrder': {
      const o = op.order
      return {
        domain,
        ...eip712Types.placeOrder,
        message: {
          account,
          nonce,
          marketId: o.marketId,
          side: o.side,
          kind: o.kind,
          tif: o.tif,
          priceTicks: BigInt(o.priceTicks),
          sizeLots: BigInt(o.sizeLots),
          triggerPriceTicks: BigInt(o.triggerPriceTicks),
          reduceOnly: o.reduceOnly,
          postOnly: o.postOnly,
          stp: o.stp,
          clientOrderId: o.clientOrderId,
          expiresAtMs: BigInt(o.expiresAtMs),
        },
      }
    }
    case 'cancelOrder':
      return {
        domain,
        ...eip712Types.cancelOrder,
        message: {
          account,
          nonce,
          marketId: op.marketId,
          orderId: BigInt(op.orderId),
          clientOrderId: op.clientOrderId,
        },
      }
    case 'cancelAll':
      return {
        domain,
        ...eip712Types.cancelAll,
        message: { account, nonce, marketId: op.marketId ?? ALL_MARKETS },
      }
    case 'modifyOrder':
      return {
        domain,
        ...eip712Types.modifyOrder,
        message: {
          account,
          nonce,
          marketId: op.marketId,
          orderId: BigInt(op.orderId),
          newPriceTicks: BigInt(op.newPriceTicks),
          newSizeLots: BigInt(op.newSizeLots),
        },
      }
    case 'withdraw':
      return {
        domain,
        ...eip712Types.withdraw,
        message: { account, nonce, amountQuantums: op.amountQuantums },
      }
    case 'approveAgent':
      return {
        domain,
        ...eip712Types.approveAgent,
        message: { account, nonce, agent: op.agent, expiresAtMs: BigInt(op.expiresAtMs) },
      }
    case 'revokeAgent':
      return {
        domain,
        ...eip712Types.revokeAgent,
        message: { account, nonce, agent: op.agent },
      }
  }
}

/** The typed data an oracle signer signs for one price observation of `oracleId`. */
export function observationTypedData(
  oracleId: number,
  obs: { priceTicks: number; publishTimeMs: number },
  domain: SigningDomain,
): SceTypedData<'priceObservation'> {
  return {
    domain,
    ...eip712Types.priceObservation,
    message: {
      oracleId,
      priceTicks: BigInt(obs.priceTicks),
      publishTimeMs: BigInt(obs.publishTimeMs),
    },
  }
}
