// The credential sources behind --api-key and SENTRAIL_API_KEY (src/bridge/credentials.ts has the
// order): the token store entry of the gate (keychain, or the --insecure-storage file), then the
// `apiKey` of Sentrail's earlier CLI (~/.sentrail/config.json), with a warning. The stores are
// imported only when asked: a bridge that has SENTRAIL_API_KEY never loads them.
import { readFile } from 'node:fs/promises';
import { firstOf, RenewalError, type Credential, type CredentialSource } from '../bridge/credentials.ts';
import type { CliError } from '../cli/errors.ts';
import { readCliConfig, type CliConfig, type CredentialStorage } from '../config/cli-config.ts';
import { legacyConfigFile } from '../config/paths.ts';
import type { RefreshOutcome, RefreshRequest } from './oauth/refresh.ts';
import { entryTimes, refreshDue } from './refresh-timing.ts';
import { gateResource, normalizeGateUrl, type StoredEntry } from './token-entry.ts';
import type { TokenStore } from './token-store.ts';

export type OpenStore = (kind: CredentialStorage) => Promise<TokenStore>;

/** The real stores, each imported on first use. */
export function defaultOpenStore(): OpenStore {
  const opened = new Map<CredentialStorage, Promise<TokenStore>>();
  return (kind) => {
    let store = opened.get(kind);
    if (!store) {
      store =
        kind === 'file'
          ? import('./file-store.ts').then((m) => m.createFileTokenStore())
          : import('./keychain-store.ts').then((m) => m.createKeychainTokenStore());
      opened.set(kind, store);
    }
    return store;
  };
}

export interface StoreLookup {
  gate: string;
  resource: string;
  /** Where `sentrail login` said it put the credential (config.json), if it did. */
  hint: CredentialStorage | null;
  /** The store the entry came from. */
  storage: CredentialStorage | null;
  entry: StoredEntry | null;
  /** A store that could not be read (no keychain, a damaged entry): the reason, as the CLI reports it. */
  problem: { storage: CredentialStorage; error: CliError } | null;
}

/** Where to look for a gate's entry: where login put it, else the file (cheap) and then the keychain. */
export function storageOrder(hint: CredentialStorage | null | undefined): CredentialStorage[] {
  if (hint === 'file') return ['file'];
  if (hint === 'keychain') return ['keychain'];
  return ['file', 'keychain'];
}

export async function lookupStoredEntry(gate: string, opts: { openStore: OpenStore; config?: CliConfig; resource?: string }): Promise<StoreLookup> {
  const config = opts.config ?? (await readCliConfig()).config;
  const resource = opts.resource ?? gateResource(gate);
  const hint = config.gates[gate]?.storage ?? null;
  const lookup: StoreLookup = { gate, resource, hint, storage: null, entry: null, problem: null };
  for (const storage of storageOrder(hint)) {
    try {
      const entry = await (await opts.openStore(storage)).get(gate, resource);
      if (entry) return { ...lookup, storage, entry, problem: null };
    } catch (err) {
      lookup.problem ??= { storage, error: err as CliError };
    }
  }
  return lookup;
}

export interface StoreSource extends CredentialSource {
  /** Starts the first lookup now (the bridge overlaps it with loading its code). */
  prefetch(): void;
  /** What the last lookup found (for `sentrail status`). */
  readonly last: StoreLookup | null;
}

/**
 * The gate's token store entry as a credential source. A store that cannot be read gives no
 * credential (the next source is asked) and a warning when the user had logged in there.
 */
export function createStoreCredentialSource(opts: {
  gate: string;
  openStore?: OpenStore;
  warn?: (message: string) => void;
  readConfig?: () => Promise<CliConfig>;
  /** Lock and timeout settings of the refresh (tests). */
  refresh?: Pick<RefreshRequest, 'lock' | 'timeoutS' | 'fetch'>;
}): StoreSource {
  const openStore = opts.openStore ?? defaultOpenStore();
  const readConfig = opts.readConfig ?? (async () => (await readCliConfig()).config);
  const warned = new Set<string>();
  let first: Promise<StoreLookup> | null = null;
  const lookup = async () => lookupStoredEntry(opts.gate, { openStore, config: await readConfig() });
  const source: StoreSource = {
    last: null,
    prefetch() {
      first ??= lookup();
      // the bridge reads it later; an early failure must not surface as an unhandled rejection
      first.catch(() => {});
    },
    async get(): Promise<Credential | null> {
      const pending = first;
      first = null;
      const l = await (pending ?? lookup());
      (source as { last: StoreLookup | null }).last = l;
      if (l.problem && l.problem.storage === l.hint && !warned.has(l.problem.error.message)) {
        warned.add(l.problem.error.message);
        opts.warn?.(`cannot read the credential for ${opts.gate} from where \`sentrail login\` put it: ${l.problem.error.message}`);
      }
      return l.entry && l.storage ? credentialOf(l.entry, l.storage) : null;
    },
    async refresh(rejected) {
      // Another process may have renewed it, or the user logged in again: then no lock is needed.
      const l = await lookup();
      (source as { last: StoreLookup | null }).last = l;
      if (!l.entry || !l.storage) return null;
      const stored = credentialOf(l.entry, l.storage);
      if (stored.token !== rejected.token && !refreshDue(stored)) return stored;
      if (l.entry.type !== 'oauth') return null; // an API key is not renewed: the gate's refusal stands
      const { refreshStoredEntry } = await import('./oauth/refresh.ts');
      const outcome = await refreshStoredEntry({ store: await openStore(l.storage), gate: l.gate, resource: l.resource, seen: rejected.token, ...opts.refresh });
      return fromOutcome(outcome, l.storage, opts.warn);
    },
  };
  return source;
}

function credentialOf(entry: StoredEntry, storage: CredentialStorage): Credential {
  return { token: entry.accessToken, origin: storage, ...entryTimes(entry) };
}

function fromOutcome(outcome: RefreshOutcome, storage: CredentialStorage, warn?: (message: string) => void): Credential {
  switch (outcome.kind) {
    case 'refreshed':
      if (outcome.notStored) warn?.(`renewed the login, but could not store the new tokens (other sessions will have to log in again): ${outcome.notStored}`);
      return credentialOf(outcome.entry, storage);
    case 'taken-from-store':
      return credentialOf(outcome.entry, storage);
    case 'needs-login':
      throw new RenewalError(outcome.reason, 'login');
    case 'failed':
      throw new RenewalError(outcome.reason, 'unavailable');
  }
}

/** `~/.sentrail/config.json`'s `apiKey`, if any (the file Sentrail's earlier CLI writes). */
export async function readLegacyApiKey(file: string = legacyConfigFile()): Promise<string | null> {
  try {
    const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
    const key = raw && typeof raw === 'object' ? (raw as { apiKey?: unknown }).apiKey : undefined;
    return typeof key === 'string' && key.trim() !== '' ? key.trim() : null;
  } catch {
    return null;
  }
}

export function legacyWarning(file: string = legacyConfigFile()): string {
  return `using the API key in ${file} (written by Sentrail's earlier CLI): move it into the OS keychain with \`sentrail login --with-api-key\` (it reads the key from standard input), then delete it from that file`;
}

/** The last source: Sentrail's earlier CLI's key, with a warning (once) that says how to move it. */
export function createLegacyConfigSource(opts: { file?: string; warn?: (message: string) => void } = {}): CredentialSource {
  const file = opts.file ?? legacyConfigFile();
  let warned = false;
  const source: CredentialSource = {
    async get() {
      const key = await readLegacyApiKey(file);
      if (!key) return null;
      if (!warned) {
        warned = true;
        opts.warn?.(legacyWarning(file));
      }
      return { token: key, origin: 'config' };
    },
    async refresh(rejected) {
      const c = await source.get();
      return c && c.token !== rejected.token ? c : null;
    },
  };
  return source;
}

/**
 * What the bridge plugs in as BridgeOptions.store: the gate's stored entry, then the legacy file.
 * The gate as given (--gate or the default gate), normalized here; null when it is not a URL.
 */
export function createGateCredentialSource(opts: { gate: string; openStore?: OpenStore; warn?: (message: string) => void }): { source: CredentialSource; store: StoreSource } | null {
  let gate: string;
  try {
    gate = normalizeGateUrl(opts.gate);
  } catch {
    return null;
  }
  const store = createStoreCredentialSource({ ...opts, gate });
  return { source: firstOf([store, createLegacyConfigSource({ warn: opts.warn })]), store };
}
