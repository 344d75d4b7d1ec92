// One pull of the org policy from `C/mcp-gate/policy` (gate-protocol.md): conditional on the
// cached copy's ETag, validated with the engine's loader, written to the per-gate cache only when
// it loads. Shared by the bridge's PolicySync and `sentrail policy pull`.
import type { CompiledPolicySet } from '../policy/compile.ts';
import { writeCachedPolicy } from '../config/policy-cache.ts';
import type { HttpClient } from './http-client.ts';

export type PullOutcome =
  | { kind: 'updated'; set: CompiledPolicySet; version: string | null; policies: number; etag: string | null; maxAge: number | null; file: string }
  | { kind: 'unchanged'; maxAge: number | null }
  | { kind: 'no-endpoint'; status: number }
  | { kind: 'invalid'; message: string; maxAge: number | null }
  | { kind: 'refused'; status: number; maxAge: number | null };

export function parseMaxAge(header: string | null): number | null {
  const m = header ? /max-age=(\d+)/i.exec(header) : null;
  return m ? Number(m[1]) : null;
}

/** Throws only when the gate cannot be reached (the caller keeps its last copy). */
export async function pullOrgPolicy(opts: { gate: string; endpoint: string; http: HttpClient; headers: Record<string, string>; etag: string | null; timeoutMs?: number }): Promise<PullOutcome> {
  const headers: Record<string, string> = { ...opts.headers, accept: 'application/json' };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  const res = await opts.http(new URL(opts.endpoint), { method: 'GET', headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
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
    return { kind: 'refused', status: res.status, maxAge };
  }
  const text = await res.text();
  const { compilePolicySet, formatDiagnostic, hasErrors, loadPolicyText } = await import('./policy-runtime.ts');
  const { document, diagnostics } = loadPolicyText(text, 'org-policy.json');
  if (hasErrors(diagnostics)) {
    const first = diagnostics.find((d) => d.severity === 'error')!;
    return { kind: 'invalid', message: `the gate's org policy does not load here (${formatDiagnostic(first)}); it may use a newer format`, maxAge };
  }
  const etag = res.header('etag');
  const cached = await writeCachedPolicy(opts.gate, text, { etag, fetchedAt: new Date().toISOString(), maxAgeSeconds: maxAge, version: document.version });
  return { kind: 'updated', set: compilePolicySet(document), version: document.version, policies: document.policies.length, etag, maxAge, file: cached.file };
}
