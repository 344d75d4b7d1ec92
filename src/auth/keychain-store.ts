// The default token store: one OS keychain entry per gate + resource, service `sentrail`, account
// `<gate> <resource>`, the secret being the encoded entry (token-entry.ts).
import { CliError } from '../cli/errors.ts';
import { createKeychain, KEYCHAIN_SERVICE, type Keychain } from './keychain.ts';
import { accountKey, decodeEntry, encodeEntry, type StoredEntry } from './token-entry.ts';
import type { TokenStore } from './token-store.ts';

export function keychainLocation(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'the macOS Keychain';
  if (platform === 'win32') return 'the Windows Credential Manager';
  return 'the OS keychain (Secret Service)';
}

export function createKeychainTokenStore(keychain: Keychain = createKeychain()): TokenStore {
  return {
    kind: 'keychain',
    location: keychainLocation(),
    async get(gate, resource) {
      const text = await keychain.get(accountKey(gate, resource));
      if (text === null) return null;
      const decoded = decodeEntry(text);
      if (!decoded.ok) {
        throw new CliError('store-entry-unreadable', `the keychain entry for ${gate} cannot be used: ${decoded.message}`, {
          hint: `Log in again: sentrail login --gate ${gate} --with-api-key`,
        });
      }
      return decoded.entry;
    },
    async set(entry: StoredEntry) {
      const account = accountKey(entry.gate, entry.resource);
      const text = encodeEntry(entry);
      await keychain.set(account, text);
      // Read it back: a Secret Service whose collection is locked may accept the write and then
      // return nothing (ci-recipes.md), and a login that "worked" but stored nothing would surprise.
      const back = await keychain.get(account);
      if (back !== text) {
        throw new CliError('keychain-readback', `the OS keychain accepted the entry for ${entry.gate} but does not return it (is the keyring locked?)`, {
          hint: 'Unlock your keyring and try again, or use --insecure-storage.',
        });
      }
    },
    async delete(gate, resource) {
      return keychain.delete(accountKey(gate, resource));
    },
  };
}

export { KEYCHAIN_SERVICE };
