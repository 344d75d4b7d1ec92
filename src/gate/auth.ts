// Who may talk to the local gate: holders of its one API key (gate-protocol.md, "Auth"), and with
// `--issuer`, holders of that issuer's access tokens for this gate (oauth-verifier.ts). Keys are
// `agk_` + 40 characters; a bad or missing credential gets the hosted gate's exact 401 body.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const API_KEY_PATTERN = /^agk_[A-Za-z0-9]{40}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const UNAUTHORIZED_BODY = { ok: false, error: 'Invalid or expired API key' } as const;

/** What a verified credential says about its holder (`GET /mcp-gate/whoami`). */
export interface Principal {
  subject: string;
  tokenType: 'api_key' | 'oauth';
  scopes: string[];
  expiresAt?: string;
}

/** A refusal says whether a token was presented at all, and why it was refused (never the token). */
export type Verdict = { ok: true; principal: Principal } | { ok: false; tokenPresented: boolean; reason: string; unavailable?: true };

export type Verifier = (authorization: string | undefined) => Verdict | Promise<Verdict>;

export const bearerToken = (authorization: string | undefined): string | null => /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1] ?? null;

/** `prefix` + 40 letters and digits from the CSPRNG. */
export function generateKey(prefix: string): string {
  let key = prefix;
  // randomInt is uniform over the alphabet (no modulo bias) and backed by the CSPRNG.
  for (let i = 0; i < 40; i++) key += ALPHABET[randomInt(ALPHABET.length)];
  return key;
}

export function generateApiKey(): string {
  return generateKey('agk_');
}

export const digest = (s: string) => createHash('sha256').update(s).digest();

const NO_TOKEN: Verdict = { ok: false, tokenPresented: false, reason: 'no bearer token' };

export function createApiKeyVerifier(apiKey: string, oauth?: (token: string) => Promise<{ ok: true; principal: Principal } | { ok: false; reason: string; unavailable?: true }>): Verifier {
  const expected = digest(apiKey);
  // The subject names the key without revealing it: a short fingerprint, stable for the key.
  const principal: Principal = { subject: `api-key:${expected.toString('hex').slice(0, 12)}`, tokenType: 'api_key', scopes: ['mcp'] };
  const accepted: Verdict = { ok: true, principal };
  const wrongKey: Verdict = { ok: false, tokenPresented: true, reason: 'not the API key' };
  return (authorization) => {
    const token = bearerToken(authorization);
    if (!token) return NO_TOKEN;
    // Comparing digests keeps the comparison constant-time whatever the presented length.
    if (timingSafeEqual(digest(token), expected)) return accepted;
    // Anything else that looks like a JWT goes to the issuer's keys (with --issuer).
    if (!oauth || token.startsWith('agk_') || token.split('.').length !== 3) return wrongKey;
    return oauth(token).then((v) => (v.ok ? v : { ok: false, tokenPresented: true, reason: v.reason, ...(v.unavailable ? { unavailable: true as const } : {}) }));
  };
}
