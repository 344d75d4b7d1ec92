// `sentrail policy pull`: fetch the gate's org policy into the per-gate cache by hand (the bridge
// does it at start and per max-age); the other policy commands then use it.
import { readFile } from 'node:fs/promises';
import { pullOrgPolicy } from '../../bridge/org-policy-pull.ts';
import { readCachedPolicy } from '../../config/policy-cache.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { openGateAccess } from '../gate-access.ts';

export interface PullOptions {
  gate?: string;
  cloudUrl?: string;
  apiKey?: string;
  allowHttp?: boolean;
  json?: boolean;
  /** Also write the document into the repository: one YAML file, or a folder of one file per policy. */
  out?: string;
  /** With --out: write nothing; exit 1 when the copy there differs from the gate's. */
  check?: boolean;
  force?: boolean;
}

export async function runPolicyPull(given: PullOptions): Promise<number> {
  if (given.check && !given.out) throw new CliError('usage', '--check compares a repository copy with the gate: pass --out <file|folder> too', { exitCode: ExitCode.INVALID_INPUT });
  const access = await openGateAccess('policy pull', given);
  const opts = { ...given, gate: access.gate };
  const cached = await readCachedPolicy(opts.gate);
  const endpoint = `${access.cloudBase}/mcp-gate/policy`;
  let outcome;
  try {
    // --out needs the document itself, so no If-None-Match: a 304 would carry none.
    outcome = await pullOrgPolicy({ gate: opts.gate, endpoint, http: access.http, headers: access.headers, etag: opts.out ? null : cached?.meta.etag ?? null });
  } catch (err) {
    throw new CliError('gate-unreachable', `could not pull from ${endpoint}: ${(err as Error).message}`);
  }
  const report = (line: string, data: Record<string, unknown>, code: number) => {
    if (opts.json) process.stdout.write(JSON.stringify({ gate: opts.gate, endpoint, ...data }, null, 2) + '\n');
    else (code === ExitCode.OK ? process.stdout : process.stderr).write(line + '\n');
    return code;
  };
  if (opts.out && outcome.kind === 'updated') {
    const { checkPulledCopy, writePulledCopy } = await import('./pull-out.ts');
    const text = await readFile(outcome.file, 'utf8');
    const from = { gate: opts.gate, version: outcome.version, etag: outcome.etag };
    const r = opts.check ? await checkPulledCopy(opts.out, text, from) : await writePulledCopy(opts.out, text, from, Boolean(opts.force));
    return report(r.line, r.data, r.code);
  }
  switch (outcome.kind) {
    case 'updated':
      return report(`pulled org policy ${outcome.version ?? '(no version)'} (${outcome.policies} policies) into ${outcome.file}`, { status: 'updated', version: outcome.version, policies: outcome.policies, file: outcome.file }, ExitCode.OK);
    case 'unchanged':
      return report(`org policy unchanged (${cached?.meta.version ?? 'cached'}): ${cached?.file}`, { status: 'unchanged', version: cached?.meta.version ?? null, file: cached?.file ?? null }, ExitCode.OK);
    case 'no-endpoint':
      return report(`sentrail: ${endpoint} does not exist (404): this gate does not hand out its org policy; the bridge leaves every decision to it`, { status: 'no-endpoint' }, ExitCode.FAILURE);
    case 'invalid':
      return report(`sentrail: ${outcome.message}`, { status: 'invalid', message: outcome.message }, ExitCode.FAILURE);
    case 'not-policy':
      return report(`sentrail: ${outcome.message}; nothing was cached (check --gate / --cloud-url)`, { status: 'not-policy', message: outcome.message }, ExitCode.FAILURE);
    case 'refused':
      return report(`sentrail: ${outcome.message}${outcome.status === 401 ? '; check your credential' : ''}`, { status: 'refused', httpStatus: outcome.status, message: outcome.message }, outcome.status === 401 ? ExitCode.NOT_LOGGED_IN : ExitCode.FAILURE);
  }
}
