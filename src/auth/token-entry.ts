// What the token store keeps per gate + resource, and how it is written down. The stored format has
// its own schema version, independent of the package version: a newer sentrail may add fields (an
// older one then still reads the entry), and a format it cannot read is reported, never guessed at.
// Pure: no I/O here.

/** The version of the stored entry format this build writes. */
export const ENTRY_SCHEMA_VERSION = 1;

export type CredentialType = 'oauth' | 'api_key';

/** How an OAuth client was registered with the authorization server (issue 4: remembered per issuer). */
export interface ClientRegistration {
  clientId: string;
  clientSecret?: string;
  /** `pre-registered` (--client-id), `metadata-document` (Client ID Metadata Document), `dynamic` (RFC 7591). */
  method: 'pre-registered' | 'metadata-document' | 'dynamic';
  /** The redirect URIs it was registered with (registration is redone when they no longer fit). */
  redirectUris?: string[];
  registeredAt?: string;
}

/** The authorization server endpoints an OAuth entry needs later, so refresh and revocation need no discovery. */
export interface AuthServerEndpoints {
  token: string;
  revocation: string | null;
}

export interface StoredEntry {
  type: CredentialType;
  /** The gate URL as normalized by normalizeGateUrl(). */
  gate: string;
  /** The protected resource the credential is for (RFC 8707 / 9728): `C/mcp-gate` for a Sentrail gate. */
  resource: string;
  /** The API key, or the OAuth access token. */
  accessToken: string;
  refreshToken: string | null;
  /** Absolute expiry of the access token (ISO 8601); null: does not expire (API keys) or unknown. */
  expiresAt: string | null;
  /** The authorization server's issuer identifier (OAuth). */
  issuer: string | null;
  client: ClientRegistration | null;
  /** OAuth: the issuer's token and revocation endpoints (RFC 8414 metadata, as discovered at login). */
  endpoints?: AuthServerEndpoints | null;
  /** Granted scopes, when known. */
  scopes: string[];
  createdAt: string;
  updatedAt: string;
}

export type DecodeResult =
  | { ok: true; entry: StoredEntry }
  | { ok: false; reason: 'corrupt' | 'newer-format'; message: string };

/** The stored text of an entry: JSON with `schema` first. */
export function encodeEntry(entry: StoredEntry): string {
  return JSON.stringify({ schema: ENTRY_SCHEMA_VERSION, ...entry });
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

function decodeClient(v: unknown): ClientRegistration | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) return undefined;
  const c = v as Record<string, unknown>;
  if (!isString(c.clientId) || !['pre-registered', 'metadata-document', 'dynamic'].includes(c.method as string)) return undefined;
  const out: ClientRegistration = { clientId: c.clientId, method: c.method as ClientRegistration['method'] };
  if (isString(c.clientSecret)) out.clientSecret = c.clientSecret;
  if (Array.isArray(c.redirectUris) && c.redirectUris.every(isString)) out.redirectUris = c.redirectUris as string[];
  if (isString(c.registeredAt)) out.registeredAt = c.registeredAt;
  return out;
}

/** Reads a stored entry. Never throws; the messages never include the stored text (it holds secrets). */
export function decodeEntry(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'corrupt', message: 'the stored entry is not JSON' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: 'corrupt', message: 'the stored entry is not a JSON object' };
  const o = raw as Record<string, unknown>;
  if (typeof o.schema !== 'number' || !Number.isInteger(o.schema) || o.schema < 1) return { ok: false, reason: 'corrupt', message: 'the stored entry has no format version' };
  // Format 1 is the first; an older format would be migrated here, step by step, up to the current one.
  // A newer format is still read when the fields this version needs are there, as they are meant to be
  // (later formats only add fields); otherwise the message says to upgrade.
  const newer = o.schema > ENTRY_SCHEMA_VERSION;
  const bad = (what: string): DecodeResult =>
    newer
      ? { ok: false, reason: 'newer-format', message: `the stored entry was written by a newer sentrail (entry format ${o.schema}, this one reads ${ENTRY_SCHEMA_VERSION}); upgrade sentrail or log in again` }
      : { ok: false, reason: 'corrupt', message: `the stored entry is damaged: ${what}` };
  if (o.type !== 'oauth' && o.type !== 'api_key') return bad('unknown credential type');
  if (!isString(o.gate) || !isString(o.resource)) return bad('no gate or resource');
  if (!isString(o.accessToken) || o.accessToken === '') return bad('no token');
  if (!isNullableString(o.refreshToken ?? null) || !isNullableString(o.expiresAt ?? null) || !isNullableString(o.issuer ?? null)) return bad('a field has the wrong type');
  if (o.expiresAt && Number.isNaN(Date.parse(o.expiresAt as string))) return bad('the expiry is not a date');
  const client = decodeClient(o.client);
  if (client === undefined) return bad('the client registration is malformed');
  if (!isString(o.createdAt) || !isString(o.updatedAt)) return bad('no timestamps');
  let endpoints: AuthServerEndpoints | null = null;
  if (o.endpoints !== undefined && o.endpoints !== null) {
    const e = o.endpoints as Record<string, unknown>;
    if (typeof e !== 'object' || !isString(e.token) || !isNullableString(e.revocation ?? null)) return bad('the authorization server endpoints are malformed');
    endpoints = { token: e.token, revocation: (e.revocation as string | null | undefined) ?? null };
  }
  const scopes = Array.isArray(o.scopes) && o.scopes.every(isString) ? (o.scopes as string[]) : [];
  return {
    ok: true,
    entry: {
      type: o.type,
      gate: o.gate,
      resource: o.resource,
      accessToken: o.accessToken,
      refreshToken: (o.refreshToken as string | null | undefined) ?? null,
      expiresAt: (o.expiresAt as string | null | undefined) ?? null,
      issuer: (o.issuer as string | null | undefined) ?? null,
      client,
      ...(endpoints ? { endpoints } : {}),
      scopes,
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
    },
  };
}

/** A new API-key entry; `previous` keeps its creation time when the key is replaced. */
export function apiKeyEntry(gate: string, resource: string, key: string, now: Date, previous?: StoredEntry | null): StoredEntry {
  const at = now.toISOString();
  return {
    type: 'api_key',
    gate,
    resource,
    accessToken: key,
    refreshToken: null,
    expiresAt: null,
    issuer: null,
    client: null,
    scopes: [],
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
}

/**
 * The gate URL as one spelling, so `--gate` variants name the same entry: WHATWG-parsed (scheme and
 * host lower-cased, default port dropped), without a fragment. The path is kept as given (it is also
 * the URL the bridge connects to). Throws on a non-URL.
 */
export function normalizeGateUrl(gate: string): string {
  const u = new URL(gate);
  u.hash = '';
  return u.href;
}

/**
 * The protected resource a gate's credential is for: the gate URL up to and including `/mcp-gate`
 * (gate-protocol.md: the RFC 9728 resource is `C/mcp-gate`); any other MCP URL is its own resource.
 */
export function gateResource(gate: string): string {
  const u = new URL(normalizeGateUrl(gate));
  const at = u.pathname.indexOf('/mcp-gate');
  if (at !== -1) return `${u.origin}${u.pathname.slice(0, at)}/mcp-gate`;
  return `${u.origin}${u.pathname}`;
}

/** The keychain account of an entry: one per gate + resource (URLs hold no spaces). */
export function accountKey(gate: string, resource: string): string {
  return `${gate} ${resource}`;
}

/** True when the access token is past its absolute expiry (with `skewMs` of margin). */
export function isExpired(entry: Pick<StoredEntry, 'expiresAt'>, now: Date, skewMs = 0): boolean {
  if (!entry.expiresAt) return false;
  return Date.parse(entry.expiresAt) - skewMs <= now.getTime();
}
