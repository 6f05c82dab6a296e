// What the end-to-end scripts share: the environment the Go tests give them (PADDOCK_URL,
// PADDOCK_KEY, PADDOCK_TEST_SCREENSHOTS, CHROMIUM), Debian's Chromium launched headless with the
// flags this machine needs, and a page that logs what goes wrong.
import { chromium } from 'playwright-core';
import { join } from 'node:path';

export const url = process.env.PADDOCK_URL, key = process.env.PADDOCK_KEY;
const shots = process.env.PADDOCK_TEST_SCREENSHOTS;

export const step = msg => console.log(`step: ${msg}`);

/** shot saves a full-page screenshot as ui-<file>.png when PADDOCK_TEST_SCREENSHOTS is set. */
export const shot = async (page, file) => {
  if (shots) await page.screenshot({ path: join(shots, `ui-${file}.png`), fullPage: true });
};

/** launch starts headless Chromium (without the background traffic a closed network refuses). */
export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

/**
 * openPage opens a 1280x860 page that accepts dialogs, logs console errors (and, with
 * logAnswers, every 4xx/5xx answer) and collects page errors into failures.
 */
export async function openPage(browser, { timeout = 60_000, logAnswers = false } = {}) {
  const failures = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(timeout);
  page.on('dialog', d => d.accept());
  page.on('console', m => { if (m.type() === 'error') console.log(`browser console: ${m.text()}`); });
  page.on('pageerror', e => failures.push(`page error: ${e.message}`));
  if (logAnswers) {
    page.on('response', r => { if (r.status() >= 400) console.log(`answer: ${r.status()} ${r.request().method()} ${r.url()}`); });
  }
  return { page, failures };
}
