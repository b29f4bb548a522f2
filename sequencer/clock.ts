/**
 * Where sequenced time comes from. The engine never reads a clock; the sequencer reads this one once
 * per log group and hands the value to every entry of the group.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, a safe integer. */
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/**
 * A clock that never goes back: a reading below the last one returns the last one. Sequenced time
 * must not decrease (the engine halts on it), while wall clocks do step back (NTP, VM migration).
 */
export class MonotonicClock implements Clock {
  #lastMs: number
  #held = 0

  constructor(
    private readonly source: Clock,
    floorMs = 0,
  ) {
    this.#lastMs = floorMs
  }

  nowMs(): number {
    const t = this.source.nowMs()
    if (!Number.isSafeInteger(t) || t < 0)
      throw new RangeError(`clock returned ${String(t)}, not a safe integer`)
    if (t < this.#lastMs) {
      this.#held++
      return this.#lastMs
    }
    this.#lastMs = t
    return t
  }

  /** How many readings were held at the last value because the source went back. */
  get heldReadings(): number {
    return this.#held
  }
}

/** A clock that moves only when told to, for tests and replays. */
export class ManualClock implements Clock {
  constructor(public timeMs: number) {}

  nowMs(): number {
    return this.timeMs
  }

  advance(ms: number): void {
    this.timeMs += ms
  }
}
