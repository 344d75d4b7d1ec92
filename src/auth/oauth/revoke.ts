// Revoking an OAuth entry's tokens at its authorization server (RFC 7009) before logout deletes
// it: the refresh token first (servers revoke the grant with it), then the access token. Best
// effort, bounded in time: logout always deletes the local entry, and says what it could not do.
import type { StoredEntry } from '../token-entry.ts';
import { oauthFetch } from './oauth-fetch.ts';
import { configurationFromEntry, oidc } from './openid.ts';
import { oauthErrorText } from './registration.ts';

export type RevocationOutcome = { kind: 'revoked' } | { kind: 'unsupported' } | { kind: 'failed'; message: string };

export async function revokeEntry(entry: StoredEntry, timeoutMs = 5000): Promise<RevocationOutcome> {
  if (entry.type !== 'oauth' || !entry.endpoints?.revocation) return { kind: 'unsupported' };
  const f = await oauthFetch();
  const signal = AbortSignal.timeout(timeoutMs);
  const bounded = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => f(input, { ...init, signal })) as typeof fetch;
  try {
    const config = configurationFromEntry(entry, bounded);
    if (entry.refreshToken) {
      // Revoking the refresh token ends the grant (RFC 7009 §2.1); the access token then dies with
      // it, or at its expiry. Servers that issue JWT access tokens often cannot revoke those
      // (`unsupported_token_type`), so trying is a courtesy, not a condition.
      await oidc.tokenRevocation(config, entry.refreshToken, { token_type_hint: 'refresh_token' });
      await oidc.tokenRevocation(config, entry.accessToken, { token_type_hint: 'access_token' }).catch(() => {});
    } else {
      await oidc.tokenRevocation(config, entry.accessToken, { token_type_hint: 'access_token' });
    }
    return { kind: 'revoked' };
  } catch (err) {
    return { kind: 'failed', message: signal.aborted ? `no answer within ${timeoutMs / 1000} s` : oauthErrorText(err) };
  }
}
