// The local gate's pure parts, without a process: the --upstream splitter, the approval store's
// transitions and hashes, If-None-Match matching. (Unit tests, kept beside the gate's e2e file.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalStateError, callUnchanged, canonicalJson, createMemoryApprovalStore, hashCall, replayableParams } from '../../src/gate/approvals.ts';
import { API_KEY_PATTERN, createApiKeyVerifier, generateApiKey } from '../../src/gate/auth.ts';
import { splitCommandLine } from '../../src/gate/command-line.ts';
import { etagMatches } from '../../src/gate/metadata-routes.ts';

describe('splitCommandLine', () => {
  const cases: [string, string[]][] = [
    ['node server.js stdio', ['node', 'server.js', 'stdio']],
    ['  node   a\tb ', ['node', 'a', 'b']],
    [`node "/path with spaces/index.js" stdio`, ['node', '/path with spaces/index.js', 'stdio']],
    [`sh -c 'echo $$ > "f"; exec x'`, ['sh', '-c', 'echo $$ > "f"; exec x']],
    [`a "" ''`, ['a', '', '']],
    [`a "say \\"hi\\"" b\\ c`, ['a', 'say "hi"', 'b c']],
    [`C:\\tools\\server.exe --root C:\\data`, ['C:\\tools\\server.exe', '--root', 'C:\\data']],
    [`a pre"quoted part"post`, ['a', 'prequoted partpost']],
    [`a '|' "&&"`, ['a', '|', '&&']],
  ];
  for (const [line, argv] of cases) it(`splits ${line}`, () => assert.deepEqual(splitCommandLine(line), argv));

  it('refuses unterminated quotes, empty lines and unquoted shell operators', () => {
    assert.throws(() => splitCommandLine(`node "oops`), /unterminated double quote/);
    assert.throws(() => splitCommandLine(`node 'oops`), /unterminated single quote/);
    assert.throws(() => splitCommandLine('   '), /empty/);
    assert.throws(() => splitCommandLine('server | tee log'), /shell operator.*sh -c/);
    assert.throws(() => splitCommandLine('a && b'), /shell operator/);
  });
});

describe('approval store', () => {
  const call = { method: 'tools/call' as const, params: { name: 'deploy', arguments: { env: 'prod', n: 1 } }, agent: 'ci-bot' };
  const why = { policy: 'Deploys need approval', policyId: null, policyVersion: 'v1', reason: 'Policy "Deploys need approval" matched' };

  it('stores a pending call with its hash and a 24 h expiry, and expires it', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const store = createMemoryApprovalStore({ now: () => now });
    const r = await store.create(call, why);
    assert.equal(r.status, 'pending');
    assert.equal(r.createdAt, '2026-11-21T10:00:00.000Z');
    assert.equal(r.expiresAt, '2026-11-22T10:00:00.000Z');
    assert.equal(r.callHash, hashCall(call));
    assert.match(r.callHash, /^[0-9a-f]{64}$/);
    assert.equal((await store.get(r.id))!.status, 'pending');
    now += 24 * 60 * 60 * 1000;
    assert.equal((await store.get(r.id))!.status, 'expired');
    await assert.rejects(store.decide(r.id, 'approved', 'alice'), (err: ApprovalStateError) => err.code === 'not-pending' && err.status === 'expired' && /expired, not pending/.test(err.message));
  });

  it('moves pending → approved → executed, and refuses other moves', async () => {
    const store = createMemoryApprovalStore();
    const r = await store.create(call, why);
    await assert.rejects(store.recordOutcome(r.id, { result: {} }), /pending, not approved/);
    const approved = await store.decide(r.id, 'approved', 'alice', 'looks fine');
    assert.equal(approved.status, 'approved');
    assert.equal(approved.decidedBy, 'alice');
    assert.equal(approved.decisionReason, 'looks fine');
    assert.ok(callUnchanged(approved));
    await assert.rejects(store.decide(r.id, 'denied', 'bob'), (err: ApprovalStateError) => err.status === 'approved');
    assert.equal((await store.recordOutcome(r.id, { result: { content: [] } })).status, 'executed');
    assert.deepEqual((await store.get(r.id))!.result, { content: [] });
    await assert.rejects(store.recordOutcome(r.id, { result: {} }), /executed, not approved/);
    await assert.rejects(store.decide('nope', 'denied', 'bob'), (err: ApprovalStateError) => err.code === 'not-found');
  });

  it('of concurrent decisions exactly one wins', async () => {
    const store = createMemoryApprovalStore();
    const r = await store.create(call, why);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.decide(r.id, i % 2 ? 'approved' : 'denied', `r${i}`)));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  });

  it('hands out copies: editing one does not change the stored call, and a changed call fails the hash check', async () => {
    const store = createMemoryApprovalStore();
    const r = await store.create(call, why);
    (r.params.arguments as Record<string, unknown>).env = 'staging';
    assert.deepEqual((await store.get(r.id))!.params, call.params);
    assert.equal(callUnchanged(r), false);
  });

  it('hashes canonical JSON: key order does not matter, values do', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
    assert.equal(hashCall({ method: 'tools/call', params: { arguments: { y: 1, x: 2 }, name: 'n' } }), hashCall({ method: 'tools/call', params: { name: 'n', arguments: { x: 2, y: 1 } } }));
    assert.notEqual(hashCall({ method: 'tools/call', params: { name: 'n', arguments: { x: 2 } } }), hashCall({ method: 'tools/call', params: { name: 'n', arguments: { x: '2' } } }));
    assert.deepEqual(replayableParams({ name: 'n', _meta: { progressToken: 1 } }), { name: 'n' });
  });
});

describe('API keys', () => {
  it('generates agk_ + 40 letters and digits, different each time', () => {
    const a = generateApiKey();
    assert.match(a, API_KEY_PATTERN);
    assert.notEqual(a, generateApiKey());
  });

  it('accepts exactly the key, as a Bearer token', async () => {
    const key = generateApiKey();
    const verify = createApiKeyVerifier(key);
    const ok = async (h: string | undefined) => (await verify(h)).ok;
    assert.equal(await ok(`Bearer ${key}`), true);
    assert.equal(await ok(`bearer ${key}`), true);
    assert.deepEqual(await verify(undefined), { ok: false, tokenPresented: false, reason: 'no bearer token' });
    assert.equal(await ok(key), false);
    assert.equal(await ok(`Bearer ${key}x`), false);
    assert.deepEqual(await verify(`Bearer ${generateApiKey()}`), { ok: false, tokenPresented: true, reason: 'not the API key' });
    assert.equal(await ok(`Basic ${key}`), false);
  });

  it('with an issuer, a token that looks like a JWT goes to the OAuth verifier; an agk_ key never does', async () => {
    const key = generateApiKey();
    const seen: string[] = [];
    const verify = createApiKeyVerifier(key, async (token) => {
      seen.push(token);
      return { ok: true, principal: { subject: 'ada', tokenType: 'oauth', scopes: ['mcp'] } };
    });
    assert.equal((await verify('Bearer aaa.bbb.ccc')).ok, true);
    assert.equal((await verify(`Bearer ${generateApiKey()}`)).ok, false);
    assert.equal((await verify('Bearer not-a-jwt')).ok, false);
    assert.deepEqual(seen, ['aaa.bbb.ccc']);
  });
});

describe('If-None-Match', () => {
  it('matches the ETag in a list, weak or strong, and *', () => {
    assert.ok(etagMatches('"abc"', '"abc"'));
    assert.ok(etagMatches('"x", W/"abc"', '"abc"'));
    assert.ok(etagMatches('*', '"abc"'));
    assert.equal(etagMatches('"abcd"', '"abc"'), false);
    assert.equal(etagMatches(undefined, '"abc"'), false);
  });
});

describe('approval decisions: the body and the TTL', () => {
  it('parses a decision, naming the field that is wrong', async () => {
    const { parseDecision } = await import('../../src/gate/approval-routes.ts');
    assert.deepEqual(parseDecision('{"approvalRequestId":"a","decision":"denied","reason":"no"}'), { ok: true, id: 'a', decision: 'denied', reason: 'no' });
    assert.deepEqual(parseDecision('{"approvalRequestId":"a","decision":"approved","reason":""}'), { ok: true, id: 'a', decision: 'approved' });
    const error = (text: string) => {
      const r = parseDecision(text);
      return r.ok ? null : r.error;
    };
    assert.match(error('{')!, /not JSON/);
    assert.match(error('null')!, /JSON object/);
    assert.match(error('{"approvalRequestId":"  ","decision":"approved"}')!, /^approvalRequestId:/);
    assert.match(error('{"approvalRequestId":"a","decision":"Approved"}')!, /^decision: expected "approved" or "denied", got "Approved"/);
    assert.match(error('{"approvalRequestId":"a"}')!, /^decision: .*got nothing/);
    assert.match(error(JSON.stringify({ approvalRequestId: 'a', decision: 'denied', reason: 'x'.repeat(2001) }))!, /^reason: at most 2000/);
  });

  it('reads --approval-ttl as seconds or with a unit, and refuses anything else', async () => {
    const { durationMsOf } = await import('../../src/cli/gate.ts');
    assert.equal(durationMsOf('--approval-ttl', '90'), 90_000);
    assert.equal(durationMsOf('--approval-ttl', '1.5s'), 1500);
    assert.equal(durationMsOf('--approval-ttl', '10m'), 600_000);
    assert.equal(durationMsOf('--approval-ttl', '24h'), 86_400_000);
    assert.equal(durationMsOf('--approval-ttl', '7d'), 604_800_000);
    for (const bad of ['0', '', 'soon', '-5', '5w', '1e3']) assert.throws(() => durationMsOf('--approval-ttl', bad), /--approval-ttl .*expected a duration/);
  });
});
