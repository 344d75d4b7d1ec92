// The pure parts of OAuth login: WWW-Authenticate parsing, the well-known URL orders of RFC 9728
// and the MCP spec, client registration fit, the flow choice, the browser command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserCommand, canOpenBrowser } from '../../src/auth/oauth/browser-open.ts';
import { bearerChallenge, parseChallenges } from '../../src/auth/oauth/challenge.ts';
import { authorizationServerMetadataUrls, protectedResourceMetadataUrls } from '../../src/auth/oauth/discovery.ts';
import { chooseFlow } from '../../src/auth/oauth/login-flow.ts';
import { DEVICE_GRANT, grantTypesFor, registrationFits } from '../../src/auth/oauth/registration.ts';

describe('WWW-Authenticate', () => {
  it('reads the Bearer challenge of a gate: resource_metadata, scope, error', () => {
    const c = bearerChallenge('Bearer error="insufficient_scope", scope="mcp files:read", resource_metadata="https://g.example/.well-known/oauth-protected-resource/mcp-gate"');
    assert.deepEqual(c?.params, { error: 'insufficient_scope', scope: 'mcp files:read', resource_metadata: 'https://g.example/.well-known/oauth-protected-resource/mcp-gate' });
  });
  it('finds Bearer among other challenges, with unquoted values, token68 and escapes', () => {
    assert.deepEqual(parseChallenges('Basic realm="x", Bearer realm="y", error=invalid_token'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'y', error: 'invalid_token' } },
    ]);
    assert.deepEqual(bearerChallenge('Negotiate abc123==, Bearer scope="a\\"b"')?.params, { scope: 'a"b' });
    assert.deepEqual(bearerChallenge('bearer')?.params, {});
  });
  it('no header, no Bearer: null', () => {
    assert.equal(bearerChallenge(null), null);
    assert.equal(bearerChallenge('Basic realm="x"'), null);
  });
});

describe('well-known URLs', () => {
  it('RFC 9728: path form for the resource C/mcp-gate, then the root', () => {
    assert.deepEqual(protectedResourceMetadataUrls('https://ref.supabase.co/functions/v1/mcp-gate/sse'), [
      'https://ref.supabase.co/.well-known/oauth-protected-resource/functions/v1/mcp-gate',
      'https://ref.supabase.co/.well-known/oauth-protected-resource',
    ]);
  });
  it('the MCP spec order for an issuer with and without a path', () => {
    assert.deepEqual(authorizationServerMetadataUrls('https://ref.supabase.co/auth/v1'), [
      'https://ref.supabase.co/.well-known/oauth-authorization-server/auth/v1',
      'https://ref.supabase.co/.well-known/openid-configuration/auth/v1',
      'https://ref.supabase.co/auth/v1/.well-known/openid-configuration',
    ]);
    assert.deepEqual(authorizationServerMetadataUrls('https://auth.example/'), ['https://auth.example/.well-known/oauth-authorization-server', 'https://auth.example/.well-known/openid-configuration']);
  });
});

describe('client registration', () => {
  it('a registration fits only its exact redirect URI; the device flow fits any', () => {
    assert.equal(registrationFits(['http://127.0.0.1:5000/callback'], 'http://127.0.0.1:5000/callback'), true);
    assert.equal(registrationFits(['http://127.0.0.1:5000/callback'], 'http://127.0.0.1:5001/callback'), false);
    assert.equal(registrationFits(undefined, 'http://127.0.0.1:5000/callback'), false);
    assert.equal(registrationFits([], null), true);
  });
  it('registers the grant types login uses that the server offers', () => {
    const base = { issuer: 'https://a', token_endpoint: 'https://a/token' };
    assert.deepEqual(grantTypesFor({ ...base, device_authorization_endpoint: 'https://a/device' }), ['authorization_code', 'refresh_token', DEVICE_GRANT]);
    assert.deepEqual(grantTypesFor({ ...base, grant_types_supported: ['authorization_code'] }), ['authorization_code']);
    assert.deepEqual(grantTypesFor(base), ['authorization_code', 'refresh_token']);
    assert.deepEqual(grantTypesFor({ ...base, device_authorization_endpoint: 'https://a/device' }, false), ['refresh_token', DEVICE_GRANT], 'no code grant without a redirect URI');
  });
});

describe('which flow', () => {
  const headless = {} as NodeJS.ProcessEnv;
  const desktop = { DISPLAY: ':0' } as NodeJS.ProcessEnv;
  it('--device, when offered; refused when not', () => {
    assert.deepEqual(chooseFlow({ device: true }, true, desktop), { kind: 'device' });
    assert.throws(() => chooseFlow({ device: true }, false, desktop), /does not offer the device flow/);
  });
  it('--no-browser keeps the browser flow even on a headless machine', () => {
    assert.deepEqual(chooseFlow({ noBrowser: true }, true, headless), { kind: 'browser' });
  });
  it('no browser can be opened and the device flow is offered: device, with a warning', () => {
    const c = chooseFlow({}, true, headless);
    assert.equal(c.kind, 'device');
    assert.match(c.warning ?? '', /no browser can be opened/);
  });
  it('a display: the browser; headless without a device flow: still the browser (the URL is printed)', () => {
    assert.deepEqual(chooseFlow({}, true, desktop), { kind: 'browser' });
    assert.deepEqual(chooseFlow({}, false, headless), { kind: 'browser' });
  });
});

describe('opening the browser', () => {
  const url = 'https://as.example/authorize?a=1&b=2';
  it('per platform, the URL one argument (no shell)', () => {
    assert.deepEqual(browserCommand(url, {}, 'darwin'), { command: 'open', args: [url] });
    assert.deepEqual(browserCommand(url, {}, 'win32'), { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    assert.deepEqual(browserCommand(url, { DISPLAY: ':0' }, 'linux'), { command: 'xdg-open', args: [url] });
    assert.equal(browserCommand(url, {}, 'linux'), null);
  });
  it('$SENTRAIL_BROWSER over $BROWSER, split without a shell, the URL last', () => {
    assert.deepEqual(browserCommand(url, { BROWSER: 'firefox', SENTRAIL_BROWSER: '"/opt/my browser/run" --new-tab' }, 'linux'), { command: '/opt/my browser/run', args: ['--new-tab', url] });
    assert.equal(canOpenBrowser({ BROWSER: 'w3m' }, 'linux'), true);
    assert.equal(canOpenBrowser({}, 'linux'), false);
  });
});
