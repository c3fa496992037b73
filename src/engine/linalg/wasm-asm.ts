/**
 * A very small WebAssembly binary writer: just the instructions the linear-algebra kernels use
 * (i32 integer arithmetic, f64 scalar and f64x2 SIMD loads/stores/arithmetic, structured control
 * flow) and the loop shapes they are built from. The kernels are generated from TypeScript at
 * runtime, so there is no build step and no binary blob in the repository; see wasm-gemm.ts,
 * wasm-eigen.ts and wasm-convert.ts for the generated code.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

function uleb(out: number[], v: number): void {
  let x = v >>> 0;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
}

function sleb(out: number[], v: number): void {
  let x = v | 0;
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function str(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** The encoding of a SIMD instruction (prefix 0xfd, then the opcode as a LEB128). */
function simd(opcode: number): number[] {
  const out = [0xfd];
  uleb(out, opcode);
  return out;
}

/** Instructions without immediates (block types are always empty: 0x40). */
const PLAIN = {
  // control
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], else: [0x05], end: [0x0b],
  // i32
  eqz: [0x45], ltS: [0x48], ltU: [0x49], geS: [0x4e], geU: [0x4f], add: [0x6a], sub: [0x6b], mul: [0x6c], and: [0x71], shl: [0x74], shrU: [0x76],
  // f64 / f32
  fadd: [0xa0], fsub: [0xa1], fmul: [0xa2], f64PromoteF32: [0xbb], f32DemoteF64: [0xb6],
  // v128 / f64x2: splat (f64 → both lanes), f64x2.promote_low_f32x4, f32x4.demote_f64x2_zero
  splat: simd(0x14), promoteLow: simd(0x5f), demoteZero: simd(0x5e), vadd: simd(0xf0), vsub: simd(0xf1), vmul: simd(0xf2),
} satisfies Record<string, number[]>;

/**
 * Loads and stores: opcode and log2 of the natural alignment; the method takes the constant
 * offset. vLoadSplat is v128.load64_splat (one f64 from memory into both lanes).
 */
const MEMORY = {
  f64Load: [[0x2b], 3], f64Store: [[0x39], 3], f32Load: [[0x2a], 2], f32Store: [[0x38], 2],
  vLoad: [simd(0x00), 3], vStore: [simd(0x0b), 3], vLoadSplat: [simd(0x0a), 3],
} satisfies Record<string, [number[], number]>;

/** One f64 (8 bytes) or an f64x2 vector (16 bytes). */
export type Lanes = 'f64' | 'f64x2';
export const laneBytes = (lanes: Lanes): number => (lanes === 'f64' ? 8 : 16);

type PlainOps = { readonly [K in keyof typeof PLAIN]: () => Fn };
type MemoryOps = { readonly [K in keyof typeof MEMORY]: (offset?: number) => Fn };

/** One function body under construction. Methods push instructions and return the body. */
class Body {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];

  constructor(
    readonly name: string,
    readonly params: number[],
    readonly results: number[] = [],
  ) {}

  /** Declares a new local and returns its index. */
  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  locals(type: number, count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.local(type));
    return out;
  }

  /** Appends raw bytes. */
  emit(bytes: readonly number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** An instruction followed by one unsigned LEB128 immediate. */
  private withIndex(bytes: readonly number[], index: number): this {
    this.emit(bytes);
    uleb(this.code, index);
    return this;
  }

  br(depth: number): this { return this.withIndex([0x0c], depth); }
  brIf(depth: number): this { return this.withIndex([0x0d], depth); }
  call(index: number): this { return this.withIndex([0x10], index); }
  get(i: number): this { return this.withIndex([0x20], i); }
  set(i: number): this { return this.withIndex([0x21], i); }
  tee(i: number): this { return this.withIndex([0x22], i); }

  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }

  f64Const(v: number): this {
    this.code.push(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (let i = 0; i < 8; i++) this.code.push(b[i]);
    return this;
  }

  vZero(): this {
    this.emit(simd(0x0c));
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }

  /** f64x2.extract_lane */
  lane(i: number): this { return this.emit([...simd(0x21), i]); }
  /** f64x2.replace_lane */
  replaceLane(i: number): this { return this.emit([...simd(0x22), i]); }

  /** v128.store64_lane: stores 8 bytes (lane 0 or 1 of an i64x2 view). */
  vStore64Lane(lane: number, offset = 0): this {
    this.emit(simd(0x5b));
    uleb(this.code, 3);
    uleb(this.code, offset);
    this.code.push(lane);
    return this;
  }

  // ---- structured loops and branches (what the kernels are made of)

  /** while (i < end, unsigned) { body; i++ }: i must hold the start value. */
  forEach(this: Fn, i: number, end: number, body: () => void): Fn {
    this.block().loop();
    this.get(i).get(end).geU().brIf(1);
    body();
    this.get(i).i32(1).add().set(i);
    this.br(0);
    return this.end().end();
  }

  /**
   * if (t < end) do { body; t += step } while (t < end), comparing unsigned (or signed): t must
   * hold the start value.
   */
  forStep(this: Fn, t: number, end: number, step: number, body: () => void, signed = false): Fn {
    this.block();
    this.get(t).get(end);
    (signed ? this.geS() : this.geU()).brIf(0);
    this.loop();
    body();
    this.get(t).i32(step).add().tee(t).get(end);
    (signed ? this.ltS() : this.ltU()).brIf(0);
    return this.end().end();
  }

  /** Emits body twice: under `if (flag)` with true and in the else branch with false. */
  onFlag(this: Fn, flag: number, body: (set: boolean) => void): Fn {
    this.get(flag).if();
    body(true);
    this.else();
    body(false);
    return this.end();
  }

  // ---- f64 scalar or f64x2 vector arithmetic, so that a vector loop and its scalar remainder
  // are one piece of code

  ld(this: Fn, lanes: Lanes, offset = 0): Fn { return lanes === 'f64' ? this.f64Load(offset) : this.vLoad(offset); }
  st(this: Fn, lanes: Lanes, offset = 0): Fn { return lanes === 'f64' ? this.f64Store(offset) : this.vStore(offset); }
  addL(this: Fn, lanes: Lanes): Fn { return lanes === 'f64' ? this.fadd() : this.vadd(); }
  subL(this: Fn, lanes: Lanes): Fn { return lanes === 'f64' ? this.fsub() : this.vsub(); }
  mulL(this: Fn, lanes: Lanes): Fn { return lanes === 'f64' ? this.fmul() : this.vmul(); }

  /** Pushes the address base + i·stride (i a constant; base and stride locals). */
  addr(this: Fn, base: number, stride: number, i: number): Fn {
    this.get(base);
    if (i > 0) this.get(stride).i32(i).mul().add();
    return this;
  }

  /** The encoded body (locals + code + end), without the size prefix. */
  encodeBody(): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [count, type] of groups) {
      uleb(out, count);
      out.push(type);
    }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    return out;
  }
}

for (const [name, bytes] of Object.entries(PLAIN)) {
  Object.defineProperty(Body.prototype, name, {
    value(this: Body) {
      return this.emit(bytes);
    },
  });
}
for (const [name, [bytes, align]] of Object.entries(MEMORY)) {
  Object.defineProperty(Body.prototype, name, {
    value(this: Body, offset = 0) {
      this.emit(bytes);
      uleb(this.code, align);
      uleb(this.code, offset);
      return this;
    },
  });
}

/** A function body with every instruction method (the table-driven ones are installed above). */
export type Fn = Body & PlainOps & MemoryOps;
export const Fn = Body as unknown as new (name: string, params: number[], results?: number[]) => Fn;

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  for (const b of content) out.push(b);
}

/** A module that imports its memory as env.mem and exports every function under its name. */
export function assemble(fns: Fn[], minPages: number): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

  const types: number[] = [];
  uleb(types, fns.length);
  for (const f of fns) {
    types.push(0x60);
    uleb(types, f.params.length);
    for (const p of f.params) types.push(p);
    uleb(types, f.results.length);
    for (const r of f.results) types.push(r);
  }
  section(out, 1, types);

  const imports: number[] = [];
  uleb(imports, 1);
  str(imports, 'env');
  str(imports, 'mem');
  imports.push(0x02, 0x00);
  uleb(imports, minPages);
  section(out, 2, imports);

  const funcs: number[] = [];
  uleb(funcs, fns.length);
  fns.forEach((_, i) => uleb(funcs, i));
  section(out, 3, funcs);

  const exports: number[] = [];
  uleb(exports, fns.length);
  fns.forEach((f, i) => {
    str(exports, f.name);
    exports.push(0x00);
    uleb(exports, i);
  });
  section(out, 7, exports);

  const code: number[] = [];
  uleb(code, fns.length);
  for (const f of fns) {
    const body = f.encodeBody();
    uleb(code, body.length);
    for (const b of body) code.push(b);
  }
  section(out, 10, code);

  return new Uint8Array(out);
}
