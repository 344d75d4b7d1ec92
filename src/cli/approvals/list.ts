// `sentrail approvals list [--status S]`: the gate's approval requests, newest first (admin key).
import { usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createGateApi } from './gate-api.ts';
import { printJson, printList } from './render.ts';
import { resolveTarget, reviewerCredential, type ApprovalsOptions } from './target.ts';

const STATUSES = ['pending', 'approved', 'denied', 'expired', 'executed', 'failed'];

export async function runApprovalsList(opts: ApprovalsOptions & { status?: string }): Promise<number> {
  if (opts.status !== undefined && !STATUSES.includes(opts.status)) throw usageError(`--status ${opts.status}: expected one of ${STATUSES.join(', ')}`);
  const target = await resolveTarget(opts);
  const api = await createGateApi(target, await reviewerCredential(target, opts));
  const records = await api.list(opts.status);
  if (opts.json) printJson({ gate: target.base, approvals: records });
  else printList(records);
  return ExitCode.OK;
}
