// The loopback redirect of a native app (RFC 8252 §7.3): an HTTP listener on 127.0.0.1 (never
// `localhost`, which may resolve elsewhere), on an ephemeral port unless --callback-port fixes it.
// It waits for one request on /callback, hands its URL to the flow, and answers the browser with
// the flow's outcome once the flow has one (a page saying "you can close this tab", or what went
// wrong). Anything else on the port gets a 404 and is otherwise ignored.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError } from '../../cli/errors.ts';
import { ExitCode } from '../../cli/exit-codes.ts';

export const CALLBACK_PATH = '/callback';

export interface CallbackListener {
  /** `http://127.0.0.1:PORT/callback` */
  redirectUri: string;
  port: number;
  /** The callback's full URL, when the browser comes back. Rejects when `signal` aborts. */
  next(signal: AbortSignal): Promise<URL>;
  /** Answers the waiting browser: the outcome page. */
  respond(outcome: { ok: true } | { ok: false; message: string }): void;
  close(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p></body></html>`;
}

export async function startCallbackListener(opts: { port?: number } = {}): Promise<CallbackListener> {
  let pending: { resolve: (u: URL) => void } | null = null;
  let arrived: URL | null = null;
  let waitingResponse: ServerResponse | null = null;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || arrived) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    arrived = new URL(req.url!, `http://127.0.0.1:${port}`);
    waitingResponse = res;
    pending?.resolve(arrived);
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new CliError('callback-port-taken', `port ${opts.port} on 127.0.0.1 is taken, so the browser could not come back to sentrail there`, {
            exitCode: ExitCode.FAILURE,
            hint: 'Free it, pick another --callback-port (one your client registration allows), or leave --callback-port out to use any free port.',
          }),
        );
      } else reject(new CliError('callback-listen', `cannot listen on 127.0.0.1:${opts.port ?? 0} for the browser's return: ${err.message}`));
    });
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

  return {
    port,
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    next(signal) {
      if (arrived) return Promise.resolve(arrived);
      return new Promise<URL>((resolve, reject) => {
        const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        pending = {
          resolve: (u) => {
            signal.removeEventListener('abort', onAbort);
            resolve(u);
          },
        };
      });
    },
    respond(outcome) {
      const res = waitingResponse;
      waitingResponse = null;
      if (!res) return;
      const html = outcome.ok
        ? page('Signed in to Sentrail', 'sentrail login has your token. You can close this tab and go back to the terminal.')
        : page('Sentrail login failed', `${outcome.message}. Go back to the terminal for details.`);
      // No referrer to anywhere, and nothing cached: the URL that led here held the authorization code.
      res.writeHead(outcome.ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end(html);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
