// HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured by the bridge (a real forwarding proxy here:
// CONNECT tunnels and absolute-form requests, counting what passes), and `sentrail policy pull`
// fills the per-gate cache from the local gate, conditionally on its ETag.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, runCli } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';

let gate: GateProcess;
let proxy: http.Server;
let proxyUrl = '';
let proxied = 0;

before(async () => {
  gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
  proxy = http.createServer((req, res) => {
    // absolute-form request for an http:// target
    proxied++;
    const target = new URL(req.url!);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connect', (req, socket, head) => {
    proxied++;
    const [host, port] = req.url!.split(':');
    const upstream = net.connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
});

after(async () => {
  proxy.closeAllConnections?.();
  proxy.close();
  await stopAllGates();
});

async function session(env: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-proxy-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|no)_proxy$/i.test(k))) as Record<string, string>;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'bridge', '--gate', gate.url],
    env: { ...clean, SENTRAIL_API_KEY: gate.apiKey, SENTRAIL_CACHE_DIR: dir, SENTRAIL_STATE_DIR: dir, ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'claude-code', version: 'test' });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: 'echo', arguments: { message: 'via proxy?' } });
    return (r.content as { text: string }[])[0]!.text;
  } finally {
    await client.close();
  }
}

describe('proxies', () => {
  it('HTTP_PROXY / HTTPS_PROXY: every request to the gate goes through the proxy', { timeout: 30_000 }, async () => {
    proxied = 0;
    assert.equal(await session({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl }), 'Echo: via proxy?');
    assert.ok(proxied > 0, 'the proxy saw the traffic');
  });
  it('NO_PROXY: a listed host is reached directly', { timeout: 30_000 }, async () => {
    proxied = 0;
    assert.equal(await session({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }), 'Echo: via proxy?');
    assert.equal(proxied, 0, 'nothing went through the proxy');
  });
  it('no proxy variables: direct', { timeout: 30_000 }, async () => {
    proxied = 0;
    assert.equal(await session({}), 'Echo: via proxy?');
    assert.equal(proxied, 0);
  });
});

describe('sentrail policy pull', () => {
  it('pulls into the per-gate cache, then answers unchanged (ETag); explain uses the copy', { timeout: 30_000 }, async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-pull-'));
    const env = { SENTRAIL_CACHE_DIR: cache, SENTRAIL_API_KEY: gate.apiKey };
    const first = await runCli(['policy', 'pull', '--gate', gate.url, '--json'], { env });
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout);
    assert.equal(out.status, 'updated');
    assert.equal(out.version, 'demo-2026-11-21.1');
    const second = await runCli(['policy', 'pull', '--gate', gate.url, '--json'], { env });
    assert.equal(JSON.parse(second.stdout).status, 'unchanged');
    const explained = await runCli(['policy', 'explain', '--gate', gate.url, '--action', 'get-env'], { env });
    assert.match(explained.stdout, /Decision: BLOCK \(policy "No reading the environment"/);
    assert.doesNotMatch(first.stdout + first.stderr + second.stdout + explained.stdout, new RegExp(gate.apiKey));
  });
  it('a wrong key: exit 4; no key: exit 4 with a hint', { timeout: 30_000 }, async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-pull-'));
    const wrong = await runCli(['policy', 'pull', '--gate', gate.url], { env: { SENTRAIL_CACHE_DIR: cache, SENTRAIL_API_KEY: 'agk_' + 'w'.repeat(40) } });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /refused the pull \(HTTP 401\)/);
    const none = await runCli(['policy', 'pull', '--gate', gate.url], { env: { SENTRAIL_CACHE_DIR: cache, SENTRAIL_API_KEY: '' } });
    assert.equal(none.code, 4);
    assert.match(none.stderr, /not logged in to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse/);
    assert.match(none.stderr, /Run sentrail login/);
  });
});
