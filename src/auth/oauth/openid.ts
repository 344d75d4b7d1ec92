// The one place openid-client meets this project: a Configuration for an authorization server and
// a client, with the transport rules applied. Imported lazily (login, logout, and a bridge that
// has to refresh); a bridge with a valid token never loads openid-client.
import * as oidc from 'openid-client';
import { isLoopback } from '../../bridge/gate-address.ts';
import type { ClientRegistration } from '../token-entry.ts';

export { oidc };

/** http:// is allowed for loopback hosts only (gate-protocol.md: as for gates; tests and the local gate). */
export function isLoopbackUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && isLoopback(u);
}

/** Metadata fields this project reads (RFC 8414); openid-client's own type has them all. */
export type ServerMetadata = oidc.ServerMetadata;

export interface ConfigurationInput {
  metadata: ServerMetadata;
  client: Pick<ClientRegistration, 'clientId' | 'clientSecret'>;
  /** fetch to use (behind a proxy: one with a proxy dispatcher). */
  fetch?: typeof fetch;
}

export function createConfiguration(input: ConfigurationInput): oidc.Configuration {
  const auth = input.client.clientSecret ? oidc.ClientSecretPost(input.client.clientSecret) : oidc.None();
  const config = new oidc.Configuration(input.metadata, input.client.clientId, {}, auth);
  if (isLoopbackUrl(input.metadata.issuer)) oidc.allowInsecureRequests(config);
  if (input.fetch) config[oidc.customFetch] = input.fetch as never;
  return config;
}

/** The configuration refresh and revocation need, from what an entry stores (no discovery). */
export function configurationFromEntry(entry: { issuer: string | null; client: ClientRegistration | null; endpoints?: { token: string; revocation: string | null } | null }, fetchImpl?: typeof fetch): oidc.Configuration {
  if (!entry.issuer || !entry.client || !entry.endpoints) throw new Error('the stored credential has no authorization server details; log in again');
  const metadata: ServerMetadata = {
    issuer: entry.issuer,
    token_endpoint: entry.endpoints.token,
    ...(entry.endpoints.revocation ? { revocation_endpoint: entry.endpoints.revocation } : {}),
  };
  return createConfiguration({ metadata, client: entry.client, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}
