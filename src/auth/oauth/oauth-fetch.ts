// The fetch login and refresh use (openid-client is built on fetch): Node's own, or, when
// HTTPS_PROXY / HTTP_PROXY is set, undici's with EnvHttpProxyAgent (NO_PROXY honoured), as the
// bridge's HTTP client does. Node 20's fetch ignores the proxy variables.
import { proxyConfigured } from '../../bridge/http-client.ts';

let proxied: Promise<typeof fetch> | null = null;

export async function oauthFetch(env: NodeJS.ProcessEnv = process.env): Promise<typeof fetch> {
  if (!proxyConfigured(env)) return globalThis.fetch;
  proxied ??= import('undici').then(({ fetch: undiciFetch, EnvHttpProxyAgent }) => {
    const dispatcher = new EnvHttpProxyAgent();
    return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
  });
  return proxied;
}
