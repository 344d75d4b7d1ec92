// The login view's ink mode in a real terminal: tmux, on a private server, runs the demo
// (scripts/login-view-demo.ts) bundled as the CLI is bundled (scripts/build-options.mjs), and the
// test reads the screen with capture-pane: the spinner while waiting, the URLs whole, the code,
// the outcome, the exit code, and the cursor shown again afterwards. Ctrl-C cancels.
//
// Needs tmux (.ci/run installs it). Without it the test is skipped with the reason; with CI=true it
// fails instead. Ink prints only its last frame when CI is set (is-in-ci), and the view chooses
// plain lines there; the pane is a real terminal, so the demo runs with CI unset.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from '../../scripts/build-options.mjs';
import { startAuthServer } from '../fixtures/auth-server.ts';
import { approveDevice, launchBrowser } from '../helpers/browser.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates } from '../helpers/gate.ts';
import { keychainStatus, needKeychain } from '../helpers/user-session.ts';

const run = promisify(execFile);
const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux', '/opt/homebrew/bin/tmux'].find((p) => existsSync(p)) ?? null;
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0' && process.env.CI !== 'false';
const skip = TMUX === null && !inCi ? 'tmux is not installed (apt-get install tmux; .ci/run installs it)' : false;

const WIDTH = 120;
const SPINNER_LINE = (text: string) => new RegExp(`^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ${text}`, 'm');
const COMPLETE_URL = 'https://auth.demo.sentrail.dev/device?user_code=WDJB-MJHT&client_id=sentrail-cli-6f0c2a9e&resource=https%3A%2F%2Fdemo-ref.supabase.co%2Ffunctions%2Fv1%2Fmcp-gate';

describe('login view in a real terminal (tmux)', { skip }, () => {
  const server = `sentrail-test-${process.pid}`;
  let dir = '';
  let demo = '';
  const tmux = (...args: string[]) => run(TMUX!, ['-u', '-L', server, '-f', '/dev/null', ...args], { env: { ...process.env, LANG: 'C.UTF-8' } });
  /** The screen, wrapped lines joined (-J): a line the terminal wrapped comes back whole. */
  const screen = async (session: string) => (await tmux('capture-pane', '-p', '-J', '-t', session)).stdout.split('\n').map((l) => l.trimEnd()).join('\n');

  before(async () => {
    assert.ok(TMUX, 'tmux is missing: CI must install it (.ci/run)');
    dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-login-view-'));
    await build({ ...bundleOptions, absWorkingDir: ROOT, entryPoints: { demo: 'scripts/login-view-demo.ts' }, outdir: dir, legalComments: 'none' });
    demo = path.join(dir, 'demo.js');
  });
  after(async () => {
    await stopAllGates();
    await tmux('kill-server').catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts the demo in a fresh 120x30 session; the shell then prints EXIT:<code> and stays. */
  async function start(session: string, args: string[]): Promise<void> {
    const command = `env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR '${process.execPath}' '${demo}' ${args.join(' ')}; echo EXIT:$?; sleep 600`;
    await tmux('new-session', '-d', '-s', session, '-x', String(WIDTH), '-y', '30', command);
  }

  /** Captures the screen until `done` holds; `seen` is called on each capture. */
  async function until(session: string, done: (text: string) => boolean, seen: (text: string) => void = () => {}, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await screen(session);
      seen(text);
      if (done(text)) return text;
      if (Date.now() > deadline) assert.fail(`timed out; the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  it('device flow: spinner while waiting, the code and complete URL whole, the outcome, exit 0, cursor back', async () => {
    await start('device', ['--flow', 'device', '--wait', '2000']);
    let spinnerSeen = false;
    const text = await until('device', (t) => /EXIT:\d+/.test(t), (t) => {
      spinnerSeen ||= SPINNER_LINE('Waiting for you to enter the code…').test(t);
    });
    assert.ok(spinnerSeen, 'the spinner never showed while waiting');
    const lines = text.split('\n');
    assert.ok(COMPLETE_URL.length > WIDTH, 'the URL is wider than the terminal');
    for (const exact of ['https://auth.demo.sentrail.dev/device', 'WDJB-MJHT', COMPLETE_URL]) assert.ok(lines.includes(exact), `no line is exactly ${exact}:\n${text}`);
    assert.match(text, /^✓ Logged in to https:\/\/demo-ref\.supabase\.co\/functions\/v1\/mcp-gate\/sse as ada@example\.com$/m);
    // The last line of the outcome, then straight the shell: no spinner left, no blank line.
    assert.match(text, /\n {2}stored: +the OS keychain \(Secret Service\), service "sentrail"\nEXIT:0\n/);
    assert.doesNotMatch(text, SPINNER_LINE(''));
    assert.equal((await tmux('display-message', '-p', '-t', 'device', '#{cursor_flag}')).stdout.trim(), '1', 'the cursor is hidden after the view closed');
  });

  it('browser flow: Ctrl-C cancels, says so, exits 1 and leaves the terminal sane', async () => {
    await start('browser', ['--flow', 'browser', '--wait', '60000']);
    const waiting = await until('browser', (t) => SPINNER_LINE('Waiting for you to log in in the browser…').test(t));
    const url = waiting.split('\n').find((l) => l.startsWith('https://auth.demo.sentrail.dev/authorize?'));
    assert.ok(url && url.length > WIDTH * 2 && url.endsWith('&resource=https%3A%2F%2Fdemo-ref.supabase.co%2Ffunctions%2Fv1%2Fmcp-gate'), `the authorization URL is not whole:\n${waiting}`);
    await tmux('send-keys', '-t', 'browser', 'C-c');
    const text = await until('browser', (t) => /EXIT:\d+/.test(t));
    assert.match(text, /\n✗ cancelled \(Ctrl-C\)\nEXIT:1\n/);
    assert.doesNotMatch(text, SPINNER_LINE(''));
    assert.equal((await tmux('display-message', '-p', '-t', 'browser', '#{cursor_flag}')).stdout.trim(), '1');
  });

  it('the real `sentrail login --device`: spinner while the user approves in chromium, the code as issued, logged in', async (t) => {
    await keychainStatus();
    if (!needKeychain(t)) return;
    const as = await startAuthServer();
    const gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', as.issuer]);
    const browser = await launchBrowser();
    try {
      const home = await mkdtemp(path.join(os.tmpdir(), 'sentrail-tty-home-'));
      const command = `env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR HOME='${home}' '${process.execPath}' '${BIN}' login --device --gate ${gate.url}; echo EXIT:$?; sleep 600`;
      await tmux('new-session', '-d', '-s', 'real', '-x', String(WIDTH), '-y', '30', command);
      let spinnerSeen = false;
      const waiting = await until('real', (text) => /^[A-Z]{4}-[A-Z]{4}$/m.test(text) && SPINNER_LINE('').test(text), (text) => {
        spinnerSeen ||= SPINNER_LINE('').test(text);
      });
      const code = /^([A-Z]{4}-[A-Z]{4})$/m.exec(waiting)![1]!;
      assert.ok(waiting.split('\n').includes(`${as.issuer}/device`), `the verification URL on a line of its own:\n${waiting}`);
      const page = await browser.newPage();
      await approveDevice(page, `${as.issuer}/device`, code, 'ada');
      const text = await until('real', (t) => /EXIT:\d+/.test(t), () => {}, 30_000);
      assert.ok(spinnerSeen);
      assert.match(text, new RegExp(`^✓ Logged in to ${gate.url.replace(/[.]/g, '\\.')} as ada$`, 'm'));
      assert.match(text, /EXIT:0/);
      assert.doesNotMatch(text, SPINNER_LINE(''));
      await rm(home, { recursive: true, force: true });
    } finally {
      await browser.close();
      await as.close();
    }
  });
});
