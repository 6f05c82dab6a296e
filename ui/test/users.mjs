// End-to-end test of the users and keys page in headless Chromium, driven by Playwright. The
// Go test TestUIUsersInBrowser (internal/server/ui_browser_test.go) starts a real server and
// runs this with PADDOCK_URL and PADDOCK_KEY (the first admin's key).
import { launch, openPage, shot, step, url, key } from './harness.mjs';

const works = async k => (await fetch(`${url}/me`, { headers: { 'X-API-Key': k } })).status;

const browser = await launch();
const { page, failures } = await openPage(browser, { timeout: 30_000 });
try {
  step('an admin creates a user');
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes' }).waitFor();
  await page.getByRole('link', { name: 'Users & keys' }).click();
  await page.getByText('Signed in as admin@localhost (admin)').waitFor();
  await page.locator('#users tr[data-user="admin@localhost"]').waitFor();
  await page.getByLabel('Email').fill('bob@example.test');
  await page.getByLabel('Full name').fill('Bob');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.locator('#users tr[data-user="bob@example.test"] td:nth-child(2)', { hasText: /^Bob$/ }).waitFor();
  await shot(page, 'users');

  step('the admin edits users: a role, disabled, a quota, an error, a delete');
  await page.getByLabel('Email').fill('dan@example.test');
  await page.getByLabel('Full name').fill('Dan');
  await page.getByRole('button', { name: 'Create user' }).click();
  const dan = page.locator('#users tr[data-user="dan@example.test"]');
  await dan.waitFor();
  const mk = await fetch(`${url}/users/dan@example.test/keys`, { method: 'POST',
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: '{"name":"dan"}' });
  const danKey = (await mk.json()).data?.key;
  if (!danKey) throw new Error(`dan's key: ${mk.status}`);
  if (await works(danKey) !== 200) throw new Error('dan\'s key is not accepted');
  await page.getByRole('button', { name: 'Edit dan@example.test' }).click();
  const edit = page.locator('#edit-user');
  await edit.getByLabel('User role').selectOption('admin');
  await edit.getByRole('button', { name: 'Save user' }).click();
  await dan.locator('td:nth-child(3)', { hasText: /^admin$/ }).waitFor();
  await edit.getByRole('checkbox', { name: /Disabled/ }).check();
  await edit.getByRole('button', { name: 'Save user' }).click();
  await dan.locator('td:nth-child(5)', { hasText: /^yes$/ }).waitFor();
  if (await works(danKey) !== 401) throw new Error('a disabled user\'s key is still accepted');
  await page.getByRole('button', { name: 'Edit bob@example.test' }).click();
  await edit.locator('h3', { hasText: 'bob@example.test' }).waitFor();
  await edit.getByLabel('Running sandboxes').fill('2');
  await edit.getByRole('button', { name: 'Save quota' }).click();
  await edit.locator('[data-quota="sandboxes"]', { hasText: 'limit 2, in use 0' }).waitFor();
  await shot(page, 'users-edit');
  await page.getByRole('button', { name: 'Edit admin@localhost' }).click();
  await edit.getByLabel('User role').selectOption('user');
  await edit.getByRole('button', { name: 'Save user' }).click();
  await edit.locator('.error', { hasText: 'this is the last enabled admin' }).waitFor();
  if (!(await edit.getByRole('button', { name: 'Delete user' }).isDisabled())) throw new Error('an admin may delete themselves');
  await page.getByRole('button', { name: 'Edit dan@example.test' }).click();
  await edit.getByRole('button', { name: 'Delete user' }).click();
  await dan.waitFor({ state: 'detached' });
  if (await works(danKey) !== 401) throw new Error('a deleted user\'s key is still accepted');

  step('the user logs in, makes a key (shown once) and revokes it');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('tab', { name: 'Email and password' }).click();
  await page.getByLabel('Email').fill('bob@example.test');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  // The app stays on the page it was on: Users & keys.
  await page.getByText('Signed in as bob@example.test (user)').waitFor();
  if (await page.locator('#users').count()) throw new Error('a user sees the users table');
  await page.getByLabel('Key name').fill('ci');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('The key is shown once.').waitFor();
  const made = await page.locator('#new-key-value').inputValue();
  if (!/^e2b_[0-9a-f]{40}$/.test(made)) throw new Error(`new key: ${made}`);
  if (await works(made) !== 200) throw new Error('the new key is not accepted');
  const row = page.locator('#keys tbody tr', { hasText: 'ci' });
  await row.waitFor();
  await shot(page, 'keys');
  await page.getByRole('button', { name: 'Revoke ci' }).click();
  await row.waitFor({ state: 'detached' });
  if (await works(made) !== 401) throw new Error('the revoked key is still accepted');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  if (stored.includes(made)) failures.push('the new key was stored in the browser');
} catch (e) {
  failures.push(e.stack || String(e));
  await shot(page, 'users-failure').catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
