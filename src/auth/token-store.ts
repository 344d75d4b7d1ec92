// The role every credential store plays: one entry per gate + resource. Implementations: the OS
// keychain (keychain-store.ts, the default), a 0600 file per entry (file-store.ts, only with
// --insecure-storage), and memory (tests of the pure parts).
import { accountKey, type StoredEntry } from './token-entry.ts';

export type StoreKind = 'keychain' | 'file' | 'memory';

export interface TokenStore {
  readonly kind: StoreKind;
  /** Where entries live, for people (`the OS keychain (Secret Service)`, a folder). */
  readonly location: string;
  /** The entry, or null when there is none. Throws a CliError when the store cannot be reached or read. */
  get(gate: string, resource: string): Promise<StoredEntry | null>;
  /** Creates or replaces the entry of `entry.gate` + `entry.resource`. */
  set(entry: StoredEntry): Promise<void>;
  /** True when an entry was there and is gone. */
  delete(gate: string, resource: string): Promise<boolean>;
}

export function createMemoryTokenStore(initial: StoredEntry[] = []): TokenStore & { entries: Map<string, StoredEntry> } {
  const entries = new Map(initial.map((e) => [accountKey(e.gate, e.resource), e] as const));
  return {
    kind: 'memory',
    location: 'memory',
    entries,
    async get(gate, resource) {
      return entries.get(accountKey(gate, resource)) ?? null;
    },
    async set(entry) {
      entries.set(accountKey(entry.gate, entry.resource), entry);
    },
    async delete(gate, resource) {
      return entries.delete(accountKey(gate, resource));
    },
  };
}
