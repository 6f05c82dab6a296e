// End-to-end test of the agents pages in headless Chromium, driven by Playwright. The Go test
// TestUIAgentsInBrowser (internal/server/ui_browser_test.go) starts a real server (runc, an SSH
// gateway) and runs this with PADDOCK_URL, PADDOCK_KEY and, optionally, PADDOCK_TEST_SCREENSHOTS.
import { launch, openPage, shot, step, url, key } from './harness.mjs';
import { readFile } from 'node:fs/promises';

const name = 'ui-agent';

const browser = await launch();
const { page, failures } = await openPage(browser, { logAnswers: true });
try {
  step('log in and open Agents');
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes' }).waitFor();
  await page.getByRole('link', { name: 'Agents', exact: true }).click();
  await page.getByText('0 agents').waitFor();

  step('create a shell agent and see it running');
  await page.getByRole('button', { name: 'New agent' }).click();
  await page.getByLabel('Name').fill('UI Agent');
  await page.getByText('Will be named').waitFor();
  await page.getByLabel('Runtime').fill('shell');
  await page.getByLabel('Memory').fill('512m');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: `Agents / ${name}` }).waitFor();
  await page.locator('.bar .state.running').waitFor();

  step('live stats');
  await page.locator('#agent-stats dd', { hasText: / %$/ }).first().waitFor();
  await page.locator('#agent-stats dt', { hasText: 'Uptime' }).waitFor();
  const up1 = await page.locator('#agent-stats dt:has-text("Uptime") + dd').textContent();
  await page.waitForFunction(u => document.querySelector('#agent-stats dt:nth-of-type(4) + dd')?.textContent !== u, up1);
  await shot(page, 'agent');

  step('logs');
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.locator('#agent-logs').filter({ hasNotText: 'Loading…' }).waitFor();
  console.log(`logs: ${JSON.stringify((await page.locator('#agent-logs').textContent()).slice(0, 200))}`);

  step('a schedule fires a command in the workspace');
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('button', { name: 'Turn autonomy on' }).click();
  await page.getByRole('button', { name: 'Turn autonomy off' }).waitFor();
  await page.getByRole('link', { name: 'Schedules' }).click();
  await page.getByLabel('Schedule name').fill('tick');
  await page.getByLabel('Cron').fill('@every 2s');
  await page.getByLabel('Command', { exact: true }).fill('echo tick-$((6*7)) | tee note.txt');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  await page.locator('tr[data-schedule="tick"]').waitFor();
  await page.locator('#executions td pre', { hasText: 'tick-42' }).first().waitFor();
  await shot(page, 'agent-schedules');

  step('the workspace tree and a download');
  await page.getByRole('link', { name: 'Files' }).click();
  await page.locator('tr[data-path="note.txt"]').waitFor();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download note.txt' }).click()]);
  const got = await readFile(await dl.path(), 'utf8');
  if (got !== 'tick-42\n') throw new Error(`downloaded note.txt: ${JSON.stringify(got)}`);
  await shot(page, 'agent-files');

  step('delete the schedule');
  await page.getByRole('link', { name: 'Schedules' }).click();
  await page.getByRole('button', { name: 'Delete schedule tick' }).click();
  await page.locator('tr[data-schedule="tick"]').waitFor({ state: 'detached' });

  step('SSH access: the command, and the private key once');
  await page.getByRole('link', { name: 'SSH' }).click();
  await page.getByRole('button', { name: 'Get SSH access' }).click();
  await page.locator('#ssh-cmd', { hasText: `${name}@127.0.0.1` }).waitFor();
  await page.getByText('The private key is shown once.').waitFor();
  const pem = await page.getByLabel('Private key').inputValue();
  if (!pem.includes('BEGIN OPENSSH PRIVATE KEY')) throw new Error(`private key: ${pem.slice(0, 60)}`);
  await shot(page, 'agent-ssh');
  if (JSON.stringify(await page.evaluate(() => ({ ...localStorage, ...sessionStorage }))).includes('PRIVATE KEY')) {
    failures.push('the private key was stored in the browser');
  }

  step('credentials: inject a file, listed without its content; export the bundle');
  const secret = 'TOKEN=s3cret-ui-value';
  await page.getByRole('link', { name: 'Credentials' }).click();
  await page.getByLabel('Path in the workspace').fill('.env');
  await page.getByLabel('Content').fill(`${secret}\n`);
  await page.getByRole('button', { name: 'Inject' }).click();
  await page.getByText('Wrote .env.').waitFor();
  await page.locator('#credentials tr[data-cred=".env"] td:nth-child(2)', { hasText: 'yes' }).waitFor();
  await page.getByText('1 KEY=VALUE lines').waitFor();
  if ((await page.content()).includes('s3cret-ui-value')) throw new Error('the credential content is shown back');
  await page.getByRole('button', { name: 'Export' }).click();
  await page.getByText(/Exported \d+ files to \.credentials\.enc/).waitFor();
  if (!(await page.getByLabel(/^Bundle/).inputValue()).includes('AES-256-GCM')) throw new Error('no bundle after export');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByText('Imported .env.').waitFor();
  await shot(page, 'agent-credentials');

  step('share with a second user, then unshare');
  const made = await fetch(`${url}/users`, { method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'carol@example.test', role: 'user' }) });
  if (made.status !== 201) throw new Error(`create user: ${made.status} ${await made.text()}`);
  await page.getByRole('link', { name: 'Sharing' }).click();
  await page.getByLabel('Share with (email)').fill('nobody@example.test');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.locator('p.error', { hasText: /not found|no user|unknown/i }).waitFor();
  await page.getByLabel('Share with (email)').fill('carol@example.test');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.locator('#shares tr[data-share="carol@example.test"]').waitFor();
  await shot(page, 'agent-sharing');
  {
    // Carol sees the agent, is told she may not change it, and the server's refusal shows.
    const mk = await fetch(`${url}/users/carol@example.test/keys`, { method: 'POST',
      headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: '{"name":"carol"}' });
    const carolKey = (await mk.json()).data?.key;
    if (!carolKey) throw new Error(`carol's key: ${mk.status}`);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p2 = await ctx.newPage();
    p2.setDefaultTimeout(60_000);
    await p2.goto(`${url}/ui/`);
    await p2.getByLabel('API key').fill(carolKey);
    await p2.getByRole('button', { name: 'Log in' }).click();
    await p2.getByRole('heading', { name: 'Sandboxes' }).waitFor();
    await p2.goto(`${url}/ui/agents/${name}/settings`);
    await p2.getByText('This agent is shared with you').waitFor();
    if (await p2.getByRole('button', { name: `Delete ${name}` }).count()) throw new Error('a shared user is offered Delete');
    await p2.getByLabel('Add tags').fill('mine');
    await p2.getByRole('button', { name: 'Add', exact: true }).click();
    await p2.locator('[role=alert]', { hasText: /owner|permission|forbidden|not allowed/i }).waitFor();
    await shot(p2, 'agent-shared');
    await ctx.close();
  }
  await page.getByRole('button', { name: 'Unshare carol@example.test' }).click();
  await page.locator('#shares tr[data-share="carol@example.test"]').waitFor({ state: 'detached' });

  step('settings: a tag, the timeout, read-only mode, a shared folder, then rename');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Add tags').fill('Research, ui-test');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.locator('#agent-tags li[data-tag="research"]').waitFor();
  await page.locator('#agent-tags li[data-tag="ui-test"]').waitFor();
  await page.getByRole('button', { name: 'Remove tag ui-test' }).click();
  await page.locator('#agent-tags li[data-tag="ui-test"]').waitFor({ state: 'detached' });
  await page.getByLabel('Minutes').fill('30');
  await page.getByRole('button', { name: 'Save timeout' }).click();
  await page.getByText('Saved.').waitFor();
  await page.getByLabel('Allowed patterns (one a line)').fill('output/*\n*.log');
  await page.getByRole('button', { name: 'Turn read-only on' }).click();
  await page.getByText(/Read-only mode enabled/).waitFor({ timeout: 90_000 });
  await page.locator('#ro-state', { hasText: 'On' }).waitFor();
  await page.getByText('Writable: output').waitFor();
  // The box shows the server's state: it turns on when the server's answer comes.
  await page.getByRole('checkbox', { name: /Expose/ }).click();
  await page.locator('#folders input[type=checkbox]:checked').waitFor();
  await page.locator('#folders').getByText('Restart the agent to apply the change.').waitFor();
  await shot(page, 'agent-settings');
  await page.getByRole('button', { name: 'Turn read-only off' }).click();
  await page.locator('#ro-state', { hasText: 'Off' }).waitFor({ timeout: 90_000 });
  const renamed = 'ui-agent-2';
  await page.getByLabel('New name').fill('UI Agent 2');
  await page.getByText(`Will be named ${renamed}`).waitFor();
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('heading', { name: `Agents / ${renamed}` }).waitFor();
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('.kv dt:has-text("Execution timeout") + dd', { hasText: '30m' }).waitFor();

  step('the list, filtered by tag, then delete the agent');
  await page.getByRole('link', { name: 'Agents', exact: true }).first().click();
  const row = page.locator(`tr[data-agent="${renamed}"]`);
  await row.waitFor();
  await page.getByLabel('Tags').fill('nosuchtag');
  await page.getByText('0 agents tagged nosuchtag').waitFor();
  await page.getByLabel('Tags').fill('research');
  await row.waitFor();
  await page.getByText('1 agent tagged research').waitFor();
  await row.locator('.state.running').waitFor();
  await row.locator('td:nth-child(6)', { hasText: /^on$/ }).waitFor(); // autonomy
  await shot(page, 'agents');
  await page.getByRole('button', { name: `Delete ${renamed}` }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByText('0 agents').waitFor();
} catch (e) {
  failures.push(e.stack || String(e));
  await shot(page, 'agents-failure').catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
