// `sentrail policy pull --out FILE|DIR [--check]` as a team runs it: the built binary, a real local
// gate serving a policy file the test changes, a repository folder on disk.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, runCli, tempFiles } from '../helpers/cli.ts';
import { EVERYTHING_STDIO, startGate, type GateProcess } from '../helpers/gate.ts';

const EXAMPLE_POLICY = path.join(ROOT, 'examples', 'org-policy.yaml');
const EXAMPLE_TESTS = path.join(ROOT, 'examples', 'org-policy.test.yaml');

describe('sentrail policy pull --out', () => {
  let gate: GateProcess;
  let gatePolicy: string;
  let env: Record<string, string>;
  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-gate-policy-'));
    gatePolicy = path.join(dir, 'org-policy.yaml');
    await copyFile(EXAMPLE_POLICY, gatePolicy);
    gate = await startGate(['--policy', gatePolicy, '--upstream', EVERYTHING_STDIO]);
    env = { SENTRAIL_API_KEY: gate.apiKey, SENTRAIL_CACHE_DIR: await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-')) };
  });
  after(async () => gate?.stop());

  const pull = (...args: string[]) => runCli(['policy', 'pull', '--gate', gate.url, ...args], { env });
  /** Changes the gate's policy file and waits until the gate serves the change. */
  async function changeGatePolicy(edit: (text: string) => string): Promise<void> {
    const before = (await fetch(`${gate.base}/mcp-gate/policy`, { headers: { authorization: `Bearer ${gate.apiKey}` } })).headers.get('etag');
    await writeFile(gatePolicy, edit(await readFile(gatePolicy, 'utf8')));
    for (let i = 0; i < 50; i++) {
      const now = (await fetch(`${gate.base}/mcp-gate/policy`, { headers: { authorization: `Bearer ${gate.apiKey}` } })).headers.get('etag');
      if (now !== before) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the gate did not reload its policy');
  }

  it('one file: formatted YAML headed by gate, version and ETag; decides as the original; pulling again changes nothing', { timeout: 60_000 }, async () => {
    const repo = await mkdtemp(path.join(os.tmpdir(), 'sentrail-repo-'));
    const out = path.join(repo, 'org.yaml');
    const r = await pull('--out', out);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pulled org policy 2026-11-21\.3 \(18 policies\) into .*org\.yaml \(1 file: 1 written, 0 unchanged\)/);
    const text = await readFile(out, 'utf8');
    const etag = (await fetch(`${gate.base}/mcp-gate/policy`, { headers: { authorization: `Bearer ${gate.apiKey}` } })).headers.get('etag');
    assert.ok(text.startsWith(`# Pulled by \`sentrail policy pull\` from ${gate.url}\n# version: 2026-11-21.3, ETag: ${etag}\n`), text.slice(0, 300));
    const fmt = await runCli(['policy', 'fmt', '--check', out]);
    assert.equal(fmt.code, 0, `already canonical: ${fmt.stdout}${fmt.stderr}`);
    const original = await runCli(['policy', 'test', EXAMPLE_TESTS, '--policy', EXAMPLE_POLICY, '--format', 'json']);
    const copy = await runCli(['policy', 'test', EXAMPLE_TESTS, '--policy', out, '--format', 'json']);
    const decisions = (run: { stdout: string }) => JSON.parse(run.stdout).files[0].cases.map((c: { name: string; actual?: { mode: string; policy: string | null } }) => [c.name, c.actual?.mode, c.actual?.policy]);
    assert.deepEqual(decisions(copy), decisions(original));
    const again = await pull('--out', out, '--json');
    assert.equal(JSON.parse(again.stdout).written, 0);
    assert.equal(await readFile(out, 'utf8'), text, 'byte for byte the same');
    const checked = await pull('--out', out, '--check');
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /✔ .*org\.yaml is up to date with the org policy 2026-11-21\.3/);
  });

  it('a folder: one file per policy by name; --check passes, then fails naming each difference once the repo or the gate moves; a re-pull removes what the gate dropped', { timeout: 60_000 }, async () => {
    const repo = await tempFiles({ 'policies/notes.yaml': 'policies: []\n', 'policies/org.test.yaml': 'cases: []\n' });
    const out = path.join(repo, 'policies');
    const r = await pull('--out', out, '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.files.length, 19);
    assert.deepEqual(report.foreign, [path.join(out, 'notes.yaml')].map((f) => (f.startsWith(ROOT) ? path.relative(ROOT, f) : f)));
    const names = await readdir(out);
    for (const name of ['_org.yaml', 'no-deleting-anything.yaml', 'emergency-freeze-all-deploys.yaml', 'notes.yaml', 'org.test.yaml']) assert.ok(names.includes(name), name);
    assert.equal((await pull('--out', out, '--check')).code, 0);

    // The repository drifts: someone edits a pulled file.
    const file = path.join(out, 'no-deleting-anything.yaml');
    const pulled = await readFile(file, 'utf8');
    await writeFile(file, pulled.replace('priority: 100', 'priority: 101'));
    const drifted = await pull('--out', out, '--check');
    assert.equal(drifted.code, 1);
    assert.match(drifted.stderr, /policy "No deleting anything": priority differs/);
    assert.match(drifted.stderr, /✖ .*policies is behind the org policy 2026-11-21\.3 .*\(1 difference\): run sentrail policy pull --out/);
    await writeFile(file, pulled);

    // The org moves: the gate drops a policy and changes the version.
    await changeGatePolicy((t) => t.replace('version: "2026-11-21.3"', 'version: "2026-12-01.1"').replace(/  - name: No force pushes\n(    .*\n)+\n/, ''));
    const behind = await pull('--out', out, '--check', '--json');
    assert.equal(behind.code, 1);
    assert.deepEqual(JSON.parse(behind.stdout).differences, ['version: the repository has 2026-11-21.3, the gate 2026-12-01.1', 'policy "No force pushes": only in the repository']);
    const repulled = await pull('--out', out, '--json');
    assert.deepEqual(JSON.parse(repulled.stdout).removed.map((f: string) => path.basename(f)), ['no-force-pushes.yaml']);
    assert.ok((await readdir(out)).includes('notes.yaml'), 'a file pull did not write stays');
    assert.equal((await pull('--out', out, '--check')).code, 0);
  });

  it('refusals: a file it did not write (without --force), --check without --out, a tie that one file per policy would reorder', { timeout: 60_000 }, async () => {
    const repo = await tempFiles({ 'mine.yaml': 'policies: []\n' });
    const refused = await pull('--out', path.join(repo, 'mine.yaml'));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /mine\.yaml exists and was not written by sentrail policy pull/);
    assert.equal(await readFile(path.join(repo, 'mine.yaml'), 'utf8'), 'policies: []\n');
    assert.equal((await pull('--out', path.join(repo, 'mine.yaml'), '--force')).code, 0);
    const noOut = await pull('--check');
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--check compares a repository copy with the gate: pass --out/);

    await changeGatePolicy((t) => t + '\n  - { name: Zebra, tool: mcp, actionPattern: zebra, mode: block, priority: 7 }\n  - { name: Aardvark, tool: mcp, actionPattern: "*", mode: block, priority: 7 }\n');
    const tie = await pull('--out', path.join(repo, 'split'));
    assert.equal(tie.code, 1);
    assert.match(tie.stderr, /policies "Zebra" and "Aardvark" share priority 7 and mode block.*Pull into one file \(--out FILE\.yaml\) instead/);
    assert.equal((await pull('--out', path.join(repo, 'one.yaml'))).code, 0);
  });
});
