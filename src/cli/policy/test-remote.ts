// `sentrail policy test --remote`: the same cases sent to the gate's `POST C/evaluate-action`, and
// every case where the gate decides otherwise than the local engine named. This is the measure
// of "decides as the hosted gate does". Each case writes an audit entry at the gate (and, on the
// hosted gate, a require_approval decision opens an approval request), so a gate that is not on
// this machine is treated as a live workspace: nothing is sent without --yes.
import { evaluateAtGate, EvaluateActionError } from '../../bridge/evaluate-action-client.ts';
import { isLoopback } from '../../bridge/gate-address.ts';
import { differencesFrom, evaluateActionBodyFor, type EvaluateActionBody, type GateDecision } from '../../policy/evaluate-action.ts';
import type { TestCase } from '../../policy/test-file.ts';
import type { CaseResult } from '../../policy/test-runner.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { openGateAccess, type GateAccess, type GateAccessOptions } from '../gate-access.ts';

export interface RemoteCheck {
  file: string;
  name: string;
  line: number;
  status: 'agree' | 'disagree' | 'not-sent' | 'error';
  local?: { mode: string; policy: string | null; policyId: string | null };
  sent?: EvaluateActionBody;
  gate?: GateDecision;
  /** disagree: each difference in words; not-sent / error: why. */
  differences?: string[];
  message?: string;
  /** error: the gate's HTTP status, when it answered with one. */
  httpStatus?: number;
}

export interface RemoteReport {
  endpoint: string;
  checks: RemoteCheck[];
  summary: { agreed: number; disagreed: number; notSent: number; errored: number };
}

export interface RemoteCase {
  file: string;
  testCase: TestCase;
  result: CaseResult;
}

export interface RemoteTarget {
  access: GateAccess;
  endpoint: string;
}

/** Found and authorised before any case runs, so a refusal costs nothing and sends nothing. */
export async function openRemote(opts: GateAccessOptions & { yes?: boolean }): Promise<RemoteTarget> {
  const access = await openGateAccess('policy test --remote', opts);
  const endpoint = `${access.cloudBase}/evaluate-action`;
  if (!isLoopback(new URL(endpoint)) && !opts.yes) {
    throw new CliError('live-workspace', `--remote would send every case to ${endpoint}, a gate that is not on this machine: each case writes an audit entry in that workspace, and a require_approval decision opens an approval request there`, {
      exitCode: ExitCode.INVALID_INPUT,
      hint: 'Pass --yes to send them anyway, or run the cases against a local gate (sentrail gate --policy <org policy>).',
    });
  }
  return { access, endpoint };
}

const PARALLEL = 4;

export async function checkAtGate(target: RemoteTarget, cases: readonly RemoteCase[]): Promise<RemoteReport> {
  const checks: RemoteCheck[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      checks[i] = await checkOne(target, cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, cases.length) }, worker));
  const count = (s: RemoteCheck['status']) => checks.filter((c) => c.status === s).length;
  const sent = checks.filter((c) => c.status !== 'not-sent');
  // Not one case got an answer: that is the gate's problem, not the cases'.
  if (sent.length > 0 && sent.every((c) => c.status === 'error')) {
    const first = sent[0]!.message ?? 'no answer';
    const refused = sent[0]!.httpStatus === 401;
    throw new CliError(refused ? 'not-logged-in' : 'gate-unreachable', `${target.endpoint} decided none of the ${sent.length} cases: ${first}`, {
      exitCode: refused ? ExitCode.NOT_LOGGED_IN : ExitCode.FAILURE,
      ...(refused ? { hint: 'Run sentrail login (or set SENTRAIL_API_KEY).' } : {}),
    });
  }
  return { endpoint: target.endpoint, checks, summary: { agreed: count('agree'), disagreed: count('disagree'), notSent: count('not-sent'), errored: count('error') } };
}

async function checkOne(target: RemoteTarget, { file, testCase, result }: RemoteCase): Promise<RemoteCheck> {
  const base = { file, name: testCase.name, line: testCase.line };
  if (result.status === 'SKIP') return { ...base, status: 'not-sent', message: `skipped: ${result.message ?? ''}`.trim() };
  if (!result.actual) return { ...base, status: 'not-sent', message: `the local run erred: ${result.message ?? ''}`.trim() };
  const local = { mode: result.actual.mode, policy: result.actual.policy, policyId: result.actual.policyId };
  const made = evaluateActionBodyFor(testCase.request, result.actual);
  if ('unsendable' in made) return { ...base, status: 'not-sent', local, message: made.unsendable };
  try {
    const gate = await evaluateAtGate({ http: target.access.http, endpoint: target.endpoint, headers: target.access.headers, body: made.body });
    const differences = differencesFrom(result.actual, gate);
    return { ...base, status: differences.length === 0 ? 'agree' : 'disagree', local, sent: made.body, gate, ...(differences.length > 0 ? { differences } : {}) };
  } catch (err) {
    if (!(err instanceof EvaluateActionError)) throw err;
    return { ...base, status: 'error', local, sent: made.body, message: err.message, ...(err.status !== null ? { httpStatus: err.status } : {}) };
  }
}
