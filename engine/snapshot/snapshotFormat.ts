import { keccak256 } from '../commitment/keccak256.ts'
import type { EngineConfig } from '../config.ts'
import { OrderKind } from '../ops.ts'
import { engineConfigHash } from '../state/globalsDigest.ts'
import { marketConfigHash } from '../state/marketsDigest.ts'

/** "SCESNAP" and a zero byte. */
export const SNAPSHOT_MAGIC = new Uint8Array([0x53, 0x43, 0x45, 0x53, 0x4e, 0x41, 0x50, 0x00])
export const SNAPSHOT_VERSION = 1

/** Order flag bits in the snapshot (bits 0 and 1 match the account data encoding). */
export const FLAG_REDUCE_ONLY = 1
export const FLAG_POST_ONLY = 2
export const FLAG_TRIGGERED = 4

/** keccak256(engineConfigHash ‖ marketConfigHash of each market in id order): a snapshot only restores under its config. */
export function snapshotConfigHash(config: EngineConfig): Uint8Array {
  const parts = new Uint8Array(32 * (1 + config.markets.length))
  parts.set(engineConfigHash(config), 0)
  config.markets.forEach((m, i) => {
    parts.set(marketConfigHash(m), 32 * (i + 1))
  })
  return keccak256(parts)
}

/** Stop and take-profit kinds wait outside the book until triggered. */
export function isTriggerKind(kind: OrderKind): boolean {
  return (
    kind === OrderKind.StopMarket ||
    kind === OrderKind.StopLimit ||
    kind === OrderKind.TakeProfitMarket ||
    kind === OrderKind.TakeProfitLimit
  )
}
