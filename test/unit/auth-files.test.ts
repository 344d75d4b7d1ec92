// The CLI's files under the OS config dir: config.json (the default gate, where each gate's credential
// is kept) and the --insecure-storage store (one 0600 file per gate + resource in a 0700 folder).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createFileTokenStore } from '../../src/auth/file-store.ts';
import { apiKeyEntry, encodeEntry, gateResource } from '../../src/auth/token-entry.ts';
import { CLI_CONFIG_SCHEMA, readCliConfig, updateCliConfig } from '../../src/config/cli-config.ts';
import { maskKey } from '../../src/log/redact.ts';

const GATE = 'http://127.0.0.1:7391/mcp-gate/sse';
const KEY = 'agk_' + 'Q'.repeat(36) + 'tail';
const tmp = () => mkdtemp(path.join(os.tmpdir(), 'sentrail-auth-files-'));
const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('config.json', () => {
  it('missing: no default gate, no problem', async () => {
    const file = path.join(await tmp(), 'sentrail', 'config.json');
    assert.deepEqual((await readCliConfig(file)).config, { defaultGate: null, gates: {}, clients: {} });
    assert.equal((await readCliConfig(file)).problem, undefined);
  });

  it('written 0600 in a 0700 folder, with its own format version; unknown fields are kept', async () => {
    const dir = path.join(await tmp(), 'sentrail');
    const file = path.join(dir, 'config.json');
    await updateCliConfig((c) => {
      c.defaultGate = GATE;
      c.gates[GATE] = { storage: 'keychain' };
    }, file);
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(dir), 0o700);
    const raw = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(raw.schema, CLI_CONFIG_SCHEMA);
    raw.telemetry = false;
    await writeFile(file, JSON.stringify(raw));
    await updateCliConfig((c) => void delete c.gates[GATE], file);
    const after = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(after.telemetry, false);
    assert.deepEqual(after.gates, {});
    assert.equal(after.defaultGate, GATE);
  });

  it('a broken or newer file is reported, and read for what can be read', async () => {
    const dir = await tmp();
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{ nope');
    assert.equal((await readCliConfig(broken)).problem, 'not valid JSON');
    const newer = path.join(dir, 'newer.json');
    await writeFile(newer, JSON.stringify({ schema: 9, defaultGate: GATE, gates: { [GATE]: { storage: 'file', extra: 1 } } }));
    const r = await readCliConfig(newer);
    assert.match(r.problem!, /newer sentrail \(format 9\)/);
    assert.deepEqual(r.config, { defaultGate: GATE, gates: { [GATE]: { storage: 'file' } }, clients: {} });
  });
});

describe('the --insecure-storage file store', () => {
  it('set/get/delete; the file is 0600 in a 0700 folder, and only it holds the key', async () => {
    const dir = path.join(await tmp(), 'credentials');
    const store = createFileTokenStore(dir);
    const resource = gateResource(GATE);
    assert.equal(await store.get(GATE, resource), null);
    const entry = apiKeyEntry(GATE, resource, KEY, new Date());
    await store.set(entry);
    const file = store.fileFor(GATE, resource);
    assert.equal(path.dirname(file), dir);
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(file), 0o600);
    assert.equal((await readFile(file, 'utf8')).trim(), encodeEntry(entry));
    assert.deepEqual(await store.get(GATE, resource), entry);
    assert.equal(await store.delete(GATE, resource), true);
    assert.equal(await store.delete(GATE, resource), false);
    assert.equal(await store.get(GATE, resource), null);
  });

  it('narrows a widened file mode again when it reads it', async () => {
    const store = createFileTokenStore(path.join(await tmp(), 'credentials'));
    const resource = gateResource(GATE);
    await store.set(apiKeyEntry(GATE, resource, KEY, new Date()));
    await chmod(store.fileFor(GATE, resource), 0o644);
    await store.get(GATE, resource);
    assert.equal(await mode(store.fileFor(GATE, resource)), 0o600);
  });

  it('a damaged file is an error that says to log in again, without its content', async () => {
    const store = createFileTokenStore(path.join(await tmp(), 'credentials'));
    const resource = gateResource(GATE);
    await store.set(apiKeyEntry(GATE, resource, KEY, new Date()));
    await writeFile(store.fileFor(GATE, resource), `{"schema":1,"type":"api_key","accessToken":"${KEY}"`);
    await assert.rejects(store.get(GATE, resource), (e: Error & { hint?: string }) => {
      assert.match(e.message, /cannot be used: the stored entry is not JSON/);
      assert.match(e.hint!, /sentrail login --gate .* --with-api-key --insecure-storage/);
      assert.ok(!e.message.includes(KEY));
      return true;
    });
  });
});

describe('masking', () => {
  it('status shows an API key as agk_xxxx…yyyy', () => {
    assert.equal(maskKey(KEY), 'agk_QQQQ…tail');
  });
});
