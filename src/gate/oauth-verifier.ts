// OAuth access tokens at the local gate (`--issuer URL`, gate-protocol.md "Auth"): JWTs signed by
// the issuer's keys (its JWKS), for the audience `C/mcp-gate`, unexpired. The issuer's metadata is
// discovered on the first token that needs it, not at start-up, so the gate starts when the
// authorization server is down (and retries on a later token). jose does the JOSE work.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { fetchAuthorizationServerMetadata } from '../auth/oauth/discovery.ts';
import type { GateLogger } from './session.ts';

export interface OAuthPrincipal {
  subject: string;
  tokenType: 'oauth';
  scopes: string[];
  expiresAt?: string;
}

/** `unavailable`: the token could not be checked at all (the issuer is down), which says nothing about it. */
export type TokenVerdict = { ok: true; principal: OAuthPrincipal } | { ok: false; reason: string; unavailable?: true };

/** Asymmetric signatures only: a shared-secret (HS*) token could be minted by anyone holding the key. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_S = 5;

export interface OAuthVerifierOptions {
  issuer: string;
  /** The resource the tokens must be for: `C/mcp-gate` (known once the gate listens). */
  audience: () => string;
  log: GateLogger;
}

export function createOAuthTokenVerifier(opts: OAuthVerifierOptions): (token: string) => Promise<TokenVerdict> {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;
  const jwks = () => {
    keys ??= discoverJwks(opts.issuer).catch((err: Error) => {
      keys = null; // try again on the next token
      opts.log.warn(`cannot use the issuer ${opts.issuer}: ${err.message}; OAuth tokens are refused until it answers`);
      throw err;
    });
    return keys;
  };
  return async (token) => {
    let keySet;
    try {
      keySet = await jwks();
    } catch {
      return { ok: false, reason: 'the gate cannot reach its authorization server to check the token', unavailable: true };
    }
    try {
      const { payload } = await jwtVerify(token, keySet, { issuer: opts.issuer, audience: opts.audience(), algorithms: ALGORITHMS, clockTolerance: CLOCK_TOLERANCE_S });
      return { ok: true, principal: principalOf(payload) };
    } catch (err) {
      return { ok: false, reason: refusalOf(err) };
    }
  };
}

function principalOf(payload: JWTPayload): OAuthPrincipal {
  const scope = payload.scope;
  const scp = (payload as { scp?: unknown }).scp;
  const scopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
  return {
    subject: typeof payload.sub === 'string' ? payload.sub : 'unknown',
    tokenType: 'oauth',
    scopes,
    ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000).toISOString() } : {}),
  };
}

/** Why a token is refused, for the `error_description` and the log (never the token). */
function refusalOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is for another resource (audience)';
    if (err.claim === 'iss') return 'the token is from another issuer';
    return `the token's ${err.claim} claim is not valid`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature does not match the issuer's keys";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm the gate does not accept';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'the token is not a valid JWT';
  return 'the token cannot be verified';
}

/** The issuer's metadata (found and checked as login finds it), then its JWKS. */
async function discoverJwks(issuer: string): Promise<ReturnType<typeof createRemoteJWKSet>> {
  const { metadata, url } = await fetchAuthorizationServerMetadata(issuer, fetch, AbortSignal.timeout(5000));
  if (typeof metadata.jwks_uri !== 'string') throw new Error(`its metadata at ${url} has no jwks_uri`);
  return createRemoteJWKSet(new URL(metadata.jwks_uri));
}
