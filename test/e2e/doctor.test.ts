// `sentrail doctor` as a user runs it when Claude Code shows the server as failed: the built binary
// in a repository set up by `sentrail init`, against a real local gate; then one fault at a time,
// each named with its fix.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, runCli } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, type GateProcess } from '../helpers/gate.ts';
import { probeKeychain } from '../helpers/keychain.ts';
import { freePort, tempDir } from '../helpers/mcp.ts';
import { startHostileGate } from '../fixtures/hostile-gate.ts';

interface Report {
  ok: boolean;
  ms: number;
  checks: { id: string; status: string; detail: string; fix?: string }[];
}

describe('sentrail doctor', () => {
  let gate: GateProcess;
  let repo: string;
  let keychainMissing: string | null;
  before(async () => {
    gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
    keychainMissing = await probeKeychain();
    repo = await tempDir('sentrail-doctor-repo-');
    await mkdir(path.join(repo, '.git'));
    // `npx -y sentrail` resolves the project's own install (here: this checkout), as after `npm i -D sentrail`.
    await mkdir(path.join(repo, 'node_modules', '.bin'), { recursive: true });
    await symlink(ROOT, path.join(repo, 'node_modules', 'sentrail'), 'dir');
    await symlink(path.join('..', 'sentrail', 'bin', 'sentrail.js'), path.join(repo, 'node_modules', '.bin', 'sentrail'));
    assert.equal((await runCli(['init', '--gate', gate.url], { cwd: repo, env: { SENTRAIL_API_KEY: '' } })).code, 0);
  });
  after(async () => gate?.stop());

  async function doctor(opts: { gate?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<Report & { code: number; text: string }> {
    const env = { SENTRAIL_CONFIG_DIR: await tempDir('sentrail-doctor-config-'), SENTRAIL_CACHE_DIR: await tempDir('sentrail-doctor-cache-'), SENTRAIL_API_KEY: gate.apiKey, ...opts.env };
    const r = await runCli(['doctor', '--gate', opts.gate ?? gate.url, '--json'], { cwd: opts.cwd ?? repo, env });
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(r.code, report.ok ? 0 : 1, 'exit 0 exactly when nothing fails');
    return { ...report, code: r.code, text: r.stdout };
  }
  const check = (r: Report, id: string) => {
    const found = r.checks.find((c) => c.id === id);
    assert.ok(found, `no ${id} check in ${JSON.stringify(r.checks.map((c) => c.id))}`);
    return found;
  };

  it('a healthy set-up: every check passes (the keychain warns only where this machine has none), with the checks named in a stable order', { timeout: 60_000 }, async () => {
    const r = await doctor();
    assert.deepEqual(r.checks.map((c) => c.id), ['node', 'npx', 'keychain', 'credential', 'credential-accepted', 'gate', 'clock', 'policy', 'mcp-json', 'bridge']);
    for (const c of r.checks) {
      const allowed = c.id === 'keychain' && keychainMissing ? ['warn'] : ['pass'];
      assert.ok(allowed.includes(c.status), `${c.id}: ${c.status} ${c.detail}`);
    }
    assert.equal(r.ok, true);
    assert.match(check(r, 'gate').detail, /Streamable HTTP, protocol 2025-\d\d-\d\d, with sessions; \d+ tools/);
    assert.match(check(r, 'policy').detail, /version demo-2026-11-21\.1, 7 policies/);
    assert.match(check(r, 'bridge').detail, /stdout is JSON-RPC only/);
    console.log(`# doctor, healthy: ${r.ms} ms`);
    const text = await runCli(['doctor', '--gate', gate.url], { cwd: repo, env: { SENTRAIL_API_KEY: gate.apiKey, SENTRAIL_CACHE_DIR: await tempDir('sentrail-doctor-cache-') } });
    assert.match(text.stdout, /^✔ Gate {2,}http:/m);
    assert.match(text.stdout, /No problems/);
  });

  it('no credential, and a wrong key: each named, with the login or the variable to fix', { timeout: 60_000 }, async () => {
    const none = await doctor({ env: { SENTRAIL_API_KEY: '' } });
    assert.equal(check(none, 'credential').status, 'fail');
    assert.match(check(none, 'credential').fix!, /^sentrail login --gate http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse/);
    const wrong = 'agk_' + 'W'.repeat(40);
    const refused = await doctor({ env: { SENTRAIL_API_KEY: wrong } });
    assert.deepEqual({ status: check(refused, 'credential-accepted').status, detail: check(refused, 'credential-accepted').detail }, { status: 'fail', detail: 'refused (HTTP 401): the env credential is wrong, expired or revoked' });
    assert.match(check(refused, 'credential-accepted').fix!, /SENTRAIL_API_KEY/);
    assert.ok(!refused.text.includes(wrong), 'the key is not printed');
  });

  it('the gate down, and behind a proxy that refuses', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const down = await doctor({ gate: `http://127.0.0.1:${port}/mcp-gate/sse` });
    assert.equal(check(down, 'gate').status, 'fail');
    assert.match(check(down, 'gate').detail, /nothing answers at 127\.0\.0\.1:\d+ \(connection refused\)/);
    assert.match(check(down, 'gate').fix!, /Is the gate running\?/);
    const proxyPort = await freePort();
    const proxied = await doctor({ env: { HTTP_PROXY: `http://user:secret@127.0.0.1:${proxyPort}`, HTTPS_PROXY: `http://user:secret@127.0.0.1:${proxyPort}` } });
    assert.equal(check(proxied, 'gate').status, 'fail');
    assert.match(check(proxied, 'gate').detail, new RegExp(`through the proxy http://\\*\\*\\*@127\\.0\\.0\\.1:${proxyPort}`));
    assert.match(check(proxied, 'gate').fix!, /NO_PROXY=127\.0\.0\.1/);
    assert.ok(!proxied.text.includes('secret'), 'the proxy password is not printed');
  });

  it('a gate without the policy endpoint (warns: the first check is off), one whose policy does not load (fails)', { timeout: 60_000 }, async () => {
    const missing = await startHostileGate('not-found');
    const newer = await startHostileGate('policy-newer');
    try {
      const a = await doctor({ gate: missing.url });
      assert.equal(check(a, 'policy').status, 'warn');
      assert.match(check(a, 'policy').detail, /mcp-gate\/policy does not exist \(404\): the first check is off/);
      const b = await doctor({ gate: newer.url });
      assert.equal(check(b, 'policy').status, 'fail');
      assert.match(check(b, 'policy').detail, /does not load here .*it may use a newer format: the first check is off/);
      assert.match(check(b, 'policy').fix!, /Update sentrail/);
    } finally {
      await missing.close();
      await newer.close();
    }
  });

  it('no Secret Service, .mcp.json pointing elsewhere, a wrapper that pollutes stdout', { timeout: 60_000 }, async () => {
    const noKeychain = await doctor({ env: { SENTRAIL_API_KEY: '', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
    assert.equal(check(noKeychain, 'keychain').status, 'fail');
    assert.match(check(noKeychain, 'keychain').fix!, /--insecure-storage/);

    const elsewhere = await tempDir('sentrail-doctor-elsewhere-');
    await mkdir(path.join(elsewhere, '.git'));
    await writeFile(path.join(elsewhere, '.mcp.json'), JSON.stringify({ mcpServers: { sentrail: { command: 'npx', args: ['-y', 'sentrail', 'bridge', '--gate', 'https://other.example/functions/v1/mcp-gate/sse'] } } }));
    const pointing = await doctor({ cwd: elsewhere });
    assert.equal(check(pointing, 'mcp-json').status, 'fail');
    assert.match(check(pointing, 'mcp-json').detail, /points at https:\/\/other\.example\/functions\/v1\/mcp-gate\/sse, not http:/);
    assert.equal(check(pointing, 'mcp-json').fix, `sentrail init --gate ${gate.url} --force`);

    const polluted = await tempDir('sentrail-doctor-polluted-');
    await mkdir(path.join(polluted, '.git'));
    // A wrapper that greets before it hands over to the bridge (what a chatty shell profile does).
    const wrapper = path.join(polluted, 'wrapper.mjs');
    await writeFile(wrapper, `import { spawn } from 'node:child_process';\nprocess.stdout.write('Welcome to the dev shell!\\n');\nconst c = spawn(process.execPath, [${JSON.stringify(BIN)}, ...process.argv.slice(2)], { stdio: 'inherit' });\nc.on('exit', (code) => process.exit(code ?? 1));\n`);
    await writeFile(path.join(polluted, '.mcp.json'), JSON.stringify({ mcpServers: { sentrail: { command: process.execPath, args: [wrapper, 'bridge', '--gate', gate.url] } } }));
    const r = await doctor({ cwd: polluted });
    assert.equal(check(r, 'mcp-json').status, 'pass');
    assert.equal(check(r, 'bridge').status, 'fail');
    assert.match(check(r, 'bridge').detail, /stdout carried something that is not JSON-RPC: "Welcome to the dev shell!"/);
    assert.match(check(r, 'bridge').fix!, /logs belong on stderr/);
  });
});
