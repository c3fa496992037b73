import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One broken rule: its id, why, and the elements (a CSS selector and the check's message each). */
export interface Violation {
  rule: string;
  help: string;
  nodes: string[];
}

/**
 * An accessibility audit of the page as it is now: axe-core's WCAG 2.1 A and AA rules. The audit script is
 * evaluated through the DevTools protocol, which the page's CSP (no inline or eval'd scripts) does not
 * govern. Empty when nothing is broken.
 */
export async function auditPage(page: Page): Promise<Violation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; help: string; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ rule: v.id, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.failureSummary ?? '').split('\n').slice(1).join(' ').trim()}`) }));
  });
}

/** Chart bodies that reach into their card's caption (a placeholder or an overlay drawn over the text below it). */
export async function bodiesOverCaptions(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('figure.card')].flatMap((card) => {
      const caption = card.querySelector('figcaption')?.getBoundingClientRect();
      if (!caption) return [];
      return [...card.querySelectorAll('.card-body .empty, .card-body .overlay, .card-body .sized')]
        .filter((el) => el.getBoundingClientRect().bottom > caption.top + 0.5 && el.getBoundingClientRect().height > 0)
        .map((el) => `${card.getAttribute('aria-label')}: ${el.className} reaches into the caption (${Math.round(el.getBoundingClientRect().bottom - caption.top)} px)`);
    }),
  );
}
