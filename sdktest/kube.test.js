// Drives two Paddock replicas on the Kubernetes driver with the official E2B JS SDK: a sandbox
// made through replica A is reached, used and killed through replica B. The Go test
// TestKubeReplicas (cmd/paddock) starts the replicas and sets PADDOCK_A_URL, PADDOCK_B_URL and
// E2B_API_KEY. The sandbox's image is the test cluster's busybox with a `user` (uid 1000).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox, CommandExitError } from "e2b";

const key = process.env.E2B_API_KEY;
const via = (url) => ({ apiUrl: `${url}/e2b/v1`, sandboxUrl: url, apiKey: key });
const a = via(process.env.PADDOCK_A_URL);
const b = via(process.env.PADDOCK_B_URL);

test("create through A, commands, files and kill through B", async () => {
  const made = await Sandbox.create({ ...a, metadata: { suite: "kube" }, envs: { GREETING: "hello" }, timeoutMs: 120_000 });
  let killed = false;
  try {
    const first = await made.commands.run("echo $GREETING from $(whoami) in $HOME");
    assert.equal(first.stdout, "hello from user in /home/user\n");

    const sbx = await Sandbox.connect(made.sandboxId, b);
    assert.equal(sbx.sandboxId, made.sandboxId);
    const r = await sbx.commands.run("echo $GREETING from $(whoami); id -u; echo oops >&2");
    assert.equal(r.stdout, "hello from user\n1000\n");
    assert.equal(r.stderr, "oops\n");
    await assert.rejects(sbx.commands.run("exit 3"), (e) => e instanceof CommandExitError && e.exitCode === 3);
    assert.equal((await sbx.commands.run("id -u", { user: "root" })).stdout, "0\n");
    const cwd = await sbx.commands.run('pwd; echo "X=$X"', { cwd: "/tmp", envs: { X: "1" } });
    assert.equal(cwd.stdout, "/tmp\nX=1\n");

    // Written through B, read back through A's connection and by a process.
    await sbx.files.write("/home/user/dir/a.txt", "content a");
    assert.equal(await made.files.read("/home/user/dir/a.txt"), "content a");
    assert.equal((await sbx.commands.run("cat /home/user/dir/a.txt; stat -c %u /home/user/dir/a.txt")).stdout, "content a1000\n");
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await made.files.write("/home/user/dir/b.bin", bytes);
    assert.deepEqual(new Uint8Array(await sbx.files.read("/home/user/dir/b.bin", { format: "bytes" })), bytes);
    const names = (await sbx.files.list("/home/user/dir")).map((e) => e.name).sort();
    assert.deepEqual(names, ["a.txt", "b.bin"]);
    await sbx.files.remove("/home/user/dir");
    assert.equal(await made.files.exists("/home/user/dir"), false);

    const listed = await Sandbox.list({ ...b, query: { metadata: { suite: "kube" } } }).nextItems();
    assert.ok(listed.some((s) => s.sandboxId === made.sandboxId));
    assert.equal(await sbx.kill(), true);
    killed = true;
    assert.equal(await made.isRunning(), false);
    assert.equal(await sbx.isRunning(), false);
  } finally {
    if (!killed) await made.kill();
  }
});
