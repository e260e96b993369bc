import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Browser } from 'playwright-core';
import { tempStore } from '../common.js';
import type { Scenario } from '../harness.js';
import { BIN, memoryOf, spawnTracked, stopChild } from '../processes.js';
import { CHROMIUM_PATH } from '../../helpers/browser.js';
import { buildStore } from './store.js';

/** What the page's clock says (ms since navigation started), set by an init script in the page. */
interface PageMarks {
  firstRow: number | null;
  /** The first row shown selected (the page selects the newest event itself). */
  firstSelected: number | null;
  listReady: number | null;
}

// Runs in the page before its scripts: notes when the first row and the loaded list count are
// painted (the frame after the DOM change: requestAnimationFrame, then a task).
const MARKS_SCRIPT = `(() => {
  const marks = (window.__benchMarks = { firstRow: null, firstSelected: null, listReady: null });
  const painted = (key) => requestAnimationFrame(() => setTimeout(() => { if (marks[key] === null) marks[key] = performance.now(); }, 0));
  let rowSeen = false, selectedSeen = false, listSeen = false;
  new MutationObserver(() => {
    if (!rowSeen && document.querySelector('.row')) { rowSeen = true; painted('firstRow'); }
    if (!selectedSeen && document.querySelector('.row.selected')) { selectedSeen = true; painted('firstSelected'); }
    const count = document.querySelector('[data-testid="list-count"]');
    if (!listSeen && count && /^\\d+ events$/.test(count.textContent.trim())) { listSeen = true; painted('listReady'); }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class'] });
})();`;

/** `mftg-hooks inspect` of the built bin on `dir`, resolved once it printed its URL. */
async function startInspect(dir: string): Promise<{ url: string; pid: number; startMs: number; stop: () => Promise<number | null> }> {
  const started = performance.now();
  // No MFTG credentials: opening details must not reach a real MFTG API from a benchmark.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of ['MFTG_API_USERNAME', 'MFTG_API_PASSWORD', 'MFTG_API_TOKEN', 'MFTG_HOOKS_API_URL']) delete env[name];
  const child = spawnTracked(process.execPath, [BIN, 'inspect', '--store', dir, '--inspect', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8_000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mftg-hooks inspect printed no URL within 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mftg-hooks inspect exited (${code}); stderr: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child, 'SIGKILL');
    throw error;
  });
  return { url, pid: child.pid!, startMs: performance.now() - started, stop: () => stopChild(child) };
}

interface PageFigures {
  listReady: number;
  firstRow: number;
  /** From the keydown of `j` to the next row shown selected. */
  j: number;
  /** From the keydown of `j` to that event's details shown. */
  jDetails: number;
  /** Navigation → the first row selected, plus `j` → its details shown: when a key is first answered. */
  interactive: number;
  /** Most `.row` elements in the DOM: after loading, after `j`, scrolled to the middle. */
  rows: number;
  rss: number;
}

/** Opens the page in a fresh context and measures it; `events` tells what to wait for. */
async function measurePage(browser: Browser, dir: string, events: number): Promise<PageFigures> {
  const inspect = await startInspect(dir);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    await context.addInitScript({ content: MARKS_SCRIPT });
    const page = await context.newPage();
    await page.goto(inspect.url);
    await page.waitForFunction(() => (window as unknown as { __benchMarks: PageMarks }).__benchMarks.listReady !== null, undefined, { timeout: 60_000 });
    const none: PageFigures = { listReady: 0, firstRow: Number.NaN, j: Number.NaN, jDetails: Number.NaN, interactive: Number.NaN, rows: 0, rss: 0 };
    if (events === 0) {
      const marks = await page.evaluate(() => (window as unknown as { __benchMarks: PageMarks }).__benchMarks);
      return { ...none, listReady: marks.listReady!, rss: (await memoryOf(inspect.pid)).rssMb };
    }
    await page.waitForFunction(() => (window as unknown as { __benchMarks: PageMarks }).__benchMarks.firstSelected !== null, undefined, { timeout: 60_000 });
    const countRows = (): Promise<number> => page.locator('.row').count();
    let rows = await countRows();
    // Armed in the page, then `j` is pressed: timed from its keydown to the painted answer.
    await page.evaluate(() => {
      const w = window as unknown as { __jAnswer: Promise<{ j: number; jDetails: number }> };
      w.__jAnswer = new Promise((resolve) => {
        const before = document.querySelector<HTMLElement>('.row.selected')?.dataset.id;
        let pressed: number | null = null;
        let selectedAt: number | null = null;
        window.addEventListener(
          'keydown',
          (event) => {
            if (event.key === 'j') pressed = performance.now();
          },
          { capture: true, once: true },
        );
        const check = (): void => {
          const now = document.querySelector<HTMLElement>('.row.selected')?.dataset.id;
          if (pressed === null || !now || now === before) return;
          if (selectedAt === null) requestAnimationFrame(() => setTimeout(() => (selectedAt ??= performance.now()), 0));
          const shown = document.querySelector('[data-testid="details"] .detail-title code')?.textContent === now;
          if (!shown) return;
          observer.disconnect();
          requestAnimationFrame(() =>
            setTimeout(() => {
              const at = performance.now();
              resolve({ j: (selectedAt ?? at) - pressed!, jDetails: at - pressed! });
            }, 0),
          );
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class'] });
      });
    });
    await page.keyboard.press('j');
    const answer = await page.evaluate(() => (window as unknown as { __jAnswer: Promise<{ j: number; jDetails: number }> }).__jAnswer);
    rows = Math.max(rows, await countRows());
    await page.getByTestId('list').evaluate((list) => {
      list.scrollTop = list.scrollHeight / 2;
    });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
    rows = Math.max(rows, await countRows());
    const marks = await page.evaluate(() => (window as unknown as { __benchMarks: PageMarks }).__benchMarks);
    const memory = await memoryOf(inspect.pid);
    // The harness's own round trips between the first selection and the key press are not the page's.
    return { listReady: marks.listReady!, firstRow: marks.firstRow!, j: answer.j, jDetails: answer.jDetails, interactive: marks.firstSelected! + answer.jDetails, rows, rss: memory.rssMb };
  } finally {
    await context.close();
    const code = await inspect.stop();
    if (code !== 0) throw new Error(`mftg-hooks inspect exited ${String(code)}`);
  }
}

/**
 * the web inspector on a 10,000-event store — interactive ≤ 2 s, < 300 rows in the
 * DOM. The built `mftg-hooks inspect` on the store, a real Chromium; times on the page's own clock
 * from navigation start. Baseline: the same on an empty store, alternating rounds.
 */
export const webScenario: Scenario = {
  name: 'web',
  title: 'web inspector (mftg-hooks inspect + Chromium) on a store of 10,000 events',
  metrics: [
    { id: 'interactive', label: 'web UI: interactive (navigation → first row selected, + `j` → details)', unit: 'ms', target: { op: '<=', value: 2_000 } },
    { id: 'firstRow', label: 'web UI: navigation → first row painted', unit: 'ms' },
    { id: 'listReady', label: 'web UI: navigation → whole list loaded', unit: 'ms' },
    { id: 'j', label: 'web UI: `j` → next row selected (painted)', unit: 'ms' },
    { id: 'jDetails', label: 'web UI: `j` → its details shown', unit: 'ms' },
    { id: 'rows', label: 'web UI: most .row elements in the DOM (< 300)', unit: 'events', target: { op: '<=', value: 299 } },
    { id: 'rss', label: 'web UI: inspect process RSS with the page open', unit: 'MB' },
    { id: 'emptyListReady', label: 'web UI: navigation → list loaded, empty store (baseline)', unit: 'ms' },
    { id: 'emptyRss', label: 'web UI: inspect RSS, empty store (baseline)', unit: 'MB' },
  ],
  async run(ctx, out) {
    if (!existsSync(CHROMIUM_PATH)) {
      out.note(`web UI not measured: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set MFTG_HOOKS_CHROMIUM)`);
      return;
    }
    const count = ctx.quick ? 100 : 10_000;
    const rounds = ctx.quick ? 1 : ctx.rounds;
    const store = await tempStore();
    const empty = await tempStore();
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    try {
      const built = await buildStore(store.path, count);
      out.note(
        `${count} MFTG events (one attempt each) written in ${(built.ms / 1000).toFixed(1)} s; a fresh \`mftg-hooks inspect\` and browser context per measurement; times on the page's clock from navigation start`,
      );
      if (!ctx.quick) {
        await measurePage(browser, store.path, count);
        await measurePage(browser, empty.path, 0);
      }
      for (let round = 0; round < rounds; round++) {
        const full = await measurePage(browser, store.path, count);
        const baseline = await measurePage(browser, empty.path, 0);
        out.round({ ...full, emptyListReady: baseline.listReady, emptyRss: baseline.rss });
      }
    } finally {
      await browser.close();
      await store.cleanup();
      await empty.cleanup();
    }
  },
};
