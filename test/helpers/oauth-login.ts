// A real OAuth login against the fixture authorization server (test/fixtures/auth-server.ts), done
// as a user would with the device flow: dynamic client registration (RFC 7591), the device
// authorization request with the gate's resource (RFC 8707), the user approving in Debian's
// chromium, then the token request. The result is the entry `sentrail login` stores.
import type { StoredEntry } from '../../src/auth/token-entry.ts';
import type { TestBrowser } from './browser.ts';
import { approveDevice } from './browser.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function postForm(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return (await res.json()) as Record<string, unknown>;
}

export interface DeviceLogin {
  entry: StoredEntry;
  metadata: { token_endpoint: string; revocation_endpoint?: string; registration_endpoint: string; device_authorization_endpoint: string };
}

/** Registers a public client, runs the device flow approved in `browser`, returns the entry to store. */
export async function deviceLogin(opts: { issuer: string; gate: string; resource: string; browser: TestBrowser; login?: string }): Promise<DeviceLogin> {
  const metadata = (await (await fetch(`${opts.issuer}/.well-known/oauth-authorization-server`)).json()) as DeviceLogin['metadata'];
  const registration = (await (
    await fetch(metadata.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/callback'], application_type: 'native', token_endpoint_auth_method: 'none', grant_types: ['refresh_token', DEVICE_GRANT], response_types: [] }),
    })
  ).json()) as { client_id: string };
  const device = await postForm(metadata.device_authorization_endpoint, { client_id: registration.client_id, scope: 'mcp offline_access', resource: opts.resource });
  const page = await opts.browser.newPage();
  try {
    await approveDevice(page, String(device.verification_uri), String(device.user_code), opts.login);
  } finally {
    await page.close();
  }
  const tokens = await postForm(metadata.token_endpoint, { grant_type: DEVICE_GRANT, device_code: String(device.device_code), client_id: registration.client_id });
  if (typeof tokens.access_token !== 'string' || typeof tokens.refresh_token !== 'string') throw new Error(`the device flow gave no tokens: ${String(tokens.error)}`);
  const now = new Date();
  const entry: StoredEntry = {
    type: 'oauth',
    gate: opts.gate,
    resource: opts.resource,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: new Date(now.getTime() + Number(tokens.expires_in) * 1000).toISOString(),
    issuer: opts.issuer,
    client: { clientId: registration.client_id, method: 'dynamic', registeredAt: now.toISOString() },
    endpoints: { token: metadata.token_endpoint, revocation: metadata.revocation_endpoint ?? null },
    scopes: typeof tokens.scope === 'string' ? tokens.scope.split(' ') : [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  return { entry, metadata };
}
