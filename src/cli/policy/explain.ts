// `sentrail policy explain`: one request in, the decision and the trace out.
import { readFile } from 'node:fs/promises';
import { explain } from '../../policy/decide.ts';
import { RISK_LEVELS, TOOLS, type Explanation, type PolicyRequest, type RiskLevel, type Tool } from '../../policy/types.ts';
import { usageError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createTerminal, type Terminal } from '../terminal.ts';
import { loadCompiled } from './load-or-fail.ts';
import { cachedOrgPolicy } from './resolve-policy.ts';

export interface ExplainOptions {
  action: string;
  tool?: string;
  agent?: string;
  risk?: string;
  resourceType?: string;
  args?: string;
  policy?: string;
  gate?: string;
  json?: boolean;
}

async function parseArgs(value: string): Promise<unknown> {
  let text = value;
  let from = '--args';
  if (value.startsWith('@')) {
    from = value.slice(1);
    try {
      text = await readFile(from, 'utf8');
    } catch (err) {
      throw usageError(`--args ${value}: cannot read ${from}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`--args: ${from === '--args' ? 'the value' : from} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function buildRequest(opts: ExplainOptions): Promise<PolicyRequest> {
  if (!opts.action) throw usageError('--action is required');
  if (opts.tool !== undefined && !(TOOLS as readonly string[]).includes(opts.tool)) {
    throw usageError(`--tool ${opts.tool}: must be one of ${TOOLS.join(', ')}`);
  }
  if (opts.risk !== undefined && !(RISK_LEVELS as readonly string[]).includes(opts.risk)) {
    throw usageError(`--risk ${opts.risk}: must be one of ${RISK_LEVELS.join(', ')}`);
  }
  const request: PolicyRequest = { action: opts.action };
  if (opts.tool) request.tool = opts.tool as Tool;
  if (opts.agent) request.agent = opts.agent;
  if (opts.risk) request.riskLevel = opts.risk as RiskLevel;
  if (opts.resourceType) request.resourceType = opts.resourceType;
  if (opts.args !== undefined) request.arguments = await parseArgs(opts.args);
  return request;
}

export async function runPolicyExplain(opts: ExplainOptions): Promise<number> {
  const request = await buildRequest(opts);
  const target = opts.policy ?? (await cachedOrgPolicy(opts.gate)).target;
  const { set } = await loadCompiled(target);
  const result = explain(set, request);
  if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(renderExplanation(result, createTerminal(process.stdout), request.riskLevel === undefined));
  return ExitCode.OK;
}

const MODE_LABEL = { allow: 'ALLOW', block: 'BLOCK', require_approval: 'REQUIRE APPROVAL' } as const;

export function renderExplanation(x: Explanation, t: Terminal, riskInferred: boolean): string {
  const c = t.color;
  const d = x.decision;
  const paint = d.mode === 'allow' ? c.green : d.mode === 'block' ? c.red : c.yellow;
  const lines: string[] = [];
  const who = d.policy ? ` (policy "${d.policy}", priority ${d.priority})` : d.source === 'kill_switch' ? ' (kill switch)' : ' (no policy matched)';
  lines.push(`${c.bold('Decision:')} ${paint.bold(MODE_LABEL[d.mode])}${who}`);
  lines.push(`${c.bold('Reason:')}   ${d.reason}`);
  const risk = x.request.riskLevel ? `  risk=${x.request.riskLevel}${riskInferred && x.request.tool === 'mcp' ? ' (inferred from the name)' : ''}` : '';
  const rt = x.request.resourceType ? `  resourceType=${x.request.resourceType}` : '';
  lines.push(`${c.bold('Request:')}  ${x.request.tool} ${x.request.action}  agent=${x.request.agent}${risk}${rt}`);
  if (d.policyVersion) lines.push(`${c.bold('Policy version:')} ${d.policyVersion}`);
  // policy.md, "Readings": the decision above is the contract's reading; the gate settles these.
  for (const u of x.uncertain) lines.push(`${c.bold('Uncertain:')} ${u} (decided by the gate)`);
  lines.push(...renderTrace(x, t));
  return lines.join('\n') + '\n';
}

export function renderTrace(x: Explanation, t: Terminal, indent = ''): string[] {
  const c = t.color;
  const lines: string[] = [];
  if (x.trace.length === 0) return lines;
  lines.push('', `${indent}${c.bold('Trace')} (evaluation order):`);
  let otherTools = 0;
  let n = 0;
  for (const e of x.trace) {
    n++;
    if (e.detail.startsWith('tool is ')) {
      otherTools++;
      continue;
    }
    const mark = e.result === 'match' ? c.green('✓') : e.result === 'error' ? c.red('!') : c.dim('✗');
    lines.push(`${indent}  ${String(n).padStart(3)}. ${mark} ${e.policy}  ${c.dim(`[priority ${e.priority}, ${e.mode}] ${e.location.file}:${e.location.line}`)}`);
    lines.push(`${indent}        ${e.result === 'match' ? e.detail : c.dim(e.detail)}`);
    if (e.uncertain) lines.push(`${indent}        ${c.yellow(`uncertain: ${e.uncertain.join(', ')} (decided by the gate)`)}`);
  }
  if (otherTools > 0) lines.push(c.dim(`${indent}  (${otherTools} ${otherTools === 1 ? 'policy' : 'policies'} for other tools not shown)`));
  return lines;
}
