// One pull of the org policy from `C/mcp-gate/policy` (gate-protocol.md): conditional on the
// cached copy's ETag, validated with the engine's loader, written to the per-gate cache only when
// it loads. Shared by the bridge's PolicySync and `sentrail policy pull`; `sentrail policy diff
// gate:` takes the same fetch without the cache write (fetchOrgPolicy).
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/types.ts';
import { writeCachedPolicy } from '../config/policy-cache.ts';
import { httpError, mediaType, redirectTarget } from './gate-answers.ts';
import type { HttpClient } from './http-client.ts';
import { notAPolicyDocument } from './policy-body.ts';

export type PullOutcome =
  | { kind: 'updated'; set: CompiledPolicySet; version: string | null; policies: number; etag: string | null; maxAge: number | null; file: string }
  | { kind: 'unchanged'; maxAge: number | null }
  | { kind: 'no-endpoint'; status: number }
  /** A policy document that does not load here (a newer format, an unknown condition). */
  | { kind: 'invalid'; message: string; maxAge: number | null }
  /** Something that is not a policy document at all (a web page, another endpoint's JSON). */
  | { kind: 'not-policy'; message: string; maxAge: number | null }
  /** Any other non-2xx; `message` says what it was (a redirect names where it pointed). */
  | { kind: 'refused'; status: number; message: string; maxAge: number | null };

export function parseMaxAge(header: string | null): number | null {
  const m = header ? /max-age=(\d+)/i.exec(header) : null;
  return m ? Number(m[1]) : null;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** What one GET of the policy endpoint gave: a document that loads here, or why not. */
export type FetchOutcome =
  | Exclude<PullOutcome, { kind: 'updated' }>
  | { kind: 'fetched'; text: string; document: PolicyDocument; etag: string | null; maxAge: number | null };

export interface FetchOptions {
  endpoint: string;
  http: HttpClient;
  headers: Record<string, string>;
  /** The cached copy's ETag, for a conditional GET; null for an unconditional one. */
  etag: string | null;
  timeoutMs?: number;
}

/** Fetches and loads the org policy, writing nothing. Throws only when no whole answer could be had; the message says why. */
export async function fetchOrgPolicy(opts: FetchOptions): Promise<FetchOutcome> {
  const headers: Record<string, string> = { ...opts.headers, accept: 'application/json' };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = new URL(opts.endpoint);
  const signal = AbortSignal.timeout(timeoutMs);
  const late = () => new Error(`the gate did not answer within ${timeoutMs / 1000} s`);
  let res;
  try {
    res = await opts.http(url, { method: 'GET', headers, signal });
  } catch (err) {
    throw signal.aborted ? late() : err;
  }
  const maxAge = parseMaxAge(res.header('cache-control'));
  if (res.status === 304) {
    res.discard();
    return { kind: 'unchanged', maxAge };
  }
  if (res.status === 404) {
    res.discard();
    return { kind: 'no-endpoint', status: 404 };
  }
  if (res.status < 200 || res.status > 299) {
    res.discard();
    const redirect = res.status >= 300 && res.status < 400;
    const message = redirect ? httpError(res.status, '', false, 'the gate', redirectTarget(res.header('location'), url)).message : `the gate refused the pull (HTTP ${res.status})`;
    return { kind: 'refused', status: res.status, message, maxAge };
  }
  const type = res.header('content-type');
  if (mediaType(type) === 'text/html') {
    // A web page: no need to read it (it may be large, or never end).
    res.discard();
    return { kind: 'not-policy', message: 'the gate answered text/html, not a policy document', maxAge };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw signal.aborted ? late() : new Error(`the gate's answer broke off before its end (${(err as Error).message})`);
  }
  const notPolicy = notAPolicyDocument(type, text);
  if (notPolicy) return { kind: 'not-policy', message: notPolicy, maxAge };
  const { formatDiagnostic, hasErrors, loadPolicyText } = await import('./policy-runtime.ts');
  const { document, diagnostics } = loadPolicyText(text, 'org-policy.json');
  if (hasErrors(diagnostics)) {
    const first = diagnostics.find((d) => d.severity === 'error')!;
    return { kind: 'invalid', message: `the gate's org policy does not load here (${formatDiagnostic(first)}); it may use a newer format`, maxAge };
  }
  return { kind: 'fetched', text, document, etag: res.header('etag'), maxAge };
}

/** Throws only when no whole answer could be had (the caller keeps its last copy); the message says why. */
export async function pullOrgPolicy(opts: FetchOptions & { gate: string }): Promise<PullOutcome> {
  const fetched = await fetchOrgPolicy(opts);
  if (fetched.kind !== 'fetched') return fetched;
  const { text, document, etag, maxAge } = fetched;
  const { compilePolicySet } = await import('./policy-runtime.ts');
  const cached = await writeCachedPolicy(opts.gate, text, { etag, fetchedAt: new Date().toISOString(), maxAgeSeconds: maxAge, version: document.version });
  return { kind: 'updated', set: compilePolicySet(document), version: document.version, policies: document.policies.length, etag, maxAge, file: cached.file };
}
