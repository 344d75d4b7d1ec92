// Fixtures for the bridge's end-to-end tests: real MCP peers in real processes, nothing mocked.
//   - upstreams: server-everything (streamableHttp or legacy sse mode), the project's own fixture
//     server (test/fixtures/big-result-server.ts), or — once it lands — the local gate in front of
//     server-everything. All share one shape, `Upstream`, so the same tests run through any of them.
//   - clients: the SDK `Client` straight to the upstream (the reference), and the SDK `Client` over
//     `StdioClientTransport` spawning the BUILT bridge (`node bin/sentrail.js bridge ...`).
//   - a raw stdio driver for what an SDK client hides (exact ids, malformed lines, stdout bytes).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
  type JSONRPCMessage,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { BIN, ROOT } from './cli.ts';

export { BIN, ROOT };
export const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FIXTURE_SERVER = path.join(ROOT, 'test/fixtures/big-result-server.ts');

/** A Sentrail-shaped API key (agk_ + 40 characters), unique per call so a leak is attributable. */
export function plantedKey(tag = ''): string {
  const body = (tag.replace(/[^A-Za-z0-9]/g, '') + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2) + 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4').slice(0, 40);
  return `agk_${body}`;
}

export function assertBuiltBridge(): void {
  assert.ok(
    existsSync(path.join(ROOT, 'dist', 'cli.js')),
    'dist/cli.js is missing: the bridge under test is the BUILT binary. Run `npm run build` first.',
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

/** Rejects after `ms` with a message that says what hung. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is killed when the test process ends, whatever happens.

const children = new Set<ChildProcess>();
/** Children started as process-group leaders: killing them kills what they started too. */
const groups = new WeakSet<ChildProcess>();

/** SIGKILL a child, and its whole process group when it leads one (a gate's stdio upstream). */
export function killHard(c: ChildProcess): void {
  try {
    if (groups.has(c) && c.pid) process.kill(-c.pid, 'SIGKILL');
    else c.kill('SIGKILL');
  } catch {
    // gone already
  }
}

const tempDirs = new Set<string>();

/** A temp folder removed when the test process ends (unless E2E_KEEP_TEMP is set, to look at logs). */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

process.on('exit', () => {
  for (const c of children) killHard(c);
  if (!process.env.E2E_KEEP_TEMP) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Is `pid` alive? A zombie (exited, not yet reaped by its new parent) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

interface ServerProcess {
  child: ChildProcess;
  stderr: () => string;
  port: number;
}

async function startServerProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, what: string, timeoutMs = 15_000): Promise<ServerProcess> {
  // Its own process group, so that a SIGKILL (a crash) takes its children along: a gate killed
  // alone would leave its stdio upstream running forever (server-everything ignores stdin's end).
  const child = track(spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  groups.add(child);
  let err = '';
  child.stdout!.resume(); // server-everything chats on stdout: drain it
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killHard(child);
      reject(new Error(`${what} did not print its readiness line within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err, port: Number(m[1]) });
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready; stderr:\n${err}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Upstreams

/** What the bridge is pointed at with --gate, and what the reference client talks to directly. */
export interface Upstream {
  name: string;
  /** Streamable HTTP endpoint (what `--gate` gets). */
  mcpUrl: string;
  port: number;
  /** Bearer key the upstream wants (the local gate), for the reference client and the bridge. */
  authKey?: string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Start again on the same port (after kill), and wait until it is ready. */
  restart(): Promise<void>;
  /** Stop for good (end of the tests). */
  close(): Promise<void>;
  stderr(): string;
}

function processUpstream(name: string, start: (port: number) => Promise<ServerProcess>, url: (port: number) => string, first: ServerProcess, authKey?: string): Upstream {
  let current: ServerProcess | null = first;
  const port = first.port;
  const kill = async () => {
    if (!current) return;
    const c = current.child;
    current = null;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = exitOf(c);
      killHard(c);
      await exited;
    } else killHard(c); // its group may outlive it
  };
  return {
    name,
    mcpUrl: url(port),
    port,
    authKey,
    kill,
    async restart() {
      await kill();
      // The port was just freed; a restart may race the kernel for a moment.
      let lastErr: unknown;
      for (let i = 0; i < 20; i++) {
        try {
          current = await start(port);
          return;
        } catch (err) {
          lastErr = err;
          await sleep(100);
        }
      }
      throw lastErr;
    },
    close: kill,
    stderr: () => current?.stderr() ?? '',
  };
}

/** server-everything, in Streamable HTTP (`/mcp`) or legacy SSE (`/sse`) mode, on a free port. */
export async function startEverything(mode: 'streamableHttp' | 'sse' = 'streamableHttp'): Promise<Upstream> {
  const port = await freePort();
  const ready = mode === 'sse' ? /Server is running on port (\d+)/ : /MCP Streamable HTTP Server listening on port (\d+)/;
  const start = (p: number) => startServerProcess([EVERYTHING, mode], { ...process.env, PORT: String(p) }, ready, `server-everything (${mode})`);
  const first = await start(port);
  return processUpstream(`server-everything ${mode}`, start, (p) => (mode === 'sse' ? `http://127.0.0.1:${p}/sse` : `http://127.0.0.1:${p}/mcp`), first);
}

export interface FixtureStats {
  posts: number;
  gets: number;
  deletes: number;
  initializes: number;
  toolCalls: number;
  echoed: string[];
  cancelled: number;
  methods: string[];
  authorizations: string[];
  agentIds: string[];
  sessionsOpen: number;
}

/** An HTTP fault the fixture server answers with (type only: the fixture runs as its own process). */
import type { Fault as FixtureFault } from '../fixtures/big-result-server.ts';
export type { FixtureFault };

export interface FixtureUpstream extends Upstream {
  stats(): Promise<FixtureStats>;
  control(body: { fault?: FixtureFault | null; forgetSessions?: boolean; resetStats?: boolean }): Promise<void>;
}

/** The project's own real MCP server (big results, slow calls, DELETE counting, fault injection). */
export async function startFixtureServer(opts: { port?: number; requireKey?: string; json?: boolean } = {}): Promise<FixtureUpstream> {
  const port = opts.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  if (opts.requireKey) env.FIXTURE_REQUIRE_KEY = opts.requireKey;
  if (opts.json) env.FIXTURE_JSON = '1';
  const start = (p: number) => startServerProcess(['--import', 'tsx', FIXTURE_SERVER], { ...env, PORT: String(p) }, /fixture listening on port (\d+)/, 'the fixture MCP server');
  const first = await start(port);
  const up = processUpstream('fixture server', start, (p) => `http://127.0.0.1:${p}/mcp`, first);
  const base = `http://127.0.0.1:${port}`;
  return {
    ...up,
    async stats() {
      const res = await fetch(`${base}/stats`);
      return (await res.json()) as FixtureStats;
    },
    async control(body) {
      const res = await fetch(`${base}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, 'fixture /control failed');
    },
  };
}

/**
 * The local gate (`sentrail gate`, being built in parallel) in front of server-everything (stdio).
 * Used when SENTRAIL_E2E_UPSTREAM=gate; prints `sentrail gate: listening on http://HOST:PORT/mcp-gate/sse`.
 */
export async function startLocalGate(opts: { policy?: string } = {}): Promise<Upstream> {
  const key = plantedKey('gate');
  let policy = opts.policy;
  if (!policy) {
    const dir = await tempDir('sentrail-gate-policy-');
    policy = path.join(dir, 'policy.yaml');
    await writeFile(policy, 'version: "e2e"\npolicies: []\n');
  }
  const upstreamCmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(EVERYTHING)} stdio`;
  // Its own state folder, kept across restart(): approvals survive a restart of the gate.
  const stateDir = await tempDir('sentrail-gate-state-');
  const start = (p: number) =>
    startServerProcess(
      [BIN, 'gate', '--policy', policy!, '--upstream', upstreamCmd, '--port', String(p)],
      { ...process.env, SENTRAIL_GATE_API_KEY: key, SENTRAIL_GATE_STATE_DIR: stateDir, NO_COLOR: '1' },
      /listening on http:\/\/[^:]+:(\d+)\/mcp-gate\/sse/,
      'sentrail gate',
    );
  const first = await start(0);
  return processUpstream('local gate', start, (p) => `http://127.0.0.1:${p}/mcp-gate/sse`, first, key);
}

/** The upstream the fidelity tests run against: server-everything now, the local gate with SENTRAIL_E2E_UPSTREAM=gate. */
export async function startUpstream(): Promise<Upstream> {
  return process.env.SENTRAIL_E2E_UPSTREAM === 'gate' ? startLocalGate() : startEverything('streamableHttp');
}

// ---------------------------------------------------------------------------------------------
// Clients

/** What the test clients answer when the server asks (sampling, elicitation, roots). */
export const ROOTS = [{ uri: 'file:///work/e2e-project', name: 'e2e project' }];
export const ELICIT_CONTENT = { name: 'Ada Lovelace', check: true, email: 'ada@example.com', integer: 7, number: 2.5 };

export function samplingAnswer(req: { params: { messages: Array<{ content: unknown }> } }) {
  const last = req.params.messages.at(-1)?.content as { type?: string; text?: string } | undefined;
  return { role: 'assistant' as const, model: 'e2e-model', stopReason: 'endTurn', content: { type: 'text' as const, text: `sampled: ${last?.text ?? ''}` } };
}

export const FULL_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
  // Lets server-everything's *-async tools ask for sampling/elicitation as client-side tasks.
  tasks: { requests: { sampling: { createMessage: {} }, elicitation: { create: {} } } },
};

export interface RecordingClient {
  client: Client;
  /** Every message the client received, in order (responses, requests, notifications). */
  received: JSONRPCMessage[];
  /** Server→client requests the handlers answered. */
  serverRequests: string[];
  notifications(method: string): Array<{ method: string; params?: Record<string, unknown> }>;
  waitForNotification(method: string, timeoutMs: number, pred?: (params: Record<string, unknown> | undefined) => boolean, after?: number): Promise<{ method: string; params?: Record<string, unknown> }>;
  close(): Promise<void>;
}

function makeClient(name: string, capabilities: ClientCapabilities): { client: Client; serverRequests: string[]; taskStore?: InMemoryTaskStore } {
  // Its TTL timers (5 min for server-everything's tasks) would keep the test process alive: cleaned up on close.
  const taskStore = capabilities.tasks !== undefined ? new InMemoryTaskStore() : undefined;
  const client = new Client({ name, version: '1.0.0' }, { capabilities, ...(taskStore ? { taskStore } : {}) });
  const serverRequests: string[] = [];
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
      serverRequests.push('sampling/createMessage');
      const answer = samplingAnswer(req as never);
      const task = (req.params as { task?: { ttl?: number } }).task;
      if (task && extra.taskStore) {
        const created = await extra.taskStore.createTask({ ttl: task.ttl ?? 60_000, pollInterval: 100 });
        await extra.taskStore.storeTaskResult(created.taskId, 'completed', answer);
        return { task: await extra.taskStore.getTask(created.taskId) } as never;
      }
      return answer;
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
      serverRequests.push('elicitation/create');
      const params = req.params as { mode?: string; task?: { ttl?: number } };
      const answer = params.mode === 'url' ? { action: 'accept' as const } : { action: 'accept' as const, content: ELICIT_CONTENT };
      if (params.task && extra.taskStore) {
        const created = await extra.taskStore.createTask({ ttl: params.task.ttl ?? 60_000, pollInterval: 100 });
        await extra.taskStore.storeTaskResult(created.taskId, 'completed', answer);
        return { task: await extra.taskStore.getTask(created.taskId) } as never;
      }
      return answer;
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      serverRequests.push('roots/list');
      return { roots: ROOTS };
    });
  }
  return { client, serverRequests, taskStore };
}

async function connectRecording(name: string, transport: Transport, capabilities: ClientCapabilities, timeoutMs = 15_000): Promise<RecordingClient> {
  const { client, serverRequests, taskStore } = makeClient(name, capabilities);
  const received: JSONRPCMessage[] = [];
  // Every message the client gets is recorded before the SDK handles it.
  const wrap = () => {
    const inner = transport.onmessage;
    transport.onmessage = (m, extra) => {
      received.push(m);
      inner?.(m, extra);
    };
  };
  const origStart = transport.start.bind(transport);
  transport.start = async () => {
    wrap();
    return origStart();
  };
  await within(client.connect(transport), timeoutMs, `${name}: connect`);
  const notifications = (method: string) => received.filter((m) => 'method' in m && !('id' in m) && m.method === method) as Array<{ method: string; params?: Record<string, unknown> }>;
  return {
    client,
    received,
    serverRequests,
    notifications,
    async waitForNotification(method, timeoutMs, pred = () => true, after = 0) {
      return waitFor(() => notifications(method).slice(after).find((n) => pred(n.params)), timeoutMs, `notification ${method}`, 20);
    },
    close: async () => {
      taskStore?.cleanup();
      await client.close();
    },
  };
}

/** The reference: the SDK client straight to the upstream. */
export async function directClient(upstream: Pick<Upstream, 'mcpUrl' | 'authKey'>, opts: { transport?: 'http' | 'sse'; capabilities?: ClientCapabilities; name?: string } = {}): Promise<RecordingClient> {
  const url = new URL(upstream.mcpUrl);
  const headers: Record<string, string> = upstream.authKey ? { authorization: `Bearer ${upstream.authKey}` } : {};
  const transport =
    opts.transport === 'sse'
      ? new SSEClientTransport(url, { requestInit: { headers }, eventSourceInit: { fetch: (u, i) => fetch(u, { ...i, headers: { ...(i?.headers as Record<string, string>), ...headers } }) } })
      : new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  return connectRecording(opts.name ?? 'e2e-direct', transport, opts.capabilities ?? FULL_CAPABILITIES);
}

export interface BridgeSpawnOptions {
  gate?: string;
  policy?: string;
  transport?: 'auto' | 'http' | 'sse';
  /** SENTRAIL_API_KEY; null: none at all. Default: a fresh planted key. */
  apiKey?: string | null;
  /** --api-key (the flag) instead of / besides the env variable. */
  apiKeyFlag?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  extraArgs?: string[];
  env?: Record<string, string>;
}

export interface BridgeEnv {
  args: string[];
  env: Record<string, string>;
  logFile: string;
  stateDir: string;
  cacheDir: string;
  apiKey: string | null;
}

/** Arguments, isolated directories and environment for one bridge process. */
export async function bridgeEnv(opts: BridgeSpawnOptions = {}): Promise<BridgeEnv> {
  const stateDir = await tempDir('sentrail-e2e-state-');
  const cacheDir = await tempDir('sentrail-e2e-cache-');
  const logFile = path.join(stateDir, 'bridge.log');
  const args = [BIN, 'bridge'];
  if (opts.gate !== undefined) args.push('--gate', opts.gate);
  if (opts.policy) args.push('--policy', opts.policy);
  if (opts.transport) args.push('--transport', opts.transport);
  if (opts.apiKeyFlag) args.push('--api-key', opts.apiKeyFlag);
  args.push('--log-file', logFile);
  if (opts.logLevel) args.push('--log-level', opts.logLevel);
  args.push(...(opts.extraArgs ?? []));
  const apiKey = opts.apiKey === undefined ? plantedKey('env') : opts.apiKey;
  const env: Record<string, string> = {};
  // Only what a child needs (PATH, HOME...), never the test runner's own SENTRAIL_* settings.
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SystemRoot']) if (process.env[k]) env[k] = process.env[k]!;
  env.SENTRAIL_STATE_DIR = stateDir;
  env.SENTRAIL_CACHE_DIR = cacheDir;
  env.SENTRAIL_CONFIG_DIR = path.join(stateDir, 'config');
  env.NO_COLOR = '1';
  if (apiKey !== null) env.SENTRAIL_API_KEY = apiKey;
  Object.assign(env, opts.env ?? {});
  return { args, env, logFile, stateDir, cacheDir, apiKey };
}

export interface BridgeClient extends RecordingClient {
  transport: StdioClientTransport;
  pid: number;
  stderr(): string;
  logText(): string;
  setup: BridgeEnv;
}

/** The SDK client over stdio, spawning the built bridge. */
export async function bridgeClient(opts: BridgeSpawnOptions & { capabilities?: ClientCapabilities; name?: string; connectTimeoutMs?: number } = {}): Promise<BridgeClient> {
  assertBuiltBridge();
  const setup = await bridgeEnv(opts);
  const transport = new StdioClientTransport({ command: process.execPath, args: setup.args, env: setup.env, cwd: ROOT, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const rc = await connectRecording(opts.name ?? 'e2e-bridge', transport, opts.capabilities ?? FULL_CAPABILITIES, opts.connectTimeoutMs ?? 20_000);
  const pid = transport.pid!;
  return {
    ...rc,
    transport,
    pid,
    setup,
    stderr: () => err,
    logText: () => (existsSync(setup.logFile) ? readFileSync(setup.logFile, 'utf8') : ''),
    async close() {
      await rc.close().catch(() => {});
      // If it did not exit on stdin's end, make sure it is gone (and say so through the exit tests).
      if (pidAlive(pid)) {
        await sleep(100);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The raw stdio driver

export interface RawBridge {
  child: ChildProcess;
  setup: BridgeEnv;
  /** Every stdout line, exactly as written. */
  lines: string[];
  stderr(): string;
  logText(): string;
  write(line: string): void;
  send(message: unknown): void;
  /** The first stdout message (parsed) after index `from` that satisfies `pred`. */
  waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs: number, what: string, from?: number): Promise<Record<string, unknown>>;
  /** Sends a request and waits for the response with the same id (same JSON type). */
  request(id: string | number, method: string, params?: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
  messages(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal?: NodeJS.Signals): void;
}

export async function rawBridge(opts: BridgeSpawnOptions = {}): Promise<RawBridge> {
  assertBuiltBridge();
  const setup = await bridgeEnv(opts);
  const child = track(spawn(process.execPath, setup.args, { cwd: ROOT, env: setup.env, stdio: ['pipe', 'pipe', 'pipe'] }));
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin!.on('error', () => {}); // EPIPE after the bridge exits is the test's business
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const parse = (l: string): Record<string, unknown> | null => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  const raw: RawBridge = {
    child,
    setup,
    lines,
    stderr: () => err,
    logText: () => (existsSync(setup.logFile) ? readFileSync(setup.logFile, 'utf8') : ''),
    write: (line) => void child.stdin!.write(line),
    send: (m) => void child.stdin!.write(JSON.stringify(m) + '\n'),
    messages: () => lines.map(parse).filter((m): m is Record<string, unknown> => m !== null),
    async waitFor(pred, timeoutMs, what, from = 0) {
      return waitFor(
        () => {
          for (let i = from; i < lines.length; i++) {
            const m = parse(lines[i]);
            if (m && pred(m)) return m;
          }
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the bridge exited (${child.exitCode ?? child.signalCode}); stderr:\n${err}`);
          return undefined;
        },
        timeoutMs,
        what,
        10,
      );
    },
    async request(id, method, params, timeoutMs = 15_000) {
      const msg: Record<string, unknown> = { jsonrpc: '2.0', id, method };
      if (params !== undefined) msg.params = params;
      raw.send(msg);
      return raw.waitFor((m) => m.id === id && !('method' in m), timeoutMs, `the response to ${method} id ${JSON.stringify(id)}`);
    },
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
  return raw;
}

/** The first lines Claude Code 2.1.197 sends a stdio server (ci-recipes.md). */
export const CLAUDE_CODE_INITIALIZE = {
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: { roots: {}, elicitation: {} }, clientInfo: { name: 'claude-code', title: 'Claude Code', version: '2.1.197' } },
  jsonrpc: '2.0',
  id: 0,
};

/** Initializes a raw bridge the way Claude Code does and returns the initialize response. */
export async function rawInitialize(raw: RawBridge, init: Record<string, unknown> = CLAUDE_CODE_INITIALIZE, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  raw.send(init);
  const res = await raw.waitFor((m) => m.id === init.id && !('method' in m), timeoutMs, 'the initialize response');
  raw.send({ method: 'notifications/initialized', jsonrpc: '2.0' });
  return res;
}

/** Replaces what differs between two otherwise identical sessions: UUIDs, session ids, clock times. */
export function normalize(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
      .replace(/\b[0-9a-f]{32}\b/g, '<id32>')
      .replace(/\b\d{1,2}:\d{2}:\d{2}(\s?[AP]M)?/g, '<time>');
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'blob' && typeof v === 'string') {
        const text = Buffer.from(v, 'base64').toString('utf8');
        // Text blobs with a timestamp inside: compare the normalized text.
        out[k] = /^[\x20-\x7e\s]*$/.test(text) && /\d:\d\d/.test(text) ? `base64(${normalize(text) as string})` : v;
      } else out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Calls held for approval

export type ToolResult = { isError?: boolean; content?: Array<{ type: string; text?: string }>; _meta?: { sentrail?: Record<string, unknown> } };

/** How the bridge's progress names the approval a call waits on (docs/bridge.md, "Held for approval"). */
export const APPROVAL_IN_PROGRESS = /approval (\S+), waited/;

export interface HeldForApproval {
  /** The approval id, as the first progress notification named it. */
  id: string;
  progress: Progress[];
  /** The call's result once the wait ends (rejects when the call is cancelled or times out). */
  result: Promise<ToolResult>;
  settled(): boolean;
}

/** Makes a call through the bridge that the gate holds for approval; resolves once the bridge's progress names the approval. */
export async function heldForApproval(client: Client, name: string, args: Record<string, unknown>, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<HeldForApproval> {
  const progress: Progress[] = [];
  let settled = false;
  const result = client
    .callTool({ name, arguments: args }, undefined, { onprogress: (p) => progress.push(p), timeout: opts.timeoutMs ?? 120_000, ...(opts.signal ? { signal: opts.signal } : {}) })
    .finally(() => (settled = true)) as Promise<ToolResult>;
  result.catch(() => {}); // a cancelled call rejects: the caller that cancels looks at it
  const first = await waitFor(() => progress.find((p) => APPROVAL_IN_PROGRESS.test(p.message ?? '')), 15_000, `a progress notification naming the approval for ${name}`);
  return { id: APPROVAL_IN_PROGRESS.exec(first.message!)![1]!, progress, result, settled: () => settled };
}
