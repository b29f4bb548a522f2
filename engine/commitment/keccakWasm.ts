/**
 * Keccak-f[1600] (FIPS 202, with Keccak's original 0x01 padding as Ethereum uses) emitted as a small
 * WebAssembly module at load time. Written for the commitment hot path: hashing a Merkle level or a
 * batch of fixed-size messages is one call, with no per-hash wrapper work. Integer-only, so the result
 * is the same on every machine.
 *
 * Memory layout (bytes):
 *   [0, 200)            streaming state, 25 little-endian lanes (used by `absorb`)
 *   [256, 448)          the 24 round constants
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
  i32Eqz: 0x45,
  i32Ne: 0x47,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Rotl: 0x89,
  void: 0x40,
  i32: 0x7f,
  i64: 0x7e,
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

/** Emits one function body. Locals: the params, 25 state lanes, 25 rho-pi lanes, 5 + 5 theta sums, 5 negated lanes, 1 i32. */
class Body {
  readonly code: number[] = []
  readonly a: number
  readonly b: number
  readonly c: number
  readonly d: number
  readonly n: number
  readonly rcPtr: number

  constructor(readonly paramCount: number) {
    this.a = paramCount
    this.b = this.a + 25
    this.c = this.b + 25
    this.d = this.c + 5
    this.n = this.d + 5
    this.rcPtr = this.n + 5
  }

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
  i32(n: number): this {
    return this.op(OP.i32Const, ...sleb(BigInt(n)))
  }
  i64(n: bigint): this {
    return this.op(OP.i64Const, ...sleb(BigInt.asIntN(64, n)))
  }
  load64(offset: number): this {
    return this.op(OP.i64Load, 3, ...uleb(offset))
  }
  store64(offset: number): this {
    return this.op(OP.i64Store, 3, ...uleb(offset))
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

  /** Loop header: exits when param `counter` is 0. */
  loopWhile(counter: number): this {
    return this.op(OP.block, OP.void, OP.loop, OP.void).get(counter).op(OP.i32Eqz, OP.brIf, 1)
  }
  /** Adds `step` to param `p`. */
  bump(p: number, step: number): this {
    return this.get(p).i32(step).op(OP.i32Add).set(p)
  }
  loopEnd(counter: number): this {
    this.get(counter).i32(1).op(OP.i32Sub).set(counter)
    return this.op(OP.br, 0, OP.end, OP.end)
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
    // One run of 65 i64 locals and one i32 local after the i32 params.
    const locals = [2, ...uleb(65), OP.i64, ...uleb(1), OP.i32]
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
  for (let i = 0; i < 25; i++) {
    if (i < words) f.get(inPtr).load64(8 * i)
    // Padding 0x01 right after the message and 0x80 in the last byte of the block.
    else if (i === words) f.i64(1n)
    else if (i === RATE_BYTES / 8 - 1) f.i64(0x8000000000000000n)
    else f.i64(0n)
    f.fixLane(i).set(f.a + i)
  }
  f.permute()
    .storeDigest(outPtr)
    .bump(inPtr, 8 * words)
    .bump(outPtr, 32)
    .loopEnd(count)
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
  const exportsList: [string, Body][] = [
    ['absorb', absorbBody()],
    ['hashBlocks', paddedHashBody()],
    ['hash32', fixedHashBody(4)],
    ['hash64', fixedHashBody(8)],
    ['hash96', fixedHashBody(12)],
  ]
  const types = [2, 0x60, 2, OP.i32, OP.i32, 0, 0x60, 3, OP.i32, OP.i32, OP.i32, 0]
  const funcs = [exportsList.length, 0, 1, 1, 1, 1]
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
  }
}
