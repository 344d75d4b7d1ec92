// The checks that look at this machine's Claude Code set-up: the `.mcp.json` entry, `npx`'s view
// of `sentrail`, and a bridge launched exactly as Claude Code would launch it, whose stdout must
// be nothing but JSON-RPC.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SERVER_NAME, type StdioServerEntry } from '../../config/mcp-json.ts';
import { findProjectRoot } from '../../config/project-root.ts';
import type { Check } from './checks.ts';

export interface EntryFinding {
  check: Check;
  file: string | null;
  entry: StdioServerEntry | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The gate an entry's bridge is launched with (`--gate URL` or `--gate=URL`), if any. */
export function entryGate(entry: StdioServerEntry): string | null {
  for (let i = 0; i < entry.args.length; i++) {
    const a = entry.args[i]!;
    if (a === '--gate') return entry.args[i + 1] ?? null;
    if (a.startsWith('--gate=')) return a.slice('--gate='.length);
  }
  return null;
}

export async function checkMcpJson(gate: string, cwd = process.cwd()): Promise<EntryFinding> {
  const title = '.mcp.json entry';
  const file = path.join(await findProjectRoot(cwd), '.mcp.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { file: null, entry: null, check: { id: 'mcp-json', title, status: 'warn', detail: `no ${file}`, fix: `sentrail init --gate ${gate}   (or --scope user)` } };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { file, entry: null, check: { id: 'mcp-json', title, status: 'fail', detail: `${file} is not valid JSON (${(err as Error).message}): Claude Code will not load it`, fix: 'Fix the JSON, then sentrail init --gate ' + gate } };
  }
  const raw = isRecord(doc) && isRecord(doc.mcpServers) ? doc.mcpServers[SERVER_NAME] : undefined;
  if (!isRecord(raw) || typeof raw.command !== 'string') {
    return { file, entry: null, check: { id: 'mcp-json', title, status: 'warn', detail: `${file} has no "${SERVER_NAME}" server`, fix: `sentrail init --gate ${gate}` } };
  }
  const entry: StdioServerEntry = { command: raw.command, args: Array.isArray(raw.args) ? raw.args.map(String) : [], ...(isRecord(raw.env) ? { env: Object.fromEntries(Object.entries(raw.env).map(([k, v]) => [k, String(v)])) } : {}) };
  const points = entryGate(entry);
  if (points !== gate) {
    return { file, entry, check: { id: 'mcp-json', title, status: 'fail', detail: `${file}'s "${SERVER_NAME}" points at ${points ?? '(no --gate: the default gate)'}, not ${gate}`, fix: `sentrail init --gate ${gate} --force` } };
  }
  const secret = Object.values(entry.env ?? {}).some((v) => /agk_[A-Za-z0-9]{40}/.test(v)) || entry.args.some((a) => /agk_[A-Za-z0-9]{40}/.test(a));
  if (secret) return { file, entry, check: { id: 'mcp-json', title, status: 'fail', detail: `${file} holds an API key in plain text (shared with everyone who clones the repository)`, fix: `Revoke that key, then sentrail init --gate ${gate} --force (the entry references \${SENTRAIL_API_KEY})` } };
  return { file, entry, check: { id: 'mcp-json', title, status: 'pass', detail: `${file}: ${entry.command} ${entry.args.join(' ')}` } };
}

/** `${NAME}` and `${NAME:-default}`, as Claude Code expands them in `.mcp.json`. */
export function expandVariables(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] || (fallback ?? ''));
}

export async function checkNpx(root: string): Promise<Check> {
  const title = 'npx sentrail';
  const started = Date.now();
  const r = await runCommand(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no-install', 'sentrail', '--version'], { cwd: root, timeoutMs: 8000, input: null });
  const version = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code === 0 && /^\d+\.\d+\.\d+/.test(version)) return { id: 'npx', title, status: 'pass', detail: `resolves sentrail ${version} without a download (${Date.now() - started} ms)` };
  return { id: 'npx', title, status: 'warn', detail: 'sentrail is not installed here: `npx -y sentrail` downloads it at Claude Code\'s first launch, which counts against its connect timeout', fix: 'npm install --save-dev sentrail   (then npx finds it at once)' };
}

interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCommand(command: string, args: string[], opts: { cwd: string; timeoutMs: number; input: string | null; env?: NodeJS.ProcessEnv }): Promise<CommandRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + err.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.end(opts.input ?? undefined);
  });
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sentrail-doctor', version: '1' } } };

/**
 * Launches the bridge as Claude Code would (the entry's command, its env expanded), sends
 * initialize and tools/list, and reads stdout: every line must be a JSON-RPC message.
 */
export async function checkBridgeLaunch(entry: StdioServerEntry, root: string, timeoutMs = 6000): Promise<Check> {
  const title = 'Bridge launch';
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(entry.env ?? {})) env[k] = expandVariables(v);
  const args = entry.args.map((a) => expandVariables(a));
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(entry.command, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'], shell: process.platform === 'win32' && !/\.(exe|com)$/i.test(entry.command) && entry.command !== 'cmd' });
    let buffer = '';
    let initializedAt: number | null = null;
    let settled = false;
    const finish = (check: Check) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      // EOF ends a well-behaved bridge; a hung one is killed.
      const kill = setTimeout(() => child.kill(), 1000);
      kill.unref();
      child.once('exit', () => clearTimeout(kill));
      resolve(check);
    };
    const timer = setTimeout(() => finish({ id: 'bridge', title, status: 'fail', detail: `no answer to ${initializedAt === null ? 'initialize' : 'tools/list'} within ${timeoutMs / 1000} s`, fix: 'Run the entry by hand to see what it prints on stderr.' }), timeoutMs);
    child.on('error', (err) => finish({ id: 'bridge', title, status: 'fail', detail: `cannot start ${entry.command}: ${err.message}`, fix: 'Check the entry\'s command, or sentrail init --force.' }));
    child.on('close', (code) => finish({ id: 'bridge', title, status: 'fail', detail: `${entry.command} exited (${code}) before answering`, fix: 'Run the entry by hand to see what it prints on stderr.' }));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        let message: Record<string, unknown> | null = null;
        try {
          const parsed: unknown = JSON.parse(line);
          if (isRecord(parsed) && parsed.jsonrpc === '2.0') message = parsed;
        } catch {
          // not JSON: reported below
        }
        if (!message) {
          const shown = line.length > 80 ? `${line.slice(0, 77)}…` : line;
          return finish({ id: 'bridge', title, status: 'fail', detail: `stdout carried something that is not JSON-RPC: ${JSON.stringify(shown)}; Claude Code drops the connection on it`, fix: 'Remove whatever prints to stdout before the bridge starts (a wrapper script, a shell profile, npm\'s own output): logs belong on stderr.' });
        }
        if (message.id === 1) {
          initializedAt = Date.now();
          child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
          child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }) + '\n');
        } else if (message.id === 2) {
          const tools = (message.result as { tools?: unknown[] } | undefined)?.tools;
          return finish({ id: 'bridge', title, status: 'pass', detail: `initialize in ${initializedAt! - started} ms, tools/list in ${Date.now() - initializedAt!} ms (${Array.isArray(tools) ? `${tools.length} tool${tools.length === 1 ? '' : 's'}` : 'an error'}); stdout is JSON-RPC only` });
        }
      }
    });
    child.stdin.write(JSON.stringify(INITIALIZE) + '\n');
  });
}
