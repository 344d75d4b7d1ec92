// Which credential the bridge presents, in order: --api-key, SENTRAIL_API_KEY, then the token store
// (`sentrail login`, next issue) behind the same small interface, so it plugs in without changes here.

export type CredentialOrigin = 'flag' | 'env' | 'keychain' | 'file' | 'config';

export interface Credential {
  token: string;
  origin: CredentialOrigin;
}

/** A source that may know a credential for a gate; `refresh` is asked after a 401. */
export interface CredentialSource {
  get(): Promise<Credential | null>;
  /** After a 401: a new credential if one can be had (refreshed, or changed on disk), else null. */
  refresh(rejected: Credential): Promise<Credential | null>;
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
      for (const s of sources) {
        const c = await s.refresh(rejected);
        if (c && c.token !== rejected.token) return c;
      }
      // A source may now hold a different credential (another process logged in).
      const current = await this.get();
      return current && current.token !== rejected.token ? current : null;
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
