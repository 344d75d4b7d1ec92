// fetch for talking to the gate. Node 20's fetch ignores HTTPS_PROXY / NO_PROXY, so when one of
// them is set, requests go through undici's EnvHttpProxyAgent (loaded only then: most runs have
// no proxy and should not pay for the import).
export type Fetch = typeof fetch;

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARS.some((v) => Boolean(env[v]));
}

export async function createFetch(env: NodeJS.ProcessEnv = process.env): Promise<Fetch> {
  if (!proxyConfigured(env)) return fetch;
  const undici = await import('undici');
  const dispatcher = new undici.EnvHttpProxyAgent();
  // undici's own fetch with its own dispatcher: the pair is guaranteed to match.
  return ((input: string | URL | Request, init?: RequestInit) =>
    undici.fetch(input as never, { ...(init as object), dispatcher } as never) as unknown as Promise<Response>) as Fetch;
}
