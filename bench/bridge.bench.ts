// The bridge benchmark: `sentrail bridge` next to mcp-remote 0.15.1 and a direct SDK client, all
// three in front of the same warm Streamable HTTP upstream (bench/fixtures/trivial-upstream.ts),
// measured in one run with the contenders interleaved. Method and results: bench/README.md.
//
//   npm run bench:bridge                      # build, then print the tables (progress on stderr)
//   npm run bench:bridge -- --write           # …and put them into bench/README.md
//   options: --cold-runs=15  --calls=2000  --warmup=500  --load-ms=3000  --blob-runs=20
//            --blob-bytes=1048576  --upstream-json (the upstream answers POSTs with JSON, not SSE)
//            --references: also measure the three minimal passthroughs of
//            bench/fixtures/reference-passthrough.mjs (global fetch / node:http / node:http raw bytes),
//            to tell the bridge's own cost from its HTTP stack's (a third table; ~45 s more)
//            --bridge-node-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"  (node flags for the bridge
//            processes only, e.g. to profile them; the numbers are then not comparable)
//
// Exit status 1 when a contender answers differently from the direct client (nothing is timed
// then) or a call fails during the timed phases.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// ── Options ─────────────────────────────────────────────────────────────────────────────────────

const argv = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const WRITE = argv.includes('--write');
const UPSTREAM_JSON = argv.includes('--upstream-json');
const REFERENCES = argv.includes('--references');
/** Adds the bridge with --no-audit as a contender, and a table of audit on against audit off. */
const AUDIT_COMPARE = argv.includes('--audit-compare');
const AUDIT_OFF = 'bridge, audit off';
const COLD_RUNS = Number(option('cold-runs', '15'));
const CALLS = Number(option('calls', '2000'));
const WARMUP = Number(option('warmup', '500'));
const LOAD_MS = Number(option('load-ms', '3000'));
const BLOB_RUNS = Number(option('blob-runs', '20'));
const BLOB_BYTES = Number(option('blob-bytes', String(1024 * 1024)));
const BRIDGE_NODE_FLAGS = option('bridge-node-flags', '').split(' ').filter(Boolean);

const LATENCY_BLOCK = 100; // sequential calls per contender before switching to the next
const LOAD_CHUNK_MS = 1000; // the sustained load is run in chunks of this length, round-robin
const IDLE_MS = 1000;
const TARGETS = { cold: 0.4, p50: 0.7, throughput: 1.4, blob: 0.6, idleRssMb: 60 };
const ISSUE_MCP_REMOTE = { coldMs: 473, p50Ms: 1.97, callsPerS32: 911, blobMs: 43.8, idleRssMb: 119 };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'sentrail.js');
const MCP_REMOTE = path.join(ROOT, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');
const UPSTREAM = path.join(ROOT, 'bench', 'fixtures', 'trivial-upstream.ts');
const SDK_CLIENT = path.join(ROOT, 'bench', 'fixtures', 'sdk-client.mjs');
const REFERENCE = path.join(ROOT, 'bench', 'fixtures', 'reference-passthrough.mjs');

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.now();

// ── Statistics ──────────────────────────────────────────────────────────────────────────────────

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const median = (v: number[]) => percentile(v, 50);

/** Round-robin with the starting contender rotated every round, so none is always first. */
function rotated<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

// ── Processes ───────────────────────────────────────────────────────────────────────────────────

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentrail-bridge-bench-'));

/** The children's environment: no NODE_OPTIONS (tsx is the bench's, not theirs) and no proxy. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_OPTIONS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete env[k];
  return { ...env, ...extra };
}

interface Spec {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

function bridgeSpec(url: string): Spec {
  return {
    name: 'bridge',
    args: [...BRIDGE_NODE_FLAGS, BIN, 'bridge', '--gate', url, '--log-level', 'error'],
    env: childEnv({
      SENTRAIL_API_KEY: 'agk_bench_0000000000000000000000000000',
      SENTRAIL_CACHE_DIR: path.join(tmp, 'sentrail-cache'),
      SENTRAIL_STATE_DIR: path.join(tmp, 'sentrail-state'),
      SENTRAIL_CONFIG_DIR: path.join(tmp, 'sentrail-config'),
    }),
  };
}

function mcpRemoteSpec(url: string): Spec {
  return { name: 'mcp-remote', args: [MCP_REMOTE, url, '--allow-http', '--transport', 'http-only', '--silent'], env: childEnv({ MCP_REMOTE_CONFIG_DIR: path.join(tmp, 'mcp-remote') }) };
}

const REFERENCE_MODES: Record<string, string> = { 'ref: fetch': 'fetch', 'ref: node:http': 'http', 'ref: node:http raw': 'raw' };
function referenceSpec(name: string, url: string): Spec {
  return { name, args: [REFERENCE, REFERENCE_MODES[name]!, url], env: childEnv({}) };
}

/** Reads a child's stdout as lines, without copying a long line more than once. */
function onLines(stream: NodeJS.ReadableStream, onLine: (line: Buffer) => void): void {
  let parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      let line = chunk.subarray(start, nl);
      if (parts.length > 0) {
        parts.push(line);
        line = Buffer.concat(parts);
        parts = [];
      }
      start = nl + 1;
      onLine(line);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  });
}

async function stopChild(child: ChildProcessWithoutNullStreams, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin.end();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(killer);
}

interface RpcMessage {
  jsonrpc: '2.0';
  id?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/**
 * The lean driver of a stdio contender: JSON lines out, JSON lines in, a map from id to waiter.
 * Nothing else runs in it, so what it costs is a JSON.stringify and a JSON.parse per call.
 */
class StdioDriver {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  private readonly pending = new Map<number, { resolve: (m: RpcMessage) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  stderrTail = '';
  badLines = 0;

  constructor(readonly spec: Spec) {
    this.child = spawn(process.execPath, spec.args, { env: spec.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => {}); // EPIPE after it died: the exit handler answers
    this.child.stderr.on('data', (c: Buffer) => void (this.stderrTail = (this.stderrTail + c.toString()).slice(-4000)));
    onLines(this.child.stdout, (line) => this.onLine(line));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        const err = new Error(`${spec.name} exited (${signal ?? code}) with requests in flight; stderr: ${this.stderrTail.trim().slice(-600)}`);
        for (const w of this.pending.values()) w.reject(err);
        this.pending.clear();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(line: Buffer): void {
    if (line.length === 0) return;
    let msg: RpcMessage;
    try {
      msg = JSON.parse(line.toString('utf8')) as RpcMessage;
    } catch {
      this.badLines++;
      return;
    }
    if (typeof msg.id !== 'number' || !('result' in msg || 'error' in msg)) return; // notifications: none expected, ignored
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    waiter.resolve(msg);
  }

  request(method: string, params: Record<string, unknown>): Promise<RpcMessage> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

const INIT_PARAMS = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sentrail-bench', version: '1.0.0' } };

function resultOf(name: string, m: RpcMessage): Record<string, unknown> {
  if (m.error) throw new Error(`${name}: JSON-RPC error ${m.error.code} ${m.error.message}`);
  if (!m.result) throw new Error(`${name}: a response without result`);
  return m.result;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** The direct SDK client in a process of its own (bench/fixtures/sdk-client.mjs). */
class SdkClientProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  private readonly waiters: ((line: string) => void)[] = [];
  stderrTail = '';

  constructor(mode: 'cold' | 'serve', url: string) {
    this.child = spawn(process.execPath, [SDK_CLIENT, mode, url], { env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => {});
    this.child.stderr.on('data', (c: Buffer) => void (this.stderrTail = (this.stderrTail + c.toString()).slice(-4000)));
    onLines(this.child.stdout, (line) => this.waiters.shift()?.(line.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  nextLine(what: string, timeoutMs = 15_000): Promise<string> {
    const line = new Promise<string>((resolve) => this.waiters.push(resolve));
    const died = this.exited.then(() => Promise.reject(new Error(`the SDK client process exited before ${what}; stderr: ${this.stderrTail.trim().slice(-600)}`)));
    return withTimeout(Promise.race([line, died]), timeoutMs, `SDK client process, ${what}`);
  }

  async command<T>(cmd: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const answer = this.nextLine(String(cmd.op), timeoutMs);
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const parsed = JSON.parse(await answer) as { ok: boolean; error?: string } & T;
    if (!parsed.ok) throw new Error(`SDK client process: ${cmd.op} failed: ${parsed.error}`);
    return parsed;
  }

  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

function procStatus(pid: number): { rssKb: number; hwmKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

// ── The upstream ────────────────────────────────────────────────────────────────────────────────

async function startUpstream(): Promise<{ url: string; child: ChildProcessWithoutNullStreams; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', UPSTREAM, '--port', '0', ...(UPSTREAM_JSON ? ['--json'] : [])], { cwd: ROOT, env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      onLines(child.stdout, (line) => {
        const m = /^listening (\S+)/.exec(line.toString());
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`the upstream exited: ${stderr}`)));
    }),
    20_000,
    'starting the upstream',
  );
  return { url, child, exited };
}

async function upstreamStats(url: string): Promise<{ sessions: number; requests: number }> {
  const res = await fetch(new URL('/stats', url));
  return (await res.json()) as { sessions: number; requests: number };
}

async function connectDirect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'sentrail-bench-direct', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

// ── Contenders in steady state ──────────────────────────────────────────────────────────────────

type Name = string;
/** The contenders of the main table. */
const NAMES: Name[] = ['bridge', 'mcp-remote', 'direct SDK'];
/** Every contender measured: the main three, then the reference passthroughs (--references). */
const ALL: Name[] = [...NAMES, ...(REFERENCES ? Object.keys(REFERENCE_MODES) : []), ...(AUDIT_COMPARE ? [AUDIT_OFF] : [])];
/** The contenders that are stdio processes driven by the raw driver. */
const STDIO: Name[] = ALL.filter((n) => n !== 'direct SDK');
function auditOffSpec(url: string): Spec {
  const spec = bridgeSpec(url);
  return { ...spec, name: AUDIT_OFF, args: [...spec.args, '--no-audit'] };
}
const specOf = (name: Name, url: string): Spec =>
  name === 'bridge' ? bridgeSpec(url) : name === 'mcp-remote' ? mcpRemoteSpec(url) : name === AUDIT_OFF ? auditOffSpec(url) : referenceSpec(name, url);
const perContender = <T>(make: (n: Name) => T): Record<Name, T> => Object.fromEntries(ALL.map((n) => [n, make(n)]));

interface Steady {
  name: Name;
  echo(text: string): Promise<Record<string, unknown>>;
  blob(bytes: number): Promise<Record<string, unknown>>;
  listTools(): Promise<Record<string, unknown>>;
}

function stdioSteady(name: Name, d: StdioDriver): Steady {
  const call = async (tool: string, args: Record<string, unknown>) => {
    const r = resultOf(name, await d.request('tools/call', { name: tool, arguments: args }));
    if (r.isError) throw new Error(`${name}: ${tool} returned isError: ${JSON.stringify(r).slice(0, 300)}`);
    return r;
  };
  return {
    name,
    echo: (text) => call('echo', { text }),
    blob: (bytes) => call('blob', { bytes }),
    listTools: async () => resultOf(name, await d.request('tools/list', {})),
  };
}

function directSteady(client: Client): Steady {
  const call = async (tool: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name: tool, arguments: args })) as Record<string, unknown>;
    if (r.isError) throw new Error(`direct SDK: ${tool} returned isError`);
    return r;
  };
  return {
    name: 'direct SDK',
    echo: (text) => call('echo', { text }),
    blob: (bytes) => call('blob', { bytes }),
    listTools: async () => (await client.listTools()) as Record<string, unknown>,
  };
}

async function sustained(c: Steady, inflight: number, ms: number): Promise<number> {
  const deadline = now() + ms;
  let calls = 0;
  let seq = 0;
  const worker = async () => {
    while (now() < deadline) {
      await c.echo(`load ${++seq}`);
      if (now() <= deadline) calls++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return calls;
}

// ── Run ─────────────────────────────────────────────────────────────────────────────────────────

if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` (npm run bench:bridge does)');
if (!existsSync(MCP_REMOTE)) throw new Error('mcp-remote is not installed: npm i -D mcp-remote@0.15.1');
const mcpRemoteVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'mcp-remote', 'package.json'), 'utf8')) as { version: string }).version;
const sdkVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8')) as { version: string }).version;

/** Which sources dist/ was built from (npm run bench:bridge builds just before), read now. */
const sourceState = (() => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `commit ${head}${dirty ? ` plus uncommitted changes in src/ (${dirty.split('\n').length} files)` : ', src/ unchanged'}`;
  } catch {
    return 'an unknown source state (no git)';
  }
})();
const started = now();
const loadAtStart = os.loadavg();
log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
const upstream = await startUpstream();
const URL_ = upstream.url;
log(`upstream: ${URL_}${UPSTREAM_JSON ? ' (JSON responses)' : ' (SSE responses, the SDK default)'}`);
let exitCode = 0;

try {
  // Warm the upstream: session creation, tools/list, echo and blob paths all JIT-compiled.
  for (let i = 0; i < 20; i++) {
    const { client, transport } = await connectDirect(URL_);
    await client.listTools();
    for (let j = 0; j < (i === 0 ? 1000 : 10); j++) await client.callTool({ name: 'echo', arguments: { text: `warm ${j}` } });
    if (i < 3) await client.callTool({ name: 'blob', arguments: { bytes: BLOB_BYTES } });
    await transport.terminateSession();
    await client.close();
  }
  log('upstream warmed up');

  // ── 1. Correctness, before anything is timed: every contender answers what the direct client gets ──
  // (on sessions of their own, so the 1 MB answers do not inflate the idle RSS measured later)
  const text = (r: Record<string, unknown>) => ((r.content as { text?: string }[] | undefined)?.[0]?.text ?? '') as string;
  {
    const mismatches: string[] = [];
    const tricky = 'héllo "wörld" \\ \n\t\u2028\u2029 </script> ✓ 😀 {"jsonrpc":"2.0"} \u0000';
    const ref = await connectDirect(URL_);
    const refSteady = directSteady(ref.client);
    const reference = { echo: await refSteady.echo(tricky), list: await refSteady.listTools(), blob: await refSteady.blob(BLOB_BYTES) };
    if (text(reference.echo) !== tricky) mismatches.push(`direct SDK: echo returned ${JSON.stringify(text(reference.echo))}`);
    if (text(reference.blob).length !== BLOB_BYTES) mismatches.push(`direct SDK: blob returned ${text(reference.blob).length} bytes`);
    for (const spec of STDIO.map((n) => specOf(n, URL_))) {
      const d = new StdioDriver(spec);
      try {
        resultOf(spec.name, await withTimeout(d.request('initialize', INIT_PARAMS), 15_000, `${spec.name} initialize`));
        d.notify('notifications/initialized');
        const c = stdioSteady(spec.name, d);
        const echo = await c.echo(tricky);
        if (!isDeepStrictEqual(echo, reference.echo)) mismatches.push(`${c.name}: echo ${JSON.stringify(echo)} ≠ direct ${JSON.stringify(reference.echo)}`);
        const list = await c.listTools();
        if (!isDeepStrictEqual(list, reference.list)) mismatches.push(`${c.name}: tools/list ${JSON.stringify(list)} ≠ direct ${JSON.stringify(reference.list)}`);
        const blob = await c.blob(BLOB_BYTES);
        if (!isDeepStrictEqual(blob, reference.blob)) mismatches.push(`${c.name}: blob of ${text(blob).length} bytes ≠ direct's ${text(reference.blob).length}`);
        if (d.badLines > 0) mismatches.push(`${c.name}: ${d.badLines} lines on stdout that are not JSON`);
      } finally {
        await d.stop();
      }
    }
    await ref.transport.terminateSession();
    await ref.client.close();
    if (mismatches.length > 0) {
      for (const m of mismatches) log(`MISMATCH ${m}`);
      throw new Error('a contender answers differently from the direct client; nothing was timed');
    }
    log('correctness: echo (escapes, U+2028/2029, astral and NUL characters), tools/list and the 1 MB blob are identical through every contender');
  }

  // ── 2. Cold start ──
  const cold = perContender(() => ({ init: [] as number[], list: [] as number[] }));
  const coldStdio = async (spec: Spec) => {
    const t0 = now();
    const d = new StdioDriver(spec);
    try {
      resultOf(spec.name, await withTimeout(d.request('initialize', INIT_PARAMS), 15_000, `${spec.name} initialize`));
      const init = now() - t0;
      d.notify('notifications/initialized');
      const tools = resultOf(spec.name, await withTimeout(d.request('tools/list', {}), 15_000, `${spec.name} tools/list`)).tools as { name: string }[];
      const list = now() - t0;
      if (!tools.some((t) => t.name === 'echo')) throw new Error(`${spec.name}: tools/list lacks echo: ${JSON.stringify(tools)}`);
      return { init, list };
    } finally {
      await d.stop();
    }
  };
  const coldDirect = async () => {
    const t0 = now();
    const p = new SdkClientProcess('cold', URL_);
    try {
      const first = await p.nextLine('initialized');
      const init = now() - t0;
      const second = await p.nextLine('listed');
      const list = now() - t0;
      if (first !== 'initialized' || !second.startsWith('listed ')) throw new Error(`SDK client process: unexpected output ${first} / ${second}`);
      await p.exited;
      return { init, list };
    } finally {
      await p.stop();
    }
  };
  const coldOf = perContender((n) => (n === 'direct SDK' ? coldDirect : () => coldStdio(specOf(n, URL_))));
  /** The floor: spawn → exit of `node -e 0` (Node's own start-up and teardown on this machine). */
  const nodeBoot: number[] = [];
  const emptyNode = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = now();
      const child = spawn(process.execPath, ['-e', '0'], { env: childEnv({}), stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', () => resolve(now() - t0));
    });
  for (const name of ALL) await coldOf[name]!(); // untimed: the page cache holds every file afterwards
  for (let round = 0; round < COLD_RUNS; round++) {
    for (const name of rotated(ALL, round)) {
      const r = await coldOf[name]!();
      cold[name]!.init.push(r.init);
      cold[name]!.list.push(r.list);
    }
    nodeBoot.push(await emptyNode());
  }
  log(`cold start: ${ALL.map((n) => `${n} ${median(cold[n]!.list).toFixed(0)} ms`).join(', ')}`);

  // ── 3. Steady-state sessions (fresh processes) ──
  const drivers: Record<Name, StdioDriver> = Object.fromEntries(STDIO.map((n) => [n, new StdioDriver(specOf(n, URL_))]));
  for (const [name, d] of Object.entries(drivers)) {
    resultOf(name, await withTimeout(d.request('initialize', INIT_PARAMS), 15_000, `${name} initialize`));
    d.notify('notifications/initialized');
  }
  const direct = await connectDirect(URL_);
  const directProc = new SdkClientProcess('serve', URL_);
  await directProc.nextLine('ready');
  const steady = perContender((n) => (n === 'direct SDK' ? directSteady(direct.client) : stdioSteady(n, drivers[n]!)));
  const contenders = ALL.map((n) => steady[n]!);
  const pidOf = perContender((n) => (n === 'direct SDK' ? directProc.pid : drivers[n]!.pid));

  // ── 4. Warm-up, then idle RSS ──
  for (let round = 0; round < Math.ceil(WARMUP / 50); round++) for (const c of rotated(contenders, round)) for (let i = 0; i < 50; i++) await c.echo(`warm ${i}`);
  await directProc.command({ op: 'warm', n: WARMUP });
  await sleep(IDLE_MS);
  const idle = perContender((n) => procStatus(pidOf[n]!).rssKb);
  const benchIdleRssKb = procStatus(process.pid).rssKb;
  log(`idle RSS: ${ALL.map((n) => `${n} ${(idle[n]! / 1024).toFixed(1)} MB`).join(', ')}`);

  // ── 5. Sequential latency ──
  const lat = perContender(() => [] as number[]);
  for (let round = 0; round < Math.ceil(CALLS / LATENCY_BLOCK); round++) {
    for (const c of rotated(contenders, round)) {
      for (let i = 0; i < LATENCY_BLOCK; i++) {
        const t = now();
        await c.echo(`seq ${round}.${i}`);
        lat[c.name]!.push(now() - t);
      }
    }
  }
  log(`p50: ${ALL.map((n) => `${n} ${median(lat[n]!).toFixed(3)} ms`).join(', ')}`);

  // ── 6. Throughput at 32 and 128 in flight ──
  const levels = [32, 128];
  const OWN = 'direct SDK (own process)';
  const thr: Record<number, Record<Name, { calls: number; ms: number }>> = {};
  for (const k of levels) {
    const acc: Record<Name, { calls: number; ms: number }> = Object.fromEntries([...ALL, OWN].map((n) => [n, { calls: 0, ms: 0 }]));
    const chunks = Math.max(1, Math.round(LOAD_MS / LOAD_CHUNK_MS));
    for (let round = 0; round < chunks; round++) {
      for (const who of rotated([...ALL, OWN], round)) {
        if (who === OWN) {
          const r = await directProc.command<{ calls: number; ms: number }>({ op: 'load', inflight: k, ms: LOAD_CHUNK_MS });
          acc[who]!.calls += r.calls;
          acc[who]!.ms += r.ms;
        } else {
          acc[who]!.calls += await sustained(steady[who]!, k, LOAD_CHUNK_MS);
          acc[who]!.ms += LOAD_CHUNK_MS;
        }
      }
    }
    thr[k] = acc;
    log(`throughput at ${k} in flight: ${Object.entries(acc).map(([n, a]) => `${n} ${((a.calls / a.ms) * 1000).toFixed(0)}/s`).join(', ')}`);
  }

  // ── 7. The 1 MB result ──
  const blob: Record<Name, number[]> = Object.fromEntries([...ALL, OWN].map((n) => [n, [] as number[]]));
  for (const c of contenders) for (let i = 0; i < 2; i++) await c.blob(BLOB_BYTES); // untimed
  await directProc.command({ op: 'blob', n: 2, bytes: BLOB_BYTES });
  for (let round = 0; round < BLOB_RUNS; round++) {
    for (const who of rotated([...ALL, OWN], round)) {
      if (who === OWN) {
        blob[who]!.push(...(await directProc.command<{ ms: number[] }>({ op: 'blob', n: 1, bytes: BLOB_BYTES })).ms);
      } else {
        const t = now();
        const r = await steady[who]!.blob(BLOB_BYTES);
        blob[who]!.push(now() - t);
        if (text(r).length !== BLOB_BYTES) throw new Error(`${who}: blob of ${text(r).length} bytes`);
      }
    }
  }
  log(`1 MB: ${ALL.map((n) => `${n} ${median(blob[n]!).toFixed(1)} ms`).join(', ')}`);

  // ── 8. Peak RSS ──
  const peak = perContender((n) => procStatus(pidOf[n]!).hwmKb);
  const benchPeakKb = procStatus(process.pid).hwmKb;
  for (const d of Object.values(drivers)) if (d.badLines > 0) throw new Error(`${d.spec.name} wrote ${d.badLines} lines on stdout that are not JSON`);

  await Promise.all([...Object.values(drivers).map((d) => d.stop()), directProc.stop(), direct.transport.terminateSession().then(() => direct.client.close())]);
  await sleep(200);
  const stats = await upstreamStats(URL_);
  const loadAtEnd = os.loadavg();
  const totalS = (now() - started) / 1000;

  // ── Report ──
  const mb = (kb: number) => kb / 1024;
  const rate = (k: number, n: Name) => (thr[k]![n]!.calls / thr[k]![n]!.ms) * 1000;
  interface Row {
    metric: string;
    values: Record<Name, number>;
    fmt: (v: number) => string;
    /** bridge/mcp-remote target, `abs` for an absolute target on the bridge's value. */
    target?: { kind: 'le' | 'ge' | 'abs-le'; value: number; text: string };
  }
  const f0 = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const f1 = (v: number) => v.toFixed(1);
  const f2 = (v: number) => v.toFixed(2);
  const coldCell = (n: Name, which: 'init' | 'list') => `${f0(median(cold[n]![which]))} (${f0(percentile(cold[n]![which], 90))})`;
  const rows: (Row & { cells?: Record<Name, string> })[] = [
    { metric: 'cold start: spawn → initialize answered, ms, median (p90)', values: ratioValues((n) => median(cold[n]!.init)), fmt: f0, cells: cellsOf((n) => coldCell(n, 'init')) },
    { metric: 'cold start: spawn → tools/list answered, ms, median (p90)', values: ratioValues((n) => median(cold[n]!.list)), fmt: f0, cells: cellsOf((n) => coldCell(n, 'list')), target: { kind: 'le', value: TARGETS.cold, text: `≤ ${TARGETS.cold}x` } },
    { metric: `tools/call echo, sequential, p50 ms (${CALLS.toLocaleString('en-US')} calls)`, values: ratioValues((n) => median(lat[n]!)), fmt: f2, target: { kind: 'le', value: TARGETS.p50, text: `≤ ${TARGETS.p50}x` } },
    { metric: 'tools/call echo, sequential, p99 ms', values: ratioValues((n) => percentile(lat[n]!, 99)), fmt: f2 },
    ...levels.map((k) => ({ metric: `throughput, ${k} in flight, calls/s`, values: ratioValues((n) => rate(k, n)), fmt: f0, target: { kind: 'ge' as const, value: TARGETS.throughput, text: `≥ ${TARGETS.throughput}x` } })),
    { metric: 'RSS idle, MB (VmRSS after warm-up + 1 s idle)', values: ratioValues((n) => mb(idle[n]!)), fmt: f1, target: { kind: 'abs-le', value: TARGETS.idleRssMb, text: `≤ ${TARGETS.idleRssMb} MB` } },
    { metric: 'RSS peak, MB (VmHWM after all the load)', values: ratioValues((n) => mb(peak[n]!)), fmt: f1 },
    { metric: `${BLOB_BYTES === 1024 * 1024 ? '1 MB' : `${f0(BLOB_BYTES)} B`} result (blob), ms, median of ${BLOB_RUNS}`, values: ratioValues((n) => median(blob[n]!)), fmt: f1, target: { kind: 'le', value: TARGETS.blob, text: `≤ ${TARGETS.blob}x` } },
  ];
  function ratioValues(fn: (n: Name) => number): Record<Name, number> {
    return perContender(fn);
  }
  function cellsOf(fn: (n: Name) => string): Record<Name, string> {
    return perContender(fn);
  }
  const verdicts: { metric: string; pass: boolean }[] = [];
  const table = [
    '| metric | bridge | mcp-remote | direct SDK | bridge/mcp-remote | target | result |',
    '|---|---:|---:|---:|---:|---|---|',
    ...rows.map((r) => {
      const ratio = r.values.bridge! / r.values['mcp-remote']!;
      let result = '—';
      if (r.target) {
        const pass = r.target.kind === 'le' ? ratio <= r.target.value : r.target.kind === 'ge' ? ratio >= r.target.value : r.values.bridge! <= r.target.value;
        verdicts.push({ metric: r.metric, pass });
        result = pass ? '**pass**' : '**FAIL**';
      }
      const cell = (n: Name) => r.cells?.[n] ?? r.fmt(r.values[n]!);
      return `| ${r.metric} | ${cell('bridge')} | ${cell('mcp-remote')} | ${cell('direct SDK')} | ${ratio.toFixed(2)}x | ${r.target?.text ?? '—'} | ${result} |`;
    }),
  ].join('\n');

  const own = OWN;
  const details = [
    '| also measured | value |',
    '|---|---|',
    `| direct SDK client in a process of its own (the RSS column above): calls/s at ${levels.join(' / ')} in flight; 1 MB median | ${levels.map((k) => f0((thr[k]![own]!.calls / thr[k]![own]!.ms) * 1000)).join(' / ')}; ${f1(median(blob[own]!))} ms |`,
    `| bench process (drivers + in-process SDK client): RSS after warm-up; peak | ${f1(mb(benchIdleRssKb))} MB; ${f1(mb(benchPeakKb))} MB |`,
    `| sequential echo p90 ms: bridge / mcp-remote / direct SDK | ${NAMES.map((n) => f2(percentile(lat[n]!, 90))).join(' / ')} |`,
    `| 1 MB p90 ms: bridge / mcp-remote / direct SDK | ${NAMES.map((n) => f1(percentile(blob[n]!, 90))).join(' / ')} |`,
    `| the issue's mcp-remote (its machine): cold start, p50, calls/s at 32, 1 MB, idle RSS | ${ISSUE_MCP_REMOTE.coldMs} ms, ${ISSUE_MCP_REMOTE.p50Ms} ms, ${ISSUE_MCP_REMOTE.callsPerS32}/s, ${ISSUE_MCP_REMOTE.blobMs} ms, ${ISSUE_MCP_REMOTE.idleRssMb} MB |`,
    `| Node's own floor: spawn → exit of \`node -e 0\`, ms, median (p90) of ${nodeBoot.length} | ${f0(median(nodeBoot))} (${f0(percentile(nodeBoot, 90))}) |`,
    `| upstream at the end: sessions left open (by what exits without a DELETE: mcp-remote, the cold-start SDK client process${REFERENCES ? ', the reference passthroughs' : ''}); HTTP requests served | ${stats.sessions}; ${stats.requests.toLocaleString('en-US')} |`,
  ].join('\n');

  // The reference passthroughs next to the bridge and mcp-remote: value (ratio to mcp-remote).
  const vs = (fn: (n: Name) => number, fmt: (v: number) => string) => (n: Name) => `${fmt(fn(n))} (${(fn(n) / fn('mcp-remote')).toFixed(2)}x)`;
  const refColumns: [string, (n: Name) => string][] = [
    ['cold start → tools/list, ms, median', vs((n) => median(cold[n]!.list), f0)],
    ['echo p50 ms', vs((n) => median(lat[n]!), f2)],
    ...levels.map((k): [string, (n: Name) => string] => [`calls/s at ${k}`, vs((n) => rate(k, n), f0)]),
    ['RSS idle MB', vs((n) => mb(idle[n]!), f1)],
    ['RSS peak MB', vs((n) => mb(peak[n]!), f1)],
    ['1 MB ms, median', vs((n) => median(blob[n]!), f1)],
  ];
  const referenceTable = [
    `| contender (value, and its ratio to mcp-remote) | ${refColumns.map(([h]) => h).join(' | ')} |`,
    `|---|${refColumns.map(() => '---:').join('|')}|`,
    ...STDIO.filter((n) => n !== AUDIT_OFF).map((n) => `| ${n === 'bridge' || n === 'mcp-remote' ? n : `${n} (bench/fixtures/reference-passthrough.mjs ${REFERENCE_MODES[n]})`} | ${refColumns.map(([, cell]) => cell(n)).join(' | ')} |`),
  ].join('\n');

  // The audit's cost: the same bridge with and without it, measured in the same rounds.
  const auditRows: [string, (n: Name) => number, (v: number) => string, 'le' | 'ge'][] = [
    ['tools/call echo, sequential, p50 ms', (n) => median(lat[n]!), f2, 'le'],
    ...levels.map((k): [string, (n: Name) => number, (v: number) => string, 'le' | 'ge'] => [`throughput, ${k} in flight, calls/s`, (n) => rate(k, n), f0, 'ge']),
  ];
  const auditInfo: [string, (n: Name) => number, (v: number) => string][] = [
    ['tools/call echo, sequential, p99 ms', (n) => percentile(lat[n]!, 99), f2],
    ['RSS idle, MB', (n) => mb(idle[n]!), f1],
    ['cold start → tools/list, ms, median', (n) => median(cold[n]!.list), f0],
  ];
  const auditTable = AUDIT_COMPARE
    ? [
        '| metric | audit on (default) | audit off (--no-audit) | on/off | target | result |',
        '|---|---:|---:|---:|---|---|',
        ...auditRows.map(([metric, fn, fmt, kind]) => {
          const ratio = fn('bridge') / fn(AUDIT_OFF);
          const pass = kind === 'le' ? ratio <= 1.05 : ratio >= 0.95;
          verdicts.push({ metric: `audit: ${metric}`, pass });
          return `| ${metric} | ${fmt(fn('bridge'))} | ${fmt(fn(AUDIT_OFF))} | ${ratio.toFixed(3)}x | ${kind === 'le' ? '≤ 1.05x' : '≥ 0.95x'} | ${pass ? '**pass**' : '**FAIL**'} |`;
        }),
        ...auditInfo.map(([metric, fn, fmt]) => `| ${metric} | ${fmt(fn('bridge'))} | ${fmt(fn(AUDIT_OFF))} | ${(fn('bridge') / fn(AUDIT_OFF)).toFixed(3)}x | — | — |`),
      ].join('\n')
    : '';

  const command = `npm run bench:bridge${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const busy = loadAtStart[0]! >= 1 ? '; the start figure is other work on the machine: expect noise' : '';
  const block = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; mcp-remote ${mcpRemoteVersion}; @modelcontextprotocol/sdk ${sdkVersion} (upstream and direct client).`,
    `Bridge: dist/ built from ${sourceState}.`,
    `Command: \`${command}\`; the whole run took ${totalS.toFixed(0)} s.`,
    `Load average (1 / 5 / 15 min): ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end (the end includes the benchmark's own 3 busy processes${busy}).`,
    `Upstream: bench/fixtures/trivial-upstream.ts (SDK McpServer + StreamableHTTPServerTransport, stateful, ${UPSTREAM_JSON ? 'JSON responses' : 'SSE responses (the SDK default)'}) on 127.0.0.1, one process, warm for the whole run.`,
    `Method: cold start = ${COLD_RUNS} runs each, round-robin (spawn of \`node <entry>\` → initialize answered → tools/list answered, measured in the bench process when the answer line arrives); ` +
      `latency = ${CALLS.toLocaleString('en-US')} sequential echo calls each after ${WARMUP} warm-up calls, in blocks of ${LATENCY_BLOCK} round-robin; ` +
      `throughput = echo calls completed while keeping k outstanding, ${Math.max(1, Math.round(LOAD_MS / LOAD_CHUNK_MS))} × ${LOAD_CHUNK_MS} ms chunks each, round-robin; ` +
      `RSS = /proc/<pid>/status of the contender process (direct SDK: bench/fixtures/sdk-client.mjs, same calls); 1 MB = ${BLOB_RUNS} blob calls each, one per contender in turn. ` +
      'Stdio contenders are driven by a raw JSON-lines driver; the direct SDK client runs in the bench process. Details below the markers.',
    '',
    table,
    '',
    details,
    ...(REFERENCES ? ['', referenceTable] : []),
    ...(AUDIT_COMPARE ? ['', auditTable] : []),
  ].join('\n');
  process.stdout.write(`${block}\n`);
  const failed = verdicts.filter((v) => !v.pass);
  log(failed.length === 0 ? 'all targets pass' : `targets failed: ${failed.map((v) => v.metric).join('; ')}`);

  if (WRITE) {
    const readme = path.join(ROOT, 'bench', 'README.md');
    const text = readFileSync(readme, 'utf8');
    const start = '<!-- bridge-bench:start -->';
    const end = '<!-- bridge-bench:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a === -1 || b === -1 || b < a) throw new Error(`${readme} lacks the ${start} … ${end} markers`);
    writeFileSync(readme, `${text.slice(0, a + start.length)}\n${block}\n${text.slice(b)}`);
    log(`wrote the tables into ${readme}`);
  }
} catch (err) {
  exitCode = 1;
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
} finally {
  upstream.child.kill('SIGTERM');
  await upstream.exited;
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

function machine(): string {
  let nproc = String(os.availableParallelism?.() ?? os.cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // not on every system
  }
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, nproc ${nproc}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()} ${os.arch()}; Node ${process.version}`;
}
