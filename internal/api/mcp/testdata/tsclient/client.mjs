// Drives Paddock's /mcp with the official MCP TypeScript SDK's client: connect, list the
// tools, call each one, and check the answers. Usage:
//   node client.mjs <url> <key> <revision> <sandbox-name> <dir> <with-python: 0|1>
// The SDK's client asks for its latest revision (2025-11-25); for 2025-06-18 its initialize
// request is rewritten on the way out, and the client then speaks what the server answered.
// Prints one JSON line {"ok":true,...} or exits non-zero with the failed assertion.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, key, revision, name, dir, withPython] = process.argv.slice(2);

function transport(authKey) {
  const fetchAs = async (input, init) => {
    if (revision !== '2025-11-25' && init?.body && typeof init.body === 'string') {
      const msg = JSON.parse(init.body);
      if (msg.method === 'initialize') {
        msg.params.protocolVersion = revision;
        init = { ...init, body: JSON.stringify(msg) };
      }
    }
    return fetch(input, init);
  };
  const headers = authKey ? { Authorization: `Bearer ${authKey}` } : {};
  return new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: fetchAs });
}

async function refusedWithoutKey() {
  const client = new Client({ name: 'paddock-ts-test', version: '1' });
  try {
    await client.connect(transport(''));
  } catch (err) {
    return String(err);
  }
  throw new Error('connected without a key');
}

function text(res) {
  return res.content.filter((c) => c.type === 'text').map((c) => c.text).join('');
}

async function main() {
  const refusal = await refusedWithoutKey();
  const client = new Client({ name: 'paddock-ts-test', version: '1' });
  const tr = transport(key);
  await client.connect(tr);
  assert.equal(tr.protocolVersion, revision);
  assert.ok(tr.sessionId, 'no Mcp-Session-Id');

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  const call = async (tool, args) => {
    const res = await client.callTool({ name: tool, arguments: args });
    assert.ok(!res.isError, `${tool}: ${text(res)}`);
    return res;
  };

  let res = await call('createSandbox', { name });
  assert.match(text(res), new RegExp(`Sandbox name:${name}`));
  assert.match(text((await call('getSandbox', { name }))), /"status":"running"/);
  assert.match(text((await call('listSandbox', {}))), new RegExp(`"name": "${name}"`));

  res = await call('exec', { sandbox: name, command: 'echo $((6*7)); exit 3' });
  assert.equal(res.structuredContent.stdout, '42\n');
  assert.equal(res.structuredContent.exit_code, 3);

  const file = `${dir}/ts.txt`;
  await call('write_file', { sandbox: name, path: file, content: 'from typescript\n' });
  res = await call('read_file', { sandbox: name, path: file });
  assert.equal(res.structuredContent.content, 'from typescript\n');

  const exe = (tool, args) => call('sandboxExecutor', { sandbox_name: name, tool_name: tool, arguments: args });
  assert.equal(JSON.parse(text(await exe('run_command', { command: 'printf inner' }))).stdout, 'inner');
  await exe('write_file', { path: `${dir}/inner.txt`, content: 'x' });
  assert.equal(JSON.parse(text(await exe('read_file', { path: `${dir}/inner.txt` }))).content, 'x');
  const listing = JSON.parse(text(await exe('list_files', { path: dir })));
  assert.deepEqual(listing.entries.map((e) => e.name).sort(), ['inner.txt', 'ts.txt']);

  res = await call('run', { command: 'echo one-shot' });
  assert.equal(res.structuredContent.stdout, 'one-shot\n');

  let code = 'skipped (no python3)';
  if (withPython === '1') {
    await call('run_code', { code: 'z = 40 + 2', session: name });
    res = await call('run_code', { code: 'print(z)', session: name });
    assert.equal(res.structuredContent.output, '42\n');
    assert.equal(JSON.parse(text(await exe('run_code', { code: 'print(1 + 1)' }))).output, '2\n');
    code = 'ok';
  }

  assert.equal(text(await call('deleteSandbox', { name })), `Sandbox ${name} deleted successfully`);
  const gone = await client.callTool({ name: 'getSandbox', arguments: { name } });
  assert.ok(gone.isError);
  assert.equal(text(gone), `sandbox ${name} not found`);

  await tr.terminateSession();
  await client.close();
  console.log(JSON.stringify({ ok: true, revision: tr.protocolVersion, tools: names, run_code: code, refusal }));
}

main().catch((err) => {
  console.error(err?.stack || String(err));
  process.exit(1);
});
