// `sentrail approvals wait ID [--timeout S]`: polls the status until the request is settled
// (executed, denied, expired, failed), then prints it as `status` does. Every second, or as the
// gate's Retry-After says. Exit 0 when executed, 6 when it ended without running, 7 when
// --timeout passed first (0: no bound; the request's own expiry bounds a pending wait anyway).
// A gate that stops answering (restarted, say: its approvals survive) is waited for too, with a
// note on stderr; any other refusal ends the wait.
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createGateApi, type Status } from './gate-api.ts';
import { printJson, printStatus } from './render.ts';
import { resolveTarget, statusCredential, type ApprovalsOptions } from './target.ts';

const POLL_MS = 1000;
/** How often to knock again while the gate does not answer. */
const UNREACHABLE_POLL_MS = 2000;
const SETTLED: readonly Status[] = ['executed', 'denied', 'expired', 'failed'];

export async function runApprovalsWait(id: string, opts: ApprovalsOptions & { timeout?: number }): Promise<number> {
  const target = await resolveTarget(opts);
  const api = await createGateApi(target, await statusCredential(target, opts));
  const deadline = opts.timeout ? Date.now() + opts.timeout * 1000 : Infinity;
  let noted = false;
  for (;;) {
    let answer;
    try {
      answer = await api.status(id);
    } catch (err) {
      if (!(err instanceof CliError) || err.code !== 'gate-unreachable' || Date.now() + UNREACHABLE_POLL_MS >= deadline) throw err;
      if (!noted) process.stderr.write(`sentrail: ${err.message}; still waiting for approval request ${id}\n`);
      noted = true;
      await new Promise((resolve) => setTimeout(resolve, UNREACHABLE_POLL_MS));
      continue;
    }
    const { body, retryAfterMs } = answer;
    const settled = SETTLED.includes(body.status);
    if (settled || Date.now() >= deadline) {
      if (opts.json) printJson(body);
      else printStatus(id, body);
      if (!settled) {
        process.stderr.write(`sentrail: approval request ${id} is still ${body.status} after ${opts.timeout} s\n`);
        return ExitCode.WAIT_TIMED_OUT;
      }
      return body.status === 'executed' ? ExitCode.OK : ExitCode.APPROVAL_NOT_EXECUTED;
    }
    const pause = Math.min(Math.max(retryAfterMs ?? POLL_MS, POLL_MS), deadline - Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pause)));
  }
}
