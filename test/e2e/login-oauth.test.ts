// `sentrail login` with OAuth, end to end, all real: oidc-provider as the authorization server
// (dynamic registration, PKCE, device flow, refresh-token rotation, 30 s access tokens), the
// built local gate trusting it (`sentrail gate --issuer`), headless chromium as the user's browser
// (opened by login itself through BROWSER, or driven by the test for the device flow), the real
// OS keychain (gnome-keyring's Secret Service), and the built bridge using what login stored.
// Every secret that crossed the authorization server (codes, verifiers, tokens) is planted: none
// may appear in any output, log or file under HOME.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAuthServer, type AuthServer } from '../fixtures/auth-server.ts';
import { approveDevice, launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { assertBuilt, assertNoStackTrace, ROOT } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';
import { startLogin } from '../helpers/login-process.ts';
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
  sentrail,
  userEnv,
} from '../helpers/user-session.ts';

const DRIVER = path.join(ROOT, 'test', 'fixtures', 'browser-driver.ts');

let as: AuthServer;
let gate: GateProcess;
let browser: TestBrowser;
const homesUsed: string[] = [];

before(async () => {
  assertBuilt();
  await keychainStatus();
  as = await startAuthServer({ accessTokenTtl: 30 });
  gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', as.issuer]);
  browser = await launchBrowser();
});

after(async () => {
  // Every secret the authorization server handed out or was shown: codes, verifiers, tokens.
  for (const s of as?.secrets ?? []) planted.add(s);
  for (const home of homesUsed) {
    await bridgeLogs(home);
    for (const s of as?.secrets ?? []) assert.deepEqual(await filesContaining(home, s), [], 'no file under HOME holds a secret (the keychain does)');
  }
  await browser?.close();
  await stopAllGates();
  await as?.close();
  await assertNoPlantedSecretsAndCleanUp();
});

/** A user with a fresh HOME whose "browser" is chromium signing in as `login` (test/fixtures/browser-driver.ts). */
async function userWithBrowser(login = 'ada'): Promise<{ home: string; env: NodeJS.ProcessEnv; driverLog: string }> {
  const home = await freshHome();
  homesUsed.push(home);
  const driverLog = path.join(await mkdtemp(path.join(os.tmpdir(), 'sentrail-driver-')), 'driver.jsonl');
  const env = userEnv(home, { BROWSER: `"${process.execPath}" --import tsx "${DRIVER}"`, BROWSER_DRIVER_LOG: driverLog, BROWSER_DRIVER_LOGIN: login, DISPLAY: undefined, WAYLAND_DISPLAY: undefined });
  return { home, env, driverLog };
}

async function driverRuns(file: string): Promise<{ ok: boolean; opened: string; visited: string[]; text?: string; error?: string }[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
}

/** The stored entry of a gate, as the keychain holds it (a split entry is reported as such). */
async function keychainEntry(gateUrl: string = gate.url): Promise<Record<string, unknown> | null> {
  const account = `${gateUrl} ${new URL(gateUrl).origin}/mcp-gate`;
  const item = (await keychainItems()).find((i) => i.account === account);
  return item ? (JSON.parse(item.secret) as Record<string, unknown>) : null;
}

describe('sentrail login (OAuth) against oidc-provider, with the local gate trusting it', () => {
  it('browser flow: login opens the browser, the user signs in and consents; the token goes to the keychain only; status and the bridge use it', async (t) => {
    if (!needKeychain(t)) return;
    const { home, env, driverLog } = await userWithBrowser('ada');
    const r = await sentrail(['login', '--gate', gate.url], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(await driverRuns(driverLog))}`);
    assertNoStackTrace(r.stderr);
    assert.match(r.stderr, /Logged in to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse as ada/);

    const [run] = await driverRuns(driverLog);
    assert.ok(run?.ok, run?.error);
    const callback = run!.visited.map((u) => new URL(u)).find((u) => u.pathname === '/callback')!;
    assert.ok(callback, `the browser came back to the loopback listener: ${run!.visited.join(' ')}`);
    assert.equal(callback.hostname, '127.0.0.1');
    assert.equal(callback.searchParams.get('iss'), as.issuer, 'the authorization response carried iss (RFC 9207)');
    planted.add(callback.searchParams.get('code')!);
    assert.match(run!.text ?? '', /Signed in to Sentrail/);
    const authorize = new URL(run!.opened);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('resource'), `${gate.base}/mcp-gate`);
    assert.deepEqual(authorize.searchParams.get('scope')?.split(' ').sort(), ['mcp', 'offline_access']);

    // In the keychain, with everything refresh needs; in no file.
    const entry = await keychainEntry();
    assert.ok(entry, 'secret-tool finds the entry');
    assert.equal(entry!.type, 'oauth');
    assert.equal(entry!.issuer, as.issuer);
    assert.equal(entry!.resource, `${gate.base}/mcp-gate`);
    assert.ok(typeof entry!.refreshToken === 'string', 'a refresh token (offline_access)');
    assert.ok(Date.parse(entry!.expiresAt as string) > Date.now());
    for (const token of [entry!.accessToken as string, entry!.refreshToken as string]) {
      planted.add(token);
      assert.deepEqual(await filesContaining(home, token), []);
    }
    const config = JSON.parse(await readFile(path.join(home, '.config', 'sentrail', 'config.json'), 'utf8'));
    assert.equal(config.defaultGate, gate.url);
    assert.equal(config.clients[as.issuer].method, 'dynamic', 'the registration is remembered for the issuer');

    const status = await sentrail(['status', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.credential.origin, 'keychain');
    assert.equal(s.credential.type, 'oauth');
    assert.equal(s.credential.key, null, 'nothing of a token is shown');
    // the gate's whoami knows the token's exp, to the second
    assert.ok(Math.abs(Date.parse(s.credential.expiresAt) - Date.parse(entry!.expiresAt as string)) < 2000, `${s.credential.expiresAt} vs ${entry!.expiresAt}`);
    assert.equal(s.whoami.subject, 'ada');
    assert.equal(s.whoami.tokenType, 'oauth');

    const bridge = await bridgeTools(env);
    assert.ok(bridge.tools.includes('echo'), bridge.stderr);
  });

  it('a second login reuses the remembered registration and its port; a taken port means a new registration; --client-metadata-url, --client-id', async (t) => {
    if (!needKeychain(t)) return;
    const { env } = await userWithBrowser('ada');
    const first = startLogin(['--gate', gate.url], env);
    const firstRegistered = await first.event('registered');
    const firstUrl = (await first.event('authorize-url')) as unknown as { callback: string };
    assert.equal((await first.exited).code, 0, first.stderr());
    const second = startLogin([], env); // the default gate now
    const registered = await second.event('registered');
    const url = (await second.event('authorize-url')) as unknown as { callback: string };
    assert.equal((await second.exited).code, 0, second.stderr());
    assert.equal(firstRegistered.reused, false);
    assert.equal(registered.reused, true);
    assert.equal(registered.clientId, firstRegistered.clientId);
    assert.equal(url.callback, firstUrl.callback, 'the port the client was registered with');

    // That port taken now: any free port, and a registration for its redirect URI (the old one no
    // longer fits); --client-metadata-url is not supported by this server: said, and ignored.
    const port = Number(new URL(firstUrl.callback).port);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const third = startLogin(['--client-metadata-url', 'https://sentrail.example/client.json'], env);
      const warning = await third.event('warning');
      assert.match(String(warning.message), /does not support Client ID Metadata Documents; --client-metadata-url is ignored/);
      const again = await third.event('registered');
      const moved = (await third.event('authorize-url')) as unknown as { callback: string };
      assert.equal((await third.exited).code, 0, third.stderr());
      assert.equal(again.reused, false);
      assert.notEqual(again.clientId, firstRegistered.clientId);
      assert.notEqual(moved.callback, firstUrl.callback);
    } finally {
      squatter.close();
    }

    // --client-id: a client registered beforehand (here, the first one, with its port).
    const fourth = startLogin(['--client-id', String(firstRegistered.clientId), '--callback-port', String(port)], env);
    const given = await fourth.event('registered');
    assert.equal((await fourth.exited).code, 0, fourth.stderr());
    assert.equal(given.method, 'pre-registered');
    assert.equal(given.clientId, firstRegistered.clientId);
  });

  it('device flow: the verification URL and the user code as issued; approved in the browser; stored (split, as on Windows)', async (t) => {
    if (!needKeychain(t)) return;
    const home = await freshHome();
    homesUsed.push(home);
    // A 400-character secret limit, as the Windows Credential Manager has one (1,200): the entry is split.
    const env = userEnv(home, { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, BROWSER: undefined, SENTRAIL_KEYCHAIN_MAX_SECRET: '400' });
    const login = startLogin(['--device', '--gate', gate.url], env);
    const code = (await login.event('device-code')) as unknown as { verificationUri: string; userCode: string; verificationUriComplete: string | null };
    assert.equal(code.verificationUri, `${as.issuer}/device`);
    assert.match(code.userCode, /^[A-Z]{4}-[A-Z]{4}$/, 'the code exactly as oidc-provider issues it');
    const page = await browser.newPage();
    const text = await approveDevice(page, code.verificationUri, code.userCode, 'grace');
    await page.close();
    assert.match(text, /Sign-in Success/);
    const { code: exit } = await login.exited;
    assert.equal(exit, 0, login.stderr());
    const done = login.events.find((e) => e.type === 'done')!;
    assert.equal(done.subject, 'grace');
    assert.equal(done.refreshable, true);
    assert.equal(done.storage, 'keychain');
    const parts = (await keychainItems()).filter((i) => i.account.startsWith(`${gate.url} `));
    assert.ok(parts.length > 1, `the entry is kept in ${parts.length} keychain items`);
    assert.ok(parts.every((p) => p.secret.length <= 400));
    assert.equal((await bridgeTools(env)).tools.includes('echo'), true);
    const status = await sentrail(['status', '--json'], { env });
    assert.equal(JSON.parse(status.stdout).whoami.subject, 'grace', status.stderr);
  });

  it('no browser can be opened here: the device flow is chosen by itself, and says so', async (t) => {
    if (!needKeychain(t)) return;
    const home = await freshHome();
    homesUsed.push(home);
    const env = userEnv(home, { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, BROWSER: undefined });
    const login = startLogin(['--gate', gate.url], env);
    const warning = await login.event('warning');
    assert.match(String(warning.message), /no browser can be opened here; using the device flow/);
    const code = (await login.event('device-code')) as unknown as { verificationUriComplete: string; userCode: string };
    const page = await browser.newPage();
    await approveDevice(page, code.verificationUriComplete, code.userCode, 'alan');
    await page.close();
    assert.equal((await login.exited).code, 0, login.stderr());
  });

  it('the access token expires: status renews it (one refresh_token grant, rotated), and the bridge works on', async (t) => {
    if (!needKeychain(t)) return;
    const quick = await startAuthServer({ accessTokenTtl: 4 });
    try {
      const quickGate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', quick.issuer]);
      const home = await freshHome();
      homesUsed.push(home);
      const env = userEnv(home, { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, BROWSER: undefined });
      const login = startLogin(['--device', '--gate', quickGate.url], env);
      const code = (await login.event('device-code')) as unknown as { verificationUriComplete: string; userCode: string };
      const page = await browser.newPage();
      await approveDevice(page, code.verificationUriComplete, code.userCode, 'ada');
      await page.close();
      assert.equal((await login.exited).code, 0, login.stderr());
      const before = (await keychainEntry(quickGate.url))!;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(before.expiresAt as string) - Date.now()) + 500));

      const status = await sentrail(['status', '--json'], { env });
      assert.equal(status.code, 0, status.stderr);
      const s = JSON.parse(status.stdout);
      assert.equal(s.loggedIn, true);
      assert.ok(Date.parse(s.credential.expiresAt) > Date.now(), 'a renewed token');
      assert.equal(quick.grants.refresh_token, 1);
      const after = (await keychainEntry(quickGate.url))!;
      assert.notEqual(after.accessToken, before.accessToken, 'the new access token is stored');
      assert.notEqual(after.refreshToken, before.refreshToken, `the refresh token rotated, and the new one is stored (${JSON.stringify(status.stderr)})`);
      assert.ok((await bridgeTools(env)).tools.includes('echo'));
      for (const secret of quick.secrets) planted.add(secret);
      await quickGate.stop();
    } finally {
      await quick.close();
    }
  });

  it('step-up: a token without the scope the gate needs (403 insufficient_scope) makes login ask again for it', async (t) => {
    if (!needKeychain(t)) return;
    // An authorization server whose policy grants `mcp` only from the second grant on.
    let granted = 0;
    const stingy = await startAuthServer({ resourceScopes: () => (granted === 0 ? 'other' : 'mcp other') });
    stingy.provider.on('grant.success', () => void granted++);
    try {
      const stingyGate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', stingy.issuer]);
      const { env } = await userWithBrowser('ada');
      const login = startLogin(['--gate', stingyGate.url], env);
      const { code } = await login.exited;
      assert.equal(code, 0, login.stderr());
      const warning = login.events.find((e) => e.type === 'warning');
      assert.match(String(warning?.message), /the gate needs the scope mcp; asking the authorization server again/);
      assert.equal(login.events.filter((e) => e.type === 'authorize-url').length, 2, 'two authorizations');
      const done = login.events.find((e) => e.type === 'done')!;
      assert.deepEqual(done.scopes, ['mcp']);
      assert.equal(stingy.grants.authorization_code, 2);
      for (const secret of stingy.secrets) planted.add(secret);
      await stingyGate.stop();
    } finally {
      await stingy.close();
    }
  });

  it('logout revokes the refresh token at the authorization server, then deletes the entry', async (t) => {
    if (!needKeychain(t)) return;
    const { env } = await userWithBrowser('ada');
    assert.equal((await sentrail(['login', '--gate', gate.url], { env, timeoutMs: 60_000 })).code, 0);
    const entry = (await keychainEntry())!;
    const out = await sentrail(['logout'], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /Revoked the tokens at http:\/\/127\.0\.0\.1:\d+\./);
    assert.doesNotMatch(out.stderr, /warning/);
    assert.equal(await keychainEntry(), null, 'the entry is gone');
    const client = entry.client as { clientId: string };
    assert.equal(entry.issuer, as.issuer);
    const reuse = await fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: entry.refreshToken as string, client_id: client.clientId }),
    });
    assert.equal(reuse.status, 400, await reuse.clone().text());
    assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant', 'the revoked refresh token no longer works');
  });
});
