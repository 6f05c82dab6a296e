// The main path of the web UI in Firefox (Debian's firefox-esr), driven over WebDriver BiDi by
// puppeteer-core: log in, create a sandbox, `echo $((6*7))` in the terminal prints 42, delete
// it. TestUIInFirefox (internal/server/ui_browser_test.go) runs it with PADDOCK_URL and
// PADDOCK_KEY; Chromium runs the full suite (e2e.mjs).
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { url, key, step } from './harness.mjs';

const name = 'uifox';
const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr', headless: true,
  // No background traffic: the network here is loopback only.
  extraPrefsFirefox: { 'network.captive-portal-service.enabled': false, 'app.update.enabled': false },
});
let failed = '';
try {
  console.log(`browser: ${await browser.version()}`);
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  page.setDefaultTimeout(60_000);
  page.on('dialog', d => d.accept());
  page.on('pageerror', e => { failed ||= `page error: ${e.message}`; });

  step('log in');
  await page.goto(`${url}/ui/`);
  await page.locator('#key').fill(key);
  await page.locator('button[type="submit"]').click();
  await page.waitForSelector('#sb-h');

  step('create a sandbox');
  await page.locator('button[aria-expanded]').click();
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="ttl"]').fill('30m');
  await page.locator('form[aria-label="New sandbox"] button[type="submit"]').click();
  await page.waitForSelector('.bar .state.running');

  step('terminal: echo $((6*7)) prints 42');
  await page.locator('a[href$="/terminal"]').click();
  await page.waitForFunction(() => document.querySelector('#term-status')?.textContent.includes('connected'));
  await page.waitForFunction(() => /[$#]/.test(document.querySelector('.xterm-rows')?.textContent || ''));
  await page.locator('.xterm').click();
  await page.keyboard.type('echo $((6*7))\n');
  await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some(r => r.textContent.trim() === '42'));
  const shots = process.env.PADDOCK_TEST_SCREENSHOTS;
  if (shots) await page.screenshot({ path: join(shots, 'ui-firefox-terminal.png') });

  step('delete the sandbox and see it gone');
  await page.locator('h1 a').click(); // back to the list
  await page.waitForSelector(`tr[data-sandbox="${name}"]`);
  await page.locator(`button[aria-label="Delete ${name}"]`).click();
  await page.waitForSelector(`tr[data-sandbox="${name}"]`, { hidden: true });
} catch (e) {
  failed ||= e.stack || String(e);
} finally {
  await browser.close();
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
console.log('ok');
