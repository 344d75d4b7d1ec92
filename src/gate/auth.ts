// Who may talk to the local gate: holders of its one API key (gate-protocol.md, "Auth"). Keys are
// `agk_` + 40 characters; a bad or missing one gets the hosted gate's exact 401 body. OAuth access
// tokens (`--issuer`) come with a later issue and plug in as another verifier.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const API_KEY_PATTERN = /^agk_[A-Za-z0-9]{40}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const UNAUTHORIZED_BODY = { ok: false, error: 'Invalid or expired API key' } as const;

/** What a verified credential says about its holder (`GET /mcp-gate/whoami`). */
export interface Principal {
  subject: string;
  tokenType: 'api_key';
  scopes: string[];
  expiresAt?: string;
}

export type Verifier = (authorization: string | undefined) => Principal | null;

export function generateApiKey(): string {
  let key = 'agk_';
  // randomInt is uniform over the alphabet (no modulo bias) and backed by the CSPRNG.
  for (let i = 0; i < 40; i++) key += ALPHABET[randomInt(ALPHABET.length)];
  return key;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createApiKeyVerifier(apiKey: string): Verifier {
  const expected = digest(apiKey);
  // The subject names the key without revealing it: a short fingerprint, stable for the key.
  const principal: Principal = { subject: `api-key:${expected.toString('hex').slice(0, 12)}`, tokenType: 'api_key', scopes: ['mcp'] };
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!match) return null;
    // Comparing digests keeps the comparison constant-time whatever the presented length.
    return timingSafeEqual(digest(match[1]!), expected) ? principal : null;
  };
}
