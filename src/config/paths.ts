// OS-appropriate folders (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA% on Windows), each
// overridable by an environment variable so tests and CI can isolate themselves.
import envPaths from 'env-paths';
import { createHash } from 'node:crypto';
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
  const hash = createHash('sha256').update(gateUrl).digest('hex').slice(0, 12);
  return `${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${hash}`;
}

export function policyCacheDir(): string {
  return path.join(dirs.cache(), 'policies');
}
