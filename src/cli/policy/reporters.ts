// `policy test` output: text (streamed as files finish, like opa's pretty reporter), JSON, JUnit XML.
import type { Diagnostic } from '../../policy/diagnostics.ts';
import { formatDiagnostic } from '../../policy/diagnostics.ts';
import { closingLine, type CaseResult, type Coverage, type Summary } from '../../policy/test-runner.ts';
import type { Decision } from '../../policy/types.ts';
import type { Terminal } from '../terminal.ts';
import { renderTrace } from './explain.ts';
import type { RemoteReport } from './test-remote.ts';

export interface FileReport {
  file: string;
  /** What the file ran against (a file or folder), or null when none could be found. */
  policy: string | null;
  results: CaseResult[];
}

export interface RunReport {
  files: FileReport[];
  summary: Summary;
  coverage: Coverage | null;
  coverageThreshold: number | null;
  /** Findings that made a policy or test file invalid. */
  diagnostics: Diagnostic[];
  /** --remote: the gate's decisions beside the local ones. */
  remote?: RemoteReport | null;
}

export interface Reporter {
  file(report: FileReport): void;
  end(report: RunReport): void;
}

const describeDecision = (d: Decision) =>
  `mode=${d.mode}, policy=${d.policy === null ? '(none)' : JSON.stringify(d.policy)}${d.policyId ? `, policyId=${d.policyId}` : ''}: ${d.reason}`;

const describeExpectation = (e: CaseResult['expected']) =>
  Object.entries(e)
    .map(([k, v]) => `${k}=${v === null ? '(none)' : k === 'mode' ? v : JSON.stringify(v)}`)
    .join(', ');

export function createTextReporter(out: NodeJS.WritableStream, t: Terminal): Reporter {
  const c = t.color;
  const label = { PASS: c.green('PASS '), FAIL: c.red('FAIL '), ERROR: c.red('ERROR'), SKIP: c.yellow('SKIP ') };
  return {
    file(r) {
      const lines = [`${c.bold(r.file)}${r.policy ? c.dim(`  (policy: ${r.policy})`) : ''}`];
      for (const res of r.results) {
        lines.push(`  ${label[res.status]} ${res.name}${res.status === 'SKIP' && res.message ? c.dim(` (${res.message})`) : ''}`);
        if (res.status === 'FAIL' && res.actual) {
          lines.push(`         expected: ${describeExpectation(res.expected)}`);
          lines.push(`         actual:   ${describeDecision(res.actual)}`);
          if (res.trace) {
            lines.push(
              ...renderTrace({ decision: res.actual, request: { tool: 'mcp', action: '' }, trace: res.trace, uncertain: [] }, t, '       ').filter((l) => l !== ''),
            );
          }
        }
        if (res.status === 'ERROR') lines.push(`         ${c.red(res.message ?? 'error')}`);
        // The status is the contract's reading; say where the gate may decide otherwise.
        for (const u of res.uncertain ?? []) lines.push(c.dim(`         uncertain (decided by the gate): ${u}`));
      }
      out.write(lines.join('\n') + '\n');
    },
    end(r) {
      const lines: string[] = [''];
      if (r.coverage) {
        const cv = r.coverage;
        const pct = `${cv.percent.toFixed(1)}%`;
        const below = r.coverageThreshold !== null && cv.percent < r.coverageThreshold;
        lines.push(`Coverage: ${cv.covered}/${cv.total} enabled policies decided a case (${below ? c.red(pct) : c.green(pct)})${r.coverageThreshold !== null ? `, threshold ${r.coverageThreshold}%` : ''}`);
        for (const u of cv.uncovered) lines.push(`  not covered: "${u.name}" ${c.dim(`${u.file}:${u.line}`)}`);
        lines.push('');
      }
      if (r.remote) lines.push(...remoteLines(r.remote, c), '');
      const s = r.summary;
      const text = closingLine(s);
      lines.push(s.failed + s.errored > 0 ? c.red(text) : c.green(text));
      out.write(lines.join('\n') + '\n');
    },
  };
}

export function remoteClosingLine(r: RemoteReport): string {
  const s = r.summary;
  const parts = [`${s.agreed} agree`, `${s.disagreed} disagree`];
  if (s.errored > 0) parts.push(`${s.errored} got no decision`);
  if (s.notSent > 0) parts.push(`${s.notSent} not sent`);
  return `Remote (${r.endpoint}): ${parts.join(', ')}`;
}

function remoteLines(r: RemoteReport, c: Terminal['color']): string[] {
  const lines: string[] = [];
  const local = (l: NonNullable<RemoteReport['checks'][number]['local']>) => `${l.mode}${l.policy ? ` ("${l.policy}")` : ''}`;
  for (const k of r.checks) {
    const where = c.dim(`${k.file}:${k.line}`);
    if (k.status === 'disagree') {
      const gate = `${k.gate!.decision}${k.gate!.policy ? ` ("${k.gate!.policy}")` : ''}`;
      lines.push(`${c.red('DISAGREE')} ${k.name} ${where}: local ${local(k.local!)}, gate ${gate}`);
      for (const d of k.differences ?? []) lines.push(`         ${d}`);
      if (k.gate!.reason) lines.push(c.dim(`         gate's reason: ${k.gate!.reason}`));
    } else if (k.status === 'error') lines.push(`${c.red('NO ANSWER')} ${k.name} ${where}: ${k.message}`);
    else if (k.status === 'not-sent') lines.push(`${c.yellow('NOT SENT')} ${k.name} ${where}: ${k.message}`);
  }
  const closing = remoteClosingLine(r);
  lines.push(r.summary.disagreed + r.summary.errored > 0 ? c.red(closing) : c.green(closing));
  return lines;
}

export function createJsonReporter(out: NodeJS.WritableStream): Reporter {
  return {
    file() {},
    end(r) {
      out.write(
        JSON.stringify(
          {
            files: r.files.map((f) => ({ file: f.file, policy: f.policy, cases: f.results })),
            summary: { ...r.summary, line: closingLine(r.summary) },
            coverage: r.coverage ? { ...r.coverage, threshold: r.coverageThreshold } : null,
            diagnostics: r.diagnostics.map((d) => ({ ...d, text: formatDiagnostic(d) })),
            ...(r.remote ? { remote: { ...r.remote, summary: { ...r.remote.summary, line: remoteClosingLine(r.remote) } } } : {}),
          },
          null,
          2,
        ) + '\n',
      );
    },
  };
}

const xml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!)
    // XML 1.0 cannot carry most control characters at all.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

export function createJunitReporter(out: NodeJS.WritableStream): Reporter {
  return {
    file() {},
    end(r) {
      const suites = r.files.map((f) => {
        const count = (s: CaseResult['status']) => f.results.filter((x) => x.status === s).length;
        const cases = f.results.map((res) => {
          const open = `    <testcase name="${xml(res.name)}" classname="${xml(f.file)}">`;
          if (res.status === 'PASS') return `${open}</testcase>`;
          if (res.status === 'SKIP') return `${open}<skipped message="${xml(res.message ?? '')}"/></testcase>`;
          if (res.status === 'ERROR') return `${open}<error message="${xml(res.message ?? 'error')}"/></testcase>`;
          const body = [`expected: ${describeExpectation(res.expected)}`, `actual:   ${res.actual ? describeDecision(res.actual) : ''}`]
            .concat((res.trace ?? []).map((e) => `  ${e.result} ${e.policy} [priority ${e.priority}, ${e.mode}] ${e.location.file}:${e.location.line}: ${e.detail}`))
            .join('\n');
          return `${open}<failure message="${xml(`expected ${describeExpectation(res.expected)}, got mode=${res.actual?.mode}`)}">${xml(body)}</failure></testcase>`;
        });
        return [
          `  <testsuite name="${xml(f.file)}" tests="${f.results.length}" failures="${count('FAIL')}" errors="${count('ERROR')}" skipped="${count('SKIP')}">`,
          ...cases,
          '  </testsuite>',
        ].join('\n');
      });
      if (r.remote) suites.push(remoteSuite(r.remote));
      const s = r.summary;
      out.write(
        [
          '<?xml version="1.0" encoding="UTF-8"?>',
          `<testsuites name="sentrail policy test" tests="${s.passed + s.failed + s.errored + s.skipped}" failures="${s.failed}" errors="${s.errored}" skipped="${s.skipped}">`,
          ...suites,
          '</testsuites>',
        ].join('\n') + '\n',
      );
    },
  };
}

/** --remote as one more JUnit suite: a disagreement is a failure, no answer an error. */
function remoteSuite(r: RemoteReport): string {
  const cases = r.checks.map((k) => {
    const open = `    <testcase name="${xml(k.name)}" classname="${xml(`remote ${k.file}`)}">`;
    if (k.status === 'agree') return `${open}</testcase>`;
    if (k.status === 'not-sent') return `${open}<skipped message="${xml(k.message ?? '')}"/></testcase>`;
    if (k.status === 'error') return `${open}<error message="${xml(k.message ?? 'no answer')}"/></testcase>`;
    return `${open}<failure message="${xml((k.differences ?? []).join('; '))}">${xml(k.gate?.reason ?? '')}</failure></testcase>`;
  });
  const s = r.summary;
  return [
    `  <testsuite name="${xml(`remote ${r.endpoint}`)}" tests="${r.checks.length}" failures="${s.disagreed}" errors="${s.errored}" skipped="${s.notSent}">`,
    ...cases,
    '  </testsuite>',
  ].join('\n');
}
