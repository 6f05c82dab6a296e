// End-to-end test of the runs page in headless Chromium, driven by Playwright. The Go test
// TestUIRunsInBrowser (internal/server/ui_browser_test.go) starts a real server (runc) whose
// model is the Anthropic test double, and runs this with PADDOCK_URL and PADDOCK_KEY.
import { launch, openPage, shot, step, url, key } from './harness.mjs';

const browser = await launch();
const { page, failures } = await openPage(browser, { logAnswers: true });
try {
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
