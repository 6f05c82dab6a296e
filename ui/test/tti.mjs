// Measures the sandboxes page: from navigation start until the table shows every sandbox
// (PADDOCK_EXPECT rows) — the page is interactive then, Preact having attached its handlers
// as it rendered. Cold loads (a fresh browser context each run), on loopback and on an
// emulated slow link (1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT). Prints JSON.
import { launch } from './harness.mjs';

const url = process.env.PADDOCK_URL, key = process.env.PADDOCK_KEY;
const expect = Number(process.env.PADDOCK_EXPECT || '200');
const runs = Number(process.env.PADDOCK_RUNS || '5');
const browser = await launch();

async function once(slow) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await ctx.addInitScript(([k, n]) => {
    sessionStorage.setItem('paddock.key', k);
    // Note the moment the table first holds every row (a MutationObserver fires before paint).
    new MutationObserver((_, obs) => {
      if (document.querySelectorAll('#sandboxes tbody tr').length >= n) { window.__rowsAt = performance.now(); obs.disconnect(); }
    }).observe(document, { childList: true, subtree: true });
  }, [key, expect]);
  const page = await ctx.newPage();
  if (slow) {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 });
  }
  await page.goto(`${url}/ui/sandboxes`);
  await page.waitForFunction(n => document.querySelectorAll('#sandboxes tbody tr').length >= n, expect, { timeout: 120_000, polling: 'raf' });
  const ms = await page.evaluate(() => window.__rowsAt);
  const transferred = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/ui/')).reduce((a, e) => a + e.transferSize, 0) +
    performance.getEntriesByType('navigation')[0].transferSize);
  await ctx.close();
  return { ms, transferred };
}

const median = xs => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {};
for (const slow of [false, true]) {
  const xs = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) { const r = await once(slow); xs.push(r.ms); bytes = r.transferred; }
  result[slow ? 'slow_link' : 'loopback'] = { median_ms: Math.round(median(xs)), runs: xs.map(Math.round), ui_bytes_transferred: bytes };
}
await browser.close();
console.log(JSON.stringify(result));
