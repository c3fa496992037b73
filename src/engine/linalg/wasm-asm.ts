/**
 * A very small WebAssembly binary writer: just the instructions the linear-algebra kernels use
 * (i32 integer arithmetic, f64 scalar and f64x2 SIMD loads/stores/arithmetic, structured control
 * flow). The kernels are generated from TypeScript at runtime, so there is no build step and no
 * binary blob in the repository; see kernels-wasm.ts for the generated code.
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

/** One function body under construction. Methods push one instruction each and return `this`. */
export class Fn {
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

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }

  private memarg(align: number, offset: number): this {
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  // control
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.op(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.op(0x0d); uleb(this.code, depth); return this; }
  call(index: number): this { this.op(0x10); uleb(this.code, index); return this; }

  // locals
  get(i: number): this { this.op(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.op(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.op(0x22); uleb(this.code, i); return this; }

  // i32
  i32(v: number): this { this.op(0x41); sleb(this.code, v); return this; }
  eqz(): this { return this.op(0x45); }
  ltS(): this { return this.op(0x48); }
  ltU(): this { return this.op(0x49); }
  geS(): this { return this.op(0x4e); }
  geU(): this { return this.op(0x4f); }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  and(): this { return this.op(0x71); }
  shl(): this { return this.op(0x74); }
  shrU(): this { return this.op(0x76); }

  // f64
  f64Load(offset = 0): this { return this.op(0x2b).memarg(3, offset); }
  f64Store(offset = 0): this { return this.op(0x39).memarg(3, offset); }
  f64Const(v: number): this {
    this.op(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (let i = 0; i < 8; i++) this.code.push(b[i]);
    return this;
  }
  f32Load(offset = 0): this { return this.op(0x2a).memarg(2, offset); }
  f32Store(offset = 0): this { return this.op(0x38).memarg(2, offset); }
  f64PromoteF32(): this { return this.op(0xbb); }
  f32DemoteF64(): this { return this.op(0xb6); }
  fadd(): this { return this.op(0xa0); }
  fsub(): this { return this.op(0xa1); }
  fmul(): this { return this.op(0xa2); }

  // v128 / f64x2
  vLoad(offset = 0): this { return this.simd(0x00).memarg(3, offset); }
  vStore(offset = 0): this { return this.simd(0x0b).memarg(3, offset); }
  /** v128.load64_splat: one f64 from memory into both lanes. */
  vLoadSplat(offset = 0): this { return this.simd(0x0a).memarg(3, offset); }
  vZero(): this {
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }
  splat(): this { return this.simd(0x14); }
  /** f64x2.promote_low_f32x4 */
  promoteLow(): this { return this.simd(0x5f); }
  /** f32x4.demote_f64x2_zero */
  demoteZero(): this { return this.simd(0x5e); }
  /** v128.store64_lane: stores 8 bytes (lane 0 or 1 of an i64x2 view). */
  vStore64Lane(lane: number, offset = 0): this {
    this.simd(0x5b).memarg(3, offset);
    this.code.push(lane);
    return this;
  }
  lane(i: number): this { this.simd(0x21); this.code.push(i); return this; }
  replaceLane(i: number): this { this.simd(0x22); this.code.push(i); return this; }
  vadd(): this { return this.simd(0xf0); }
  vsub(): this { return this.simd(0xf1); }
  vmul(): this { return this.simd(0xf2); }

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
