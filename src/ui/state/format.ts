/** 125490000 → "125.49M", 849000 → "0.849M" style compact numbers (MACs, parameters). */
export function fmtCount(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return String(Math.round(x));
}

/** Relative change, e.g. −55.3%. */
export function fmtReduction(dense: number, compact: number): string {
  if (!(dense > 0)) return '';
  const r = (compact / dense - 1) * 100;
  return `${r <= 0 ? '−' : '+'}${Math.abs(r).toFixed(1)}%`;
}

export function fmtPct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/** How much of a load is done, in MB: "12.3 of 178.0 MB", "12.3 MB" without a total; null when nothing is counted. */
export function fmtAmount(loaded: number, total: number | null): string | null {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  if (total !== null && total > 0) return `${mb(loaded)} of ${mb(total)} MB`;
  return loaded > 0 ? `${mb(loaded)} MB` : null;
}

/** 95 → "1 min 35 s", 5400 → "1 h 30 min", 200000 → "2.3 days". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  if (seconds < 86400 * 2) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds - h * 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  if (seconds < 86400 * 365) return `${(seconds / 86400).toFixed(1)} days`;
  return `${(seconds / (86400 * 365)).toFixed(1)} years`;
}

/** Short number for axes/tooltips: 3 significant digits, scientific for tiny/huge. */
export function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(1);
  return String(Number(x.toPrecision(digits)));
}
