// `sentrail init` at a real terminal (tmux on a private server): without --gate it asks for the
// gate URL (refusing a bad one in place) and the scope, then writes; Esc cancels and writes nothing.
// Needs tmux (.ci/run installs it); skipped with the reason without it, failed under CI=true.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/mcp.ts';

const run = promisify(execFile);
const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux', '/opt/homebrew/bin/tmux'].find((p) => existsSync(p)) ?? null;
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0' && process.env.CI !== 'false';
const skip = TMUX === null && !inCi ? 'tmux is not installed (apt-get install tmux; .ci/run installs it)' : false;

describe('sentrail init at a terminal (tmux)', { skip }, () => {
  const server = `sentrail-init-${process.pid}`;
  const tmux = (...args: string[]) => run(TMUX!, ['-u', '-L', server, '-f', '/dev/null', ...args], { env: { ...process.env, LANG: 'C.UTF-8' } });
  const screen = async (s: string) => (await tmux('capture-pane', '-p', '-J', '-t', s)).stdout.split('\n').map((l) => l.trimEnd()).join('\n');
  async function until(s: string, done: (t: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await screen(s);
      if (done(text)) return text;
      if (Date.now() > deadline) assert.fail(`timed out; the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }
  after(async () => void (await tmux('kill-server').catch(() => {})));

  async function start(session: string, cwd: string): Promise<void> {
    const config = await tempDir('sentrail-init-tty-config-');
    const command = `cd '${cwd}' && env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 SENTRAIL_CONFIG_DIR='${config}' SENTRAIL_API_KEY= '${process.execPath}' '${BIN}' init; echo EXIT:$?; sleep 600`;
    await tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '40', command);
  }

  it('asks for the gate (a bad URL is refused in place) and the scope, then writes .mcp.json', { timeout: 60_000 }, async () => {
    assert.ok(TMUX, 'tmux is missing: CI must install it (.ci/run)');
    const repo = await tempDir('sentrail-init-tty-');
    await mkdir(path.join(repo, '.git'));
    await start('ask', repo);
    await until('ask', (t) => /\? Gate URL:/.test(t));
    await tmux('send-keys', '-t', 'ask', '-l', 'http://gate.example/mcp-gate/sse');
    await tmux('send-keys', '-t', 'ask', 'Enter');
    await until('ask', (t) => /plain http:\/\/ is refused for a host other than loopback/.test(t));
    for (let i = 0; i < 'http://gate.example/mcp-gate/sse'.length; i++) await tmux('send-keys', '-t', 'ask', 'BSpace');
    const gate = 'https://demo-ref.supabase.co/functions/v1/mcp-gate/sse';
    await tmux('send-keys', '-t', 'ask', '-l', gate);
    await tmux('send-keys', '-t', 'ask', 'Enter');
    const scopes = await until('ask', (t) => /\? Scope/.test(t));
    assert.match(scopes, /› project: \.mcp\.json at the repository root/);
    await tmux('send-keys', '-t', 'ask', 'Enter');
    const text = await until('ask', (t) => /EXIT:\d+/.test(t));
    assert.match(text, /✔ created .*\.mcp\.json/);
    assert.match(text, /EXIT:0/);
    const written = JSON.parse(await readFile(path.join(repo, '.mcp.json'), 'utf8'));
    assert.deepEqual(written.mcpServers.sentrail.args, ['-y', 'sentrail', 'bridge', '--gate', gate]);
  });

  it('Esc cancels: exit 1, nothing written; the user scope prints the claude mcp add line', { timeout: 60_000 }, async () => {
    const repo = await tempDir('sentrail-init-tty-');
    await mkdir(path.join(repo, '.git'));
    await start('cancel', repo);
    await until('cancel', (t) => /\? Gate URL:/.test(t));
    await tmux('send-keys', '-t', 'cancel', 'Escape');
    const text = await until('cancel', (t) => /EXIT:\d+/.test(t));
    assert.match(text, /cancelled: nothing was written/);
    assert.match(text, /EXIT:1/);
    assert.equal(existsSync(path.join(repo, '.mcp.json')), false);

    await start('user', repo);
    await until('user', (t) => /\? Gate URL:/.test(t));
    await tmux('send-keys', '-t', 'user', '-l', 'https://demo-ref.supabase.co/functions/v1/mcp-gate/sse');
    await tmux('send-keys', '-t', 'user', 'Enter');
    await until('user', (t) => /\? Scope/.test(t));
    await tmux('send-keys', '-t', 'user', 'Down');
    await until('user', (t) => /› user: every project of yours/.test(t));
    await tmux('send-keys', '-t', 'user', 'Enter');
    const user = await until('user', (t) => /EXIT:\d+/.test(t));
    assert.match(user, /claude mcp add --scope user sentrail -- npx -y sentrail bridge --gate https:\/\/demo-ref\.supabase\.co\/functions\/v1\/mcp-gate\/sse/);
    assert.equal(existsSync(path.join(repo, '.mcp.json')), false, 'user scope writes no project file');
  });
});
