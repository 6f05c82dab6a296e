// End-to-end test of the runs page in headless Chromium, driven by Playwright. The Go test
// TestUIRunsInBrowser (internal/server/ui_browser_test.go) starts a real server (runc) whose
// model is the Anthropic test double, and runs this with PADDOCK_URL and PADDOCK_KEY.
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const url = process.env.PADDOCK_URL, key = process.env.PADDOCK_KEY;
const shots = process.env.PADDOCK_TEST_SCREENSHOTS;
const step = msg => console.log(`step: ${msg}`);
const shot = async (page, file) => { if (shots) await page.screenshot({ path: join(shots, `ui-${file}.png`), fullPage: true }); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const failures = [];
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
try {
  page.setDefaultTimeout(60_000);
  page.on('console', m => { if (m.type() === 'error') console.log(`browser console: ${m.text()}`); });
  page.on('pageerror', e => failures.push(`page error: ${e.message}`));
  page.on('response', r => { if (r.status() >= 400) console.log(`answer: ${r.status()} ${r.request().method()} ${r.url()}`); });

  step('log in and open Runs');
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes' }).waitFor();
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  await page.getByRole('heading', { name: 'History' }).waitFor();

  step('a run streams its text, its tool call and its cost');
  await page.getByLabel('Prompt').fill('What is 6*7? Use bash.');
  await page.getByRole('button', { name: 'Run' }).click();
  const out = page.locator('#run-output');
  await out.locator('p.assistant', { hasText: 'Let me compute it.' }).waitFor();
  await out.locator('.tool', { hasText: 'bash' }).locator('pre', { hasText: /stdout:\s*42\s*$/ }).waitFor();
  await out.locator('p.assistant', { hasText: 'The answer is 42.' }).waitFor();
  const result = await out.locator('#run-result').textContent();
  console.log(`result: ${result}`);
  if (!/Done \(success\): 2 turns/.test(result) || !/cost (\$|<\$)/.test(result)) throw new Error(`result line: ${result}`);
  await shot(page, 'runs');

  step('the run is in the history and opens again');
  const row = page.locator('#runs tbody tr', { hasText: 'What is 6*7?' });
  await row.locator('.state', { hasText: 'completed' }).waitFor();
  await row.getByRole('link').click();
  await page.getByText('Prompt: What is 6*7? Use bash.').waitFor();
  await out.locator('p.assistant', { hasText: 'The answer is 42.' }).waitFor();
  await out.locator('#run-result').waitFor();
} catch (e) {
  failures.push(e.stack || String(e));
  await shot(page, 'runs-failure').catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
