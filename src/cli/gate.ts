// `sentrail gate`: flags (and SENTRAIL_GATE_* variables) → a GateConfig, then the gate runs until
// SIGINT/SIGTERM. Everything it prints goes to stderr: the ready line tests wait for, one line
// per event, and the generated API and admin keys once each (its only secret output).
import { isLoopbackHost } from '../bridge/gate-address.ts';
import { createLogger, type LogLevel } from '../log/logger.ts';
import { adminKeyFile, readAdminKeyFile, removeAdminKeyFile, writeAdminKeyFile } from '../config/gate-admin-key.ts';
import { ADMIN_KEY_PATTERN, generateAdminKey } from '../gate/admin-auth.ts';
import { API_KEY_PATTERN, generateApiKey } from '../gate/auth.ts';
import { CommandLineError, splitCommandLine } from '../gate/command-line.ts';
import { startGate, type RunningGate } from '../gate/gate.ts';
import { DEFAULT_POLICY_MAX_AGE_SECONDS } from '../gate/metadata-routes.ts';
import { ApprovalStoreError } from '../gate/approval-file-store.ts';
import { PolicyLoadError } from '../gate/policy-source.ts';
import { gateStateDir } from '../config/paths.ts';
import type { UpstreamSpec } from '../gate/upstream.ts';
import { CliError, usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { VERSION } from './version.ts';

export interface GateCliOptions {
  policy: string;
  upstream?: string;
  upstreamUrl?: string;
  port?: string;
  host?: string;
  apiKey?: string;
  adminKey?: string;
  approvalTtl?: string;
  stateDir?: string;
  hosted?: boolean;
  issuer?: string;
}

/** Shutdown must finish within 2 s: sessions get this long, then the process goes regardless. */
const SHUTDOWN_BUDGET_MS = 1500;
const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug'];

export function upstreamSpecOf(opts: Pick<GateCliOptions, 'upstream' | 'upstreamUrl'>): UpstreamSpec {
  if (opts.upstream && opts.upstreamUrl) throw usageError('--upstream and --upstream-url exclude each other: give one');
  if (opts.upstreamUrl) {
    let url: URL;
    try {
      url = new URL(opts.upstreamUrl);
    } catch {
      throw usageError(`--upstream-url ${opts.upstreamUrl}: not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--upstream-url ${opts.upstreamUrl}: expected an http:// or https:// Streamable HTTP endpoint`);
    // Shown in logs: without any user:password the URL may carry.
    const shown = new URL(url.href);
    shown.username = '';
    shown.password = '';
    return { kind: 'url', url, display: shown.href };
  }
  if (!opts.upstream) throw usageError('the gate needs an upstream MCP server: --upstream "<command ...>" or --upstream-url <url>');
  try {
    return { kind: 'command', argv: splitCommandLine(opts.upstream), display: opts.upstream };
  } catch (err) {
    if (err instanceof CommandLineError) throw usageError(`--upstream: ${err.message}`);
    throw err;
  }
}

function portOf(value: string | undefined): number {
  const text = value ?? '7391';
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw usageError(`--port ${text}: expected a port number, 0 to 65535 (0: any free port)`);
  return port;
}

interface KeyKind {
  flag: string;
  variable: string;
  pattern: RegExp;
  generate: () => string;
  /** For the error: what it is and its shape. */
  expected: string;
}

const API_KEY: KeyKind = { flag: '--api-key', variable: 'SENTRAIL_GATE_API_KEY', pattern: API_KEY_PATTERN, generate: generateApiKey, expected: 'a Sentrail API key (expected agk_ followed by 40 letters and digits)' };
const ADMIN_KEY: KeyKind = { flag: '--admin-key', variable: 'SENTRAIL_ADMIN_KEY', pattern: ADMIN_KEY_PATTERN, generate: generateAdminKey, expected: 'a Sentrail admin key (expected sak_ followed by 40 letters and digits)' };

/** The flag, else the variable, else a new key (`generated`: the gate prints it once). */
function keyOf(kind: KeyKind, flag: string | undefined, env: NodeJS.ProcessEnv): { key: string; generated: boolean } {
  const given = flag ?? env[kind.variable];
  if (given === undefined || given === '') return { key: kind.generate(), generated: true };
  // Never echo the value: it may be a real key, merely mistyped.
  if (!kind.pattern.test(given)) throw usageError(`${flag !== undefined ? kind.flag : kind.variable}: not ${kind.expected}`);
  return { key: given, generated: false };
}

const DURATION_UNITS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--approval-ttl`: a number of seconds, or with a unit: 90s, 10m, 24h, 7d. */
export function durationMsOf(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw usageError(`${name} ${text}: expected a duration above 0, in seconds or with a unit (90s, 10m, 24h, 7d)`);
  return ms;
}

function maxAgeOf(env: NodeJS.ProcessEnv): number {
  const text = env.SENTRAIL_GATE_POLICY_MAX_AGE;
  if (text === undefined || text === '') return DEFAULT_POLICY_MAX_AGE_SECONDS;
  if (!/^\d+$/.test(text)) throw usageError(`SENTRAIL_GATE_POLICY_MAX_AGE=${text}: expected a number of seconds`);
  return Number(text);
}

function logLevelOf(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.SENTRAIL_GATE_LOG_LEVEL;
  if (level === undefined || level === '') return 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) throw usageError(`SENTRAIL_GATE_LOG_LEVEL=${level}: expected one of ${LOG_LEVELS.join(', ')}`);
  return level as LogLevel;
}

/** --issuer or SENTRAIL_GATE_ISSUER: an https URL, or http on loopback (tests, development). */
function issuerOf(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const given = flag ?? (env.SENTRAIL_GATE_ISSUER || undefined);
  if (given === undefined) return undefined;
  const name = flag !== undefined ? '--issuer' : 'SENTRAIL_GATE_ISSUER';
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw usageError(`${name} ${given}: not a URL`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return given;
  throw usageError(`${name} ${given}: the issuer must be https:// (plain http:// only on loopback): the gate fetches the keys it trusts from there`);
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runGate(opts: GateCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const upstream = upstreamSpecOf(opts);
  const port = portOf(opts.port);
  const host = opts.host ?? '127.0.0.1';
  const { key, generated } = keyOf(API_KEY, opts.apiKey, env);
  const admin = keyOf(ADMIN_KEY, opts.adminKey, env);
  const stateDir = opts.stateDir ?? gateStateDir();
  const approvalTtlMs = opts.approvalTtl === undefined ? undefined : durationMsOf('--approval-ttl', opts.approvalTtl);
  const policyMaxAgeSeconds = maxAgeOf(env);
  const issuer = issuerOf(opts.issuer, env);
  const log = createLogger({ name: 'sentrail gate', file: null, level: logLevelOf(env) });
  log.redactor.add(key);
  log.redactor.add(admin.key);
  if (!isLoopbackHost(host)) {
    log.warn(`listening on ${host}, not a loopback address, over plain HTTP: API keys and tool calls travel in the clear`);
  }

  let gate: RunningGate;
  try {
    gate = await startGate({ policyPath: opts.policy, upstream, host, port, apiKey: key, adminKey: admin.key, stateDir, ...(approvalTtlMs !== undefined ? { approvalTtlMs } : {}), hosted: Boolean(opts.hosted), ...(issuer ? { issuer } : {}), policyMaxAgeSeconds, log, version: VERSION, env });
  } catch (err) {
    if (err instanceof PolicyLoadError) throw new CliError('invalid-policy', err.message, { exitCode: ExitCode.INVALID_INPUT, cause: err });
    if (err instanceof ApprovalStoreError) throw new CliError('state-dir', err.message, { hint: 'Pick another folder with --state-dir.', cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError('port-in-use', `${host}:${port} is already in use`, { hint: 'Pick another with --port (0: any free port).', cause: err });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError('bad-host', `cannot listen on ${host}: ${(err as Error).message}`, { exitCode: ExitCode.INVALID_INPUT, cause: err });
    throw err;
  }

  // Written directly: the logger masks anything shaped like a key, and this line exists to show it.
  if (generated) process.stderr.write(`sentrail gate: API key for this run: ${key}\n`);
  // A generated admin key is also left (0600) for `sentrail approvals` on this machine.
  const keyFile = admin.generated ? adminKeyFile(new URL(gate.base).port, stateDir) : null;
  if (keyFile) {
    try {
      await writeAdminKeyFile(keyFile, { gate: gate.base, adminKey: admin.key, pid: process.pid, writtenAt: new Date().toISOString() });
    } catch (err) {
      log.warn(`cannot write the admin key file ${keyFile}: ${(err as Error).message}; pass the key to sentrail approvals with --admin-key`);
    }
    process.stderr.write(`sentrail gate: admin key for this run (reviewers: sentrail approvals): ${admin.key}\n`);
  }
  const mode = `${opts.hosted ? ', hosted' : ''}${issuer ? `, OAuth tokens from ${issuer}` : ''}`;
  log.info(`listening on ${gate.url} (policy ${gate.policy.version ?? '(no version)'}, ${gate.policy.policyCount} policies, upstream ${upstream.display}${mode})`);

  const signal = await untilSignal();
  log.info(`${signal}: shutting down`);
  await Promise.race([gate.close(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_BUDGET_MS).unref())]);
  // Only our own file: a gate started since on the same port wrote its own.
  if (keyFile && (await readAdminKeyFile(keyFile))?.pid === process.pid) await removeAdminKeyFile(keyFile).catch(() => undefined);
  // Anything still holding the event loop (a child slow to die, a client's socket) must not keep
  // the gate alive past its 2 s: this timer does not hold the loop itself, so it only fires then.
  setTimeout(() => process.exit(), 300).unref();
  return ExitCode.OK;
}
