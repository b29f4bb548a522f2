/**
 * Keccak-f[1600] (FIPS 202, with Keccak's original 0x01 padding as Ethereum uses) emitted as a small
 * WebAssembly module at load time. Written for the commitment hot path: hashing a Merkle level or a
 * batch of fixed-size messages is one call, with no per-hash wrapper work. Integer-only, so the result
 * is the same on every machine.
 *
 * Memory layout (bytes):
 *   [0, 200)            streaming state, 25 little-endian lanes (used by `absorb`)
 *   [256, 448)          the 24 round constants
 *   [512, 912)          two-way state (see `Body2`); [1024, 1424) its next round; [1536, 1600) two digests
 *   [INPUT, +INPUT_BYTES)   messages in
 *   [OUTPUT, +OUTPUT_BYTES) digests out
 */

export const RATE_BYTES = 136
export const INPUT = 4096
export const INPUT_BYTES = 65536
export const OUTPUT = INPUT + INPUT_BYTES
export const OUTPUT_BYTES = 32768
const MEMORY_PAGES = 2
const RC_OFFSET = 256
const ROUNDS = 24
const X2_STATE = 512
const X2_NEXT = 1024
const X2_DIGESTS = 1536

export interface KeccakWasm {
  memory: Uint8Array
  /** Absorbs `blocks` whole 136-byte blocks at `inPtr` into the state at 0 and permutes after each. */
  absorb(inPtr: number, blocks: number): void
  /** keccak256 of a message at `inPtr` already padded to `blocks` blocks, from a zero state; digest to `outPtr`. */
  hashBlocks(inPtr: number, blocks: number, outPtr: number): void
  /** keccak256 of `count` consecutive 32-byte messages from `inPtr`, digests consecutively to `outPtr`. */
  hash32(inPtr: number, count: number, outPtr: number): void
  /** The same for 64-byte messages: one Merkle level. */
  hash64(inPtr: number, count: number, outPtr: number): void
  /** The same for 96-byte messages: abi.encode of three words. */
  hash96(inPtr: number, count: number, outPtr: number): void
  /**
   * Account leaves of `count` consecutive records from `inPtr` (layout: `accountLeavesBody`), 32-byte
   * leaves consecutively to `outPtr`. Overwrites nothing but the output.
   */
  accountLeaves(inPtr: number, count: number, outPtr: number): void
  /** hash64 two messages at a time (SIMD): `pairs` pairs of consecutive 64-byte messages. */
  hash64x2(inPtr: number, pairs: number, outPtr: number): void
  /** accountLeaves two records at a time (SIMD): `pairs` pairs of consecutive records. */
  accountLeavesX2(inPtr: number, pairs: number, outPtr: number): void
}

/** Rotation offsets r[x + 5y] from the (x, y) walk of the spec: r = (t+1)(t+2)/2 mod 64. */
function rotationOffsets(): number[] {
  const r = new Array<number>(25).fill(0)
  let x = 1
  let y = 0
  for (let t = 0; t < 24; t++) {
    r[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64 // exact: (t+1)(t+2) is even
    const nx = y
    y = (2 * x + 3 * y) % 5
    x = nx
  }
  return r
}

/** Round constants from the spec's degree-8 LFSR (x^8 + x^6 + x^5 + x^4 + 1). */
export function roundConstants(): bigint[] {
  const out: bigint[] = []
  let lfsr = 1
  for (let round = 0; round < ROUNDS; round++) {
    let rc = 0n
    for (let j = 0; j < 7; j++) {
      if (lfsr & 1) rc |= 1n << BigInt((1 << j) - 1)
      lfsr = ((lfsr << 1) ^ (lfsr & 0x80 ? 0x71 : 0)) & 0xff
    }
    out.push(rc)
  }
  return out
}

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

function sleb(n: bigint): number[] {
  const out: number[] = []
  for (;;) {
    const byte = Number(n & 0x7fn)
    n >>= 7n
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return out
  }
}

const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i64Const: 0x42,
  i64Load: 0x29,
  i64Store: 0x37,
  i32Load: 0x28,
  localTee: 0x22,
  if: 0x04,
  select: 0x1b,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Rotl: 0x89,
  void: 0x40,
  i32: 0x7f,
  i64: 0x7e,
  v128: 0x7b,
  simd: 0xfd,
} as const

/** SIMD opcodes, after the 0xfd prefix. */
const V = {
  load: 0x00,
  load64Splat: 0x0a,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  i64x2Splat: 0x12,
  andnot: 0x4f,
  or: 0x50,
  xor: 0x51,
  load64Lane: 0x57,
  store64Lane: 0x5b,
  load64Zero: 0x5d,
  i64x2Shl: 0xcb,
  i64x2ShrU: 0xcd,
} as const

/**
 * Lanes kept complemented between rounds (bit i for lane i = x + 5y). With this set, chi needs one NOT
 * per row instead of one per lane: an exhaustive search over all 2^25 sets, with the per-row choice in
 * `chiPlan`, finds 5 NOTs per round as the minimum, and this set reaches it. (It is the set the Keccak
 * team's implementation notes call "lane complementing".) Tests compare every digest with @noble/hashes.
 */
const COMPLEMENTED = (1 << 1) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 17) | (1 << 20)
const isComplemented = (lane: number): boolean => ((COMPLEMENTED >> lane) & 1) === 1

/** How one chi output is computed from stored (possibly complemented) row lanes u = X, v = X+1, w = X+2. */
interface ChiTerm {
  negU: boolean
  negV: boolean
  negW: boolean
  and: boolean
  negResult: boolean
}

/**
 * For one output row: which of the five B lanes to negate, and each output's formula, so that the
 * outputs come out with the complement pattern of `outMask`. chi is B[X] ^ (~B[X+1] & B[X+2]); with
 * v and w standing for B[X+1] and B[X+2] as stored, `v & w` is exact when only v is complemented and
 * `v | w` is the complement when only w is, so the other cases take a NOT.
 */
function chiPlan(inMask: number, outMask: number): { negated: number; terms: ChiTerm[] } {
  const bit = (m: number, i: number): number => (m >> i) & 1
  let best: { negated: number; terms: ChiTerm[]; cost: number } | null = null
  for (let negated = 0; negated < 32; negated++) {
    let cost = 0
    for (let i = 0; i < 5; i++) cost += bit(negated, i)
    const terms: ChiTerm[] = []
    for (let x = 0; x < 5; x++) {
      const [u, v, w] = [x, (x + 1) % 5, (x + 2) % 5]
      let found: ChiTerm | null = null
      for (const negU of bit(negated, u) ? [false, true] : [false]) {
        for (const negV of bit(negated, v) ? [false, true] : [false]) {
          for (const negW of bit(negated, w) ? [false, true] : [false]) {
            const mu = bit(inMask, u) ^ Number(negU)
            const mv = bit(inMask, v) ^ Number(negV)
            const mw = bit(inMask, w) ^ Number(negW)
            if (mv === mw) continue
            const and = mv === 1
            const negResult = (mu ^ (and ? 0 : 1)) !== bit(outMask, x)
            if (found === null || (found.negResult && !negResult))
              found = { negU, negV, negW, and, negResult }
          }
        }
      }
      if (found === null) {
        cost = Number.POSITIVE_INFINITY
        break
      }
      cost += Number(found.negResult)
      terms.push(found)
    }
    if (best === null || cost < best.cost) best = { negated, terms, cost }
  }
  return best!
}

/** Instructions common to both function emitters; locals are numbered by the subclass. */
class Emitter {
  readonly code: number[] = []

  op(...bytes: number[]): this {
    this.code.push(...bytes)
    return this
  }
  get(i: number): this {
    return this.op(OP.localGet, ...uleb(i))
  }
  set(i: number): this {
    return this.op(OP.localSet, ...uleb(i))
  }
  tee(i: number): this {
    return this.op(OP.localTee, ...uleb(i))
  }
  i32(n: number): this {
    return this.op(OP.i32Const, ...sleb(BigInt(n)))
  }
  i64(n: bigint): this {
    return this.op(OP.i64Const, ...sleb(BigInt.asIntN(64, n)))
  }
  load64(offset: number): this {
    return this.op(OP.i64Load, 3, ...uleb(offset))
  }
  load32(offset: number): this {
    return this.op(OP.i32Load, 2, ...uleb(offset))
  }
  store64(offset: number): this {
    return this.op(OP.i64Store, 3, ...uleb(offset))
  }
  /** Loop header: exits when local `counter` is 0. */
  loopWhile(counter: number): this {
    return this.op(OP.block, OP.void, OP.loop, OP.void).get(counter).op(OP.i32Eqz, OP.brIf, 1)
  }
  /** Adds `step` to local `p`. */
  bump(p: number, step: number): this {
    return this.get(p).i32(step).op(OP.i32Add).set(p)
  }
  loopEnd(counter: number): this {
    this.get(counter).i32(1).op(OP.i32Sub).set(counter)
    return this.op(OP.br, 0, OP.end, OP.end)
  }
}

/**
 * Emits one function body. Locals: the params, 25 state lanes, 25 rho-pi lanes, 5 + 5 theta sums,
 * 5 negated lanes, the round-constant pointer, then `extraI32` scratch i32s from `scratch`.
 */
class Body extends Emitter {
  readonly a: number
  readonly b: number
  readonly c: number
  readonly d: number
  readonly n: number
  readonly rcPtr: number
  readonly scratch: number

  constructor(
    readonly paramCount: number,
    readonly extraI32 = 0,
  ) {
    super()
    this.a = paramCount
    this.b = this.a + 25
    this.c = this.b + 25
    this.d = this.c + 5
    this.n = this.d + 5
    this.rcPtr = this.n + 5
    this.scratch = this.rcPtr + 1
  }

  not(): this {
    return this.i64(-1n).op(OP.i64Xor)
  }
  /** Complements the value on the stack if `lane` is kept complemented: converts between true and stored form. */
  fixLane(lane: number): this {
    return isComplemented(lane) ? this.not() : this
  }

  /** 24 rounds over locals a[0..24], which hold the state in stored (partly complemented) form. */
  permute(): this {
    const { rcPtr } = this
    // A loop, not 24 unrolled rounds: V8 ran an unrolled 70 KB module at half the speed.
    this.i32(RC_OFFSET).set(rcPtr)
    this.op(OP.loop, OP.void)
    this.round()
    this.get(rcPtr).i32(8).op(OP.i32Add).set(rcPtr)
    this.get(rcPtr)
      .i32(RC_OFFSET + 8 * ROUNDS)
      .op(OP.i32Ne, OP.brIf, 0, OP.end)
    return this
  }

  round(): void {
    const { a, b, c, d, n, rcPtr } = this
    const rot = rotationOffsets()
    // theta: column parities, then each lane absorbs its neighbours' parities (folded into rho-pi below).
    // A column with an odd number of complemented lanes complements its parity; the masks below follow.
    const parity: number[] = []
    for (let x = 0; x < 5; x++) {
      this.get(a + x)
      let p = Number(isComplemented(x))
      for (let y = 1; y < 5; y++) {
        this.get(a + x + 5 * y).op(OP.i64Xor)
        p ^= Number(isComplemented(x + 5 * y))
      }
      this.set(c + x)
      parity.push(p)
    }
    for (let x = 0; x < 5; x++) {
      this.get(c + ((x + 4) % 5))
      this.get(c + ((x + 1) % 5))
        .i64(1n)
        .op(OP.i64Rotl, OP.i64Xor)
      this.set(d + x)
    }
    // rho and pi: B[y, 2x + 3y] = rotl(A[x, y] ^ D[x], r[x, y]); track which B lanes come out complemented.
    let bMask = 0
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        this.get(a + x + 5 * y)
          .get(d + x)
          .op(OP.i64Xor)
        const r = rot[x + 5 * y]!
        if (r !== 0) this.i64(BigInt(r)).op(OP.i64Rotl)
        const to = y + 5 * ((2 * x + 3 * y) % 5)
        this.set(b + to)
        const m = Number(isComplemented(x + 5 * y)) ^ parity[(x + 4) % 5]! ^ parity[(x + 1) % 5]!
        bMask |= m << to
      }
    }
    // chi: A[x, y] = B[x, y] ^ (~B[x+1, y] & B[x+2, y]), in stored form; iota on lane 0.
    for (let y = 0; y < 5; y++) {
      const plan = chiPlan((bMask >> (5 * y)) & 31, (COMPLEMENTED >> (5 * y)) & 31)
      for (let x = 0; x < 5; x++) {
        if ((plan.negated >> x) & 1)
          this.get(b + x + 5 * y)
            .not()
            .set(n + x)
      }
      const lane = (x: number, neg: boolean): number => (neg ? n + x : b + x + 5 * y)
      plan.terms.forEach((t, x) => {
        this.get(lane(x, t.negU))
        this.get(lane((x + 1) % 5, t.negV))
        this.get(lane((x + 2) % 5, t.negW))
        this.op(t.and ? OP.i64And : OP.i64Or, OP.i64Xor)
        if (t.negResult) this.not()
        if (x === 0 && y === 0) this.get(rcPtr).load64(0).op(OP.i64Xor)
        this.set(a + x + 5 * y)
      })
    }
  }

  /** Sets lanes `from`..24 to the stored form of a one-block message's padding after `from` words. */
  padFrom(from: number): this {
    for (let i = from; i < 25; i++) {
      // Padding 0x01 right after the message and 0x80 in the last byte of the block.
      if (i === from) this.i64(1n)
      else if (i === RATE_BYTES / 8 - 1) this.i64(0x8000000000000000n)
      else this.i64(0n)
      this.fixLane(i).set(this.a + i)
    }
    return this
  }
  /** Stores the 32-byte digest (lanes 0..3, back in true form) at param `outPtr`. */
  storeDigest(outPtr: number): this {
    for (let i = 0; i < 4; i++)
      this.get(outPtr)
        .get(this.a + i)
        .fixLane(i)
        .store64(8 * i)
    return this
  }

  encode(): number[] {
    // One run of 65 i64 locals and one of i32 locals after the i32 params.
    const locals = [2, ...uleb(65), OP.i64, ...uleb(1 + this.extraI32), OP.i32]
    const body = [...locals, ...this.code, OP.end]
    return [...uleb(body.length), ...body]
  }
}

/** Absorbs `blocks` rate-sized blocks from param `inPtr` into the state locals. */
function absorbBlocks(f: Body, inPtr: number, blocks: number): void {
  f.loopWhile(blocks)
  for (let i = 0; i < RATE_BYTES / 8; i++) {
    // XOR commutes with complementing, so input is absorbed into the stored form as is.
    f.get(f.a + i)
      .get(inPtr)
      .load64(8 * i)
      .op(OP.i64Xor)
      .set(f.a + i)
  }
  f.permute().bump(inPtr, RATE_BYTES).loopEnd(blocks)
}

/** absorb(inPtr, blocks): the state lives in memory at 0 in true form between calls. */
function absorbBody(): Body {
  const f = new Body(2)
  for (let i = 0; i < 25; i++)
    f.i32(0)
      .load64(8 * i)
      .fixLane(i)
      .set(f.a + i)
  absorbBlocks(f, 0, 1)
  for (let i = 0; i < 25; i++)
    f.i32(0)
      .get(f.a + i)
      .fixLane(i)
      .store64(8 * i)
  return f
}

/** hashBlocks(inPtr, blocks, outPtr): a whole message already padded to `blocks` blocks, from a zero state. */
function paddedHashBody(): Body {
  const f = new Body(3)
  // The zero state in stored form.
  for (let i = 0; i < 25; i++) f.i64(isComplemented(i) ? -1n : 0n).set(f.a + i)
  absorbBlocks(f, 0, 1)
  return f.storeDigest(2)
}

/** hashN(inPtr, count, outPtr) for messages of `words` 8-byte words (< 17, so one block). */
function fixedHashBody(words: number): Body {
  const f = new Body(3)
  const inPtr = 0
  const count = 1
  const outPtr = 2
  f.loopWhile(count)
  for (let i = 0; i < words; i++)
    f.get(inPtr)
      .load64(8 * i)
      .fixLane(i)
      .set(f.a + i)
  f.padFrom(words)
    .permute()
    .storeDigest(outPtr)
    .bump(inPtr, 8 * words)
    .bump(outPtr, 32)
    .loopEnd(count)
  return f
}

/** Bytes before an account leaf record's data: block count (u32 LE), data length (u32 LE), address word, equity word. */
export const ACCOUNT_RECORD_HEADER_BYTES = 72

/**
 * accountLeaves(inPtr, count, outPtr). Each record is
 *   [0, 4)    blocks: the number of 136-byte blocks of the padded account data, at least 1
 *   [4, 8)    the unpadded data length (for the caller; not read here)
 *   [8, 72)   abi.encode(address, escapeEquityQuantums): the leaf preimage's first two words
 *   [72, …)   the account data, already padded to `blocks` blocks
 * and the next record starts right after. Per record: the data hash into lanes 0..3, then
 * H(address ‖ equity ‖ dataHash), then H of that digest, all in the state locals: neither inner digest
 * goes through memory.
 */
function accountLeavesBody(): Body {
  const f = new Body(3, 2)
  const inPtr = 0
  const count = 1
  const outPtr = 2
  const blocks = f.scratch
  const dataPtr = f.scratch + 1
  f.loopWhile(count)
  f.get(inPtr).load32(0).set(blocks)
  f.get(inPtr).i32(ACCOUNT_RECORD_HEADER_BYTES).op(OP.i32Add).set(dataPtr)
  for (let i = 0; i < 25; i++) f.i64(isComplemented(i) ? -1n : 0n).set(f.a + i)
  // Leaves dataPtr at the end of the record, where the next one starts.
  absorbBlocks(f, dataPtr, blocks)
  // The data hash becomes words 8..11 (the third ABI word); converted from lane i's stored form to lane 8 + i's.
  for (let i = 0; i < 4; i++)
    f.get(f.a + i)
      .fixLane(i)
      .fixLane(8 + i)
      .set(f.a + 8 + i)
  for (let i = 0; i < 8; i++)
    f.get(inPtr)
      .load64(8 + 8 * i)
      .fixLane(i)
      .set(f.a + i)
  f.padFrom(12).permute()
  // The digest is already lanes 0..3 of the next message, in the same stored form.
  f.padFrom(4).permute().storeDigest(outPtr)
  f.get(dataPtr).set(inPtr)
  f.bump(outPtr, 32).loopEnd(count)
  return f
}

/**
 * Emits a body that runs two Keccak states side by side with 128-bit SIMD: each lane of the state is
 * one v128 in memory at X2_STATE + 16 * lane, message A in its low 8 bytes and message B in its high 8.
 * Measured 1.3 to 1.4 times the hashes per second of the scalar body. The state lives in memory, not
 * in locals: with 60 v128 locals V8's optimizing tier spilled so much that two-way ran slower than one.
 * A round reads the state at `cur` and writes the next at `nxt`, one output row at a time, so only the
 * 16 v128 locals below are live: 5 theta sums (accumulated while chi writes), 5 theta terms, a row of 5
 * rho-pi lanes, and a temporary. Locals: the params, those 16 v128, then the round-constant pointer,
 * `cur`, `nxt`, and `extraI32` scratch i32s from `scratch`.
 */
class Body2 extends Emitter {
  readonly c: number
  readonly d: number
  readonly b: number
  readonly t: number
  readonly rcPtr: number
  readonly cur: number
  readonly nxt: number
  readonly scratch: number

  constructor(
    readonly paramCount: number,
    readonly extraI32 = 0,
  ) {
    super()
    this.c = paramCount
    this.d = this.c + 5
    this.b = this.d + 5
    this.t = this.b + 5
    this.rcPtr = this.t + 1
    this.cur = this.rcPtr + 1
    this.nxt = this.cur + 1
    this.scratch = this.nxt + 1
  }

  simd(opcode: number, ...immediates: number[]): this {
    return this.op(OP.simd, ...uleb(opcode), ...immediates)
  }
  xor(): this {
    return this.simd(V.xor)
  }
  /** v128 load or store at the address on the stack plus `offset`. */
  loadV(offset: number): this {
    return this.simd(V.load, 4, ...uleb(offset))
  }
  storeV(offset: number): this {
    return this.simd(V.store, 4, ...uleb(offset))
  }
  /** Pushes `v` in both halves. */
  splat(v: bigint): this {
    return this.i64(v).simd(V.i64x2Splat)
  }
  /** Pushes the address in local `ptr`, or 0 when `ptr` is null. */
  addr(ptr: number | null): this {
    return ptr === null ? this.i32(0) : this.get(ptr)
  }
  /** Pushes a v128 of the 8 bytes at `ptrA + offA` (low half) and at `ptrB + offB` (high half). */
  pair(ptrA: number | null, offA: number, ptrB: number | null, offB: number): this {
    this.addr(ptrB)
      .addr(ptrA)
      .simd(V.load64Zero, 3, ...uleb(offA))
    return this.simd(V.load64Lane, 3, ...uleb(offB), 1)
  }
  /** Pushes state lane `i`; valid between permutations, when the state is at X2_STATE. */
  lane(i: number): this {
    return this.i32(0).loadV(X2_STATE + 16 * i)
  }
  /** Stores the v128 that `push` leaves on the stack as state lane `i`. */
  setLane(i: number, push: () => void): this {
    this.i32(0)
    push()
    return this.storeV(X2_STATE + 16 * i)
  }
  /** Lanes `from`..24 of both states: a one-block message's padding after `from` words. */
  padFrom(from: number): this {
    for (let i = from; i < 25; i++)
      this.setLane(i, () => this.splat(i === from ? 1n : i === RATE_BYTES / 8 - 1 ? 0x8000000000000000n : 0n))
    return this
  }
  /** Stores the 32-byte digest of half `half` (0 = A, 1 = B) at `ptr + offset`. */
  storeDigest(half: 0 | 1, ptr: number | null, offset: number): this {
    for (let i = 0; i < 4; i++)
      this.addr(ptr)
        .lane(i)
        .simd(V.store64Lane, 3, ...uleb(offset + 8 * i), half)
    return this
  }
  /** Rotates both halves of the v128 on the stack left by `r` bits. */
  rotl(r: number): this {
    if (r === 0) return this
    if (r % 8 === 0) {
      // A whole-byte rotation is one shuffle: result byte j of each half is input byte j - r/8 (mod 8).
      const lanes: number[] = []
      for (let half = 0; half < 2; half++)
        for (let j = 0; j < 8; j++) lanes.push(8 * half + ((j - r / 8 + 8) % 8))
      return this.tee(this.t)
        .get(this.t)
        .simd(V.shuffle, ...lanes)
    }
    this.tee(this.t).i32(r).simd(V.i64x2Shl)
    return this.get(this.t)
      .i32(64 - r)
      .simd(V.i64x2ShrU)
      .simd(V.or)
  }

  /** 24 rounds of both states at X2_STATE, in place (an even number of swaps brings `cur` back). */
  permute(): this {
    const { c, cur, nxt, rcPtr } = this
    // The first round's column parities; each round's chi accumulates the next round's.
    for (let x = 0; x < 5; x++) {
      this.lane(x)
      for (let y = 1; y < 5; y++) this.lane(x + 5 * y).xor()
      this.set(c + x)
    }
    this.i32(X2_STATE).set(cur).i32(X2_NEXT).set(nxt).i32(RC_OFFSET).set(rcPtr)
    this.op(OP.loop, OP.void)
    this.round()
    this.get(cur).get(nxt).set(cur).set(nxt)
    this.bump(rcPtr, 8)
    this.get(rcPtr)
      .i32(RC_OFFSET + 8 * ROUNDS)
      .op(OP.i32Ne, OP.brIf, 0, OP.end)
    return this
  }

  round(): void {
    const { b, c, d, cur, nxt, rcPtr, t } = this
    const rot = rotationOffsets()
    for (let x = 0; x < 5; x++) {
      this.get(c + ((x + 4) % 5))
        .get(c + ((x + 1) % 5))
        .rotl(1)
        .xor()
        .set(d + x)
    }
    for (let y = 0; y < 5; y++) {
      // Row y of rho-pi: B[X, y] = rotl(A[x, X] ^ D[x], r[x, X]) where 2x + 3X = y (mod 5), so x = 3(y - 3X).
      for (let X = 0; X < 5; X++) {
        const x = (3 * (((y - 3 * X) % 5) + 5)) % 5
        this.get(cur)
          .loadV(16 * (x + 5 * X))
          .get(d + x)
          .xor()
          .rotl(rot[x + 5 * X]!)
          .set(b + X)
      }
      // chi: A'[X, y] = B[X] ^ (~B[X + 1] & B[X + 2]), iota on lane 0; the column sums for the next round.
      for (let X = 0; X < 5; X++) {
        this.get(nxt)
          .get(b + X)
          .get(b + ((X + 2) % 5))
          .get(b + ((X + 1) % 5))
          .simd(V.andnot)
          .xor()
        if (X === 0 && y === 0) this.get(rcPtr).simd(V.load64Splat, 3, 0).xor()
        this.tee(t).storeV(16 * (X + 5 * y))
        if (y === 0) this.get(t).set(c + X)
        else
          this.get(c + X)
            .get(t)
            .xor()
            .set(c + X)
      }
    }
  }

  encode(): number[] {
    // One run of 16 v128 locals, then one of i32 locals, after the i32 params.
    const locals = [2, 16, OP.v128, ...uleb(3 + this.extraI32), OP.i32]
    const body = [...locals, ...this.code, OP.end]
    return [...uleb(body.length), ...body]
  }
}

/** hash64x2(inPtr, pairs, outPtr): messages 2k and 2k + 1 (64 bytes each) hashed together. */
function hash64x2Body(): Body2 {
  const f = new Body2(3)
  const inPtr = 0
  const pairs = 1
  const outPtr = 2
  f.loopWhile(pairs)
  for (let i = 0; i < 8; i++) f.setLane(i, () => f.pair(inPtr, 8 * i, inPtr, 64 + 8 * i))
  f.padFrom(8).permute().storeDigest(0, outPtr, 0).storeDigest(1, outPtr, 32)
  f.bump(inPtr, 128).bump(outPtr, 64).loopEnd(pairs)
  return f
}

/**
 * accountLeavesX2(inPtr, pairs, outPtr): `accountLeaves` for records 2k and 2k + 1 together. Records
 * of different lengths run for the longer one's blocks: the shorter one's digest is kept in X2_DIGESTS
 * after its last block, and its half of the state then runs on, unused, until the other finishes.
 */
function accountLeavesX2Body(): Body2 {
  const f = new Body2(3, 7)
  const inPtr = 0
  const pairs = 1
  const outPtr = 2
  const recB = f.scratch
  const blocksA = f.scratch + 1
  const blocksB = f.scratch + 2
  const dataA = f.scratch + 3
  const dataB = f.scratch + 4
  const done = f.scratch + 5
  const most = f.scratch + 6
  const H = ACCOUNT_RECORD_HEADER_BYTES
  f.loopWhile(pairs)
  f.get(inPtr).load32(0).set(blocksA)
  f.get(inPtr).i32(H).op(OP.i32Add).set(dataA)
  f.get(dataA).get(blocksA).i32(RATE_BYTES).op(OP.i32Mul, OP.i32Add).set(recB)
  f.get(recB).load32(0).set(blocksB)
  f.get(recB).i32(H).op(OP.i32Add).set(dataB)
  f.get(blocksA).get(blocksB).get(blocksA).get(blocksB).op(OP.i32GtU, OP.select).set(most)
  f.i32(0).set(done)
  for (let i = 0; i < 25; i++) f.setLane(i, () => f.simd(V.const, ...new Array<number>(16).fill(0)))
  f.op(OP.loop, OP.void)
  for (let i = 0; i < RATE_BYTES / 8; i++)
    f.setLane(i, () =>
      f
        .lane(i)
        .pair(dataA, 8 * i, dataB, 8 * i)
        .xor(),
    )
  f.permute().bump(done, 1)
  for (const [half, blocks, data] of [
    [0, blocksA, dataA],
    [1, blocksB, dataB],
  ] as const) {
    f.get(done).get(blocks).op(OP.i32Eq, OP.if, OP.void)
    f.storeDigest(half, null, X2_DIGESTS + 32 * half)
    f.op(OP.end)
    f.get(done).get(blocks).op(OP.i32LtU, OP.if, OP.void)
    f.bump(data, RATE_BYTES)
    f.op(OP.end)
  }
  f.get(done).get(most).op(OP.i32Ne, OP.brIf, 0, OP.end)
  // The leaf preimages: both records' address and equity words, then their data digests.
  for (let i = 0; i < 8; i++) f.setLane(i, () => f.pair(inPtr, 8 + 8 * i, recB, 8 + 8 * i))
  for (let i = 0; i < 4; i++)
    f.setLane(8 + i, () => f.pair(null, X2_DIGESTS + 8 * i, null, X2_DIGESTS + 32 + 8 * i))
  f.padFrom(12).permute()
  // The digests are already lanes 0..3 of the outer hashes' messages.
  f.padFrom(4).permute().storeDigest(0, outPtr, 0).storeDigest(1, outPtr, 32)
  f.get(recB).i32(H).op(OP.i32Add).get(blocksB).i32(RATE_BYTES).op(OP.i32Mul, OP.i32Add).set(inPtr)
  f.bump(outPtr, 64).loopEnd(pairs)
  return f
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload]
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))]
}

// "\0asm", then binary format version 1.
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]

/** The module's bytes, built from the spec's constants; the same bytes on every run. */
export function keccakWasmBytes(): Uint8Array {
  const exportsList: [string, Body | Body2][] = [
    ['absorb', absorbBody()],
    ['hashBlocks', paddedHashBody()],
    ['hash32', fixedHashBody(4)],
    ['hash64', fixedHashBody(8)],
    ['hash96', fixedHashBody(12)],
    ['accountLeaves', accountLeavesBody()],
    ['hash64x2', hash64x2Body()],
    ['accountLeavesX2', accountLeavesX2Body()],
  ]
  const types = [2, 0x60, 2, OP.i32, OP.i32, 0, 0x60, 3, OP.i32, OP.i32, OP.i32, 0]
  // absorb takes two params (type 0); the others three (type 1).
  const funcs = [exportsList.length, ...exportsList.map(([, body]) => (body.paramCount === 2 ? 0 : 1))]
  const memory = [1, 0, MEMORY_PAGES]
  const exportEntries: number[] = [exportsList.length + 1, ...name('memory'), 2, 0]
  exportsList.forEach(([n], i) => {
    exportEntries.push(...name(n), 0, i)
  })
  const code: number[] = [exportsList.length]
  for (const [, body] of exportsList) code.push(...body.encode())
  const rc: number[] = []
  for (const k of roundConstants()) for (let i = 0n; i < 8n; i++) rc.push(Number((k >> (8n * i)) & 0xffn))
  const data = [1, 0, OP.i32Const, ...sleb(BigInt(RC_OFFSET)), OP.end, ...uleb(rc.length), ...rc]
  return Uint8Array.from([
    ...WASM_HEADER,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exportEntries),
    ...section(10, code),
    ...section(11, data),
  ])
}

interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> }
}

export function instantiateKeccakWasm(): KeccakWasm {
  // WebAssembly is a runtime global in Node; the engine's TypeScript lib set does not declare it.
  const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly
  const instance = new wasm.Instance(new wasm.Module(keccakWasmBytes()))
  const e = instance.exports as unknown as Omit<KeccakWasm, 'memory'> & { memory: { buffer: ArrayBuffer } }
  return {
    memory: new Uint8Array(e.memory.buffer),
    absorb: e.absorb,
    hashBlocks: e.hashBlocks,
    hash32: e.hash32,
    hash64: e.hash64,
    hash96: e.hash96,
    accountLeaves: e.accountLeaves,
    hash64x2: e.hash64x2,
    accountLeavesX2: e.accountLeavesX2,
  }
}
