import { createRequire } from 'node:module'

/**
 * The batch signature verifier (sigbatch/sigbatch.c): one multi-scalar multiplication checks that every
 * signature of a chunk recovers to the key the caller expects, several times faster per signature than
 * recovering each. Built by `npm run build:native` (run by `npm install`); without it the watcher
 * recovers every signature, the same verdicts at about a quarter of the speed.
 */
export interface BatchVerifier {
  /**
   * True when every job recovers to `keys[keyOf[i]]`; false when at least one does not (or is
   * malformed), without saying which. `jobs`: 97-byte jobs (digest ‖ r ‖ s ‖ v); `keys`: 64-byte x ‖ y;
   * `seed`: 32 fresh random bytes, never chosen by whoever wrote the signatures.
   */
  verifyBatch(jobs: Uint8Array, keyOf: Uint32Array, keys: Uint8Array, seed: Uint8Array): boolean
}

export type BatchVerifierStatus =
  | { available: true; verifier: BatchVerifier }
  | { available: false; reason: string }

/** Where node-gyp puts the addon, next to this file. */
const ADDON = './sigbatch/build/Release/sigbatch.node'

let loaded: BatchVerifierStatus | undefined

/** The addon, loaded once per thread; the reason when it is not built or does not load. */
export function batchVerifier(): BatchVerifierStatus {
  if (loaded !== undefined) return loaded
  try {
    const addon = createRequire(import.meta.url)(ADDON) as Partial<BatchVerifier>
    if (typeof addon.verifyBatch !== 'function') throw new Error('the addon exports no verifyBatch')
    loaded = { available: true, verifier: addon as BatchVerifier }
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error)
    loaded = {
      available: false,
      reason: `the batch signature verifier is not built (${why}); run \`npm run build:native\` (needs python3, make and a C compiler)`,
    }
  }
  return loaded
}
