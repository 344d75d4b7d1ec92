// `sentrail approvals show ID`: one request with the stored call, its decision and outcome (admin key).
import { ExitCode } from '../exit-codes.ts';
import { createGateApi } from './gate-api.ts';
import { printJson, printRecord } from './render.ts';
import { resolveTarget, reviewerCredential, type ApprovalsOptions } from './target.ts';

export async function runApprovalsShow(id: string, opts: ApprovalsOptions): Promise<number> {
  const target = await resolveTarget(opts);
  const api = await createGateApi(target, await reviewerCredential(target, opts));
  const record = await api.show(id);
  if (opts.json) printJson(record);
  else printRecord(record);
  return ExitCode.OK;
}
