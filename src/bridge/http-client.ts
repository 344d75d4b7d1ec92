// The bridge's HTTP: the few things its transports need (status, a header, the body as text or as
// chunks). By default over node:http / node:https with keep-alive agents: Node's fetch costs
// ~15 MB of memory on its first call and ~30 MB more at a hundred concurrent requests (measured on
// Node 20), which a process that runs beside every Claude Code session should not carry. With
// HTTPS_PROXY / HTTP_PROXY set, requests go through undici's fetch and EnvHttpProxyAgent instead
// (NO_PROXY honoured), loaded only then.
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  status: number;
  header(name: string): string | null;
  text(): Promise<string>;
  /** The body as it arrives (SSE); ends when the response does, throws when the connection breaks. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Drops the body (closes the response). */
  discard(): void;
}

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export type HttpClient = (url: URL, opts: HttpRequestOptions) => Promise<HttpResponse>;

const IDLE_SOCKET_MS = 4000;

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARS.some((v) => Boolean(env[v]));
}

export async function createHttpClient(env: NodeJS.ProcessEnv = process.env): Promise<HttpClient> {
  return proxyConfigured(env) ? createProxyHttpClient() : createNodeHttpClient();
}

export function createNodeHttpClient(): HttpClient {
  // An idle pooled socket is dropped after 4 s, before a server drops it first (Node's default
  // keep-alive timeout is 5 s): reusing one the server is closing fails the request with EPIPE
  // or ECONNRESET once it is on the wire, when it may or may not have run. The agent applies this
  // timeout to free sockets only; a request in flight, a long tool call or an SSE stream, is not
  // affected.
  const options = { keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS };
  const agents = {
    'http:': new http.Agent(options),
    'https:': new https.Agent(options),
  };
  return (url, opts) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
      const req = lib.request(url, { method: opts.method, headers, agent, signal: opts.signal }, (res) => {
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
          text: () =>
            new Promise<string>((done, fail) => {
              const parts: Buffer[] = [];
              res.on('data', (c: Buffer) => parts.push(c));
              res.on('end', () => done(Buffer.concat(parts).toString('utf8')));
              res.on('error', fail);
              res.on('aborted', () => fail(new Error('the response was cut off')));
              // A body cut short may end with 'close' alone (no 'error'): without this the read waits forever.
              res.on('close', () => {
                if (!res.complete) fail(new Error('the response was cut off'));
              });
            }),
          chunks: () => chunksOf(res),
          discard: () => {
            res.resume();
            if (!res.complete) res.destroy();
          },
        });
      });
      req.on('error', (err) => reject(Object.assign(new Error(`fetch failed`), { cause: err })));
      if (opts.body !== undefined) req.end(opts.body);
      else req.end();
    });
}

/** A response body as an async iterable that throws when the connection breaks mid-body. */
async function* chunksOf(res: http.IncomingMessage): AsyncIterable<Uint8Array> {
  let broken = false;
  res.on('aborted', () => (broken = true));
  res.on('close', () => {
    if (!res.complete) broken = true;
  });
  for await (const chunk of res) yield chunk as Buffer;
  if (broken || !res.complete) throw new Error('the connection broke before the response ended');
}

async function createProxyHttpClient(): Promise<HttpClient> {
  // undici is CommonJS: bundled, its exports sit on the namespace's default.
  const mod = (await import('undici')) as typeof import('undici') & { default?: typeof import('undici') };
  const undici = mod.default ?? mod;
  const dispatcher = new undici.EnvHttpProxyAgent();
  return async (url, opts) => {
    // redirect: 'manual', as node:http does: credentials never follow a redirect (gate-protocol.md),
    // and the caller reports the 3xx instead.
    const res = await undici.fetch(url, { method: opts.method, headers: opts.headers, body: opts.body, signal: opts.signal, dispatcher, redirect: 'manual' });
    return {
      status: res.status,
      header: (name) => res.headers.get(name),
      text: () => res.text(),
      chunks: () => (res.body ?? emptyBody()) as AsyncIterable<Uint8Array>,
      discard: () => void res.body?.cancel().catch(() => {}),
    };
  };
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
