// The OS keychain through @napi-rs/keyring (macOS Keychain, Windows Credential Manager, the Secret
// Service on Linux), with a hard time limit on every call.
//
// Why a helper process: the addon connects to D-Bus synchronously when an entry is created, so a
// wedged bus or keyring daemon blocks whatever thread calls it for as long as D-Bus waits (seen: 20 s
// and more). On the main thread no timer could fire. A worker thread is not enough either: one stuck
// in native code can be neither terminated nor left behind (process.exit() waits for it). A child
// process can be killed: at the deadline it is, and the caller gets a clear error (style.md:
// keychain calls time out). It starts on the first call (~40 ms) and serves the later ones.
//
// The addon is a native module, so it is not bundled (scripts/build.mjs marks it external; it is a
// runtime dependency in package.json). Nothing here runs until a keychain call is made: a bridge
// with SENTRAIL_API_KEY never starts the helper.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { KeychainError, keychainErrorFrom } from './store-errors.ts';

export const KEYCHAIN_SERVICE = 'sentrail';
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3000;
/** How long the helper process waits for another call before it ends. */
const IDLE_MS = 2000;

export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

// The helper (CommonJS, `node -e`): one JSON request per line on stdin, one answer per line on
// stdout; it ends with its stdin (so with its parent). The synchronous Entry API is fine there: it
// does nothing else. On Linux the entry is pinned to the Secret Service: the addon's default would
// fall back to the kernel keyring, which forgets everything at logout or reboot.
const HELPER_SOURCE = `
const [modulePath, service] = process.argv.slice(1);
let keyring = null;
let loadError = null;
try { keyring = require(modulePath); } catch (err) { loadError = String((err && err.message) || err); }
const options = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
const answer = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
function handle(m) {
  if (!keyring) return answer({ id: m.id, ok: false, unsupported: true, message: loadError });
  try {
    const entry = new keyring.Entry(service, m.account, options);
    let value = null;
    if (m.op === 'get') value = entry.getPassword();
    else if (m.op === 'set') entry.setPassword(m.secret);
    else if (m.op === 'delete') value = entry.deletePassword();
    answer({ id: m.id, ok: true, value: value === undefined ? null : value });
  } catch (err) {
    answer({ id: m.id, ok: false, message: String((err && err.message) || err) });
  }
}
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\\n')) !== -1) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (line) handle(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
`;

interface Reply {
  id: number;
  ok: boolean;
  value?: string | boolean | null;
  message?: string;
  unsupported?: boolean;
}

export function keychainTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SENTRAIL_KEYCHAIN_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_KEYCHAIN_TIMEOUT_MS;
}

function resolveAddon(): string {
  try {
    return createRequire(import.meta.url).resolve('@napi-rs/keyring');
  } catch (err) {
    throw new KeychainError('unsupported', 'the keychain module (@napi-rs/keyring) is not installed next to sentrail; reinstall sentrail', err);
  }
}

type Helper = ChildProcessByStdio<Writable, Readable, null>;

/** A keychain client for service `sentrail`, each call limited to `timeoutMs`. */
export function createKeychain(opts: { timeoutMs?: number; service?: string } = {}): Keychain {
  const timeoutMs = opts.timeoutMs ?? keychainTimeoutMs();
  const service = opts.service ?? KEYCHAIN_SERVICE;
  let helper: Helper | null = null;
  let nextId = 0;
  const pending = new Map<number, (r: Reply) => void>();
  // A node process is ~40 MB: it does not stay beside a long-running bridge once its calls are done.
  let idle: NodeJS.Timeout | null = null;
  const settled = () => {
    if (pending.size > 0 || !helper) return;
    const child = helper;
    idle = setTimeout(() => {
      if (helper === child) helper = null;
      child.stdin.end(); // it exits at the end of its stdin
    }, IDLE_MS);
    idle.unref();
  };

  const failAll = (message: string) => {
    for (const [id, settle] of pending) settle({ id, ok: false, message });
    pending.clear();
  };
  const start = (): Helper => {
    if (helper) return helper;
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // a test runner's loaders are not the helper's business
    const child = spawn(process.execPath, ['-e', HELPER_SOURCE, resolveAddon(), service], { env, stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let r: Reply;
        try {
          r = JSON.parse(line) as Reply;
        } catch {
          continue;
        }
        const settle = pending.get(r.id);
        pending.delete(r.id);
        settle?.(r);
      }
    });
    child.on('error', (err) => {
      if (helper === child) helper = null;
      failAll(`the keychain helper could not start: ${err.message}`);
    });
    child.on('exit', () => {
      if (helper === child) helper = null;
      failAll('the keychain helper ended');
    });
    child.stdin.on('error', () => {}); // it died: 'exit' says so
    // Idle, it must not keep this process alive (a pending call's timer does).
    child.unref();
    (child.stdout as Readable & { unref?: () => void }).unref?.();
    (child.stdin as Writable & { unref?: () => void }).unref?.();
    helper = child;
    return child;
  };

  const call = (op: 'get' | 'set' | 'delete', account: string, secret?: string): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (idle) clearTimeout(idle);
      idle = null;
      const child = start();
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        // Stuck in native code: kill it (a later call starts afresh).
        if (helper === child) helper = null;
        child.kill('SIGKILL');
        reject(
          new KeychainError(
            'timeout',
            `the OS keychain did not answer within ${(timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0)} s (is it locked, or waiting for an unlock prompt?); unlock it and try again`,
          ),
        );
      }, timeoutMs);
      pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
        settled();
      });
      child.stdin.write(JSON.stringify({ id, op, account, ...(secret === undefined ? {} : { secret }) }) + '\n');
    });

  const check = (r: Reply): Reply => {
    if (r.ok) return r;
    if (r.unsupported) throw new KeychainError('unsupported', `no keychain support for this platform (${process.platform}-${process.arch}): ${r.message ?? 'the native module did not load'}`);
    throw keychainErrorFrom(r.message ?? 'unknown error');
  };

  return {
    async get(account) {
      const r = check(await call('get', account));
      return typeof r.value === 'string' ? r.value : null;
    },
    async set(account, secret) {
      check(await call('set', account, secret));
    },
    async delete(account) {
      const r = check(await call('delete', account));
      return r.value === true;
    },
  };
}
