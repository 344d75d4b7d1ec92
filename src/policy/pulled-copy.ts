// The org policy as files in a repository (`sentrail policy pull --out`): one formatted YAML file,
// or one file per policy with a stable name, each headed by where it came from (gate, version,
// ETag). And the other way (`--check`): whether a repository copy still says what the gate says.
// Pure: texts in, texts out.
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { compareEvaluationOrder } from './compile.ts';
import { formatDiagnostic, type Diagnostic } from './diagnostics.ts';
import { formatPolicyText } from './format.ts';
import { diffDocuments } from './diff.ts';
import type { PolicyDocument } from './types.ts';

export interface PulledFrom {
  gate: string;
  version: string | null;
  etag: string | null;
}

const MARK = '# Pulled by `sentrail policy pull`';

/** The header every pulled file starts with; no date, so pulling an unchanged policy changes no file. */
export function pulledHeader(from: PulledFrom): string {
  return [
    `${MARK} from ${from.gate}`,
    `# version: ${from.version ?? '(none)'}, ETag: ${from.etag ?? '(none)'}`,
    '# Change the org policy at the gate, then pull again; `sentrail policy pull --check` fails while this copy is behind.',
    '',
  ].join('\n');
}

/** True for a file this command wrote (so a later pull may replace or remove it). */
export function isPulledFile(text: string): boolean {
  return text.startsWith(MARK);
}

export type Rendered = { ok: true; files: { name: string; text: string }[] } | { ok: false; message: string };

type Served = { version?: string | null; killSwitch?: unknown; policies: Record<string, unknown>[] };

/** The served document (JSON) as one canonical YAML file. */
export function renderOneFile(served: Served, from: PulledFrom, name: string): Rendered {
  const made = canonical(pulledHeader(from) + stringify(served, { lineWidth: 0 }), name);
  return 'text' in made ? { ok: true, files: [{ name, text: made.text }] } : { ok: false, message: made.message };
}

/**
 * One file per policy, named from the policy's name (`No deleting anything` → `no-deleting-anything.yaml`),
 * and `_org.yaml` with the version and the kill switch. A folder loads in file-name order, and
 * among policies of equal priority and mode the first in the document decides: where the file
 * names would reorder such a pair, the folder cannot say the same, and it is refused.
 */
export function renderPerPolicy(served: Served, from: PulledFrom): Rendered {
  const header = pulledHeader(from);
  const files: { name: string; text: string; policy?: Record<string, unknown> }[] = [];
  const org: Record<string, unknown> = {};
  if (served.version !== undefined && served.version !== null) org.version = served.version;
  if (served.killSwitch !== undefined) org.killSwitch = served.killSwitch;
  org.policies = [];
  const used = new Set<string>(['_org']);
  for (const policy of served.policies) {
    const base = slug(String(policy.name ?? 'policy'));
    let stem = base;
    for (let n = 2; used.has(stem); n++) stem = `${base}-${n}`;
    used.add(stem);
    files.push({ name: `${stem}.yaml`, text: '', policy });
  }
  // The order the loader will read them in (load.ts sorts the names).
  const byName = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const clash = reorderedTie(served.policies, byName.map((f) => f.policy!));
  if (clash) return { ok: false, message: clash };
  const out: { name: string; text: string }[] = [];
  for (const [name, body] of [['_org.yaml', org] as const, ...files.map((f) => [f.name, { policies: [f.policy] }] as const)]) {
    const made = canonical(header + stringify(body, { lineWidth: 0 }), name);
    if (!('text' in made)) return { ok: false, message: made.message };
    out.push({ name, text: made.text });
  }
  return { ok: true, files: out };
}

function slug(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
  return s === '' ? 'policy' : s;
}

/** A pair of enabled policies with equal priority and mode whose order the file names would swap. */
function reorderedTie(documentOrder: Record<string, unknown>[], fileOrder: Record<string, unknown>[]): string | null {
  const at = new Map(fileOrder.map((p, i) => [p, i]));
  for (let i = 0; i < documentOrder.length; i++) {
    for (let j = i + 1; j < documentOrder.length; j++) {
      const a = documentOrder[i]!;
      const b = documentOrder[j]!;
      if (a.enabled === false || b.enabled === false || a.priority !== b.priority || a.mode !== b.mode) continue;
      if (at.get(a)! > at.get(b)!) {
        return `policies "${String(a.name)}" and "${String(b.name)}" share priority ${String(a.priority)} and mode ${String(a.mode)}, so the first in the document decides; one file per policy would put them the other way round. Pull into one file (--out FILE.yaml) instead`;
      }
    }
  }
  return null;
}

/** The file's canonical text, or why it cannot be written (the document loaded at the gate, so a formatter limit). */
function canonical(text: string, name: string): { text: string } | { message: string } {
  const formatted = formatPolicyText(text, { file: name });
  if (formatted.ok) return { text: formatted.text };
  return { message: `cannot write ${name}: ${formatted.diagnostics.map((d: Diagnostic) => formatDiagnostic(d)).join('; ')}` };
}

/** What a repository copy says differently from the gate's document (diff.ts's comparison); empty when the same. */
export function copyDifferences(repo: PolicyDocument, gate: PolicyDocument): string[] {
  const d = diffDocuments(repo, gate);
  const shown = (v: unknown) => (v === undefined || v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
  const out = d.document.map((f) => `${f.field}: the repository has ${shown(f.before)}, the gate ${shown(f.after)}`);
  for (const p of d.added) out.push(`policy "${p.name}": only at the gate`);
  for (const p of d.removed) out.push(`policy "${p.name}": only in the repository`);
  for (const c of d.changed) out.push(`policy "${c.name}": ${c.fields.map((f) => f.field).join(', ')} ${c.fields.length === 1 ? 'differs' : 'differ'}`);
  // Same policies, same fields: the order the engine reads them in can still differ (ties).
  if (out.length === 0) {
    const order = (doc: PolicyDocument) => [...doc.policies].filter((p) => p.enabled).sort(compareEvaluationOrder).map((p) => p.name);
    if (!isDeepStrictEqual(order(repo), order(gate))) out.push('the policies are the same, but the engine would read them in another order (equal priorities)');
  }
  return out;
}
