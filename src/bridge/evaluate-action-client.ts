// One `POST C/evaluate-action` (Sentrail's API reference): a test case's request, the gate's
// decision. Redirects are named and never followed (the credential stays with the gate's origin).
import { parseGateDecision, type EvaluateActionBody, type GateDecision } from '../policy/evaluate-action.ts';
import { httpError, isJsonType, mediaType, redirectTarget } from './gate-answers.ts';
import type { HttpClient } from './http-client.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** The gate did not decide; `status` is its HTTP status when it answered with one. */
export class EvaluateActionError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
  }
}

/** Throws an EvaluateActionError whose message says what the gate did instead of deciding. */
export async function evaluateAtGate(opts: { http: HttpClient; endpoint: string; headers: Record<string, string>; body: EvaluateActionBody; timeoutMs?: number }): Promise<GateDecision> {
  const url = new URL(opts.endpoint);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const late = () => new EvaluateActionError(`the gate did not answer within ${timeoutMs / 1000} s`);
  let res;
  try {
    res = await opts.http(url, { method: 'POST', headers: { ...opts.headers, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(opts.body), signal });
  } catch (err) {
    throw signal.aborted ? late() : new EvaluateActionError((err as Error).message);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw signal.aborted ? late() : new EvaluateActionError(`the gate's answer broke off before its end (${(err as Error).message})`);
  }
  if (res.status < 200 || res.status > 299) throw new EvaluateActionError(httpError(res.status, text, false, 'the gate', redirectTarget(res.header('location'), url)).message, res.status);
  if (!isJsonType(res.header('content-type'))) throw new EvaluateActionError(`the gate answered ${mediaType(res.header('content-type'))}, not a decision`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EvaluateActionError('the gate answered something that is not JSON');
  }
  const decision = parseGateDecision(json);
  if ('error' in decision) throw new EvaluateActionError(decision.error);
  return decision;
}
