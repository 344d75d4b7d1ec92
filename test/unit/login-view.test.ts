// The login view in each mode, into fake streams: URLs and the user code whole and exact, JSON
// lines equal to the events, no escapes without colour, nothing shown that the events do not carry.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { LoginEvent } from '../../src/auth/oauth/login-events.ts';
import { CliError } from '../../src/cli/errors.ts';
import { chooseLoginViewMode, createLoginView, type LoginViewMode } from '../../src/cli/login-view/index.ts';

const AUTHORIZE_URL =
  'https://auth.example.com/authorize?response_type=code&client_id=sentrail-cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback&scope=mcp%20offline_access&state=Zm9vYmFyYmF6&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';
const COMPLETE_URL = 'https://auth.example.com/device?user_code=WDJB-MJHT&client_id=sentrail-cli&resource=https%3A%2F%2Fref.supabase.co%2Ffunctions%2Fv1%2Fmcp-gate';

const start: LoginEvent[] = [
  { type: 'step', step: 'discovering' },
  { type: 'discovered', issuer: 'https://auth.example.com', resource: 'https://ref.supabase.co/functions/v1/mcp-gate', scopes: ['mcp'], deviceFlow: true },
  { type: 'step', step: 'registering', detail: 'dynamic client registration' },
  { type: 'registered', clientId: 'sentrail-cli', method: 'dynamic', reused: false },
];
const browser: LoginEvent[] = [
  ...start,
  { type: 'authorize-url', url: AUTHORIZE_URL, opened: false, callback: 'http://127.0.0.1:53682/callback' },
  { type: 'step', step: 'waiting-for-browser' },
];
const device: LoginEvent[] = [
  ...start,
  { type: 'device-code', verificationUri: 'https://auth.example.com/device', verificationUriComplete: COMPLETE_URL, userCode: 'WDJB-MJHT', expiresAt: '2026-11-21T12:10:00.000Z' },
  { type: 'step', step: 'waiting-for-device' },
  { type: 'warning', message: 'polling slowed down to every 10 s' },
  { type: 'step', step: 'exchanging' },
  { type: 'step', step: 'checking' },
  { type: 'step', step: 'storing' },
  {
    type: 'done',
    gate: 'https://ref.supabase.co/functions/v1/mcp-gate/sse',
    issuer: 'https://auth.example.com',
    subject: 'ada@example.com',
    scopes: ['mcp', 'offline_access'],
    expiresAt: '2026-11-21T13:00:00.000Z',
    refreshable: true,
    storage: 'keychain',
    location: 'the OS keychain (Secret Service), service "sentrail"',
  },
];

const ESCAPE = /\u001B\[[0-9;?]*[A-Za-z]/g;

/** A writable that records what is written, with what ink reads of a terminal. */
function fakeTerminal(columns = 80) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  Object.assign(stream, { columns, rows: 30, isTTY: true });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

async function replay(mode: LoginViewMode, events: LoginEvent[], opts: { color?: boolean; error?: unknown } = {}) {
  const out = fakeTerminal();
  const view = await createLoginView({ mode, color: opts.color ?? false, stream: out.stream, catchInterrupts: false, stdin: new PassThrough() as unknown as NodeJS.ReadStream });
  for (const event of events) view.listener(event);
  const exitCode = opts.error === undefined ? null : view.fail(opts.error);
  await view.close();
  return { raw: out.text(), text: out.text().replace(ESCAPE, ''), exitCode, view };
}

const lines = (text: string) => text.split('\n');

describe('login view: json', () => {
  it('writes one JSON line per event, equal to the event, the outcome last', async () => {
    for (const events of [browser, device]) {
      const { raw } = await replay('json', events);
      const parsed = raw.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(parsed, events);
    }
    const { raw } = await replay('json', device);
    assert.equal(JSON.parse(raw.trimEnd().split('\n').at(-1)!).type, 'done');
  });
  it('copies only the declared fields of an event', async () => {
    const sneaky = [{ type: 'warning', message: 'm', accessToken: 'tok-SECRET-123' }] as unknown as LoginEvent[];
    const { raw } = await replay('json', sneaky);
    assert.equal(raw, '{"type":"warning","message":"m"}\n');
  });
  it('ends with an error line when the login fails', async () => {
    const { raw, exitCode } = await replay('json', browser, { error: new CliError('access-denied', 'you declined the consent', { exitCode: 4, hint: 'Run sentrail login again.' }) });
    const last = JSON.parse(raw.trimEnd().split('\n').at(-1)!);
    assert.deepEqual(last, { type: 'error', code: 'access-denied', message: 'you declined the consent', hint: 'Run sentrail login again.' });
    assert.equal(exitCode, 4);
  });
});

for (const mode of ['plain', 'ink'] as const) {
  describe(`login view: ${mode}`, () => {
    it('shows the device URL, the user code and the complete URL whole, each on a line of its own', async () => {
      const { text } = await replay(mode, device);
      const shown = lines(text);
      for (const exact of ['https://auth.example.com/device', 'WDJB-MJHT', COMPLETE_URL]) assert.ok(shown.includes(exact), `no line is exactly ${exact}:\n${text}`);
      assert.match(text, /✓ Logged in to https:\/\/ref\.supabase\.co\/functions\/v1\/mcp-gate\/sse as ada@example\.com\n/);
      assert.match(text, /scopes: +mcp offline_access\n/);
      assert.match(text, /expires: +2026-11-21T13:00:00\.000Z \(refreshable\)\n/);
      assert.match(text, /stored: +the OS keychain \(Secret Service\), service "sentrail"\n/);
      assert.match(text, /warning: polling slowed down to every 10 s\n/);
    });
    it('shows a long authorization URL whole on its own line, however narrow the terminal', async () => {
      const { text } = await replay(mode, browser);
      assert.ok(AUTHORIZE_URL.length > 80);
      assert.ok(lines(text).includes(AUTHORIZE_URL), text);
      assert.match(text, /Open this URL in a browser:\n/);
      assert.match(text, /http:\/\/127\.0\.0\.1:53682\/callback/);
    });
    it('writes no escape sequence of colour or style when colour is off, and some when it is on', async () => {
      const off = await replay(mode, device);
      assert.doesNotMatch(off.raw, /\u001B\[(?:\d+;)*\d*m/, 'an SGR (colour/bold) sequence without colour');
      if (mode === 'plain') assert.doesNotMatch(off.raw, /\u001B/);
      const on = await replay(mode, device, { color: true });
      assert.ok(on.raw.includes('\u001B[1mWDJB-MJHT\u001B[22m'), 'the user code in bold');
    });
    it('shows nothing an event does not carry', async () => {
      const sneaky = device.map((e) => (e.type === 'done' ? { ...e, accessToken: 'tok-SECRET-123' } : e)) as LoginEvent[];
      const { text } = await replay(mode, sneaky);
      assert.doesNotMatch(text, /SECRET/);
    });
    it('shows a failure with its message and hint, and returns its exit code', async () => {
      const error = new CliError('device-code-expired', 'the code expired before it was entered', { exitCode: 4, hint: 'Run it again:\n  sentrail login --device' });
      const { text, exitCode } = await replay(mode, browser, { error });
      assert.match(text, /✗ the code expired before it was entered\nRun it again:\n {2}sentrail login --device\n/);
      assert.equal(exitCode, 4);
    });
  });
}

describe('login view: plain', () => {
  it('writes one line per step and per finding, in order', async () => {
    const { text } = await replay('plain', start);
    assert.equal(
      text,
      "Finding the gate's authorization server…\nAuthorization server: https://auth.example.com\n" +
        'Registering sentrail with the authorization server (dynamic client registration)…\nClient ID: sentrail-cli (registered dynamically)\n',
    );
  });
  it('says when the subject and expiry are unknown, and names insecure storage', async () => {
    const done: LoginEvent = { type: 'done', gate: 'https://g/mcp-gate/sse', issuer: 'https://a', subject: null, scopes: [], expiresAt: null, refreshable: false, storage: 'file', location: '/home/ada/.config/sentrail/credentials/x.json' };
    const { text } = await replay('plain', [done]);
    assert.equal(
      text,
      '✓ Logged in to https://g/mcp-gate/sse\n  scopes:   none granted\n  expires:  not said by the authorization server\n  stored:   /home/ada/.config/sentrail/credentials/x.json (--insecure-storage)\n',
    );
  });
});

describe('login view: cancelling and the end', () => {
  it('cancel() aborts the signal with a CliError, and fail() then shows the cancellation', async () => {
    const out = fakeTerminal();
    const view = await createLoginView({ mode: 'plain', color: false, stream: out.stream, catchInterrupts: false });
    browser.forEach(view.listener);
    view.cancel();
    assert.ok(view.signal.aborted);
    assert.ok(view.signal.reason instanceof CliError && view.signal.reason.code === 'cancelled');
    const exitCode = view.fail(new DOMException('This operation was aborted', 'AbortError'));
    view.listener({ type: 'warning', message: 'after the end' });
    view.fail(new Error('a second failure'));
    await view.close();
    await view.close();
    assert.equal(exitCode, 1);
    assert.match(out.text(), /Cancelling…\n\n✗ cancelled \(Ctrl-C\)\n$/);
    assert.doesNotMatch(out.text(), /after the end|second failure|aborted/);
  });
  it('an error that is not a CliError is an unexpected one', async () => {
    const { text, exitCode } = await replay('plain', [], { error: new TypeError('x is not a function') });
    assert.equal(text, '✗ unexpected error: x is not a function\n');
    assert.equal(exitCode, 1);
  });
  it('chooses json with --json, ink at a terminal outside CI, plain otherwise', () => {
    assert.equal(chooseLoginViewMode({ json: true, isTTY: true, ci: false }), 'json');
    assert.equal(chooseLoginViewMode({ isTTY: true, ci: false }), 'ink');
    assert.equal(chooseLoginViewMode({ isTTY: true, ci: true }), 'plain');
    assert.equal(chooseLoginViewMode({ isTTY: false, ci: false }), 'plain');
  });
});
