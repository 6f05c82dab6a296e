// End-to-end test of the web UI in headless Chromium, driven by Playwright. The Go test
// TestUIInBrowser (internal/server/ui_browser_test.go) starts a real server and runs this
// with PADDOCK_URL, PADDOCK_KEY and, optionally, PADDOCK_TEST_SCREENSHOTS.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { launch, openPage, shot, step, url, key } from './harness.mjs';

const name = 'uitest';
// A page the sandbox serves on Paddock's own origin, trying to read the UI's key.
const APP = `<!doctype html><title>app</title><p id="r">pending</p><script>
let r; try { r = 'read: ' + sessionStorage.getItem('paddock.key'); } catch (e) { r = 'blocked: ' + e.name; }
document.getElementById('r').textContent = r;
</script>`;

const browser = await launch();
const { page, failures } = await openPage(browser);
try {
  step('a wrong key shows an error');
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API key').fill('e2b_wrong');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  await shot(page, 'login');

  step('log in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Sandboxes' }).waitFor();
  if (page.url().includes(key)) throw new Error('the key is in the URL');

  step('create a sandbox');
  await page.getByRole('button', { name: 'New sandbox' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('TTL').fill('30m');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('.bar .state.running').waitFor();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.locator('#audit td', { hasText: 'sandbox_created' }).first().waitFor();
  await shot(page, 'detail');

  step('extend, pause and resume');
  await page.getByRole('button', { name: `Extend ${name} by 1 hour` }).click();
  await page.locator('dd', { hasText: '(in 1h' }).waitFor();
  await page.getByRole('button', { name: `Pause ${name}` }).click();
  await page.locator('.bar .state.paused').waitFor();
  await page.getByRole('button', { name: `Resume ${name}` }).click();
  await page.locator('.bar .state.running').waitFor();
  console.log(`after resume: expires ${await page.locator('dt:has-text("Expires") + dd').textContent()}`);

  step('terminal: echo $((6*7)) prints 42');
  // The test stands between the page and the server on the terminal's WebSocket, so that it
  // can cut the connection (a network blip) below.
  let attach;
  await page.routeWebSocket(/\/exec\/attach$/, ws => { attach = ws; ws.connectToServer(); });
  await page.getByRole('link', { name: 'Terminal' }).click();
  await page.locator('#term-status', { hasText: 'connected' }).waitFor();
  await page.locator('.xterm-rows', { hasText: '$' }).or(page.locator('.xterm-rows', { hasText: '#' })).first().waitFor();
  await page.keyboard.type('echo $((6*7))\n');
  await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some(r => r.textContent.trim() === '42'));
  await shot(page, 'terminal');

  step('terminal: reconnects after the connection drops');
  await attach.close({ code: 4000, reason: 'blip' });
  await page.locator('#term-status[data-connects="2"]', { hasText: 'Terminal: connected' }).waitFor();
  await page.keyboard.type('echo again-$((1+1))\n');
  await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some(r => r.textContent.trim() === 'again-2'));

  step('terminal: resizing the window resizes the terminal');
  const size = async () => {
    await page.keyboard.type('stty size\n');
    const rows = page.locator('.xterm-rows > div', { hasText: /^\d+ \d+\s*$/ });
    await rows.last().waitFor();
    return (await rows.last().textContent()).trim();
  };
  const before = await size();
  await page.setViewportSize({ width: 900, height: 860 });
  let after = before;
  for (let i = 0; i < 50 && after === before; i++) { await page.waitForTimeout(100); after = await size(); }
  console.log(`terminal size: ${before} -> ${after}`);
  if (after === before) throw new Error(`the terminal stayed ${before} after the window shrank`);
  await page.setViewportSize({ width: 1280, height: 860 });

  step('files: drop a file, see it in the tree');
  await page.getByRole('link', { name: 'Files' }).click();
  await page.locator('#files').waitFor();
  const dt = await page.evaluateHandle(APP => {
    const d = new DataTransfer();
    d.items.add(new File(['hello from the browser\n'], 'dropped.txt', { type: 'text/plain' }));
    d.items.add(new File([APP], 'app.html', { type: 'text/html' }));
    return d;
  }, APP);
  await page.dispatchEvent('#files', 'drop', { dataTransfer: dt });
  await page.locator('#files-msg', { hasText: 'Uploaded 2 files' }).waitFor();
  await page.locator('tr[data-path="/tmp/dropped.txt"]').waitFor();
  await page.getByRole('button', { name: 'dropped.txt', exact: true }).click();
  await page.locator('pre.file', { hasText: 'hello from the browser' }).waitFor();
  await shot(page, 'files');

  step('files: a 4 MB file downloads through a signed URL, streamed to disk');
  const made4 = await fetch(`${url}/sandboxes/${name}/exec`, {
    method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ command: ['sh', '-c', 'head -c 4194304 /dev/urandom > /tmp/big.bin && sha256sum /tmp/big.bin'] }),
  });
  const sum = (await made4.json()).data?.stdout?.split(' ')[0];
  if (!made4.ok || !sum) throw new Error(`make big.bin: ${made4.status}`);
  await page.getByRole('link', { name: 'Terminal' }).click(); // and back: the tree reloads
  await page.getByRole('link', { name: 'Files' }).click();
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download big.bin' }).click()]);
  if (!/\/sandboxes\/uitest\/files\/tmp\/big\.bin\?raw=1&download=/.test(dl.url())) throw new Error(`not a download URL: ${dl.url()}`);
  const got = createHash('sha256').update(await readFile(await dl.path())).digest('hex');
  console.log(`download: ${dl.suggestedFilename()} sha256 ${got.slice(0, 12)}… (sandbox ${sum.slice(0, 12)}…)`);
  if (got !== sum || dl.suggestedFilename() !== 'big.bin') throw new Error('the downloaded file differs');

  step('terminal: cat the uploaded file');
  await page.getByRole('link', { name: 'Terminal' }).click();
  await page.locator('#term-status', { hasText: 'connected' }).waitFor();
  await page.locator('.xterm-rows', { hasText: '$' }).or(page.locator('.xterm-rows', { hasText: '#' })).first().waitFor();
  await page.keyboard.type('cat /tmp/dropped.txt\n');
  await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some(r => r.textContent.trim() === 'hello from the browser'));

  step('code: a matplotlib plot shows as an image');
  await page.getByRole('link', { name: 'Code' }).click();
  await page.getByLabel('Cell 1').fill('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4])\nplt.title("from paddock")\nplt.show()');
  await page.locator('[data-cell="0"]').getByRole('button', { name: 'Run' }).click();
  await page.locator('[data-cell="0"] img[alt="plot"]').waitFor({ timeout: 120_000 });

  step('code: an HTML result shows in a sandboxed frame');
  await page.getByRole('button', { name: 'Add cell' }).click();
  await page.getByLabel('Cell 2').fill('class T:\n    def _repr_html_(self):\n        return "<table><tr><td>cell-html</td></tr></table><script>parent.document.title=1</script>"\nT()');
  await page.locator('[data-cell="1"]').getByRole('button', { name: 'Run' }).click();
  await page.locator('[data-cell="1"] iframe.html').waitFor();
  await page.frameLocator('[data-cell="1"] iframe.html').locator('td', { hasText: 'cell-html' }).waitFor();
  if (await page.title() !== 'Paddock') throw new Error('a script in an HTML result ran');

  step('code: a failing cell shows its traceback');
  await page.getByRole('button', { name: 'Add cell' }).click();
  await page.getByLabel('Cell 3').fill('def f():\n    return 1 / 0\nf()');
  await page.locator('[data-cell="2"]').getByRole('button', { name: 'Run' }).click();
  await page.locator('[data-cell="2"] .traceback', { hasText: 'ZeroDivisionError' }).waitFor();

  step('code: interrupt a long cell; the kernel keeps its state and is free at once');
  await page.getByRole('button', { name: 'Add cell' }).click();
  await page.getByLabel('Cell 4').fill('import time\nt0 = time.time()\ntime.sleep(60)');
  await page.locator('[data-cell="3"]').getByRole('button', { name: 'Run' }).click();
  await page.waitForTimeout(1500);
  await page.locator('[data-cell="3"]').getByRole('button', { name: 'Interrupt' }).click();
  await page.locator('[data-cell="3"] .error', { hasText: 'interrupted' }).waitFor();
  await page.getByRole('button', { name: 'Add cell' }).click();
  await page.getByLabel('Cell 5').fill('print("waited", int(time.time() - t0) < 20)');
  await page.locator('[data-cell="4"]').getByRole('button', { name: 'Run' }).click();
  await page.locator('[data-cell="4"] .out pre', { hasText: 'waited True' }).waitFor({ timeout: 20_000 });

  step('code: output streams while the cell runs');
  await page.evaluate(() => scrollTo(0, 0)); // see the frame's note below
  await page.getByRole('button', { name: 'Add cell' }).click();
  await page.getByLabel('Cell 6').fill('import time\nfor i in range(3): print(i); time.sleep(1)');
  // The page records each state the cell goes through (its output, whether it still runs):
  // streamed, one state shows "0" while the cell runs; answered at the end, none does.
  await page.evaluate(() => {
    const cell = document.querySelector('[data-cell="5"]');
    window.cellStates = [];
    new MutationObserver(() => {
      const out = [...cell.querySelectorAll('.out pre')].map(p => p.textContent).join('');
      const running = !!cell.querySelector('p[role="status"]');
      const last = window.cellStates[window.cellStates.length - 1];
      if (!last || last.out !== out || last.running !== running) window.cellStates.push({ out, running });
    }).observe(cell, { subtree: true, childList: true, characterData: true });
  });
  await page.locator('[data-cell="5"]').getByRole('button', { name: 'Run' }).click();
  await page.locator('[data-cell="5"] .out .muted', { hasText: 'success' }).waitFor();
  const states = await page.evaluate(() => window.cellStates);
  console.log(`cell states: ${JSON.stringify(states)}`);
  const first = states.findIndex(s => s.out.trim() === '0');
  if (first < 0 || !states[first].running) throw new Error('no state showed 0 while the cell ran');
  if (states[states.length - 1].out.trim() !== '0\n1\n2' || states[states.length - 1].running) throw new Error('the cell did not end with 0 1 2');
  await shot(page, 'code');

  step("a page served from the sandbox cannot read the UI's sessionStorage");
  if (await page.evaluate(() => sessionStorage.getItem('paddock.key')) !== key) throw new Error('the UI keeps no key in sessionStorage');
  // With the HTML result's frame (a sandboxed, out-of-process frame) on the page, headless
  // Chromium delivered Playwright's scroll-into-view click nowhere (no event reached the
  // document, 3 runs of 4); scrolled to the top first, the click lands on the link.
  await page.evaluate(() => scrollTo(0, 0));
  await page.getByRole('link', { name: 'Overview' }).click();
  // A web app in the sandbox (started through the API: a terminal's children end with it).
  const started = await fetch(`${url}/sandboxes/${name}/exec`, {
    method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ command: ['sh', '-c', 'cd /tmp && setsid python3 -m http.server 8080 >/dev/null 2>&1 &'] }),
  });
  if (!started.ok) throw new Error(`start the app: ${started.status} ${await started.text()}`);
  const href = await page.getByRole('link', { name: /^port 8080/ }).getAttribute('href');
  const app = new URL(href, url);
  app.pathname += 'app.html';
  let seen = '';
  for (let i = 0; i < 50 && !seen; i++) { // the server in the sandbox may still be starting
    const resp = await page.goto(app.href);
    if (resp.status() === 200) seen = await page.locator('#r').textContent();
    else { if (i === 49) console.log(`port route: ${resp.status()} ${await resp.text()}`); await page.waitForTimeout(200); }
  }
  const csp = (await page.context().request.get(app.href)).headers()['content-security-policy'] || '';
  console.log(`sandbox page: ${seen}; its CSP: ${csp}`);
  if (!seen.startsWith('blocked')) throw new Error(`the sandbox's page read the UI's storage: ${seen}`);
  await page.goto(`${url}/ui/activity`);

  step('activity and templates pages render');
  await page.locator('#events td', { hasText: 'sandbox_created' }).first().waitFor();
  await page.locator('#dashboard figure').first().waitFor();
  await page.waitForTimeout(5500); // a second metrics sample, so the rate charts have a line
  await shot(page, 'activity');
  await page.getByRole('link', { name: 'Templates & pools' }).click();
  await page.locator('#templates tbody tr').first().waitFor();
  await shot(page, 'templates');

  step('delete the sandbox and see it gone');
  await page.getByRole('link', { name: 'Sandboxes', exact: true }).click();
  await page.locator(`tr[data-sandbox="${name}"]`).waitFor();
  // Live CPU and memory use (Agent-Sandbox's metrics route), beside the limits.
  await page.locator(`tr[data-sandbox="${name}"] td:nth-child(7)`, { hasText: /^\d.* \/ 512 MiB$/ }).waitFor();
  await shot(page, 'sandboxes');
  await page.getByRole('button', { name: `Delete ${name}` }).click();
  await page.locator(`tr[data-sandbox="${name}"]`).waitFor({ state: 'detached' });

  step('log in with an email and password');
  const made = await fetch(`${url}/users`, {
    method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ui@example.test', password: 'correct horse battery', role: 'user' }),
  });
  if (!made.ok) throw new Error(`create a user: ${made.status} ${await made.text()}`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('tab', { name: 'Email and password' }).click();
  await page.getByLabel('Email').fill('ui@example.test');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('0 of 0 sandboxes').waitFor(); // a user sees only their own

  step("an admin sees each sandbox's owner and filters by owner");
  const mk = async (who, sb) => {
    const r = await fetch(`${url}/sandboxes`, { method: 'POST', headers: { 'X-API-Key': who, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: sb, ttl: '10m' }) });
    if (!r.ok) throw new Error(`create ${sb}: ${r.status} ${await r.text()}`);
  };
  await mk(await page.evaluate(() => sessionStorage.getItem('paddock.key')), 'uiowned');
  await mk(key, 'uiadmins');
  await page.locator('tr[data-sandbox="uiowned"]').waitFor(); // the user's own, in the live list
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('tab', { name: 'API key' }).click();
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('tr[data-sandbox="uiowned"] td', { hasText: 'ui@example.test' }).waitFor();
  await page.locator('tr[data-sandbox="uiadmins"]').waitFor();
  await page.getByLabel('Owner').selectOption({ label: 'ui@example.test' });
  await page.locator('tr[data-sandbox="uiadmins"]').waitFor({ state: 'detached' });
  await page.locator('tr[data-sandbox="uiowned"]').waitFor();
  await shot(page, 'owners');
  for (const sb of ['uiowned', 'uiadmins']) {
    const r = await fetch(`${url}/sandboxes/${sb}`, { method: 'DELETE', headers: { 'X-API-Key': key } });
    if (!r.ok) throw new Error(`delete ${sb}: ${r.status}`);
  }

  step('the key stays out of localStorage and the URL');
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  if (stored.includes(key)) failures.push('the key is in localStorage');
} catch (e) {
  failures.push(e.stack || String(e));
  await shot(page, 'failure').catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
