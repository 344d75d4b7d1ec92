// What every `sentrail login` does around storing its credential, whichever way it logged in
// (API key or OAuth): ask the store first (no keychain is found out in milliseconds, before the gate
// or a browser is involved), and afterwards make the gate the default, remembering which store
// holds its credential, and remove a copy left in the other store (a credential moved from the
// --insecure-storage file to the keychain must not stay behind in the file).
import { CliError } from '../cli/errors.ts';
import { updateCliConfig, type CredentialStorage } from '../config/cli-config.ts';
import type { OpenStore } from './credential-sources.ts';
import type { StoredEntry } from './token-entry.ts';
import type { TokenStore } from './token-store.ts';

/** The entry this login replaces; an unreadable one is simply replaced. Throws when the store cannot be reached. */
export async function previousEntry(store: TokenStore, gate: string, resource: string): Promise<StoredEntry | null> {
  return store.get(gate, resource).catch((e: unknown) => {
    if (e instanceof CliError && e.code === 'store-entry-unreadable') return null;
    throw e;
  });
}

export async function recordLogin(x: {
  gate: string;
  resource: string;
  storage: CredentialStorage;
  /** Where the gate's credential was before this login (config.json), if anywhere. */
  before: CredentialStorage | null;
  openStore: OpenStore;
  warn(message: string): void;
}): Promise<void> {
  // The file store is always cheap to clean; the keychain only when login had put the credential
  // there (with --insecure-storage there may be no keychain at all, and asking it could take seconds).
  const other: CredentialStorage = x.storage === 'file' ? 'keychain' : 'file';
  if (other === 'file' || x.before === 'keychain') {
    try {
      await (await x.openStore(other)).delete(x.gate, x.resource);
    } catch (e) {
      x.warn(`could not remove the earlier credential for ${x.gate} from the ${other === 'file' ? 'insecure-storage file' : 'OS keychain'}: ${(e as Error).message}`);
    }
  }
  await updateCliConfig((c) => {
    c.defaultGate = x.gate;
    c.gates[x.gate] = { ...c.gates[x.gate], storage: x.storage };
  });
}
