// `sentrail gate --issuer`: the local gate accepts OAuth access tokens from a real authorization
// server (oidc-provider) besides its API key, serves RFC 9728 metadata, and answers with the
// challenge that sends clients there. Tokens are minted with client_credentials (MINTER) for
// the resource asked for; everything runs as real processes and servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MINTER, mintToken, startAuthServer, type AuthServer } from '../fixtures/auth-server.ts';
import { assertNoStackTrace, runCli } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';
import { bearerChallenge } from '../../src/auth/oauth/challenge.ts';

let as: AuthServer;
let shortLived: AuthServer;
let other: AuthServer;
let gate: GateProcess;

before(async () => {
  as = await startAuthServer({ clients: [MINTER] });
  shortLived = await startAuthServer({ clients: [MINTER], accessTokenTtl: 1 });
  other = await startAuthServer({ clients: [MINTER] });
  gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', as.issuer]);
});

after(async () => {
  await stopAllGates();
  for (const s of [as, shortLived, other]) await s?.close();
});

const resource = () => `${gate.base}/mcp-gate`;

/** tools/list through the gate with a bearer token: the HTTP status, its challenge, and the tools. */
async function listTools(token: string | null): Promise<{ status: number; challenge: string | null; tools: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const init = await fetch(gate.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
  await init.text();
  if (init.status !== 200) return { status: init.status, challenge: init.headers.get('www-authenticate'), tools: 0 };
  const session = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
  await (await fetch(gate.url, { method: 'POST', headers: { ...headers, ...session }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  const list = await fetch(gate.url, { method: 'POST', headers: { ...headers, ...session }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
  const text = await list.text();
  // JSON, or an event stream whose events may include notifications before our answer
  const messages = text.includes('data:') ? text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5))) : [JSON.parse(text)];
  const data = messages.find((m) => m.id === 2);
  await fetch(gate.url, { method: 'DELETE', headers: { ...headers, ...session } });
  return { status: list.status, challenge: null, tools: data.result.tools.length };
}

describe('sentrail gate --issuer', () => {
  it('a token from the issuer for C/mcp-gate with the mcp scope: MCP works, whoami names the subject', async () => {
    const token = await mintToken(as, resource());
    const r = await listTools(token);
    assert.equal(r.status, 200);
    assert.ok(r.tools > 0);
    const who = await fetch(`${gate.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(who.status, 200);
    const body = (await who.json()) as { subject: string; tokenType: string; scopes: string[]; expiresAt: string };
    assert.equal(body.subject, MINTER.client_id);
    assert.equal(body.tokenType, 'oauth');
    assert.deepEqual(body.scopes, ['mcp']);
    assert.ok(Date.parse(body.expiresAt) > Date.now());
    assert.ok(!gate.stderr().includes(token), 'the gate never logs a token');
  });

  it('refuses with 401 and the challenge: wrong audience, another issuer', async () => {
    const wrongAudience = await mintToken(as, 'http://127.0.0.1:1/mcp-gate');
    const otherIssuer = await mintToken(other, resource());
    for (const [token, why] of [
      [wrongAudience, /another resource/],
      // signed with the other server's key: refused on the signature, before its claims are read
      [otherIssuer, /signature does not match/],
    ] as const) {
      const r = await listTools(token);
      assert.equal(r.status, 401);
      const c = bearerChallenge(r.challenge);
      assert.equal(c?.params.error, 'invalid_token');
      assert.match(c?.params.error_description ?? '', why);
      assert.equal(c?.params.resource_metadata, `${gate.base}/.well-known/oauth-protected-resource/mcp-gate`);
    }
  });

  it('an expired token from the trusted issuer itself: 401 "expired"', async () => {
    const g = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', shortLived.issuer]);
    const token = await mintToken(shortLived, `${g.base}/mcp-gate`);
    const fresh = await fetch(`${g.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(fresh.status, 200, 'valid while fresh');
    await new Promise((resolve) => setTimeout(resolve, 6500));
    const stale = await fetch(`${g.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(stale.status, 401);
    assert.match(bearerChallenge(stale.headers.get('www-authenticate'))?.params.error_description ?? '', /expired/);
    await g.stop();
  });

  it('a token without the mcp scope: 403 insufficient_scope naming the scope', async () => {
    const token = await mintToken(as, resource(), 'other');
    const res = await fetch(`${gate.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 403);
    const c = bearerChallenge(res.headers.get('www-authenticate'));
    assert.equal(c?.params.error, 'insufficient_scope');
    assert.equal(c?.params.scope, 'mcp');
  });

  it('no credential: 401 with resource_metadata and no error; the metadata is served without auth; the API key still works', async () => {
    const r = await listTools(null);
    assert.equal(r.status, 401);
    const c = bearerChallenge(r.challenge);
    assert.equal(c?.params.error, undefined);
    const prm = await fetch(c!.params.resource_metadata!);
    assert.equal(prm.status, 200);
    assert.deepEqual(await prm.json(), { resource: resource(), authorization_servers: [as.issuer], scopes_supported: ['mcp'], bearer_methods_supported: ['header'], resource_name: 'Sentrail gate (local)' });
    assert.equal((await listTools(gate.apiKey)).status, 200);
  });

  it('an issuer that does not answer: tokens get 503 (retry later, not "log in again"), the gate says why, the API key works', async () => {
    const down = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--issuer', 'http://127.0.0.1:1']);
    const token = await mintToken(as, `${down.base}/mcp-gate`);
    const res = await fetch(`${down.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.match(((await res.json()) as { error: string }).error, /cannot reach its authorization server/);
    assert.match(down.stderr(), /cannot use the issuer http:\/\/127\.0\.0\.1:1/);
    assert.equal((await fetch(`${down.base}/mcp-gate/whoami`, { headers: { authorization: `Bearer ${down.apiKey}` } })).status, 200);
    await down.stop();
  });

  it('without --issuer the 401 stays bare (API keys only) and there is no metadata', async () => {
    const plain = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
    const res = await fetch(plain.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.equal((await fetch(`${plain.base}/.well-known/oauth-protected-resource/mcp-gate`)).status, 404);
    await plain.stop();
  });

  it('a plain-http issuer off loopback is refused at start (exit 2)', async () => {
    const r = await runCli(['gate', '--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO, '--port', '0', '--issuer', 'http://auth.example.com']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--issuer http:\/\/auth\.example\.com: the issuer must be https:\/\//);
    assertNoStackTrace(r.stderr);
  });
});
