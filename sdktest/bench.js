// E2B JS SDK benchmark against a Paddock server: Sandbox.create → commands.run("echo hi") →
// kill, N times sequentially and C at once. Needs E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY.
// Usage: node bench.js [N=100] [C=20]
import { Sandbox } from "e2b";

const opts = { apiUrl: process.env.E2B_API_URL, sandboxUrl: process.env.E2B_SANDBOX_URL, apiKey: process.env.E2B_API_KEY };
const n = Number(process.argv[2] || 100);
const c = Number(process.argv[3] || 20);

async function once() {
  const t0 = performance.now();
  const sbx = await Sandbox.create(opts);
  const t1 = performance.now();
  const r = await sbx.commands.run("echo hi");
  const t2 = performance.now();
  if (r.stdout !== "hi\n") throw new Error(`unexpected output ${JSON.stringify(r.stdout)}`);
  await sbx.kill();
  const t3 = performance.now();
  return { create: t1 - t0, run: t2 - t1, kill: t3 - t2, total: t3 - t0 };
}

function stats(name, xs) {
  xs.sort((a, b) => a - b);
  const p = (q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  return `${name} p50 ${p(0.5).toFixed(1)} ms p99 ${p(0.99).toFixed(1)} ms`;
}

function report(label, runs, wall) {
  console.log(`${label}: ${runs.length} runs in ${wall.toFixed(0)} ms; ` +
    ["create", "run", "kill", "total"].map((k) => stats(k, runs.map((r) => r[k]))).join("; "));
}

await once(); // warm up connections
let t = performance.now();
const seq = [];
for (let i = 0; i < n; i++) seq.push(await once());
report("sequential", seq, performance.now() - t);
t = performance.now();
const par = await Promise.all(Array.from({ length: c }, once));
report(`${c} concurrent`, par, performance.now() - t);
