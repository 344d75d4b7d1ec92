// The bridge's local audit, from real processes: the SDK client → the built bridge → a real local
// gate → server-everything; then `sentrail audit` and `sentrail audit verify` on what it wrote.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '../../src/relay/call-hash.ts';
import { runCli } from '../helpers/cli.ts';
import { bridgeClient, plantedKey, startEverything, startLocalGate, tempDir, waitFor, type Upstream } from '../helpers/mcp.ts';
import { startHostileGate } from '../fixtures/hostile-gate.ts';

const POLICY = `version: "audit-1"
policies:
  - { name: No reading the environment, tool: mcp, actionPattern: "*", toolName: get-env, mode: block, priority: 10 }
  - { name: No sums for Claude Code, tool: mcp, actionPattern: "*", toolName: get-sum, conditions: { blockedAgents: [claude-code] }, mode: block, priority: 20 }
  - { name: Images need approval, tool: mcp, actionPattern: "*", toolName: get-tiny-image, mode: require_approval, priority: 30 }
`;

const auditFile = (stateDir: string) => path.join(stateDir, 'audit', 'audit.jsonl');
const readLines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
const digest = (args: unknown) => createHash('sha256').update(canonicalJson(args)).digest('hex');

describe('the local audit', () => {
  let gate: Upstream;
  before(async () => {
    const dir = await tempDir('sentrail-audit-policy-');
    await writeFile(path.join(dir, 'policy.yaml'), POLICY);
    gate = await startLocalGate({ policy: path.join(dir, 'policy.yaml') });
  });
  after(async () => gate?.close());

  it('allowed, locally blocked, gate-blocked and held calls: exactly four lines with the right fields, no secret; audit lists, filters and verifies them, and names the line after an edit or a deletion', { timeout: 60_000 }, async () => {
    const secret = plantedKey('argsecret');
    const bridge = await bridgeClient({ gate: gate.mcpUrl, apiKey: gate.authKey!, extraArgs: ['--agent', 'claude-code', '--approval-wait', '1'] });
    const client = bridge.client;
    const env = { SENTRAIL_STATE_DIR: bridge.setup.stateDir };
    try {
      const echo = await client.callTool({ name: 'echo', arguments: { message: `token ${secret}` } });
      assert.equal(echo.isError, undefined);
      const env1 = await client.callTool({ name: 'get-env', arguments: {} });
      assert.equal((env1._meta as { sentrail: { source: string } }).sentrail.source, 'local');
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      assert.equal((sum._meta as { sentrail: { source: string } }).sentrail.source, 'gate');
      await client.callTool({ name: 'get-tiny-image', arguments: {} });
    } finally {
      await bridge.close();
    }
    const file = auditFile(bridge.setup.stateDir);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(secret), 'an argument value is in the audit');
    assert.ok(!text.includes(gate.authKey!), 'the API key is in the audit');
    const lines = (await readLines(file)).map((l) => JSON.parse(l));
    const pick = (r: Record<string, unknown>) => ({ tool: r.tool, decision: r.decision, source: r.source, policy: r.policy, agent: r.agent });
    assert.deepEqual(lines.map(pick), [
      { tool: 'echo', decision: 'allow', source: 'gate', policy: null, agent: 'claude-code' },
      { tool: 'get-env', decision: 'block', source: 'local', policy: 'No reading the environment', agent: 'claude-code' },
      { tool: 'get-sum', decision: 'block', source: 'gate', policy: 'No sums for Claude Code', agent: 'claude-code' },
      { tool: 'get-tiny-image', decision: 'require_approval', source: 'gate', policy: 'Images need approval', agent: 'claude-code' },
    ]);
    assert.equal(lines[0].argsDigest, digest({ message: `token ${secret}` }));
    assert.equal(lines[2].argsDigest, digest({ b: 2, a: 1 }), 'key order does not change the digest');
    assert.match(lines[3].approvalId, /\S+/);
    assert.equal(lines[3].outcome, 'approval_pending');
    assert.equal(lines[1].policyVersion, 'audit-1');
    for (const l of lines) assert.ok(typeof l.latencyMs === 'number' && l.latencyMs >= 0 && !Number.isNaN(Date.parse(l.time)) && l.gate === gate.mcpUrl);

    // The local block reached the gate's audit too (the only decision the gate would not have seen).
    await waitFor(() => /audit reported by api-key:\w+: block get-env \(agent claude-code, local, policy "No reading the environment"\)/.test(gate.stderr()), 5000, 'the local block in the gate\'s log');
    assert.doesNotMatch(gate.stderr(), /audit reported by .*: (allow|require_approval|block get-sum)/, 'only local blocks are reported');

    const listed = await runCli(['audit', '--json'], { env });
    assert.equal(listed.stdout.trim().split('\n').length, 4);
    const blocks = await runCli(['audit', '--decision', 'block', '--json'], { env });
    assert.deepEqual(blocks.stdout.trim().split('\n').map((l) => JSON.parse(l).tool), ['get-env', 'get-sum']);
    const tools = await runCli(['audit', '--tool', 'get-*'], { env });
    assert.match(tools.stdout, /^TIME +DECISION +BY +TOOL +AGENT +POLICY +APPROVAL +MS$/m);
    assert.equal(tools.stdout.trim().split('\n').length, 4, 'a header and three get-* lines');
    assert.equal((await runCli(['audit', '--since', '1h', '--json'], { env })).stdout.trim().split('\n').length, 4);
    assert.equal((await runCli(['audit', '--since', '2099-01-01', '--json'], { env })).stdout.trim(), '');

    const ok = await runCli(['audit', 'verify'], { env });
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /✔ 4 lines in 1 file: every line follows the one before it/);
    const original = await readFile(file, 'utf8');
    const raw = original.split('\n');
    await writeFile(file, [raw[0], raw[1]!.replace('"decision":"block"', '"decision":"allow"'), ...raw.slice(2)].join('\n'));
    const edited = await runCli(['audit', 'verify'], { env });
    assert.equal(edited.code, 1);
    assert.match(edited.stdout, /audit\.jsonl:3: its prev hash is not the hash of the line before it/);
    await writeFile(file, [raw[0], raw[2], ...raw.slice(3)].join('\n'));
    const deleted = await runCli(['audit', 'verify'], { env });
    assert.equal(deleted.code, 1);
    assert.match(deleted.stdout, /audit\.jsonl:2: its prev hash is not the hash of the line before it/);
  });

  it('rotation keeps the total under its bound across 10,000 calls, and the chain still verifies', { timeout: 180_000 }, async () => {
    const maxBytes = 64 * 1024;
    const bridge = await bridgeClient({ gate: gate.mcpUrl, apiKey: gate.authKey!, env: { SENTRAIL_AUDIT_MAX_BYTES: String(maxBytes) } });
    try {
      // Local blocks: the bridge answers them itself, so 10,000 take seconds, not minutes.
      for (let i = 0; i < 10_000; i++) await bridge.client.callTool({ name: 'get-env', arguments: { i } });
    } finally {
      await bridge.close();
    }
    const dir = path.join(bridge.setup.stateDir, 'audit');
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['audit.1.jsonl', 'audit.2.jsonl', 'audit.3.jsonl', 'audit.4.jsonl', 'audit.jsonl']);
    let total = 0;
    for (const n of names) total += (await stat(path.join(dir, n))).size;
    assert.ok(total <= 5 * maxBytes, `${total} bytes over the bound of ${5 * maxBytes}`);
    const verified = await runCli(['audit', 'verify', '--json'], { env: { SENTRAIL_STATE_DIR: bridge.setup.stateDir } });
    const report = JSON.parse(verified.stdout);
    assert.deepEqual({ ok: report.ok, anchored: report.anchoredAfterRotation, files: report.files }, { ok: true, anchored: true, files: 5 });
    const last = JSON.parse((await readLines(path.join(dir, 'audit.jsonl'))).at(-1)!);
    assert.equal(last.argsDigest, digest({ i: 9_999 }), 'the last call is the last line: nothing lost at the end');
  });

  it('a gate without the audit endpoint: asked once (404), then left alone; the bridge keeps blocking and auditing locally', { timeout: 60_000 }, async () => {
    const dir = await tempDir('sentrail-audit-policy-');
    await writeFile(path.join(dir, 'policy.yaml'), POLICY);
    // MCP from server-everything; the gate's other endpoints (--cloud-url) from a server that answers
    // 404 to everything, as a gate without the audit endpoint does. The first check comes from --policy.
    const plain = await startHostileGate('not-found');
    const everything = await startEverything();
    try {
      const bridge = await bridgeClient({ gate: everything.mcpUrl, policy: path.join(dir, 'policy.yaml'), apiKey: plantedKey('nf'), extraArgs: ['--cloud-url', plain.base] });
      try {
        for (let i = 0; i < 3; i++) {
          const r = await bridge.client.callTool({ name: 'get-env', arguments: { i } });
          assert.equal((r._meta as { sentrail: { source: string } }).sentrail.source, 'local');
        }
        await waitFor(() => plain.requests.some((q) => q.path === '/mcp-gate/audit'), 5000, 'the audit report');
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await bridge.close();
      }
      assert.equal(plain.requests.filter((q) => q.path === '/mcp-gate/audit').length, 1, 'after a 404, no more reports');
      assert.equal((await readLines(auditFile(bridge.setup.stateDir))).length, 3);
    } finally {
      await plain.close();
      await everything.close();
    }
  });
});
