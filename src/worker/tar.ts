/**
 * A small streaming reader for (ustar / GNU / pax) tar archives: feed it chunks, it calls back with
 * each regular file whose name `want` accepts (other files are skipped without being kept).
 */
export interface TarEntry {
  name: string;
  bytes: Uint8Array;
}

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const BLOCK = 512;

function cString(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(start, end));
}

function octal(b: Uint8Array, start: number, len: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set.
  if (b[start] & 0x80) {
    let v = b[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cString(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad number field '${s}' in a tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  try {
    return sum === octal(h, 148, 8);
  } catch {
    return false;
  }
}

export class TarReader {
  private buf = new Uint8Array(0);
  private state: 'header' | 'data' | 'skip' | 'end' = 'header';
  private remaining = 0;
  private padding = 0;
  private current: { name: string; size: number; out: Uint8Array | null; at: number } | null = null;
  private longName: string | null = null;
  private paxName: string | null = null;
  private headers = 0;

  constructor(
    private readonly onEntry: (e: TarEntry) => void,
    private readonly want: (name: string) => boolean = () => true,
  ) {}

  push(chunk: Uint8Array): void {
    let data = chunk;
    if (this.buf.length) {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      data = joined;
      this.buf = new Uint8Array(0);
    }
    let at = 0;
    while (at < data.length && this.state !== 'end') {
      if (this.state === 'header') {
        if (data.length - at < BLOCK) break;
        this.header(data.subarray(at, at + BLOCK));
        at += BLOCK;
      } else {
        // file data (kept or skipped), then padding to the next block
        const take = Math.min(this.remaining, data.length - at);
        const c = this.current!;
        if (take > 0 && c.out) c.out.set(data.subarray(at, at + take), c.at);
        c.at += take;
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) {
          const skip = Math.min(this.padding, data.length - at);
          this.padding -= skip;
          at += skip;
          if (this.padding === 0) this.finishEntry();
          else if (at >= data.length) break;
        }
      }
    }
    if (at < data.length && this.state !== 'end') this.buf = data.slice(at);
  }

  /** Call after the last chunk: throws when the archive stopped in the middle of a file. */
  end(): void {
    if (this.state === 'data' || this.state === 'skip' || this.buf.length > 0) {
      throw new TarFormatError(`the tar archive is truncated${this.current ? ` (in ${this.current.name})` : ''}`);
    }
    if (this.headers === 0) throw new TarFormatError('the archive is empty: not a tar file');
  }

  private header(h: Uint8Array): void {
    if (h.every((x) => x === 0)) {
      // end-of-archive marker (two zero blocks; one is enough to stop)
      this.state = 'end';
      return;
    }
    if (!checksumOk(h)) throw new TarFormatError('bad tar header checksum: not a tar archive, or a corrupt one');
    this.headers++;
    const type = String.fromCharCode(h[156] || 48);
    const size = octal(h, 124, 12);
    let name = cString(h, 0, 100);
    if (cString(h, 257, 6) === 'ustar') {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.longName !== null) name = this.longName;
    if (this.paxName !== null) name = this.paxName;
    const meta = type === 'L' || type === 'x';
    if (!meta) {
      this.longName = null;
      this.paxName = null;
    }
    const keep = meta || ((type === '0' || type === '7') && this.want(name));
    this.current = { name: meta ? `\0${type}` : name, size, out: keep ? new Uint8Array(size) : null, at: 0 };
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = keep ? 'data' : 'skip';
    if (size === 0) this.finishEntry();
  }

  private finishEntry(): void {
    const c = this.current!;
    this.state = 'header';
    this.current = null;
    if (!c.out) return;
    if (c.name === '\0L') {
      this.longName = cString(c.out, 0, c.out.length);
    } else if (c.name === '\0x') {
      const text = new TextDecoder().decode(c.out);
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
      if (m) this.paxName = m[1];
    } else {
      this.onEntry({ name: c.name, bytes: c.out });
    }
  }
}
