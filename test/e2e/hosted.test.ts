// The bridge against a hosted-style gate (`sentrail gate --hosted`: tools only, protocol
// 2024-11-05, JSON answers, no sessions) and over legacy HTTP+SSE to the local gate: it works just
// the same, decisions included (a call held for approval waits, with progress, for the reviewer).
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from '../helpers/cli.ts';
import { decideApproval, DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';
import { heldForApproval, within } from '../helpers/mcp.ts';

after(stopAllGates);

async function bridge(gate: GateProcess, extra: string[] = [], agent?: string): Promise<Client> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-hosted-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'bridge', '--gate', gate.url, ...extra, ...(agent ? ['--agent', agent] : [])],
    env: { ...(process.env as Record<string, string>), SENTRAIL_API_KEY: gate.apiKey, SENTRAIL_CACHE_DIR: dir, SENTRAIL_STATE_DIR: dir },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'claude-code', version: 'test' });
  await client.connect(transport);
  return client;
}

const meta = (r: unknown) => (r as { _meta?: { sentrail?: Record<string, unknown> } })._meta?.sentrail;

async function decisions(gate: GateProcess, client: Client, untrusted: Client): Promise<void> {
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('echo') && !names.includes('get-env'), names.join(','));
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content, [{ type: 'text', text: 'Echo: hi' }]);
  assert.deepEqual((await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).content, [{ type: 'text', text: 'The sum of 1 and 2 is 3.' }]);
  const local = await client.callTool({ name: 'get-env', arguments: {} });
  assert.equal(meta(local)?.source, 'local');
  // Held for approval: the bridge waits on the gate's status endpoint; a reviewer's denial ends it.
  const waiting = await heldForApproval(client, 'gzip-file-as-resource', { name: 'x.gz', data: 'data:text/plain;base64,SGk=' });
  await decideApproval(gate, waiting.id, 'denied', 'not in this test');
  const held = await within(waiting.result, 5000, 'the held call after the denial');
  assert.deepEqual([meta(held)?.status, meta(held)?.approvalRequestId, meta(held)?.reason], ['denied', waiting.id, 'not in this test']);
  const byGate = await untrusted.callTool({ name: 'echo', arguments: { message: 'let me in' } });
  assert.equal(byGate.isError, true);
  assert.deepEqual([meta(byGate)?.source, meta(byGate)?.policy], ['gate', 'Block untrusted agents']);
}

describe('the bridge against a hosted-style gate (--hosted)', () => {
  it('initialize is the gate\'s own (2024-11-05, tools only) and every decision reaches the client the same way', { timeout: 60_000 }, async () => {
    const gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--hosted']);
    const client = await bridge(gate);
    const untrusted = await bridge(gate, [], 'untrusted-bot');
    try {
      assert.deepEqual(client.getServerVersion(), { name: 'sentrail-mcp-gate', version: '1.0.0' });
      assert.deepEqual(client.getServerCapabilities(), { tools: { listChanged: false } });
      await decisions(gate, client, untrusted);
    } finally {
      await client.close();
      await untrusted.close();
    }
  });
});

describe('the bridge over legacy HTTP+SSE to the local gate', () => {
  it('--transport sse: the same tools and decisions', { timeout: 60_000 }, async () => {
    const gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
    const client = await bridge(gate, ['--transport', 'sse']);
    const untrusted = await bridge(gate, ['--transport', 'sse'], 'untrusted-bot');
    try {
      assert.equal(client.getServerVersion()?.name, 'mcp-servers/everything');
      await decisions(gate, client, untrusted);
    } finally {
      await client.close();
      await untrusted.close();
    }
  });
});
