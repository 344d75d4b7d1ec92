// Which OAuth client sentrail is at an authorization server (MCP authorization spec, "Client
// Registration"), in order:
//   1. --client-id: registered beforehand by an admin;
//   2. --client-metadata-url: a Client ID Metadata Document (the URL is the client id), where the
//      server says it supports them (`client_id_metadata_document_supported`);
//   3. the registration remembered for this issuer, if its redirect URIs fit this login;
//   4. RFC 7591 dynamic registration: a public native client (`application_type: native`,
//      `token_endpoint_auth_method: none`), with the grant types this login may use and the server
//      offers. Remembered per issuer for next time.
import * as oauth from 'oauth4webapi';
import { CliError } from '../../cli/errors.ts';
import { ExitCode } from '../../cli/exit-codes.ts';
import type { RememberedClient } from '../../config/cli-config.ts';
import type { ClientRegistration } from '../token-entry.ts';
import { isLoopbackUrl, type ServerMetadata } from './openid.ts';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface RegistrationRequest {
  issuer: string;
  metadata: ServerMetadata;
  /** The loopback redirect URI of this login; null for the device flow. */
  redirectUri: string | null;
  clientId?: string;
  clientMetadataUrl?: string;
  remembered?: RememberedClient | null;
  fetch: typeof fetch;
  signal?: AbortSignal;
  warn(message: string): void;
}

export interface ResolvedClient {
  registration: ClientRegistration;
  reused: boolean;
  /** Worth remembering for the issuer (public, and not given on the command line). */
  remember: boolean;
}

/** True when a registration can be used with this redirect URI (exact match, RFC 9700 §4.1.3). */
export function registrationFits(redirectUris: string[] | undefined, redirectUri: string | null): boolean {
  if (redirectUri === null) return true; // the device flow has no redirect
  return (redirectUris ?? []).includes(redirectUri);
}

/**
 * The grant types to register: those this login may use that the server offers (all, if it does not
 * say). A device-flow login has no redirect URI, and servers refuse the code grant without one.
 */
export function grantTypesFor(metadata: ServerMetadata, withRedirect = true): string[] {
  const offered = metadata.grant_types_supported;
  const wanted = [...(withRedirect ? ['authorization_code'] : []), 'refresh_token', ...(metadata.device_authorization_endpoint ? [DEVICE_GRANT] : [])];
  return offered ? wanted.filter((g) => offered.includes(g)) : wanted;
}

export async function resolveClient(req: RegistrationRequest): Promise<ResolvedClient> {
  const now = new Date().toISOString();
  if (req.clientId) {
    return { registration: { clientId: req.clientId, method: 'pre-registered', registeredAt: now }, reused: true, remember: false };
  }
  if (req.clientMetadataUrl) {
    const supported = (req.metadata as { client_id_metadata_document_supported?: unknown }).client_id_metadata_document_supported === true;
    if (supported) {
      return { registration: { clientId: req.clientMetadataUrl, method: 'metadata-document', registeredAt: now }, reused: true, remember: false };
    }
    req.warn(`${req.issuer} does not support Client ID Metadata Documents; --client-metadata-url is ignored and sentrail registers itself instead`);
  }
  const remembered = req.remembered;
  if (remembered && remembered.method === 'dynamic' && registrationFits(remembered.redirectUris, req.redirectUri)) {
    return { registration: { clientId: remembered.clientId, method: 'dynamic', redirectUris: remembered.redirectUris, registeredAt: remembered.registeredAt }, reused: true, remember: false };
  }
  if (!req.metadata.registration_endpoint) {
    throw new CliError('no-registration', `the authorization server ${req.issuer} does not offer dynamic client registration, and no client id was given`, {
      exitCode: ExitCode.INVALID_INPUT,
      hint: 'Ask your Sentrail admin for the client id registered for sentrail, then: sentrail login --client-id <id>',
    });
  }
  return { registration: await register(req), reused: false, remember: true };
}

async function register(req: RegistrationRequest): Promise<ClientRegistration> {
  const redirectUris = req.redirectUri ? [req.redirectUri] : [];
  const body: Partial<oauth.Client> = {
    client_name: 'sentrail (Sentrail CLI)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: grantTypesFor(req.metadata, req.redirectUri !== null),
    response_types: req.redirectUri ? ['code'] : [],
    redirect_uris: redirectUris,
  };
  const options: oauth.DynamicClientRegistrationRequestOptions = { [oauth.customFetch]: req.fetch, ...(req.signal ? { signal: req.signal } : {}) };
  if (isLoopbackUrl(req.metadata.registration_endpoint!)) options[oauth.allowInsecureRequests] = true;
  let client: Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>;
  try {
    const response = await oauth.dynamicClientRegistrationRequest(req.metadata as oauth.AuthorizationServer, body, options);
    client = await oauth.processDynamicClientRegistrationResponse(response);
  } catch (err) {
    throw new CliError('registration-failed', `the authorization server ${req.issuer} refused to register sentrail: ${oauthErrorText(err)}`, {
      hint: 'If your organisation registers clients by hand, pass the client id it gave you: sentrail login --client-id <id>',
    });
  }
  return {
    clientId: client.client_id,
    ...(typeof client.client_secret === 'string' ? { clientSecret: client.client_secret } : {}),
    method: 'dynamic',
    redirectUris: Array.isArray(client.redirect_uris) ? (client.redirect_uris as string[]) : redirectUris,
    registeredAt: new Date().toISOString(),
  };
}

/** An OAuth error as one line: the server's `error` and description, never a request or a token. */
export function oauthErrorText(err: unknown): string {
  const e = err as { error?: string; error_description?: string; cause?: { error?: string; error_description?: string }; message?: string; code?: string };
  const error = e.error ?? e.cause?.error;
  const description = e.error_description ?? e.cause?.error_description;
  if (error) return description ? `${error} (${description})` : error;
  return e.message ?? String(err);
}
