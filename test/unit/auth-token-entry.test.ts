// The token store's entry format (src/auth/token-entry.ts): its own schema version, what a newer or
// damaged entry reads as, and the names entries are kept under. Pure: no keychain, no files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountKey,
  apiKeyEntry,
  decodeEntry,
  encodeEntry,
  ENTRY_SCHEMA_VERSION,
  gateResource,
  isExpired,
  normalizeGateUrl,
  type StoredEntry,
} from '../../src/auth/token-entry.ts';

const GATE = 'https://abc.supabase.co/functions/v1/mcp-gate/sse';
const KEY = 'agk_' + 'K'.repeat(36) + 'wxyz';
const NOW = new Date('2026-11-21T12:00:00.000Z');

const oauth: StoredEntry = {
  type: 'oauth',
  gate: GATE,
  resource: 'https://abc.supabase.co/functions/v1/mcp-gate',
  accessToken: 'eyJhbGciOi.access.token-value',
  refreshToken: 'refresh-token-value-123',
  expiresAt: '2026-11-21T13:00:00.000Z',
  issuer: 'https://abc.supabase.co/auth/v1',
  client: { clientId: 'client-1', method: 'dynamic', redirectUris: ['http://127.0.0.1/callback'], registeredAt: '2026-11-21T11:00:00.000Z' },
  scopes: ['mcp', 'offline_access'],
  createdAt: '2026-11-21T11:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};

describe('stored entry format', () => {
  it('is JSON with its own schema version, independent of the package version', () => {
    const text = encodeEntry(oauth);
    const raw = JSON.parse(text);
    assert.equal(raw.schema, ENTRY_SCHEMA_VERSION);
    assert.equal(ENTRY_SCHEMA_VERSION, 1);
    assert.ok(text.startsWith('{"schema":1,'), 'the version comes first');
  });

  it('round-trips an OAuth entry and an API-key entry', () => {
    assert.deepEqual(decodeEntry(encodeEntry(oauth)), { ok: true, entry: oauth });
    const key = apiKeyEntry(GATE, gateResource(GATE), KEY, NOW);
    assert.deepEqual(decodeEntry(encodeEntry(key)), { ok: true, entry: key });
    assert.equal(key.type, 'api_key');
    assert.equal(key.expiresAt, null);
    assert.equal(key.createdAt, NOW.toISOString());
  });

  it('a replaced key keeps the creation time of the entry it replaces', () => {
    const first = apiKeyEntry(GATE, gateResource(GATE), KEY, NOW);
    const later = apiKeyEntry(GATE, gateResource(GATE), KEY.replace('K', 'L'), new Date('2026-12-01T00:00:00Z'), first);
    assert.equal(later.createdAt, first.createdAt);
    assert.equal(later.updatedAt, '2026-12-01T00:00:00.000Z');
  });

  it('reads a newer format that only added fields; refuses one that lacks what this version needs', () => {
    const newer = { ...JSON.parse(encodeEntry(oauth)), schema: 2, dpopKey: { kty: 'EC' } };
    const read = decodeEntry(JSON.stringify(newer));
    assert.equal(read.ok, true);
    if (read.ok) assert.equal(read.entry.accessToken, oauth.accessToken);

    const changed = { schema: 3, type: 'oauth', gate: GATE, resource: oauth.resource, tokens: { access: 'x' }, createdAt: 'a', updatedAt: 'b' };
    const refused = decodeEntry(JSON.stringify(changed));
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.reason, 'newer-format');
      assert.match(refused.message, /written by a newer sentrail \(entry format 3, this one reads 1\)/);
    }
  });

  it('reports damaged entries, and never quotes the stored text (it holds secrets)', () => {
    const cases: [string, RegExp][] = [
      ['not json {', /not JSON/],
      ['[1,2]', /not a JSON object/],
      [JSON.stringify({ ...oauth }), /no format version/],
      [JSON.stringify({ schema: 1, ...oauth, type: 'password' }), /unknown credential type/],
      [JSON.stringify({ schema: 1, ...oauth, accessToken: '' }), /no token/],
      [JSON.stringify({ schema: 1, ...oauth, expiresAt: 'soon' }), /expiry is not a date/],
      [JSON.stringify({ schema: 1, ...oauth, client: { clientId: 'x', method: 'carrier-pigeon' } }), /client registration/],
      [JSON.stringify({ schema: 1, ...oauth, createdAt: undefined }), /timestamps/],
    ];
    for (const [text, message] of cases) {
      const r = decodeEntry(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) {
        assert.equal(r.reason, 'corrupt');
        assert.match(r.message, message);
        assert.ok(!r.message.includes(oauth.accessToken) && !r.message.includes(oauth.refreshToken!), r.message);
      }
    }
  });

  it('defaults fields an entry may leave out', () => {
    const minimal = { schema: 1, type: 'api_key', gate: GATE, resource: 'r', accessToken: KEY, createdAt: 'a', updatedAt: 'b' };
    const r = decodeEntry(JSON.stringify(minimal));
    assert.equal(r.ok, true);
    if (r.ok) assert.deepEqual([r.entry.refreshToken, r.entry.expiresAt, r.entry.issuer, r.entry.client, r.entry.scopes], [null, null, null, null, []]);
  });

  it('tells an expired access token, with a margin', () => {
    assert.equal(isExpired(oauth, NOW), false);
    assert.equal(isExpired(oauth, new Date('2026-11-21T13:00:00.000Z')), true);
    assert.equal(isExpired(oauth, new Date('2026-11-21T12:59:30.000Z'), 60_000), true);
    assert.equal(isExpired({ expiresAt: null }, NOW), false, 'an API key does not expire');
  });
});

describe('entry names', () => {
  it('one spelling per gate URL: host case, default port and fragment do not matter; the path does', () => {
    assert.equal(normalizeGateUrl('HTTPS://ABC.supabase.co:443/functions/v1/mcp-gate/sse#x'), GATE);
    assert.equal(normalizeGateUrl('http://127.0.0.1:7391/mcp-gate/sse'), 'http://127.0.0.1:7391/mcp-gate/sse');
    assert.notEqual(normalizeGateUrl(GATE + '/'), GATE);
    assert.throws(() => normalizeGateUrl('not a url'));
  });

  it("the resource is the gate URL up to /mcp-gate (the RFC 9728 resource); another MCP URL is its own", () => {
    assert.equal(gateResource(GATE), 'https://abc.supabase.co/functions/v1/mcp-gate');
    assert.equal(gateResource('http://127.0.0.1:7391/mcp-gate/sse'), 'http://127.0.0.1:7391/mcp-gate');
    assert.equal(gateResource('https://mcp.example.com/mcp?x=1'), 'https://mcp.example.com/mcp');
  });

  it('one keychain account per gate + resource', () => {
    const a = accountKey(GATE, gateResource(GATE));
    assert.equal(a, `${GATE} https://abc.supabase.co/functions/v1/mcp-gate`);
    assert.notEqual(a, accountKey(GATE, 'https://other.example/mcp-gate'));
    assert.notEqual(a, accountKey('https://xyz.supabase.co/functions/v1/mcp-gate/sse', gateResource(GATE)));
  });
});
