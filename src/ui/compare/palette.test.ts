import { describe, expect, it } from 'vitest';
import { palette, PALETTE, safeColor } from './palette';

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

describe('palette', () => {
  it('gives 8 different colours, then cycles', () => {
    const eight = Array.from({ length: 8 }, (_, i) => palette(i));
    expect(new Set(eight).size).toBe(8);
    eight.forEach((c) => expect(c).toMatch(/^#[0-9A-F]{6}$/i));
    expect(palette(8)).toBe(palette(0));
    expect(palette(-1)).toBe(palette(7));
    expect(palette(Number.NaN)).toBe(palette(0));
  });

  it('keeps the colours apart (no two nearly the same) and visible on white', () => {
    for (let i = 0; i < PALETTE.length; i++) {
      const a = rgb(PALETTE[i]);
      // Not too light for a thin line on a white page.
      expect(Math.min(...a)).toBeLessThan(200);
      for (let j = i + 1; j < PALETTE.length; j++) {
        const b = rgb(PALETTE[j]);
        expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeGreaterThan(60);
      }
    }
  });

  it('accepts plain CSS colours only', () => {
    expect(safeColor('#123abc', 3)).toBe('#123abc');
    expect(safeColor(' rgb(1, 2, 3) ', 0)).toBe('rgb(1, 2, 3)');
    expect(safeColor('teal', 0)).toBe('teal');
    expect(safeColor('red;background:url(x)', 2)).toBe(palette(2));
    expect(safeColor('', 1)).toBe(palette(1));
  });
});
