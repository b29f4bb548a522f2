import type { NonceWindowConfig } from '../config.ts'
import { EngineInvariantError, RejectCode } from '../rejections.ts'

/**
 * The highest-N nonce window. Each signer keeps its N highest accepted nonces, sorted ascending.
 * A nonce is accepted when it lies in [timestampMs - pastMs, timestampMs + futureMs], is not in the
 * window, and, once the window holds N nonces, exceeds the smallest of them. Every nonce ever dropped
 * is at most that smallest one, so no accepted nonce is ever accepted again, while up to N processes
 * of one signer may sign concurrently without coordinating.
 */

/** null when `nonce` may be used now; otherwise why not. Does not change the window. */
export function checkNonce(
  window: readonly number[],
  nonce: number,
  timestampMs: number,
  cfg: NonceWindowConfig,
): RejectCode | null {
  assertSize(cfg)
  if (
    !Number.isSafeInteger(nonce) ||
    nonce < timestampMs - cfg.pastMs ||
    nonce > timestampMs + cfg.futureMs
  ) {
    return RejectCode.NONCE_OUT_OF_WINDOW
  }
  if (indexOf(window, nonce) >= 0) return RejectCode.NONCE_REUSED
  const n = window.length
  // The smallest of the N highest; a window longer than N (size lowered) still counts only its top N.
  if (n >= cfg.size && nonce <= window[n - cfg.size]!) return RejectCode.NONCE_TOO_OLD
  return null
}

/**
 * Records an accepted nonce in place: keeps the window sorted and at most `cfg.size` long. Allocates
 * nothing once the window is full. Recording a nonce `checkNonce` would reject is a broken invariant.
 */
export function recordNonce(window: number[], nonce: number, cfg: NonceWindowConfig): void {
  assertSize(cfg)
  while (window.length > cfg.size) window.shift()
  const n = window.length
  if (n < cfg.size) {
    // Insertion sort step from the top: most nonces are the newest.
    window.push(nonce)
    let i = n
    while (i > 0 && window[i - 1]! > nonce) {
      window[i] = window[i - 1]!
      i--
    }
    if (i > 0 && window[i - 1] === nonce) {
      window.splice(i, 1)
      throw broken(nonce, 'already in the window')
    }
    window[i] = nonce
    return
  }
  const smallest = window[0]!
  if (nonce <= smallest) throw broken(nonce, `not above the smallest ${smallest}`)
  // Full: drop the smallest by shifting everything below the insertion point down one slot.
  let i = 0
  while (i + 1 < n && window[i + 1]! < nonce) {
    window[i] = window[i + 1]!
    i++
  }
  if (i + 1 < n && window[i + 1] === nonce) {
    // Undo the shift so the window is unchanged before throwing.
    for (; i > 0; i--) window[i] = window[i - 1]!
    window[0] = smallest
    throw broken(nonce, 'already in the window')
  }
  window[i] = nonce
}

function indexOf(window: readonly number[], nonce: number): number {
  let lo = 0
  let hi = window.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1 // rounds down
    const v = window[mid]!
    if (v === nonce) return mid
    if (v < nonce) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

function assertSize(cfg: NonceWindowConfig): void {
  if (!Number.isSafeInteger(cfg.size) || cfg.size < 1) {
    throw new EngineInvariantError('nonceWindow.size >= 1', `size=${cfg.size}`)
  }
}

function broken(nonce: number, why: string): EngineInvariantError {
  return new EngineInvariantError('recordNonce after checkNonce', `nonce ${nonce} ${why}`)
}
