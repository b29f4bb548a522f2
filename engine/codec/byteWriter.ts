const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER)
/** Largest |x| whose zigzag image 2|x| (or 2|x| - 1) is still a safe integer. */
const MAX_ZIGZAG_NUMBER = 2 ** 52 - 1

/** Appends bytes to a growing buffer. Callers check ranges first; this only lays bytes down. */
export class ByteWriter {
  private buf: Uint8Array
  private pos = 0

  constructor(capacityBytes: number) {
    this.buf = new Uint8Array(Math.max(capacityBytes, 64))
  }

  get length(): number {
    return this.pos
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let capacity = this.buf.length * 2
    while (capacity < this.pos + n) capacity *= 2
    const next = new Uint8Array(capacity)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  byte(b: number): void {
    this.reserve(1)
    this.buf[this.pos++] = b
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length)
    this.buf.set(src, this.pos)
    this.pos += src.length
  }

  /** Unsigned LEB128 of a safe non-negative integer: at most 8 bytes. */
  uvarint(value: number): void {
    this.reserve(8)
    const buf = this.buf
    let pos = this.pos
    let v = value
    while (v > 0x7fff_ffff) {
      buf[pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80) // exact: an integer divided by a power of two, rounded down
    }
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[pos++] = v
    this.pos = pos
  }

  /** Unsigned LEB128 of a bigint in [0, 2^64 - 1]: at most 10 bytes. */
  uvarintBig(value: bigint): void {
    if (value <= MAX_SAFE_BIG) {
      this.uvarint(Number(value))
      return
    }
    this.reserve(10)
    let v = value
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buf[this.pos++] = Number(v)
  }

  /** Zigzag then LEB128 of a safe integer of either sign: 0, -1, 1, -2, 2 become 0, 1, 2, 3, 4. */
  zigzag(value: number): void {
    if (value >= -MAX_ZIGZAG_NUMBER && value <= MAX_ZIGZAG_NUMBER) {
      this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1)
      return
    }
    const v = BigInt(value)
    this.uvarintBig(v >= 0n ? v << 1n : (-v << 1n) - 1n)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}
