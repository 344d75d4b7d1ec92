// `sentrail approvals status ID`: the agent's status read (`GET C/mcp-gate/status/{id}`), with the
// admin key or the agent's own credential; works against any gate that has the status endpoint.
import { ExitCode } from '../exit-codes.ts';
import { createGateApi } from './gate-api.ts';
import { printJson, printStatus } from './render.ts';
import { resolveTarget, statusCredential, type ApprovalsOptions } from './target.ts';

export async function runApprovalsStatus(id: string, opts: ApprovalsOptions): Promise<number> {
  const target = await resolveTarget(opts);
  const api = await createGateApi(target, await statusCredential(target, opts));
  const { body } = await api.status(id);
  if (opts.json) printJson(body);
  else printStatus(id, body);
  return ExitCode.OK;
}
