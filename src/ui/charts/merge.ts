/**
 * Merges several x-keyed series into one row array sorted by x (rows with the same x are combined).
 * Recharts charts fed one `data` array re-register far less on updates than lines with their own data.
 */
export function mergeByX(...series: { x: number; [k: string]: number | null | undefined }[][]): Record<string, number | null | undefined>[] {
  const rows = new Map<number, Record<string, number | null | undefined>>();
  for (const s of series) {
    for (const p of s) {
      const row = rows.get(p.x);
      if (row) Object.assign(row, p);
      else rows.set(p.x, { ...p });
    }
  }
  return [...rows.values()].sort((a, b) => (a.x as number) - (b.x as number));
}
