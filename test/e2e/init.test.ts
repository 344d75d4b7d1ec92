// `sentrail init` as a new user meets it: the built binary in a fresh repository, then real Claude
// Code (`claude mcp list`, fresh HOME) launching the written entry against a real local gate.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, runCli } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, type GateProcess } from '../helpers/gate.ts';
import { plantedKey, tempDir } from '../helpers/mcp.ts';

const run = promisify(execFile);
const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');

async function repo(files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('sentrail-init-repo-');
  await mkdir(path.join(dir, '.git'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** Every file under `dir` (but node_modules), with its text. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.parentPath.includes('node_modules')) continue;
    out.push(await readFile(path.join(e.parentPath, e.name), 'utf8'));
  }
  return out;
}

describe('sentrail init', () => {
  let gate: GateProcess;
  const isolated = async () => ({ SENTRAIL_CONFIG_DIR: await tempDir('sentrail-init-config-'), SENTRAIL_STATE_DIR: await tempDir('sentrail-init-state-') });
  before(async () => {
    gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
  });
  after(async () => gate?.stop());

  it('an empty repository: .mcp.json at its root from a subfolder, the entry and nothing secret; the next step is login', { timeout: 30_000 }, async () => {
    const dir = await repo();
    await mkdir(path.join(dir, 'src'));
    const planted = plantedKey('init');
    const r = await runCli(['init', '--gate', gate.url, '--agent', 'claude-code'], { cwd: path.join(dir, 'src'), env: { ...(await isolated()), SENTRAIL_API_KEY: '' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const written = JSON.parse(await readFile(path.join(dir, '.mcp.json'), 'utf8'));
    assert.deepEqual(written, {
      mcpServers: { sentrail: { command: 'npx', args: ['-y', 'sentrail', 'bridge', '--gate', gate.url, '--agent', 'claude-code'], env: { SENTRAIL_API_KEY: '${SENTRAIL_API_KEY:-}' } } },
    });
    assert.match(r.stdout, /Next: no credential for .* was found\. Run:\n\n {2}sentrail login --gate /);
    assert.match(r.stdout, /"allowedMcpServers":\[\{"serverCommand":\["npx","-y","sentrail","bridge","--gate","http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse","--agent","claude-code"\]\}\]/);
    // With a key in the environment, it is found (and still not written).
    const again = await runCli(['init', '--gate', gate.url, '--agent', 'claude-code'], { cwd: dir, env: { ...(await isolated()), SENTRAIL_API_KEY: planted } });
    assert.match(again.stdout, /✔ already set up: /);
    assert.match(again.stdout, /A credential for .* is in place/);
    for (const text of await filesUnder(dir)) assert.ok(!text.includes(planted), 'the planted key is in a written file');
  });

  it('an existing .mcp.json with two servers: both kept, in order, with its indentation; a different sentrail entry is refused without --force', { timeout: 30_000 }, async () => {
    const existing = JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] }, docs: { type: 'http', url: 'https://docs.example/mcp' } } }, null, 4) + '\n';
    const dir = await repo({ '.mcp.json': existing });
    const env = { ...(await isolated()), SENTRAIL_API_KEY: '' };
    const r = await runCli(['init', '--gate', gate.url], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✔ added the sentrail server to /);
    const text = await readFile(path.join(dir, '.mcp.json'), 'utf8');
    assert.match(text, /^\{\n {4}"mcpServers": \{\n {8}"github": /, 'four-space indentation kept');
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc.mcpServers), ['github', 'docs', 'sentrail']);
    assert.deepEqual(doc.mcpServers.github, JSON.parse(existing).mcpServers.github);
    assert.deepEqual(doc.mcpServers.docs, JSON.parse(existing).mcpServers.docs);

    const other = 'https://other.example/functions/v1/mcp-gate/sse';
    const refused = await runCli(['init', '--gate', other], { cwd: dir, env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already has a different "sentrail" server/);
    assert.match(refused.stderr, /Pass --force to replace it/);
    assert.equal(await readFile(path.join(dir, '.mcp.json'), 'utf8'), text, 'untouched');
    const forced = await runCli(['init', '--gate', other, '--force', '--json'], { cwd: dir, env });
    assert.equal(JSON.parse(forced.stdout).status, 'replaced');
    const after = JSON.parse(await readFile(path.join(dir, '.mcp.json'), 'utf8'));
    assert.deepEqual(Object.keys(after.mcpServers), ['github', 'docs', 'sentrail']);
    assert.equal(after.mcpServers.sentrail.args.at(-1), other);

    const user = await runCli(['init', '--gate', gate.url, '--scope', 'user', '--json'], { cwd: dir, env });
    assert.equal(JSON.parse(user.stdout).command, `claude mcp add --scope user sentrail -- npx -y sentrail bridge --gate ${gate.url}`);
    const bad = await runCli(['init', '--gate', 'http://gate.example/mcp-gate/sse'], { cwd: dir, env });
    assert.equal(bad.code, 2, 'plain http to another host is refused now, not at Claude Code\'s first launch');
  });

  it('real Claude Code: `claude mcp list` shows the written entry ✔ Connected against the local gate, with the key only in the environment', { timeout: 120_000 }, async () => {
    const dir = await repo();
    const env = { ...(await isolated()), SENTRAIL_API_KEY: '' };
    assert.equal((await runCli(['init', '--gate', gate.url], { cwd: dir, env })).code, 0);
    // `npx -y sentrail` resolves the project's own install, as after `npm i -D sentrail`: here, this checkout.
    await mkdir(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    await symlink(ROOT, path.join(dir, 'node_modules', 'sentrail'), 'dir');
    await symlink(path.join('..', 'sentrail', 'bin', 'sentrail.js'), path.join(dir, 'node_modules', '.bin', 'sentrail'));
    const home = await tempDir('sentrail-init-home-');
    // Project servers need a person's approval in Claude Code; this setting is how a team pre-approves them.
    await mkdir(path.join(home, '.claude'));
    await writeFile(path.join(home, '.claude', 'settings.json'), JSON.stringify({ enableAllProjectMcpServers: true }));
    const refusedBefore = (gate.stderr().match(/refused /g) ?? []).length;
    const { stdout } = await run(CLAUDE, ['mcp', 'list'], {
      cwd: dir,
      timeout: 90_000,
      env: { PATH: process.env.PATH!, HOME: home, SENTRAIL_API_KEY: gate.apiKey, npm_config_offline: 'true', ...(await isolated()) },
    });
    assert.match(stdout, new RegExp(`sentrail: npx -y sentrail bridge --gate ${gate.url.replace(/[.]/g, '\\.')} - ✔ Connected`), stdout);
    assert.equal((gate.stderr().match(/refused /g) ?? []).length, refusedBefore, 'the gate refused nothing: the bridge reached it with the key from the environment');
    for (const text of await filesUnder(dir)) assert.ok(!text.includes(gate.apiKey), 'the key is in a file of the repository');
  });
});
