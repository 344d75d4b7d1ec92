// `sentrail login --with-api-key | status | logout` and the bridge's stored credential, end to end:
// the BUILT binary, the local gate (`sentrail gate`) in front of server-everything, and a REAL OS
// keychain (test/helpers/user-session.ts: gnome-keyring's Secret Service under dbus-run-session,
// skipped with the reason when missing, failed under CI=true). Every key used is planted: it must
// show up in no output, no log file, and no file under HOME (but for --insecure-storage, whose file
// is the point).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBuilt, assertNoStackTrace } from '../helpers/cli.ts';
import {
  assertNoPlantedSecretsAndCleanUp,
  bridgeLogs,
  bridgeTools,
  filesContaining,
  freshHome,
  keychainStatus,
  needKeychain,
  planted,
  keychainItems,
  secretToolSearch,
  sentrail,
  userEnv,
} from '../helpers/user-session.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, testApiKey, type GateProcess } from '../helpers/gate.ts';

/** What the local gate calls an API key's holder (src/gate/auth.ts): a fingerprint of the key. */
const subjectOf = (key: string) => `api-key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
const masked = (key: string) => `${key.slice(0, 8)}…${key.slice(-4)}`;

let gate: GateProcess;

before(async () => {
  assertBuilt();
  await keychainStatus();
  gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
});

after(async () => {
  await stopAllGates();
  await assertNoPlantedSecretsAndCleanUp();
});

// ── With the keychain ───────────────────────────────────────────────────────────────────────────

describe('login --with-api-key with the OS keychain (Secret Service)', () => {
  it('stores the key in the keychain only; status shows it masked; the bridge uses it with no --gate and no SENTRAIL_API_KEY; logout removes it', async (t) => {
    if (!needKeychain(t)) return;
    planted.add(gate.apiKey);
    const home = await freshHome();
    const env = userEnv(home);

    const login = await sentrail(['login', '--with-api-key', '--gate', gate.url], { env, input: `${gate.apiKey}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /Logged in to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse with API key agk_\w{4}…\w{4} \(\d+ tools visible\); stored in the OS keychain/);
    assert.ok(login.stderr.includes(masked(gate.apiKey)));
    assert.match(login.stderr, /is now the default gate/);

    // secret-tool (libsecret) finds the entry: service sentrail, account "<gate> <resource>"
    const found = await secretToolSearch();
    assert.ok(found.includes('attribute.service = sentrail'), found);
    assert.ok(found.includes(`attribute.username = ${gate.url} ${gate.base}/mcp-gate`), found);
    const secret = (await keychainItems()).find((i) => i.account === `${gate.url} ${gate.base}/mcp-gate`)?.secret;
    assert.ok(secret, found);
    const stored = JSON.parse(secret);
    assert.equal(stored.schema, 1);
    assert.equal(stored.type, 'api_key');
    assert.equal(stored.accessToken, gate.apiKey);
    // …and no file under HOME holds the key (the config file names the gate, nothing secret)
    assert.deepEqual(await filesContaining(home, gate.apiKey), []);
    const config = JSON.parse(await readFile(path.join(home, '.config', 'sentrail', 'config.json'), 'utf8'));
    assert.equal(config.defaultGate, gate.url);
    assert.deepEqual(config.gates[gate.url], { storage: 'keychain' });
    assert.equal((await stat(path.join(home, '.config', 'sentrail', 'config.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(home, '.config', 'sentrail'))).mode & 0o777, 0o700);

    // status --json: the default gate, origin keychain, the masked key, whoami's subject
    const status = await sentrail(['status', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.gate, gate.url);
    assert.equal(s.gateFrom, 'default');
    assert.equal(s.loggedIn, true);
    assert.equal(s.credential.origin, 'keychain');
    assert.equal(s.credential.type, 'api_key');
    assert.equal(s.credential.key, masked(gate.apiKey));
    assert.equal(s.whoami.status, 'ok');
    assert.equal(s.whoami.subject, subjectOf(gate.apiKey));
    assert.deepEqual(s.whoami.scopes, ['mcp']);
    assert.equal(s.credential.expiresAt, null);

    // plain status (not a TTY): lines, no colour codes
    const plain = await sentrail(['status'], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^gate: +http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse \(default gate\)$/m);
    assert.match(plain.stdout, /^credential: +API key agk_\w{4}…\w{4}, from the OS keychain/m);
    assert.ok(plain.stdout.includes(subjectOf(gate.apiKey)));
    assert.doesNotMatch(plain.stdout, /\x1b\[/);

    // SENTRAIL_API_KEY comes before the keychain
    const envKey = testApiKey();
    planted.add(envKey);
    const withEnv = await sentrail(['status', '--json'], { env: userEnv(home, { SENTRAIL_API_KEY: envKey }) });
    assert.equal(JSON.parse(withEnv.stdout).credential.origin, 'env');
    assert.equal(withEnv.code, 4, 'the gate refuses that other key: not a usable credential');

    // the bridge: no --gate, no SENTRAIL_API_KEY → the default gate and the keychain's key
    const bridge = await bridgeTools(env);
    assert.ok(bridge.tools.includes('echo'), `tools: ${bridge.tools.join(', ')}\n${bridge.stderr}`);
    const logs = await bridgeLogs(home);
    assert.match(logs, /"credential":"keychain"/);
    assert.ok(logs.includes(`"gate":"${gate.url}"`), logs);

    // logout: the entry is gone, status exits 4
    const logout = await sentrail(['logout'], { env });
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stderr, /Logged out of .*removed its credential from the OS keychain/);
    assert.ok(!(await secretToolSearch()).includes(`attribute.username = ${gate.url} `));
    const after = await sentrail(['status'], { env });
    assert.equal(after.code, 4);
    assert.match(after.stdout, /^logged in: +no$/m);
    assert.match(after.stderr, /not logged in to http:\/\/127\.0\.0\.1/);
    assertNoStackTrace(after.stderr);
  });

  it('a wrong key: login refuses it (401) and stores nothing', async (t) => {
    if (!needKeychain(t)) return;
    const home = await freshHome();
    const wrong = testApiKey();
    planted.add(wrong);
    const r = await sentrail(['login', '--with-api-key', '--gate', gate.url], { env: userEnv(home), input: wrong });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /the gate refused this API key \(HTTP 401\).*Nothing was stored/);
    assert.ok(!(await secretToolSearch()).includes(wrong));
    assert.ok(!existsSync(path.join(home, '.config', 'sentrail', 'config.json')), 'no default gate remembered either');
    assertNoStackTrace(r.stderr);
  });
});

// ── Without a keychain ──────────────────────────────────────────────────────────────────────────

describe('login without a keychain', () => {
  it('no D-Bus session bus: login fails within 1 s, naming --insecure-storage and SENTRAIL_API_KEY, and stores nothing', async () => {
    const home = await freshHome();
    planted.add(gate.apiKey);
    const r = await sentrail(['login', '--with-api-key', '--gate', gate.url], { env: userEnv(home, { DBUS_SESSION_BUS_ADDRESS: undefined }), input: gate.apiKey });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 1000, `took ${r.ms.toFixed(0)} ms`);
    assert.match(r.stderr, /no OS keychain is reachable/);
    assert.match(r.stderr, /--insecure-storage/);
    assert.match(r.stderr, /SENTRAIL_API_KEY/);
    assertNoStackTrace(r.stderr);
    assert.deepEqual(await filesContaining(home, gate.apiKey), []);
  });

  it('a D-Bus bus that never answers: login gives up at the keychain time limit with a clear message, and exits', async () => {
    const home = await freshHome();
    const socket = path.join(home, 'silent-bus');
    // accepts connections and says nothing: what a wedged bus or keyring daemon looks like
    const silent = net.createServer((c) => c.on('data', () => {}));
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    try {
      const r = await sentrail(['login', '--with-api-key', '--gate', gate.url], {
        env: userEnv(home, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}`, SENTRAIL_KEYCHAIN_TIMEOUT_MS: '1000' }),
        input: gate.apiKey,
        timeoutMs: 10_000,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.ms < 2500, `took ${r.ms.toFixed(0)} ms`);
      assert.match(r.stderr, /the OS keychain did not answer within 1 s/);
      assert.match(r.stderr, /--insecure-storage/);
    } finally {
      silent.close();
    }
  });

  it('--insecure-storage: a 0600 file in a 0700 folder of the OS config dir, with a warning; status, the bridge, policy pull and logout use it', async () => {
    const home = await freshHome();
    const env = userEnv(home, { DBUS_SESSION_BUS_ADDRESS: undefined });
    const login = await sentrail(['login', '--with-api-key', '--insecure-storage', '--gate', gate.url], { env, input: `${gate.apiKey}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /warning: --insecure-storage: the key is kept unencrypted in .*credentials.*\.json \(readable by you only, mode 0600\)/);
    const dir = path.join(home, '.config', 'sentrail', 'credentials');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const files = await readdir(dir);
    assert.equal(files.length, 1);
    assert.equal((await stat(path.join(dir, files[0]!))).mode & 0o777, 0o600);
    assert.deepEqual(await filesContaining(home, gate.apiKey), [path.join(dir, files[0]!)], 'that file and no other');

    const status = await sentrail(['status', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.credential.origin, 'file');
    assert.equal(s.credential.key, masked(gate.apiKey));
    assert.equal(s.whoami.subject, subjectOf(gate.apiKey));

    const bridge = await bridgeTools(env);
    assert.ok(bridge.tools.includes('echo'), bridge.stderr);
    assert.match(await bridgeLogs(home), /"credential":"file"/);

    // policy pull, like the bridge, takes the default gate and the stored key
    const pull = await sentrail(['policy', 'pull', '--json'], { env });
    assert.equal(pull.code, 0, pull.stderr);
    assert.ok(['updated', 'unchanged'].includes(JSON.parse(pull.stdout).status), pull.stdout); // the bridge pulled it first

    const logout = await sentrail(['logout'], { env });
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(await readdir(dir), []);
    assert.equal((await sentrail(['status'], { env })).code, 4);
  });

  it('a wrong key with --insecure-storage: refused (401), nothing written', async () => {
    const home = await freshHome();
    const wrong = testApiKey();
    planted.add(wrong);
    const r = await sentrail(['login', '--with-api-key', '--insecure-storage', '--gate', gate.url], { env: userEnv(home, { DBUS_SESSION_BUS_ADDRESS: undefined }), input: wrong });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /HTTP 401/);
    assert.deepEqual(await filesContaining(home, wrong), []);
    assert.ok(!existsSync(path.join(home, '.config', 'sentrail', 'credentials')));
  });

  it("the earlier CLI's ~/.sentrail/config.json apiKey is the last resort, with a warning that says how to move it", async () => {
    const home = await freshHome();
    await mkdir(path.join(home, '.sentrail'));
    await writeFile(path.join(home, '.sentrail', 'config.json'), JSON.stringify({ apiKey: gate.apiKey, workspace: 'acme' }));
    const env = userEnv(home, { DBUS_SESSION_BUS_ADDRESS: undefined });

    const status = await sentrail(['status', '--json', '--gate', gate.url], { env });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.credential.origin, 'config');
    assert.equal(s.credential.key, masked(gate.apiKey));
    assert.equal(s.whoami.subject, subjectOf(gate.apiKey));
    assert.ok(s.warnings.some((w: string) => w.includes('.sentrail/config.json') && w.includes('sentrail login --with-api-key')), JSON.stringify(s.warnings));

    const plain = await sentrail(['status', '--gate', gate.url], { env });
    assert.match(plain.stderr, /warning: using the API key in .*\.sentrail\/config\.json .*sentrail login --with-api-key/);

    const bridge = await bridgeTools(env, ['--gate', gate.url]);
    assert.ok(bridge.tools.includes('echo'), bridge.stderr);
    const logs = await bridgeLogs(home);
    assert.match(logs, /"credential":"config"/);
    assert.match(logs, /sentrail login --with-api-key/);
  });

  it('status with no gate at all exits 4 and says how to log in; OAuth login at a gate that takes API keys only says so (exit 2)', async () => {
    const home = await freshHome();
    const env = userEnv(home, { DBUS_SESSION_BUS_ADDRESS: undefined });
    const status = await sentrail(['status', '--json'], { env });
    assert.equal(status.code, 4);
    assert.equal(JSON.parse(status.stdout).loggedIn, false);
    const login = await sentrail(['login', '--insecure-storage', '--no-browser', '--gate', gate.url], { env });
    assert.equal(login.code, 2, login.stderr);
    assert.match(login.stderr, /takes API keys only: it answered without naming an authorization server/);
    assert.match(login.stderr, /sentrail login --with-api-key --gate/);
    assertNoStackTrace(login.stderr);
    const notAKey = await sentrail(['login', '--with-api-key', '--gate', gate.url], { env, input: 'hunter2-not-a-key' });
    assert.equal(notAKey.code, 2);
    assert.match(notAKey.stderr, /not a Sentrail API key/);
    assert.ok(!notAKey.stderr.includes('hunter2'), 'what was read is never echoed');
    const empty = await sentrail(['login', '--with-api-key', '--gate', gate.url], { env, input: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no API key on standard input/);
  });
});
