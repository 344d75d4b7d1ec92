// How `sentrail approvals` prints: `--json` prints the gate's data as JSON on stdout; otherwise a
// table on a terminal, and plain tab-separated lines (one per request, no header) when stdout is
// a pipe or a file, so scripts can cut them. Plain text rather than ink: nothing here updates in
// place, and plain output keeps the command light.
import { createTerminal } from '../terminal.ts';
import type { ApprovalView, StatusBody } from './gate-api.ts';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** `2026-12-07T20:41:05.123Z` → `2026-12-07 20:41:05Z`: a table cell, not a record. */
const shortTime = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

export function printList(records: ApprovalView[]): void {
  const t = createTerminal(process.stdout);
  const rows = records.map((r) => [r.id, r.status, r.tool ?? '', r.agent, r.policy ?? '', shortTime(r.createdAt), shortTime(r.expiresAt)]);
  if (!t.isTTY) {
    for (const row of rows) out(row.join('\t'));
    return;
  }
  if (rows.length === 0) {
    out(t.color.dim('no approval requests'));
    return;
  }
  const header = ['ID', 'STATUS', 'TOOL', 'AGENT', 'POLICY', 'CREATED', 'EXPIRES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out(t.color.bold(line(header)));
  for (const row of rows) out(line(row));
}

const json = (v: unknown) => JSON.stringify(v);

/** One request, as `field: value` lines (the call's arguments and the result as JSON). */
export function printRecord(r: ApprovalView): void {
  const fields: [string, string | undefined][] = [
    ['id', r.id],
    ['status', r.status],
    ['tool', r.tool ?? undefined],
    ['arguments', json(r.arguments)],
    ['agent', r.agent],
    ['policy', r.policy ?? undefined],
    ['reason', r.reason],
    ['created', r.createdAt],
    ['expires', r.expiresAt],
    ['decided', r.decidedAt ? `${r.decidedAt} by ${r.decidedBy ?? '?'}` : undefined],
    ['decision reason', r.decisionReason],
    ['completed', r.completedAt],
    ['error', r.error ? `${r.error.reason}: ${r.error.message}` : undefined],
    ['result', r.result !== undefined ? json(r.result) : undefined],
  ];
  printFields(fields);
}

export function printStatus(id: string, s: StatusBody): void {
  printFields([
    ['id', s.approvalRequestId ?? id],
    ['status', s.status],
    ['reason', s.reason],
    ['expires', s.expiresAt],
    ['decision reason', s.decisionReason ?? undefined],
    ['error', s.error ? `${s.error.reason}: ${s.error.message}` : undefined],
    ['result', s.result !== null && s.result !== undefined ? json(s.result) : undefined],
  ]);
}

function printFields(fields: [string, string | undefined][]): void {
  const t = createTerminal(process.stdout);
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  for (const [k, v] of shown) out(`${t.color.bold(`${k}:`.padEnd(width))} ${v}`);
}
