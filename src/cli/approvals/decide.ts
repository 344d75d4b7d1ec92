// `sentrail approvals approve ID [--reason R]` and `deny ID [--reason R]`: a reviewer's decision
// (admin key). An approval answers once the gate has recorded it and started the replay; the
// outcome comes later (`sentrail approvals wait ID`). Exit 5 when the request is not pending.
import { usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createGateApi } from './gate-api.ts';
import { printJson, printStatus } from './render.ts';
import { resolveTarget, reviewerCredential, type ApprovalsOptions } from './target.ts';

/** The gate's own limit, checked here so the message names the flag. */
const MAX_REASON_LENGTH = 2000;

export async function runApprovalsDecide(decision: 'approved' | 'denied', id: string, opts: ApprovalsOptions & { reason?: string }): Promise<number> {
  if (opts.reason !== undefined && opts.reason.length > MAX_REASON_LENGTH) throw usageError(`--reason: at most ${MAX_REASON_LENGTH} characters (this one has ${opts.reason.length})`);
  const target = await resolveTarget(opts);
  const api = await createGateApi(target, await reviewerCredential(target, opts));
  const body = await api.decide(id, decision, opts.reason);
  if (opts.json) printJson(body);
  else {
    printStatus(id, body);
    if (body.status === 'approved') process.stderr.write(`The gate is running the approved call; its outcome: sentrail approvals wait ${id}${opts.gate ? ` --gate ${opts.gate}` : ''}\n`);
  }
  return ExitCode.OK;
}
