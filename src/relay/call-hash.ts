// One text, and one fingerprint, per tool call: shared by the gate (the SHA-256 it checks before a
// replay, gate-protocol.md "Approvals") and the bridge (which knows an identical call again, to
// reuse its pending approval instead of asking for a second one). Pure; lives on the shared floor
// so that neither side imports the other.

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of the canonical JSON of {method, params}. node:crypto is taken at the first hash,
 * not imported: the bridge loads this module at start, and crypto's load is ~6 ms of it (paths.ts).
 */
export function hashCall(call: { method: string; params: Record<string, unknown> }): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(canonicalJson({ method: call.method, params: call.params })).digest('hex');
}
