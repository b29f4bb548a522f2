/**
 * Runs `task` now and then `everyMs` after each run ends, never two at once, on a timer that does not keep
 * the process alive: the loop behind the inbox reader, the batcher and the oracle publisher. A failed run
 * goes to `onError` and the loop goes on; `shouldContinue` returning false ends it for good.
 */
export class Repeating {
  readonly #task: () => Promise<unknown>
  readonly #everyMs: number
  readonly #onError: (error: unknown) => void
  readonly #shouldContinue: () => boolean
  #timer: NodeJS.Timeout | null = null
  #running = false
  #inFlight: Promise<unknown> | null = null

  constructor(options: {
    task: () => Promise<unknown>
    everyMs: number
    onError: (error: unknown) => void
    shouldContinue?: () => boolean
  }) {
    this.#task = options.task
    this.#everyMs = options.everyMs
    this.#onError = options.onError
    this.#shouldContinue = options.shouldContinue ?? (() => true)
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#schedule(0)
  }

  /** Stops the timer and waits for a run in flight. */
  async stop(): Promise<void> {
    this.#running = false
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    await this.#inFlight?.catch(() => undefined)
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null
      const run = this.#task()
        .catch((error: unknown) => this.#onError(error))
        .finally(() => {
          if (this.#inFlight === run) this.#inFlight = null
          if (this.#running && this.#timer === null && this.#shouldContinue()) this.#schedule(this.#everyMs)
        })
      this.#inFlight = run
    }, delayMs)
    this.#timer.unref()
  }
}
