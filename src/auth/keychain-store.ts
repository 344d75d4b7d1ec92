// The default token store: one OS keychain entry per gate + resource, service `sentrail`, account
// `<gate> <resource>`, the secret being the encoded entry (token-entry.ts).
//
// The Windows Credential Manager takes at most 2,560 bytes per secret, and the addon writes UTF-16
// there: 1,280 characters, less than an OAuth entry with a JWT access token and a refresh token
// often needs. On Windows an entry longer than that is split: the first part, at the account,
// starts with `sentrail-parts:N:`, and parts 2..N sit at `<account> #2`…`#N`. Elsewhere entries are
// stored whole (SENTRAIL_KEYCHAIN_MAX_SECRET sets the limit, which is how the tests split on Linux).
import { CliError } from '../cli/errors.ts';
import { createKeychain, KEYCHAIN_SERVICE, type Keychain } from './keychain.ts';
import { accountKey, decodeEntry, encodeEntry, type StoredEntry } from './token-entry.ts';
import type { TokenStore } from './token-store.ts';

export function keychainLocation(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'the macOS Keychain';
  if (platform === 'win32') return 'the Windows Credential Manager';
  return 'the OS keychain (Secret Service)';
}

const WINDOWS_MAX_SECRET_CHARS = 1200;
const PARTS_PREFIX = /^sentrail-parts:(\d{1,3}):/;

export function maxSecretChars(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): number {
  const configured = Number(env.SENTRAIL_KEYCHAIN_MAX_SECRET);
  if (Number.isInteger(configured) && configured >= 64) return configured;
  return platform === 'win32' ? WINDOWS_MAX_SECRET_CHARS : Number.POSITIVE_INFINITY;
}

const partAccount = (account: string, n: number) => `${account} #${n}`;

/** The secret as the keychain entries to write: [account, secret] pairs, the first at `account`. */
export function splitSecret(account: string, text: string, max: number): [string, string][] {
  if (text.length <= max) return [[account, text]];
  const room = max - 'sentrail-parts:999:'.length;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += room) parts.push(text.slice(i, i + room));
  return parts.map((p, i) => (i === 0 ? [account, `sentrail-parts:${parts.length}:${p}`] : [partAccount(account, i + 1), p]));
}

async function readSecret(keychain: Keychain, account: string): Promise<{ text: string | null; parts: number }> {
  const first = await keychain.get(account);
  if (first === null) return { text: null, parts: 0 };
  const m = PARTS_PREFIX.exec(first);
  if (!m) return { text: first, parts: 1 };
  const count = Number(m[1]);
  let text = first.slice(m[0].length);
  for (let i = 2; i <= count; i++) {
    const part = await keychain.get(partAccount(account, i));
    if (part === null) return { text: '', parts: count }; // a damaged split entry: decodeEntry reports it
    text += part;
  }
  return { text, parts: count };
}

export function createKeychainTokenStore(keychain: Keychain = createKeychain(), max: number = maxSecretChars()): TokenStore {
  return {
    kind: 'keychain',
    location: keychainLocation(),
    async get(gate, resource) {
      const { text } = await readSecret(keychain, accountKey(gate, resource));
      if (text === null) return null;
      const decoded = decodeEntry(text);
      if (!decoded.ok) {
        throw new CliError('store-entry-unreadable', `the keychain entry for ${gate} cannot be used: ${decoded.message}`, {
          hint: `Log in again: sentrail login --gate ${gate}`,
        });
      }
      return decoded.entry;
    },
    async set(entry: StoredEntry) {
      const account = accountKey(entry.gate, entry.resource);
      const text = encodeEntry(entry);
      const before = await readSecret(keychain, account);
      const writes = splitSecret(account, text, max);
      // Later parts first, the first (which says how many there are) last.
      for (const [acc, secret] of [...writes.slice(1), writes[0]!]) await keychain.set(acc, secret);
      for (let i = writes.length + 1; i <= before.parts; i++) await keychain.delete(partAccount(account, i));
      // Read it back: a Secret Service whose collection is locked may accept the write and then
      // return nothing (ci-recipes.md), and a login that "worked" but stored nothing would surprise.
      const back = (await readSecret(keychain, account)).text;
      if (back !== text) {
        throw new CliError('keychain-readback', `the OS keychain accepted the entry for ${entry.gate} but does not return it (is the keyring locked?)`, {
          hint: 'Unlock your keyring and try again, or use --insecure-storage.',
        });
      }
    },
    async delete(gate, resource) {
      const account = accountKey(gate, resource);
      const { parts } = await readSecret(keychain, account).catch(() => ({ parts: 1 }));
      for (let i = 2; i <= parts; i++) await keychain.delete(partAccount(account, i));
      return keychain.delete(account);
    },
  };
}

export { KEYCHAIN_SERVICE };
