// A user's session for the end-to-end tests of login, status, logout and the bridge: the BUILT
// binary run with a fresh HOME (the OS config/state/cache folders under it) and no SENTRAIL_* or
// XDG_* variables; the real OS keychain (the Secret Service of gnome-keyring on a D-Bus session
// bus, which .ci/run starts), probed and, when missing, skipped with the reason (under CI=true:
// failed); and the planted-secret registry: every output and log is recorded, and
// `assertNoPlantedSecrets()` checks that no planted secret appears in any of them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, BIN, ROOT } from './cli.ts';
import { needKeychain as needKeychainOr, probeKeychain } from './keychain.ts';


// ── Running the CLI ─────────────────────────────────────────────────────────────────────────────

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Everything any command printed, for the planted-secret check at the end. */
export const outputs: { what: string; text: string }[] = [];
export const homes: string[] = [];

/** The environment of a user with a fresh HOME: nothing of the test runner's sentrail settings. */
export function userEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('SENTRAIL_') || k.startsWith('XDG_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  Object.assign(env, { HOME: home, NO_COLOR: '1' });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export async function freshHome(): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'sentrail-login-home-'));
  homes.push(home);
  return home;
}

export function sentrail(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Run> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sentrail ${args.join(' ')} did not end within ${opts.timeoutMs ?? 20_000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      outputs.push({ what: `sentrail ${args.join(' ')} (stdout)`, text: stdout }, { what: `sentrail ${args.join(' ')} (stderr)`, text: stderr });
      // let the pipes drain
      setImmediate(() => resolve({ code, stdout, stderr, ms }));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `secret-tool search service sentrail`: what the Secret Service holds for sentrail (attributes and secrets). */
export function secretToolSearch(): Promise<string> {
  return new Promise((resolve) => {
    execFile('secret-tool', ['search', '--all', 'service', 'sentrail'], { timeout: 5000 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
  });
}

/**
 * sentrail's keychain items, account and secret (secret-tool prints each item's path, label and
 * secret on stdout, its attributes on stderr: the label, `keyring:<account>@sentrail`, ties them).
 */
export function keychainItems(): Promise<{ account: string; secret: string }[]> {
  return new Promise((resolve) => {
    execFile('secret-tool', ['search', '--all', 'service', 'sentrail'], { timeout: 5000 }, (_err, stdout) => {
      const items: { account: string; secret: string }[] = [];
      for (const block of stdout.split(/^\[\/.*\]$/m)) {
        const account = /^label = keyring:(.*)@sentrail$/m.exec(block)?.[1];
        const secret = /^secret = (.*)$/m.exec(block)?.[1];
        if (account !== undefined && secret !== undefined) items.push({ account, secret });
      }
      resolve(items);
    });
  });
}

/** Every file under `dir` whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        try {
          if ((await readFile(p)).includes(needle)) hits.push(p);
        } catch {
          // unreadable: not ours
        }
      }
    }
  };
  await walk(dir);
  return hits;
}

/** The bridge under the MCP SDK's stdio client, as Claude Code launches it. */
export async function bridgeTools(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ tools: string[]; stderr: string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', ...args], env: env as Record<string, string>, stderr: 'pipe', cwd: ROOT });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const client = new Client({ name: 'login-e2e', version: '1' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    return { tools: tools.map((t) => t.name), stderr };
  } finally {
    await client.close();
    outputs.push({ what: `sentrail bridge ${args.join(' ')} (stderr)`, text: stderr });
  }
}

export async function bridgeLogs(home: string): Promise<string> {
  const dir = path.join(home, '.local', 'state', 'sentrail');
  let text = '';
  for (const e of existsSync(dir) ? await readdir(dir, { withFileTypes: true }) : []) if (e.isFile()) text += await readFile(path.join(dir, e.name), 'utf8');
  outputs.push({ what: `bridge logs under ${home}`, text });
  return text;
}

// ── The keychain: there or not ──────────────────────────────────────────────────────────────────

/** Secrets handed to sentrail (keys, tokens): none may appear in any recorded output. */
export const planted = new Set<string>();

let keychainProblem: string | null | undefined;

/** Probes once per test process. */
export async function keychainStatus(): Promise<string | null> {
  if (keychainProblem === undefined) keychainProblem = await probeKeychain();
  return keychainProblem;
}

/** For tests that need the real keychain: skip with the reason, but never under CI. Call keychainStatus() in before(). */
export function needKeychain(t: { skip(message?: string): void }): boolean {
  return needKeychainOr(t, keychainProblem === undefined ? 'not probed (call keychainStatus() first)' : keychainProblem);
}

/** The planted-secret check over everything recorded; then the temp homes go. */
export async function assertNoPlantedSecretsAndCleanUp(): Promise<void> {
  for (const secret of planted) {
    for (const o of outputs) assert.ok(!o.text.includes(secret), `a planted secret appears in ${o.what}`);
  }
  if (!process.env.E2E_KEEP_TEMP) for (const h of homes) await rm(h, { recursive: true, force: true });
}
