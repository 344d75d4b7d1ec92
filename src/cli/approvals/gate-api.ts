// The gate's approval endpoints as `sentrail approvals` calls them: one request each, the answer
// as data, and every refusal as a CliError that says what happened (and which exit code it is).
// Credentials go to the gate's own origin only, and are never part of a message.
import { createHttpClient, type HttpClient } from '../../bridge/http-client.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Credential, GateTarget } from './target.ts';

const REQUEST_TIMEOUT_MS = 15_000;

export type Status = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';

/** `GET C/mcp-gate/status/{id}` (and the answer to a decision). */
export interface StatusBody {
  ok: true;
  status: Status;
  decision: 'require_approval';
  result: unknown;
  killSwitch: unknown;
  approvalRequestId?: string;
  reason?: string;
  expiresAt?: string;
  decisionReason?: string | null;
  error?: { reason: string; message: string; code?: number } | null;
}

/** A record as `GET C/approvals` lists it. */
export interface ApprovalView {
  id: string;
  status: Status;
  tool: string | null;
  arguments: unknown;
  agent: string;
  policy: string | null;
  reason: string;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  completedAt?: string;
  result?: unknown;
  error?: { reason: string; message: string };
  [field: string]: unknown;
}

export interface GateApi {
  list(status?: string): Promise<ApprovalView[]>;
  show(id: string): Promise<ApprovalView>;
  decide(id: string, decision: 'approved' | 'denied', reason?: string): Promise<StatusBody>;
  /** The status read; `retryAfterMs` when the gate asked to be polled more slowly. */
  status(id: string): Promise<{ body: StatusBody; retryAfterMs: number | null }>;
}

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  retryAfter: string | null;
}

export async function createGateApi(target: GateTarget, credential: Credential, http?: HttpClient): Promise<GateApi> {
  const client = http ?? (await createHttpClient());

  async function request(method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(`${target.base}${path}`);
    let res;
    try {
      res = await client(url, {
        method,
        headers: { Authorization: `Bearer ${credential.token}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError('gate-unreachable', `cannot reach the gate at ${target.base}: ${why}`, { cause: err });
    }
    // Redirects are not followed: the credential must not travel to another origin.
    if (res.status >= 300 && res.status < 400) {
      res.discard();
      throw new CliError('gate-redirect', `the gate at ${target.base} answered ${path} with a redirect (HTTP ${res.status}); not followed, so the credential stays with this gate`);
    }
    const text = await res.text().catch(() => '');
    let parsed: Record<string, unknown> | null = null;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // not JSON: judged by its status below
    }
    return { status: res.status, body: parsed, retryAfter: res.header('retry-after') };
  }

  /** Every answer but the wanted one, as an error that says what it means. */
  function refusal(a: Answer, path: string, id?: string): CliError {
    const said = typeof a.body?.error === 'string' ? a.body.error : null;
    if (a.status === 401) {
      return new CliError('credential-refused', `the gate at ${target.base} refused the ${credential.kind === 'admin' ? 'admin key' : 'credential'} from ${credential.from} (HTTP 401)`, {
        exitCode: ExitCode.NOT_LOGGED_IN,
        hint: credential.kind === 'admin' ? 'Is it the key of the gate running now? A gate that generates its key prints a new one at each start.' : 'Log in again (sentrail login), or pass another key.',
      });
    }
    if (a.status === 403) {
      return new CliError('not-a-reviewer', `the gate at ${target.base} does not let the ${credential.kind === 'admin' ? 'key' : "agent's credential"} from ${credential.from} review approvals (HTTP 403)${said ? `: ${said}` : ''}`, {
        exitCode: ExitCode.NOT_LOGGED_IN,
        hint: "Deciding needs the gate's admin key: --admin-key or SENTRAIL_ADMIN_KEY.",
      });
    }
    if (a.status === 404 && id !== undefined && said === 'Approval request not found') return new CliError('approval-not-found', `no approval request ${id} at ${target.base}`);
    if (a.status === 404) return new CliError('no-endpoint', `the gate at ${target.base} has no ${path} endpoint (HTTP 404): is it a sentrail gate${target.local ? '' : "? The hosted gate's reviewer endpoints take a Supabase session: use the Sentrail dashboard"}`);
    if (a.status === 409) {
      return new CliError('approval-not-pending', `approval request ${id} is ${String(a.body?.status ?? 'no longer pending')}: only a pending request can be decided`, { exitCode: ExitCode.APPROVAL_NOT_PENDING });
    }
    if (a.status === 400) return new CliError('bad-request', `the gate refused the request: ${said ?? 'HTTP 400'}`, { exitCode: ExitCode.INVALID_INPUT });
    return new CliError('gate-error', `the gate at ${target.base} answered ${path} with HTTP ${a.status}${said ? `: ${said}` : ''}`);
  }

  const enc = encodeURIComponent;
  return {
    async list(status) {
      const path = `/approvals${status ? `?status=${enc(status)}` : ''}`;
      const a = await request('GET', path);
      if (a.status !== 200 || !Array.isArray(a.body?.approvals)) throw refusal(a, '/approvals');
      return a.body.approvals as ApprovalView[];
    },
    async show(id) {
      const a = await request('GET', `/approvals/${enc(id)}`);
      if (a.status !== 200 || !a.body?.approval) throw refusal(a, '/approvals/{id}', id);
      return a.body.approval as ApprovalView;
    },
    async decide(id, decision, reason) {
      const a = await request('POST', '/approval-decision', { approvalRequestId: id, decision, ...(reason !== undefined ? { reason } : {}) });
      if (a.status !== 200 || typeof a.body?.status !== 'string') throw refusal(a, '/approval-decision', id);
      return a.body as unknown as StatusBody;
    },
    async status(id) {
      const a = await request('GET', `/mcp-gate/status/${enc(id)}`);
      if (a.status !== 200 || typeof a.body?.status !== 'string') throw refusal(a, '/mcp-gate/status/{id}', id);
      const seconds = a.retryAfter !== null && /^\d+$/.test(a.retryAfter.trim()) ? Number(a.retryAfter) * 1000 : null;
      return { body: a.body as unknown as StatusBody, retryAfterMs: seconds };
    },
  };
}
