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

  step('a session with options: a file, two tools, thinking, max turns');
  await page.getByRole('link', { name: 'New run' }).click();
  await page.getByLabel('Prompt').fill('What does notes.txt say?');
  await page.getByText('Options').click();
  await page.getByLabel('Max turns').fill('4');
  await page.getByLabel('Thinking').selectOption('low');
  for (const t of ['write_file', 'edit_file', 'list_files', 'run_code', 'web_fetch']) await page.getByLabel(t, { exact: true }).uncheck();
  await page.getByLabel('Add files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from a file\n') });
  await page.locator('#run-files li[data-file="notes.txt"]').waitFor();
  await page.getByLabel('Keep as a session').check();
  await page.getByLabel('Session name').fill('ui-session');
  await shot(page, 'runs-options');
  await page.getByRole('button', { name: 'Run' }).click();
  await out.locator('.tool', { hasText: 'read_file' }).locator('pre', { hasText: 'hello from a file' }).waitFor();
  await out.locator('p.assistant', { hasText: 'It says hello.' }).waitFor();
  await out.locator('#run-result').waitFor();

  step('the session is listed, opens, continues and ends');
  const srow = page.locator('#sessions tbody tr', { hasText: 'ui-session' });
  await srow.waitFor();
  await page.getByRole('button', { name: 'Open session ui-session' }).click();
  const sess = page.locator('#session');
  await sess.locator('#session-runs li', { hasText: 'What does notes.txt say?' }).waitFor();
  await sess.getByLabel('Next message').fill('And again?');
  await sess.getByRole('button', { name: 'Send' }).click();
  await sess.locator('#session-output p.assistant', { hasText: 'Still hello.' }).waitFor();
  await sess.locator('#session-runs li', { hasText: 'And again?' }).waitFor();
  await srow.locator('td:nth-child(3)', { hasText: /^2$/ }).waitFor();
  await shot(page, 'runs-session');
  await sess.getByRole('button', { name: 'End session' }).click();
  await srow.locator('.state', { hasText: 'ended' }).waitFor();
  if (await sess.getByLabel('Next message').count()) throw new Error('an ended session takes messages');
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
