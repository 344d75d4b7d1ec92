// From the gate URL to a checked authorization server, as the MCP authorization spec orders it
// (gate-protocol.md, "Auth"):
//   1. an unauthenticated `initialize` to the gate → 401 with `WWW-Authenticate: Bearer
//      resource_metadata="…"` (RFC 9728 §5.1); without it, the RFC 9728 well-known URLs (path
//      form, then root); a gate with neither takes API keys only;
//   2. the protected-resource metadata, whose `resource` must be this gate's (`C/mcp-gate`, or the
//      gate URL itself): metadata for another resource is refused, since it could send the user's
//      token elsewhere;
//   3. the authorization server's metadata: RFC 8414 and OIDC discovery in the spec's order, its
//      `issuer` identical to the one the resource named (RFC 8414 §3.3, a mix-up defence).
// Scopes: the challenge's `scope`, else the resource's `scopes_supported`; `offline_access` added
// where the authorization server offers it (a refresh token keeps the bridge working for weeks).
import { CliError } from '../../cli/errors.ts';
import { ExitCode } from '../../cli/exit-codes.ts';
import { gateResource } from '../token-entry.ts';
import { bearerChallenge } from './challenge.ts';
import { isLoopbackUrl, type ServerMetadata } from './openid.ts';

export interface Discovery {
  /** The gate's MCP URL (what the user gave). */
  gate: string;
  /** The protected resource, as its metadata names it (RFC 8707 `resource` for every request). */
  resource: string;
  resourceMetadataUrl: string;
  issuer: string;
  metadata: ServerMetadata;
  /** Scopes to ask for. */
  scopes: string[];
}

export interface DiscoveryOptions {
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Scopes a 403 `insufficient_scope` asked for (step-up): they replace the discovered ones. */
  requiredScopes?: string[];
}

const TIMEOUT_MS = 10_000;

export class ApiKeyOnlyGate extends CliError {
  constructor(gate: string) {
    super('api-key-only', `${gate} takes API keys only: it answered without naming an authorization server (no resource_metadata in its 401, no RFC 9728 metadata)`, {
      exitCode: ExitCode.INVALID_INPUT,
      hint: `Log in with an API key instead; it is read from standard input:\n  printenv SENTRAIL_API_KEY | sentrail login --with-api-key --gate ${gate}`,
    });
  }
}

const refuse = (code: string, message: string, hint?: string) => new CliError(code, message, { exitCode: ExitCode.FAILURE, ...(hint ? { hint } : {}) });

async function getJson(f: typeof fetch, url: string, what: string, signal: AbortSignal): Promise<{ status: number; body: Record<string, unknown> | null }> {
  let res: Response;
  try {
    res = await f(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal });
  } catch (err) {
    throw refuse('discovery-unreachable', `cannot fetch ${what} at ${url}: ${describe(err)}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    return { status: res.status, body: null };
  }
  try {
    const body: unknown = await res.json();
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return { status: 200, body: body as Record<string, unknown> };
  } catch {
    throw refuse('discovery-bad-json', `${what} at ${url} is not a JSON object`);
  }
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.message;
}

/** RFC 9728 §3.1: the well-known URL inserted between host and path; then the root form. */
export function protectedResourceMetadataUrls(gate: string): string[] {
  const u = new URL(gate);
  const resourcePath = new URL(gateResource(gate)).pathname.replace(/\/$/, '');
  const urls = [`${u.origin}/.well-known/oauth-protected-resource${resourcePath}`];
  if (resourcePath !== '') urls.push(`${u.origin}/.well-known/oauth-protected-resource`);
  return urls;
}

/**
 * The MCP spec's order for an issuer: with a path, RFC 8414 path insertion, OIDC path insertion,
 * OIDC path appending; without, RFC 8414 then OIDC.
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const p = u.pathname.replace(/\/$/, '');
  if (p === '') return [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
  return [`${u.origin}/.well-known/oauth-authorization-server${p}`, `${u.origin}/.well-known/openid-configuration${p}`, `${u.origin}${p}/.well-known/openid-configuration`];
}

/**
 * An authorization server's metadata, from the first URL of the MCP spec's order that answers, its
 * `issuer` identical to the one asked for (RFC 8414 §3.3, a mix-up defence). Login and the local
 * gate (`--issuer`, for its JWKS) both find issuers this way.
 */
export async function fetchAuthorizationServerMetadata(issuer: string, f: typeof fetch, signal: AbortSignal): Promise<{ metadata: Record<string, unknown>; url: string }> {
  const urls = authorizationServerMetadataUrls(issuer);
  for (const url of urls) {
    const got = await getJson(f, url, 'the authorization server metadata', signal);
    if (!got.body) continue;
    if (got.body.issuer !== issuer) {
      throw refuse('issuer-mismatch', `the authorization server metadata at ${url} says its issuer is ${JSON.stringify(got.body.issuer)}, not ${issuer} as the gate named it (RFC 8414 §3.3)`);
    }
    return { metadata: got.body, url };
  }
  throw refuse('as-metadata-missing', `the authorization server ${issuer} publishes no metadata (tried ${urls.join(', ')})`);
}

function requireSecureUrl(url: string, what: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw refuse('discovery-bad-url', `${what} is not a URL: ${url}`);
  }
  if (u.protocol === 'https:' || isLoopbackUrl(url)) return;
  throw refuse('discovery-insecure-url', `${what} ${url} is not https:// (plain http:// is accepted on loopback only)`);
}

/** Step 1: the gate's 401 and what it names. */
async function probeGate(f: typeof fetch, gate: string, signal: AbortSignal): Promise<{ resourceMetadata: string | null; scope: string | null }> {
  let res: Response;
  try {
    res = await f(gate, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-agent-id': 'sentrail-cli' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sentrail-login', version: '1' } } }),
    });
  } catch (err) {
    throw refuse('gate-unreachable', `cannot reach the gate at ${gate}: ${describe(err)}`);
  }
  await res.body?.cancel().catch(() => {});
  if (res.status === 401 || res.status === 403) {
    const challenge = bearerChallenge(res.headers.get('www-authenticate'));
    return { resourceMetadata: challenge?.params.resource_metadata ?? null, scope: challenge?.params.scope ?? null };
  }
  if (res.status >= 200 && res.status < 300) throw refuse('gate-open', `${gate} answered without asking for credentials (HTTP ${res.status}): there is nothing to log in to`);
  if (res.status >= 300 && res.status < 400) throw refuse('gate-redirect', `${gate} answered with a redirect (HTTP ${res.status}); use the final URL as --gate`);
  throw refuse('gate-status', `${gate} answered HTTP ${res.status} where a 401 asking for credentials was expected`);
}

function stringList(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

const sameResource = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export async function discover(gate: string, opts: DiscoveryOptions): Promise<Discovery> {
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
  const f = opts.fetch;
  const probe = await probeGate(f, gate, signal);

  // Step 2: the protected-resource metadata.
  const candidates = probe.resourceMetadata ? [probe.resourceMetadata] : protectedResourceMetadataUrls(gate);
  let prm: Record<string, unknown> | null = null;
  let prmUrl = '';
  for (const url of candidates) {
    requireSecureUrl(url, 'the protected-resource metadata URL');
    const got = await getJson(f, url, 'the protected-resource metadata', signal);
    if (got.body) {
      prm = got.body;
      prmUrl = url;
      break;
    }
    if (probe.resourceMetadata) throw refuse('prm-missing', `the gate named its protected-resource metadata ${url}, which answered HTTP ${got.status}`);
  }
  if (!prm) throw new ApiKeyOnlyGate(gate);

  const expected = gateResource(gate);
  const resource = typeof prm.resource === 'string' ? prm.resource : null;
  if (!resource) throw refuse('prm-no-resource', `the protected-resource metadata at ${prmUrl} names no resource`);
  if (!sameResource(resource, expected) && !sameResource(resource, gate)) {
    throw refuse('prm-other-resource', `the protected-resource metadata at ${prmUrl} is for ${resource}, not for this gate (${expected}); refusing to log in, since a token for it could be used elsewhere`);
  }
  const servers = stringList(prm.authorization_servers);
  if (!servers || servers.length === 0) throw refuse('prm-no-as', `the protected-resource metadata at ${prmUrl} names no authorization server`);
  const issuer = servers[0]!;
  requireSecureUrl(issuer, 'the authorization server');

  // Step 3: the authorization server's metadata, issuer checked.
  const { metadata } = await fetchAuthorizationServerMetadata(issuer, f, signal);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const) {
    const v = metadata[endpoint];
    if (v !== undefined) {
      if (typeof v !== 'string') throw refuse('as-metadata-bad', `the authorization server metadata's ${endpoint} is not a URL`);
      requireSecureUrl(v, `the authorization server's ${endpoint}`);
    }
  }
  if (typeof metadata.token_endpoint !== 'string') throw refuse('as-metadata-bad', `the authorization server ${issuer} has no token_endpoint`);

  const offered = stringList(metadata.scopes_supported) ?? [];
  let scopes = opts.requiredScopes?.length ? [...opts.requiredScopes] : probe.scope ? probe.scope.split(/\s+/).filter(Boolean) : (stringList(prm.scopes_supported) ?? []);
  if (offered.includes('offline_access') && !scopes.includes('offline_access')) scopes = [...scopes, 'offline_access'];
  return { gate, resource, resourceMetadataUrl: prmUrl, issuer, metadata: metadata as unknown as ServerMetadata, scopes };
}
