// Long entries in keychains with a small secret limit (the Windows Credential Manager: 2,560 bytes
// of UTF-16): split into parts and joined back, leftovers removed. The Keychain here is a Map; the
// real Secret Service runs the same code in test/e2e (SENTRAIL_KEYCHAIN_MAX_SECRET).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Keychain } from '../../src/auth/keychain.ts';
import { createKeychainTokenStore, maxSecretChars, splitSecret } from '../../src/auth/keychain-store.ts';
import { type StoredEntry } from '../../src/auth/token-entry.ts';

function mapKeychain(): Keychain & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get: async (a) => map.get(a) ?? null,
    set: async (a, s) => void map.set(a, s),
    delete: async (a) => map.delete(a),
  };
}

const GATE = 'https://ref.supabase.co/functions/v1/mcp-gate/sse';
const RESOURCE = 'https://ref.supabase.co/functions/v1/mcp-gate';
const entry = (tokenLength: number): StoredEntry => ({
  type: 'oauth',
  gate: GATE,
  resource: RESOURCE,
  accessToken: 'a'.repeat(tokenLength),
  refreshToken: 'r'.repeat(64),
  expiresAt: '2026-11-21T12:00:00.000Z',
  issuer: 'https://ref.supabase.co/auth/v1',
  client: { clientId: 'c', method: 'dynamic' },
  endpoints: { token: 'https://ref.supabase.co/auth/v1/token', revocation: null },
  scopes: ['mcp'],
  createdAt: '2026-11-21T11:00:00.000Z',
  updatedAt: '2026-11-21T11:00:00.000Z',
});

describe('keychain entries over the secret size limit', () => {
  it('the limit: 1,200 characters on Windows, none elsewhere, or SENTRAIL_KEYCHAIN_MAX_SECRET', () => {
    assert.equal(maxSecretChars({}, 'win32'), 1200);
    assert.equal(maxSecretChars({}, 'darwin'), Number.POSITIVE_INFINITY);
    assert.equal(maxSecretChars({ SENTRAIL_KEYCHAIN_MAX_SECRET: '300' }, 'linux'), 300);
  });

  it('splits into parts no longer than the limit, and a store reads the entry back whole', async () => {
    const kc = mapKeychain();
    const store = createKeychainTokenStore(kc, 300);
    const long = entry(2000);
    await store.set(long);
    assert.ok(kc.map.size >= 8, `${kc.map.size} parts`);
    for (const secret of kc.map.values()) assert.ok(secret.length <= 300);
    assert.deepEqual(await store.get(GATE, RESOURCE), long);
  });

  it('a shorter entry replaces a split one and leaves no stale part; delete removes every part', async () => {
    const kc = mapKeychain();
    const store = createKeychainTokenStore(kc, 300);
    await store.set(entry(2000));
    await store.set(entry(10));
    assert.equal(kc.map.size, 2, [...kc.map.keys()].join(', '));
    assert.equal((await store.get(GATE, RESOURCE))?.accessToken, 'a'.repeat(10));
    await store.set(entry(2000));
    assert.equal(await store.delete(GATE, RESOURCE), true);
    assert.equal(kc.map.size, 0);
  });

  it('a missing part is reported as a damaged entry, not guessed at', async () => {
    const kc = mapKeychain();
    const store = createKeychainTokenStore(kc, 300);
    await store.set(entry(2000));
    const [account] = splitSecret(`${GATE} ${RESOURCE}`, 'x'.repeat(1000), 300)[2]!;
    kc.map.delete(account);
    await assert.rejects(store.get(GATE, RESOURCE), /cannot be used/);
  });
});
