// What the bridge's HTTP transports make of a gate's answer that is not what MCP promises: an HTTP
// error, a redirect (never followed: credentials stay with the gate's origin, gate-protocol.md),
// a body of another media type (a login page, a proxy's error page), a body cut short. Each becomes
// an UpstreamError whose message says what the gate actually did, for the log and the client.
import { UpstreamError } from '../relay/relay.ts';
import type { HttpResponse } from './http-client.ts';

/** `text/html` from `text/html; charset=utf-8`; `no content type` when there is none. */
export function mediaType(header: string | null): string {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  return type || 'no content type';
}

/** application/json and the `+json` types; an absent type is given the benefit of the doubt. */
export function isJsonType(header: string | null): boolean {
  const type = mediaType(header);
  return type === 'no content type' || type === 'application/json' || type.endsWith('+json');
}

export function isEventStream(header: string | null): boolean {
  return mediaType(header) === 'text/event-stream';
}

/**
 * Where a redirect points, without its query or fragment (they may carry tokens), or null when
 * the Location header is missing or unreadable.
 */
export function redirectTarget(location: string | null, base: URL): string | null {
  if (!location) return null;
  try {
    const u = new URL(location, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return null;
  }
}

export function httpError(status: number, body: string, hadSession: boolean, what = 'the gate', location?: string | null): UpstreamError {
  if (status >= 300 && status < 400) {
    const target = location === undefined ? null : location;
    const where = target ? ` to ${target}` : '';
    return new UpstreamError(`${what} answered with a redirect${where} (HTTP ${status}); the bridge does not follow redirects, so the credential never leaves the gate's origin: check the gate URL`, -32000, undefined, 'http', status);
  }
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  const text = `${what} answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  if (status === 401 || status === 403) return new UpstreamError(text, -32000, undefined, 'unauthorized', status);
  if (status === 404 && hadSession) return new UpstreamError(`${what} no longer knows this session (HTTP 404)`, -32000, undefined, 'session-lost', status);
  if (status === 400 && hadSession && /session/i.test(body)) return new UpstreamError(`${what} no longer knows this session (HTTP 400)`, -32000, undefined, 'session-lost', status);
  if (status === 424) return new UpstreamError(`${what} has no MCP server connected to the workspace (HTTP 424)`, -32000, undefined, 'no-upstream', status);
  return new UpstreamError(text, -32000, undefined, 'http', status);
}

/** A non-2xx answer as an UpstreamError; reads (a bounded wait for) the body for its message. */
export async function failedAnswer(res: HttpResponse, url: URL, hadSession: boolean): Promise<UpstreamError> {
  if (res.status >= 300 && res.status < 400) {
    res.discard();
    return httpError(res.status, '', hadSession, 'the gate', redirectTarget(res.header('location'), url));
  }
  // HTML error pages can be long and a hostile gate may never end one: the status says enough.
  const text = isJsonType(res.header('content-type')) || mediaType(res.header('content-type')) === 'text/plain' ? await res.text().catch(() => '') : (res.discard(), '');
  return httpError(res.status, text, hadSession);
}

/** A 2xx answer of a media type that cannot carry JSON-RPC. */
export function wrongMediaType(header: string | null, status: number, expected = 'application/json or text/event-stream'): UpstreamError {
  const type = mediaType(header);
  const hint = type === 'text/html' ? ' (a web page: is the gate URL right, or is a proxy or login page in the way?)' : '';
  return new UpstreamError(`the gate answered ${type}, not JSON-RPC (${expected})${hint}`, -32000, undefined, 'http', status);
}

export function unreachable(url: URL, err: unknown): UpstreamError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new UpstreamError(`${url.origin}: ${why}`, -32000, undefined, 'unreachable');
}
