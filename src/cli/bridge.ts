// `sentrail bridge`: flags → options → the bridge process (src/bridge/bridge.ts). It exits on its own
// (stdin end, a signal, the parent's death); the exit code is 0 unless it could not start at all.
// Without --gate it uses the default gate `sentrail login` remembered; the credential after --api-key
// and SENTRAIL_API_KEY comes from the token store (src/auth/credential-sources.ts), which is loaded
// only when neither is given: a bridge with SENTRAIL_API_KEY does not pay for the keychain.
import type { CredentialSource } from '../bridge/credentials.ts';
import type { LogLevel } from '../log/logger.ts';
import { VERSION } from './version.ts';

export interface BridgeFlags {
  gate?: string;
  cloudUrl?: string;
  agent?: string;
  policy?: string;
  transport?: 'auto' | 'http' | 'sse';
  allowHttp?: boolean;
  logFile?: string;
  logLevel?: LogLevel;
  apiKey?: string;
  /** --request-timeout, in seconds (0: no bound). */
  requestTimeout?: number;
  /** --approval-wait, in seconds (0: do not wait for a reviewer). */
  approvalWait?: number;
  /** --no-audit: no local audit lines (docs/bridge.md, "Audit"). */
  audit?: boolean;
}

/**
 * The token store (and, last, the legacy config file) as one source, loaded on first use. With a key
 * at hand (--api-key, SENTRAIL_API_KEY) the store is asked only after the gate refuses that key, so
 * nothing is loaded at start; otherwise the first lookup starts at once, alongside loading the
 * bridge's code. Nothing of src/auth is imported statically here: every module this file imports
 * is loaded on each bridge start.
 */
function storeSource(gate: string, flags: BridgeFlags): CredentialSource {
  const prefetch = !flags.apiKey && !process.env.SENTRAIL_API_KEY;
  let loaded: Promise<CredentialSource | null> | null = null;
  const load = () =>
    (loaded ??= import('../auth/credential-sources.ts').then((m) => {
      // In the bridge, console.warn is the log (bridge.ts guardStdout): warnings land there and on stderr.
      const made = m.createGateCredentialSource({ gate, warn: (message) => console.warn(message) });
      if (!made) return null; // not a URL: the bridge reports that itself
      if (prefetch) made.store.prefetch();
      return made.source;
    }));
  if (prefetch) load().catch(() => {});
  return {
    get: async () => (await load())?.get() ?? null,
    refresh: async (rejected) => (await load())?.refresh(rejected) ?? null,
  };
}

export async function runBridge(flags: BridgeFlags): Promise<number> {
  let gate = flags.gate;
  if (!gate) {
    // The default gate of `sentrail login`: one small JSON file, read without loading the store.
    const { readCliConfig } = await import('../config/cli-config.ts');
    gate = (await readCliConfig()).config.defaultGate ?? undefined;
  }
  const store = gate ? storeSource(gate, flags) : undefined;
  const { runBridgeProcess } = await import('../bridge/bridge.ts');
  const code = await runBridgeProcess({ ...flags, ...(gate ? { gate } : {}), ...(store ? { store } : {}), version: VERSION });
  // Open sockets (a GET stream being torn down) must not keep a finished bridge alive.
  setTimeout(() => process.exit(code), 50).unref();
  return code;
}
