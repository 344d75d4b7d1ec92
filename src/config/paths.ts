// OS-appropriate folders (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA% on Windows), each
// overridable by an environment variable so tests and CI can isolate themselves.
import envPaths from 'env-paths';
import { homedir as osHomedir } from 'node:os';
import path from 'node:path';

const os = envPaths('sentrail', { suffix: '' });

export const dirs = {
  cache: () => process.env.SENTRAIL_CACHE_DIR || os.cache,
  config: () => process.env.SENTRAIL_CONFIG_DIR || os.config,
  state: () => process.env.SENTRAIL_STATE_DIR || os.log,
};

/** A file-name-safe, stable key for a gate URL: readable host plus a short hash of the whole URL. */
export function gateKey(gateUrl: string): string {
  let host = 'gate';
  try {
    const u = new URL(gateUrl);
    host = `${u.hostname}${u.port ? `-${u.port}` : ''}`;
  } catch {
    // not a URL: the hash alone still identifies it
  }
  return `${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${fnv1a64(gateUrl).slice(0, 12)}`;
}

/**
 * FNV-1a, 64 bits, as hex: a stable name, not a secret, so no need for node:crypto (whose load is
 * ~6 ms of the bridge's start-up).
 */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

export function policyCacheDir(): string {
  return path.join(dirs.cache(), 'policies');
}

/** The CLI's own settings (the default gate, where each gate's credential is kept): JSON, 0600. */
export function configFile(): string {
  return path.join(dirs.config(), 'config.json');
}

/** `sentrail login --insecure-storage`: one 0600 file per gate + resource in this 0700 folder. */
export function insecureCredentialsDir(): string {
  return path.join(dirs.config(), 'credentials');
}

/** The file Sentrail's earlier CLI writes (`apiKey`); read as the last credential source. */
export function legacyConfigFile(home: string = osHomedir()): string {
  // os.homedir() honours HOME (USERPROFILE on Windows): tests and CI give each run a fresh one
  return path.join(home, '.sentrail', 'config.json');
}

/**
 * The local gate's state folder (`sentrail gate --state-dir` overrides): its approvals, and the
 * admin key it generated, where `sentrail approvals` on the same machine finds it.
 */
export function gateStateDir(): string {
  return process.env.SENTRAIL_GATE_STATE_DIR || path.join(dirs.state(), 'gate');
}
