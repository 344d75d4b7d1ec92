// Which credential the bridge and `status` use, in order (issue 4): --api-key, SENTRAIL_API_KEY, the
// token store entry of the gate (keychain, or the --insecure-storage file), then the earlier CLI's
// ~/.sentrail/config.json apiKey with a warning. In-memory stores stand in for the keychain here;
// test/e2e/login.test.ts runs the real one.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLegacyConfigSource, createStoreCredentialSource, lookupStoredEntry, storageOrder, type OpenStore } from '../../src/auth/credential-sources.ts';
import { keychainErrorFrom, KeychainError } from '../../src/auth/store-errors.ts';
import { apiKeyEntry, gateResource } from '../../src/auth/token-entry.ts';
import { createMemoryTokenStore, type TokenStore } from '../../src/auth/token-store.ts';
import { bridgeCredentials, firstOf } from '../../src/bridge/credentials.ts';
import type { CliConfig } from '../../src/config/cli-config.ts';

const GATE = 'http://127.0.0.1:7391/mcp-gate/sse';
const key = (c: string) => `agk_${c.repeat(40)}`;
const entry = (token: string) => apiKeyEntry(GATE, gateResource(GATE), token, new Date('2026-11-21T12:00:00Z'));
/** Who and where from; the token times a stored entry adds are checked in the refresh tests. */
const pick = (c: { token: string; origin: string } | null) => (c ? { token: c.token, origin: c.origin } : c);
const config = (storage?: 'keychain' | 'file'): CliConfig => ({ defaultGate: GATE, gates: storage ? { [GATE]: { storage } } : {}, clients: {} });

function stores(opts: { keychain?: TokenStore; file?: TokenStore } = {}): OpenStore & { opened: string[] } {
  const keychain = opts.keychain ?? createMemoryTokenStore();
  const file = opts.file ?? createMemoryTokenStore();
  const opened: string[] = [];
  const open = (async (kind: 'keychain' | 'file') => {
    opened.push(kind);
    return kind === 'keychain' ? keychain : file;
  }) as OpenStore & { opened: string[] };
  open.opened = opened;
  return open;
}

/** A keychain that is not there (as with no D-Bus session bus). */
function brokenKeychain(): TokenStore {
  const fail = async (): Promise<never> => {
    throw keychainErrorFrom("Couldn't access platform storage: AccessDenied", 'linux');
  };
  return { kind: 'keychain', location: 'the OS keychain', get: fail, set: fail, delete: fail };
}

async function legacyFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-legacy-'));
  const file = path.join(dir, 'config.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function sources(opts: { apiKey?: string; env?: NodeJS.ProcessEnv; open: OpenStore; config: CliConfig; legacy?: string; warnings?: string[] }) {
  const warn = (m: string) => opts.warnings?.push(m);
  const store = createStoreCredentialSource({ gate: GATE, openStore: opts.open, warn, readConfig: async () => opts.config });
  const legacy = createLegacyConfigSource({ file: opts.legacy ?? path.join(os.tmpdir(), 'sentrail-no-such-dir', 'config.json'), warn });
  return { store, all: bridgeCredentials({ apiKey: opts.apiKey, env: opts.env ?? {}, store: firstOf([store, legacy]) }) };
}

describe('credential precedence', () => {
  it('--api-key, then SENTRAIL_API_KEY, then the keychain, then ~/.sentrail/config.json', async () => {
    const keychain = createMemoryTokenStore([entry(key('k'))]);
    const legacy = await legacyFile({ apiKey: key('c') });
    const open = stores({ keychain });
    const run = async (o: { apiKey?: string; env?: NodeJS.ProcessEnv }) => (await sources({ ...o, open, config: config('keychain'), legacy }).all.get())!;

    assert.deepEqual(pick(await run({ apiKey: key('f'), env: { SENTRAIL_API_KEY: key('e') } })), { token: key('f'), origin: 'flag' });
    assert.deepEqual(pick(await run({ env: { SENTRAIL_API_KEY: key('e') } })), { token: key('e'), origin: 'env' });
    assert.deepEqual(pick(await run({})), { token: key('k'), origin: 'keychain' });
    await keychain.delete(GATE, gateResource(GATE));
    assert.deepEqual(pick(await run({})), { token: key('c'), origin: 'config' });
  });

  it('the store is not even opened when a flag or SENTRAIL_API_KEY gives the credential', async () => {
    const open = stores();
    await sources({ env: { SENTRAIL_API_KEY: key('e') }, open, config: config('keychain') }).all.get();
    assert.deepEqual(open.opened, []);
  });

  it('the --insecure-storage file when login put the key there', async () => {
    const file = createMemoryTokenStore([entry(key('i'))]);
    const open = stores({ file, keychain: createMemoryTokenStore([entry(key('k'))]) });
    assert.deepEqual(pick(await sources({ open, config: config('file') }).all.get()), { token: key('i'), origin: 'file' });
    assert.deepEqual(open.opened, ['file'], 'the keychain is not asked');
  });

  it('no record of where login put it: the file (cheap) first, then the keychain', async () => {
    assert.deepEqual(storageOrder(null), ['file', 'keychain']);
    assert.deepEqual(storageOrder('keychain'), ['keychain']);
    assert.deepEqual(storageOrder('file'), ['file']);
    const open = stores({ keychain: createMemoryTokenStore([entry(key('k'))]) });
    assert.deepEqual(pick(await sources({ open, config: config() }).all.get()), { token: key('k'), origin: 'keychain' });
    assert.deepEqual(open.opened, ['file', 'keychain']);
  });

  it('an unreachable keychain gives no credential (the legacy key is next), with a warning only where login had put the key', async () => {
    const legacy = await legacyFile({ apiKey: key('c') });
    const warnings: string[] = [];
    const s = sources({ open: stores({ keychain: brokenKeychain() }), config: config('keychain'), legacy, warnings });
    assert.deepEqual(pick(await s.all.get()), { token: key('c'), origin: 'config' });
    assert.equal(s.store.last?.problem?.storage, 'keychain');
    assert.ok(s.store.last?.problem?.error instanceof KeychainError);
    assert.equal(warnings.filter((w) => w.includes('no OS keychain is reachable')).length, 1);
    assert.equal(warnings.filter((w) => w.includes('sentrail login --with-api-key')).length, 1, 'the legacy warning');
    await s.all.get();
    assert.equal(warnings.length, 2, 'each warning once per process');

    const quiet: string[] = [];
    await sources({ open: stores({ keychain: brokenKeychain() }), config: config(), warnings: quiet }).all.get();
    assert.deepEqual(quiet, [], 'never logged in: a missing keychain is not worth a warning');
  });

  it("the legacy file's apiKey only when it is a non-empty string; a broken file is ignored", async () => {
    for (const content of ['{', '[]', { apiKey: '' }, { apiKey: 42 }, { token: key('x') }]) {
      assert.equal(await createLegacyConfigSource({ file: await legacyFile(content) }).get(), null, JSON.stringify(content));
    }
  });

  it('after a 401: a different stored credential (another login meanwhile), else none', async () => {
    const keychain = createMemoryTokenStore([entry(key('a'))]);
    const s = sources({ open: stores({ keychain }), config: config('keychain') });
    const first = (await s.all.get())!;
    assert.equal(await s.all.refresh(first), null);
    await keychain.set(entry(key('b')));
    assert.deepEqual(pick(await s.all.refresh(first)), { token: key('b'), origin: 'keychain' });
  });

  it('a prefetched lookup serves the first get only; later gets read the store again', async () => {
    const keychain = createMemoryTokenStore([entry(key('a'))]);
    let reads = 0;
    const counting: TokenStore = { ...keychain, get: async (g, r) => (reads++, keychain.get(g, r)) };
    const store = createStoreCredentialSource({ gate: GATE, openStore: stores({ keychain: counting }), readConfig: async () => config('keychain') });
    store.prefetch();
    store.prefetch();
    await keychain.set(entry(key('b'))); // after the prefetch began: the first get may see either
    await store.get();
    assert.equal(reads, 1);
    assert.deepEqual(pick(await store.get()), { token: key('b'), origin: 'keychain' });
    assert.equal(reads, 2);
  });

  it('lookupStoredEntry reports a damaged entry as a problem of that store', async () => {
    const damaged: TokenStore = {
      ...createMemoryTokenStore(),
      get: async () => {
        throw new Error('the keychain entry cannot be used: the stored entry is damaged');
      },
    };
    const l = await lookupStoredEntry(GATE, { openStore: stores({ keychain: damaged }), config: config('keychain') });
    assert.equal(l.entry, null);
    assert.equal(l.problem?.storage, 'keychain');
    assert.equal(l.resource, 'http://127.0.0.1:7391/mcp-gate');
  });
});

describe('keychain errors', () => {
  it('sorts native messages into problems, each naming --insecure-storage and SENTRAIL_API_KEY', () => {
    const cases: [string, string, RegExp][] = [
      ["Couldn't access platform storage: AccessDenied", 'unavailable', /no OS keychain is reachable/],
      ['Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files', 'unavailable', /no OS keychain is reachable/],
      ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'locked', /locked/],
      ['zbus error: org.freedesktop.Secret.Error.IsLocked: Cannot get secret of a locked object', 'locked', /locked/],
    ];
    for (const [raw, problem, message] of cases) {
      const e = keychainErrorFrom(raw, 'linux');
      assert.equal(e.problem, problem, raw);
      assert.match(e.message, message);
      assert.equal(e.code, `keychain-${problem}`);
      assert.match(e.hint!, /--insecure-storage/);
      assert.match(e.hint!, /SENTRAIL_API_KEY/);
      assert.equal(e.exitCode, 1);
    }
    assert.match(keychainErrorFrom('errSecInteractionNotAllowed', 'darwin').message, /the OS keychain cannot be used: errSecInteractionNotAllowed/);
  });
});
