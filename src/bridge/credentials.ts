// Which credential the bridge presents, in order: --api-key, SENTRAIL_API_KEY, then the token store
// (`sentrail login`) behind the same small interface. A stored OAuth token carries its expiry, so
// the gate connection can renew it before it runs out (src/auth/refresh-timing.ts).
import type { TokenTimes } from '../auth/refresh-timing.ts';

export type CredentialOrigin = 'flag' | 'env' | 'keychain' | 'file' | 'config';

export interface Credential extends TokenTimes {
  token: string;
  origin: CredentialOrigin;
}

/** A source that may know a credential for a gate; `refresh` is asked after a 401 or near expiry. */
export interface CredentialSource {
  get(): Promise<Credential | null>;
  /**
   * After a 401, or when `rejected` is about to expire: a new credential if one can be had
   * (renewed, or changed in the store), else null. Throws a RenewalError when the source knows
   * why none can be had (the login must be redone; the authorization server is unreachable).
   */
  refresh(rejected: Credential): Promise<Credential | null>;
}

/** Why a credential could not be renewed, in words for the user (never a secret). */
export class RenewalError extends Error {
  constructor(
    message: string,
    /** `login`: only a new `sentrail login` helps; `unavailable`: try again later. */
    readonly kind: 'login' | 'unavailable',
  ) {
    super(message);
    this.name = 'RenewalError';
  }
}

export function staticCredential(token: string, origin: CredentialOrigin): CredentialSource {
  return { get: async () => ({ token, origin }), refresh: async () => null };
}

/** The first source that has a credential wins; a refresh goes back to the one that gave it. */
export function firstOf(sources: CredentialSource[]): CredentialSource {
  return {
    async get() {
      for (const s of sources) {
        const c = await s.get();
        if (c) return c;
      }
      return null;
    },
    async refresh(rejected) {
      // A source that cannot renew says why; a later source may still have a credential.
      let why: unknown = null;
      for (const s of sources) {
        try {
          const c = await s.refresh(rejected);
          if (c && c.token !== rejected.token) return c;
        } catch (err) {
          why ??= err;
        }
      }
      // A source may now hold a different credential (another process logged in).
      const current = await this.get();
      if (current && current.token !== rejected.token) return current;
      if (why) throw why;
      return null;
    },
  };
}

export function bridgeCredentials(opts: { apiKey?: string; env?: NodeJS.ProcessEnv; store?: CredentialSource }): CredentialSource {
  const env = opts.env ?? process.env;
  const sources: CredentialSource[] = [];
  if (opts.apiKey) sources.push(staticCredential(opts.apiKey, 'flag'));
  if (env.SENTRAIL_API_KEY) sources.push(staticCredential(env.SENTRAIL_API_KEY, 'env'));
  if (opts.store) sources.push(opts.store);
  return firstOf(sources);
}
