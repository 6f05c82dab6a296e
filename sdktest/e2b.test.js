// Runs the official E2B JS SDKs against Paddock. The Go test TestE2BSDKs starts the server and
// sets E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox, CommandExitError } from "e2b";
import { Sandbox as SandboxV250 } from "e2b-v250";
import { Sandbox as CodeSandbox } from "@e2b/code-interpreter";

const opts = { apiUrl: process.env.E2B_API_URL, sandboxUrl: process.env.E2B_SANDBOX_URL, apiKey: process.env.E2B_API_KEY };

// until polls cond every 50 ms until it holds, failing with what after 15 s.
async function until(what, cond) {
  const deadline = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("create, commands, files, info, list, kill (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create({ ...opts, metadata: { suite: "sdk", run: "1" }, envs: { GREETING: "hello" }, timeoutMs: 120_000 });
  try {
    const r = await sbx.commands.run("echo $GREETING from $(whoami); echo oops >&2");
    assert.equal(r.stdout, "hello from user\n");
    assert.equal(r.stderr, "oops\n");
    assert.equal(r.exitCode, 0);
    await assert.rejects(sbx.commands.run("exit 3"), (e) => e instanceof CommandExitError && e.exitCode === 3);
    const cwd = await sbx.commands.run('pwd; echo "X=$X GREETING=$GREETING"', { cwd: "/tmp", envs: { X: "1" } });
    assert.equal(cwd.stdout, "/tmp\nX=1 GREETING=hello\n");
    // Per-command envs stay with that command.
    assert.equal((await sbx.commands.run('echo "X=$X"')).stdout, "X=\n");
    const root = await sbx.commands.run("id -u", { user: "root" });
    assert.equal(root.stdout, "0\n");

    await sbx.files.write("/home/user/dir/a.txt", "content a");
    assert.equal(await sbx.files.read("/home/user/dir/a.txt"), "content a");
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await sbx.files.write("/home/user/dir/b.bin", bytes);
    assert.deepEqual(new Uint8Array(await sbx.files.read("/home/user/dir/b.bin", { format: "bytes" })), bytes);
    await sbx.files.write([{ path: "/home/user/m/1.txt", data: "one" }, { path: "/home/user/m/2.txt", data: "two" }]);
    const names = (await sbx.files.list("/home/user/m")).map((e) => e.name).sort();
    assert.deepEqual(names, ["1.txt", "2.txt"]);
    assert.equal(await sbx.files.exists("/home/user/m/1.txt"), true);
    assert.equal(await sbx.files.exists("/home/user/nope"), false);
    assert.equal(await sbx.files.makeDir("/home/user/newdir"), true);
    await sbx.files.rename("/home/user/m/1.txt", "/home/user/m/3.txt");
    assert.equal(await sbx.files.exists("/home/user/m/3.txt"), true);
    await sbx.files.remove("/home/user/m");
    assert.equal(await sbx.files.exists("/home/user/m"), false);

    const info = await sbx.getInfo();
    assert.equal(info.sandboxId, sbx.sandboxId);
    assert.equal(info.metadata.suite, "sdk");
    await sbx.setTimeout(300_000);
    const listed = await Sandbox.list({ ...opts, query: { metadata: { suite: "sdk" } } }).nextItems();
    assert.ok(listed.some((s) => s.sandboxId === sbx.sandboxId));
    assert.equal(await sbx.isRunning(), true);
  } finally {
    assert.equal(await sbx.kill(), true);
  }
  assert.equal(await sbx.isRunning(), false);
});

test("background command, connect by pid, kill, stdin (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create(opts);
  try {
    let first = "";
    const h = await sbx.commands.run("cat", { background: true, stdin: true, onStdout: (d) => { first += d; } });
    await sbx.commands.sendStdin(h.pid, "piped\n");
    await until("cat to echo the first input", () => first === "piped\n");
    assert.equal(h.stdout, "piped\n");
    // A second handle, connected by pid, sees what comes next.
    let second = "";
    const again = await sbx.commands.connect(h.pid, { onStdout: (d) => { second += d; } });
    await sbx.commands.sendStdin(h.pid, "again\n");
    await until("the connected handle to see the second input", () => second === "again\n");
    // The two handles are separate streams: the first sees the same output,
    // but not necessarily before the second does.
    await until("the first handle to see the second input too", () => first === "piped\nagain\n");
    assert.equal(await sbx.commands.kill(h.pid), true);
    await assert.rejects(again.wait());
  } finally {
    await sbx.kill();
  }
});

test("pause and connect keep state (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create(opts);
  try {
    await sbx.files.write("/home/user/kept.txt", "kept");
    // A background process that counts: it must survive the pause and count on after connect.
    const ticker = await sbx.commands.run("i=0; while :; do i=$((i+1)); echo $i > /home/user/tick.new; mv /home/user/tick.new /home/user/tick; sleep 0.05; done", { background: true });
    const tick = async (s) => Number(await s.files.read("/home/user/tick"));
    await until("the ticker to start", async () => (await sbx.files.exists("/home/user/tick")) && (await tick(sbx)) > 0);
    assert.equal(await sbx.pause(), true);
    const back = await Sandbox.connect(sbx.sandboxId, opts);
    assert.equal(await back.files.read("/home/user/kept.txt"), "kept");
    assert.ok((await back.commands.list()).some((p) => p.pid === ticker.pid), "the background process is gone after connect");
    const before = await tick(back);
    await until("the background process to count on after connect", async () => (await tick(back)) > before + 2);
  } finally {
    await sbx.kill();
  }
});

test("older create/connect path (e2b 2.50.0)", async () => {
  const sbx = await SandboxV250.create({ ...opts, timeoutMs: 60_000 });
  try {
    const r = await sbx.commands.run("echo v1 path");
    assert.equal(r.stdout, "v1 path\n");
    const again = await SandboxV250.connect(sbx.sandboxId, opts);
    assert.equal((await again.commands.run("echo again")).stdout, "again\n");
  } finally {
    await sbx.kill();
  }
});

test("code interpreter runCode (@e2b/code-interpreter 2.8.0)", async () => {
  const sbx = await CodeSandbox.create(opts);
  try {
    const out = [];
    const ex = await sbx.runCode("x = 20\nprint('streamed')\nx + 1", { onStdout: (m) => out.push(m.line) });
    assert.equal(ex.text, "21");
    assert.deepEqual(ex.logs.stdout, ["streamed\n"]);
    assert.ok(out.join("").includes("streamed"));
    const err = await sbx.runCode("1/0");
    assert.equal(err.error.name, "ZeroDivisionError");
    assert.equal(err.error.value, "division by zero");
    const ctx = await sbx.createCodeContext({ language: "python" });
    await sbx.runCode("y = 5", { context: ctx });
    assert.equal((await sbx.runCode("y * 2", { context: ctx })).text, "10");
    const js = await sbx.runCode("const z = 6; z * 7", { language: "js" });
    assert.equal(js.text, "42");
  } finally {
    await sbx.kill();
  }
});

test("pty, watchDir, presigned URLs, metrics, pagination (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create({ ...opts, metadata: { suite: "more" } });
  const other = await Sandbox.create({ ...opts, metadata: { suite: "more" } });
  try {
    // A terminal: type into it, resize it, kill it.
    let screen = "";
    const term = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => { screen += new TextDecoder().decode(d); } });
    const waitFor = async (text) => {
      for (let i = 0; i < 100 && !screen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await sbx.pty.sendInput(term.pid, new TextEncoder().encode("stty size\n"));
    // Resize only once the first command has answered: a resize that overtakes it would make
    // both report the new size.
    await waitFor("24 80");
    await sbx.pty.resize(term.pid, { cols: 100, rows: 40 });
    await sbx.pty.sendInput(term.pid, new TextEncoder().encode("stty size\n"));
    await waitFor("40 100");
    assert.ok(screen.includes("24 80") && screen.includes("40 100"), screen);
    assert.equal(await sbx.pty.kill(term.pid), true);

    // Watching a directory.
    const events = [];
    const watcher = await sbx.files.watchDir("/home/user", (e) => events.push(e));
    await sbx.files.write("/home/user/watched.txt", "x");
    for (let i = 0; i < 100 && !events.some((e) => e.name === "watched.txt"); i++) await new Promise((r) => setTimeout(r, 50));
    await watcher.stop();
    assert.ok(events.some((e) => e.name === "watched.txt"), JSON.stringify(events));

    // Presigned URLs carry no sandbox ID: the server finds the sandbox by signature.
    const up = await sbx.uploadUrl("/home/user/presigned.txt");
    const form = new FormData();
    form.append("file", new Blob(["via url"]), "presigned.txt");
    assert.equal((await fetch(up, { method: "POST", body: form })).status, 200);
    const down = await sbx.downloadUrl("/home/user/presigned.txt");
    assert.equal(await (await fetch(down)).text(), "via url");

    const metrics = await sbx.getMetrics();
    assert.ok(metrics.length >= 1 && metrics[0].memTotal > 0, JSON.stringify(metrics));

    const pager = Sandbox.list({ ...opts, query: { metadata: { suite: "more" } }, limit: 1 });
    const first = await pager.nextItems();
    assert.equal(first.length, 1);
    assert.equal(pager.hasNext, true);
    const second = await pager.nextItems();
    assert.equal(second.length, 1);
    assert.notEqual(first[0].sandboxId, second[0].sandboxId);
  } finally {
    await sbx.kill();
    await other.kill();
  }
});

test("code interpreter: matplotlib figure as PNG (@e2b/code-interpreter 2.8.0)", async () => {
  const sbx = await CodeSandbox.create(opts);
  try {
    const ex = await sbx.runCode("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()");
    assert.ok(ex.results.some((r) => typeof r.png === "string" && r.png.startsWith("iVBORw0KGgo")), JSON.stringify(ex.results.map((r) => Object.keys(r))));
  } finally {
    await sbx.kill();
  }
});

test("a server in the sandbox through the data plane: public and private ports (e2b 2.51.0)", async () => {
  const pub = await Sandbox.create(opts);
  const priv = await Sandbox.create({ ...opts, network: { allowPublicTraffic: false } });
  try {
    assert.ok(!pub.trafficAccessToken);
    assert.ok(priv.trafficAccessToken);
    assert.ok(pub.getHost(3000).startsWith(`3000-${pub.sandboxId}.`));
    for (const s of [pub, priv]) {
      await s.files.write("/home/user/www/index.html", `hello from ${s.sandboxId}`);
      await s.commands.run("cd /home/user/www && exec python3 -m http.server 3000 --bind 127.0.0.1", { background: true });
    }
    // Headers route the request to port 3000 of the sandbox; retry while the server starts (502).
    const get = async (s, extra = {}) => {
      for (let i = 0; ; i++) {
        const r = await fetch(`${process.env.E2B_SANDBOX_URL}/index.html`,
          { headers: { "E2b-Sandbox-Id": s.sandboxId, "E2b-Sandbox-Port": "3000", ...extra } });
        if (r.status !== 502 || i === 200) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    const r1 = await get(pub);
    assert.equal(r1.status, 200);
    assert.equal(await r1.text(), `hello from ${pub.sandboxId}`);
    const denied = await get(priv);
    assert.equal(denied.status, 403);
    const r2 = await get(priv, { "e2b-traffic-access-token": priv.trafficAccessToken });
    assert.equal(r2.status, 200);
    assert.equal(await r2.text(), `hello from ${priv.sandboxId}`);
  } finally {
    await pub.kill();
    await priv.kill();
  }
});

test("code interpreter fidelity: str results, default contexts, cwd, bash envs (@e2b/code-interpreter 2.8.0)", async () => {
  const sbx = await CodeSandbox.create({ ...opts, envs: { GREETING: "sandbox" } });
  try {
    assert.equal((await sbx.runCode("'value'")).text, "value");
    assert.equal((await sbx.runCode("'value'", { language: "js" })).text, "value");
    const langs = (await sbx.listCodeContexts()).map((c) => c.language);
    assert.ok(langs.includes("python") && langs.includes("javascript"), JSON.stringify(langs));
    await assert.rejects(sbx.createCodeContext({ cwd: "/root" }), (e) => /403/.test(e.message));
    const inCell = await sbx.runCode("echo $GREETING", { language: "bash", envs: { GREETING: "cell" } });
    assert.deepEqual(inCell.logs.stdout, ["cell\n"]);
    const after = await sbx.runCode("echo $GREETING", { language: "bash" });
    assert.deepEqual(after.logs.stdout, ["sandbox\n"]);
  } finally {
    await sbx.kill();
  }
});

test("code interpreter: a sandbox killed mid-cell cuts the stream, not a 502 (@e2b/code-interpreter 2.8.0)", async () => {
  const sbx = await CodeSandbox.create(opts);
  const outcome = sbx.runCode("import time\nopen('/tmp/started', 'w').close()\nwhile True: time.sleep(0.05)").then(() => null, (e) => e);
  await until("the cell to start", () => sbx.files.exists("/tmp/started"));
  assert.equal(await Sandbox.kill(sbx.sandboxId, opts), true);
  const err = await outcome;
  assert.ok(err && /killed while the request was in progress/.test(err.message), String(err));
});

test("envd and control-plane fidelity: symlinks, remove, metrics range, pause without memory, unsupported options (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create({ ...opts, timeoutMs: 120_000 });
  try {
    await sbx.files.write("/home/user/data.txt", "kept");
    await sbx.commands.run("ln -s data.txt /home/user/link && ln -s link /home/user/link2");
    assert.equal((await sbx.files.getInfo("/home/user/link")).symlinkTarget, "/home/user/data.txt");
    assert.equal((await sbx.files.getInfo("/home/user/link2")).symlinkTarget, "/home/user/data.txt");
    await sbx.files.remove("/home/user/no-such-file");

    const hour = 3600 * 1000;
    assert.deepEqual(await sbx.getMetrics({ start: new Date(Date.now() - 2 * hour), end: new Date(Date.now() - hour) }), []);
    const recent = await sbx.getMetrics({ start: new Date(Date.now() - 60_000) });
    assert.ok(recent.length >= 1 && recent.every((m) => m.timestamp.getTime() >= Date.now() - 120_000), JSON.stringify(recent));

    const bg = await sbx.commands.run("sleep 1000", { background: true });
    assert.equal(await sbx.pause({ keepMemory: false }), true);
    assert.equal((await sbx.getInfo()).state, "paused");
    const back = await Sandbox.connect(sbx.sandboxId, opts);
    assert.equal(await back.files.read("/home/user/data.txt"), "kept");
    assert.ok(!(await back.commands.list()).some((p) => p.pid === bg.pid), "a process survived a pause without memory");
  } finally {
    await sbx.kill();
  }
  await assert.rejects(Sandbox.create({ ...opts, network: { maskRequestHost: "localhost:${PORT}" } }), (e) => /maskRequestHost/.test(e.message));
});

test("another user's SDK cannot see, connect to or kill a sandbox (e2b 2.51.0)", async () => {
  const alice = { ...opts, apiKey: process.env.PADDOCK_ALICE_KEY };
  const bob = { ...opts, apiKey: process.env.PADDOCK_BOB_KEY };
  assert.ok(alice.apiKey && bob.apiKey, "PADDOCK_ALICE_KEY and PADDOCK_BOB_KEY are set by TestE2BSDKs");
  const sbx = await Sandbox.create({ ...alice, metadata: { suite: "owners" }, timeoutMs: 120_000 });
  try {
    await assert.rejects(Sandbox.connect(sbx.sandboxId, bob), (e) => /not found/i.test(`${e.name} ${e.message}`));
    await assert.rejects(Sandbox.getInfo(sbx.sandboxId, bob), (e) => /not found/i.test(`${e.name} ${e.message}`));
    const bobs = await Sandbox.list({ ...bob, query: { metadata: { suite: "owners" } } }).nextItems();
    assert.equal(bobs.length, 0);
    assert.equal(await Sandbox.kill(sbx.sandboxId, bob), false);
    // Alice's sandbox is untouched, and hers to connect to and list.
    const again = await Sandbox.connect(sbx.sandboxId, alice);
    assert.equal((await again.commands.run("echo still")).stdout, "still\n");
    const hers = await Sandbox.list({ ...alice, query: { metadata: { suite: "owners" } } }).nextItems();
    assert.deepEqual(hers.map((s) => s.sandboxId), [sbx.sandboxId]);
  } finally {
    assert.equal(await Sandbox.kill(sbx.sandboxId, alice), true);
  }
});

test("lifecycle onTimeout pause + autoResume, and the events API (e2b 2.51.0)", async () => {
  const sbx = await Sandbox.create({ ...opts, timeoutMs: 60_000, lifecycle: { onTimeout: "pause", autoResume: true } });
  try {
    assert.deepEqual((await sbx.getInfo()).lifecycle, { onTimeout: "pause", autoResume: true });
    await sbx.files.write("/home/user/kept.txt", "kept");
    // Past its timeout it pauses instead of dying (the test server reaps every 50 ms).
    await sbx.setTimeout(1_000);
    await until("the sandbox to pause at its timeout", async () => (await Sandbox.getInfo(sbx.sandboxId, opts)).state === "paused");
    // The next request through the data plane resumes it and is answered.
    const t0 = performance.now();
    assert.equal(await sbx.files.read("/home/user/kept.txt"), "kept");
    console.log(`auto-resumed by a files.read in ${(performance.now() - t0).toFixed(1)} ms`);
    assert.equal((await Sandbox.getInfo(sbx.sandboxId, opts)).state, "running");
    // So does one after an explicit pause.
    assert.equal(await sbx.pause(), true);
    assert.equal((await sbx.commands.run("cat /home/user/kept.txt")).stdout, "kept");
    const resp = await fetch(`${opts.apiUrl}/events/sandboxes/${sbx.sandboxId}?orderAsc=true&limit=100`, { headers: { "X-API-Key": opts.apiKey } });
    assert.equal(resp.status, 200);
    const types = (await resp.json()).map((e) => e.type.replace("sandbox.lifecycle.", ""));
    assert.deepEqual(types, ["created", "updated", "paused", "updated", "resumed", "paused", "updated", "resumed"]);
  } finally {
    await sbx.kill();
  }
  await assert.rejects(Sandbox.create({ ...opts, lifecycle: { onTimeout: "kill", autoResume: false }, metadata: { idleTimeout: "soon" } }), (e) => /idleTimeout/.test(e.message));
});
