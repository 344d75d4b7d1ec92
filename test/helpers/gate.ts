// Runs the built `sentrail gate` as users do (a real process on a free port) in front of the real
// MCP "everything" server, and connects real MCP clients (the SDK's) to it or to the server direct.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, BIN, ROOT } from './cli.ts';

export const EVERYTHING = path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
/** The --upstream command line for server-everything over stdio. */
export const EVERYTHING_STDIO = `node "${EVERYTHING}" stdio`;
export const DEMO_POLICY = path.join(ROOT, 'examples', 'demo', 'org-policy.yaml');

const READY = /sentrail gate: listening on (http:\/\/\S+)/;
const ADMIN_KEY_LINE = /sentrail gate: admin key for this run.*?: (sak_[A-Za-z0-9]+)/;

export function testApiKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let key = 'agk_';
  for (let i = 0; i < 40; i++) key += alphabet[randomInt(alphabet.length)];
  return key;
}

export interface GateProcess {
  /** The MCP endpoint, http://127.0.0.1:PORT/mcp-gate/sse */
  url: string;
  /** `C`: http://127.0.0.1:PORT */
  base: string;
  apiKey: string;
  /** The reviewer's key: as given, or the one the gate generated (read from its one line on stderr). */
  adminKey: string;
  /** The gate's state folder (SENTRAIL_GATE_STATE_DIR): a fresh temp folder unless given. */
  stateDir: string;
  child: ChildProcess;
  stderr(): string;
  /** Signals the gate and resolves when it has exited, with how long that took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

const running = new Set<GateProcess>();

/**
 * Starts `sentrail gate <args> --port 0` with the key in SENTRAIL_GATE_API_KEY, the admin key in
 * SENTRAIL_ADMIN_KEY when given (else the gate generates one), and its own state folder; resolves
 * on the ready line.
 */
export async function startGate(args: string[], opts: { env?: Record<string, string>; apiKey?: string; adminKey?: string; stateDir?: string; port?: number } = {}): Promise<GateProcess> {
  assertBuilt();
  const apiKey = opts.apiKey ?? testApiKey();
  const stateDir = opts.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sentrail-gate-state-')));
  const env: Record<string, string> = { NO_COLOR: '1', SENTRAIL_GATE_API_KEY: apiKey, SENTRAIL_GATE_STATE_DIR: stateDir };
  if (opts.adminKey) env.SENTRAIL_ADMIN_KEY = opts.adminKey;
  const child = spawn(process.execPath, [BIN, 'gate', ...args, '--port', String(opts.port ?? 0)], {
    cwd: ROOT,
    env: { ...withoutAdminKey(process.env), ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gate did not get ready within 15 s:\n${stderr}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = READY.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the gate exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  const adminKey = opts.adminKey ?? ADMIN_KEY_LINE.exec(stderr)?.[1] ?? '';
  const gate: GateProcess = {
    url,
    base: url.replace(/\/mcp-gate\/sse$/, ''),
    apiKey,
    adminKey,
    stateDir,
    child,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      running.delete(gate);
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
  };
  running.add(gate);
  return gate;
}

/** The runner's own SENTRAIL_ADMIN_KEY must not leak into a gate that should generate its key. */
function withoutAdminKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SENTRAIL_ADMIN_KEY: _dropped, ...rest } = env;
  return rest;
}

/** For an `after` hook: stops every gate a test left running. */
export async function stopAllGates(): Promise<void> {
  await Promise.all([...running].map((g) => g.stop()));
}

/** A temp folder holding a copy of the demo policy (so a test may edit it). */
export async function demoPolicyCopy(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-gate-'));
  const file = path.join(dir, 'org-policy.yaml');
  await copyFile(DEMO_POLICY, file);
  return { dir, file };
}

export function gateHeaders(apiKey: string, agent?: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}`, ...(agent ? { 'X-Agent-Id': agent } : {}) };
}

const clientInfo = { name: 'sentrail-gate-e2e', version: '1.0.0' };

/** An MCP client through the gate over Streamable HTTP, as the given agent. */
export async function connectThroughGate(gate: GateProcess, agent = 'claude-code'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(gate.url), { requestInit: { headers: gateHeaders(gate.apiKey, agent) } });
  const client = new Client(clientInfo, { capabilities: {} });
  await client.connect(transport);
  return { client, transport };
}

/** An MCP client straight to server-everything over stdio: what the gate's answers are compared with. */
export async function connectDirect(): Promise<Client> {
  const client = new Client(clientInfo, { capabilities: {} });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
  return client;
}

/** Resolves once the process is gone (signal 0 fails), or rejects after `ms`. */
export async function waitForExit(pid: number, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A reviewer's decision on the gate (`POST C/approval-decision` with its admin key), as `sentrail approvals approve|deny` makes it. */
export async function decideApproval(gate: GateProcess, approvalRequestId: string, decision: 'approved' | 'denied', reason?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${gate.base}/approval-decision`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${gate.adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ approvalRequestId, decision, ...(reason !== undefined ? { reason } : {}) }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`the gate refused the decision (HTTP ${res.status}): ${JSON.stringify(body)}`);
  return body;
}

/** Every approval request the gate holds (`GET C/approvals`, the reviewer's view: `id`, `status`, `tool`, `arguments`, …). */
export async function listApprovals(gate: GateProcess): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${gate.base}/approvals`, { headers: { Authorization: `Bearer ${gate.adminKey}` } });
  if (res.status !== 200) throw new Error(`GET /approvals answered HTTP ${res.status}`);
  return ((await res.json()) as { approvals: Array<Record<string, unknown>> }).approvals;
}

/** A policy document (YAML) where calls to `tools` need approval and every other call is allowed. */
export function approvalPolicyYaml(tools: string[], opts: { killSwitch?: boolean } = {}): string {
  const rules = tools.map(
    (tool, i) => `  - name: ${tool} needs approval\n    tool: mcp\n    actionPattern: "*"\n    toolName: ${tool}\n    mode: require_approval\n    priority: ${10 + i}\n`,
  );
  return `version: "approvals-test"\nkillSwitch: { global: ${opts.killSwitch ?? false}, toolsPaused: [] }\npolicies:\n${rules.join('')}  - name: Allow the rest\n    tool: mcp\n    actionPattern: "*"\n    mode: allow\n    priority: 500\n`;
}
