// `POST C/mcp-gate/audit`: the decisions a bridge made on its own (local blocks, which never reach
// the gate otherwise), reported so the gate's audit has them too. Sentrail's hosted docs describe no
// such endpoint: this is the local gate's (docs/gate.md), and a bridge that gets 404 stops sending.
// The local gate's audit is its log: one line per reported decision, tagged with the credential's
// subject, so a reader can tell reported lines from the gate's own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth.ts';
import { BodyTooLargeError, readBody, sendJson } from './http.ts';
import type { GateLogger } from './session.ts';

export const AUDIT_PATH = '/mcp-gate/audit';
const MAX_RECORDS = 100;
const FIELDS = ['time', 'agent', 'tool', 'decision', 'source', 'policy', 'policyId', 'policyVersion', 'argsDigest'] as const;

export async function serveAuditReport(req: IncomingMessage, res: ServerResponse, principal: Principal, log: GateLogger): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'Method not allowed: only POST is accepted' }, { Allow: 'POST' });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, 256 * 1024));
  } catch (err) {
    if (err instanceof BodyTooLargeError) return sendJson(res, 413, { ok: false, error: err.message });
    return sendJson(res, 400, { ok: false, error: 'Invalid request body: not JSON' });
  }
  const records = (body as { records?: unknown } | null)?.records;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_RECORDS) {
    return sendJson(res, 400, { ok: false, error: `Invalid request body: records must be a list of 1 to ${MAX_RECORDS} decisions` });
  }
  for (const [i, r] of records.entries()) {
    if (r === null || typeof r !== 'object') return sendJson(res, 400, { ok: false, error: `Invalid request body: records[${i}] is not an object` });
    for (const f of ['time', 'tool', 'decision'] as const) {
      if (typeof (r as Record<string, unknown>)[f] !== 'string') return sendJson(res, 400, { ok: false, error: `Invalid request body: records[${i}].${f} must be a string` });
    }
  }
  for (const r of records as Record<string, unknown>[]) {
    // Only the known fields, and only short strings: a report cannot write arbitrary text into the log.
    const fields = Object.fromEntries(FIELDS.filter((f) => typeof r[f] === 'string').map((f) => [f, String(r[f]).slice(0, 200)]));
    log.info(`audit reported by ${principal.subject}: ${fields.decision} ${fields.tool} (agent ${fields.agent ?? 'unknown'}, ${fields.source ?? 'local'}${fields.policy ? `, policy "${fields.policy}"` : ''}) at ${fields.time}`);
  }
  sendJson(res, 202, { ok: true, accepted: records.length });
}
