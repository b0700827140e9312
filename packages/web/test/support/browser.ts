import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testTool } from '@aios/utils/testing';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); null when it is not installed. */
export const chromiumPath = testTool('chromium');

export const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath as string,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A screenshot of the whole page, kept under test-results/ (gitignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core on the page as it is: the serious and critical violations. axe is evaluated
 * through the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(context: Document): Promise<{ violations: Array<Record<string, unknown>> }> };
      }
    ).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({
      id: String(v.id),
      impact: (v.impact as string | null) ?? null,
      help: String(v.help),
      targets: (v.nodes as Array<{ target: string[] }>).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Every enabled, visible control of the page reached with the Tab key alone: presses Tab
 * until focus comes back round, and returns the controls never focused (by description).
 */
export async function unreachableByKeyboard(page: Page, maxPresses = 400): Promise<string[]> {
  // Start at the top: focus the body itself (made focusable for a moment).
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-kbd-seen]')) {
      el.removeAttribute('data-kbd-seen');
    }
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
  // Round once: until the first control is focused again. A control that keeps the focus
  // over several presses (the fields of a date input) is one control.
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press('Tab');
    const back = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement | null;
      if (!active || active === document.body) return false;
      const first = document.querySelector('[data-kbd-first]');
      if (first === null) active.setAttribute('data-kbd-first', '');
      const previous = document.querySelector('[data-kbd-last]');
      previous?.removeAttribute('data-kbd-last');
      active.setAttribute('data-kbd-last', '');
      const returned = first === active && previous !== active;
      active.setAttribute('data-kbd-seen', '');
      return returned;
    });
    if (back) break;
  }
  await page.evaluate(() => {
    for (const name of ['data-kbd-first', 'data-kbd-last']) {
      for (const el of document.querySelectorAll(`[${name}]`)) el.removeAttribute(name);
    }
  });
  return page.evaluate(() => {
    const controls = document.querySelectorAll<HTMLElement>(
      'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])',
    );
    const missed: string[] = [];
    const seenRadioGroups = new Set<string>();
    for (const el of controls) {
      if ((el as HTMLButtonElement).disabled) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      if (el.getClientRects().length === 0) continue;
      if (el.closest('dialog:not([open])')) continue;
      // A radio group is one Tab stop: the arrow keys move within it.
      if (el instanceof HTMLInputElement && el.type === 'radio') {
        if (seenRadioGroups.has(el.name)) continue;
        const group = document.querySelectorAll(`input[type=radio][name="${el.name}"]`);
        seenRadioGroups.add(el.name);
        if ([...group].some((r) => r.hasAttribute('data-kbd-seen'))) continue;
      } else if (el.hasAttribute('data-kbd-seen')) continue;
      missed.push(
        `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`,
      );
    }
    return missed;
  });
}
