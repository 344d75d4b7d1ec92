// `sentrail policy fmt`'s core: one policy file's text → its canonical text (docs/policy.md,
// "Formatting"). Key order, policy order and quoting are fixed; comments are kept (the `yaml`
// Document API carries them on the nodes they sit by, so they move with them). Pure: no I/O.
//
// Formatting must never change a decision, so policies are put in the engine's own evaluation
// order (compareEvaluationOrder), and the result is loaded again and compared field by field with
// the input before it is handed out: anything the formatter might get wrong is refused instead.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { isDeepStrictEqual } from 'node:util';
import { compareEvaluationOrder } from './compile.ts';
import { hasErrors, type Diagnostic } from './diagnostics.ts';
import { loadPolicyText } from './load.ts';
import type { Policy, PolicyDocument } from './types.ts';

/** Top-level keys, in this order. */
export const DOCUMENT_KEY_ORDER = ['version', 'killSwitch', 'policies'] as const;
/**
 * A policy's keys: the contract's table order (shared docs/policy.md, "A policy"), then the two
 * fields only the "Policy engine" page names.
 */
export const POLICY_KEY_ORDER = [
  'name', 'tool', 'actionPattern', 'toolName', 'toolNamePattern', 'resourceType', 'riskLevel', 'conditions',
  'mode', 'priority', 'enabled', 'id', 'workspaceId', 'actionType',
] as const;
/** The contract's conditions table, then the Policy engine page's three. `arguments` pointers keep their order. */
export const CONDITION_KEY_ORDER = [
  'allowedAgents', 'blockedAgents', 'minRiskLevel', 'maxRiskLevel', 'arguments',
  'allowedResourceTypes', 'blockedResourceTypes', 'customRules',
] as const;
export const KILL_SWITCH_KEY_ORDER = ['global', 'toolsPaused', 'enabledAt', 'enabledBy'] as const;

export interface FormatOptions {
  /** Shown in diagnostics; its extension says JSON or YAML unless `json` is given. */
  file: string;
  /**
   * The output: JSON (`true`) or YAML (`false`). JSON text is YAML too, so a served JSON document
   * with `json: false` comes out as canonical YAML (what `policy pull --out` writes).
   */
  json?: boolean;
}

export type FormatResult =
  | { ok: true; text: string; changed: boolean }
  | { ok: false; diagnostics: Diagnostic[] };

export function formatPolicyText(text: string, opts: FormatOptions): FormatResult {
  const json = opts.json ?? /\.json$/i.test(opts.file);
  const loaded = loadPolicyText(text, opts.file);
  if (hasErrors(loaded.diagnostics)) return { ok: false, diagnostics: loaded.diagnostics.filter((d) => d.severity === 'error') };
  const order = evaluationOrder(loaded.document);
  let out: string | Diagnostic[];
  if (json) out = formatJson(text, order);
  else out = formatYaml(text, opts.file, order);
  if (Array.isArray(out)) return { ok: false, diagnostics: out };
  const unsafe = sameDocument(loaded.document, out, opts.file);
  if (unsafe) return { ok: false, diagnostics: [unsafe] };
  return { ok: true, text: out, changed: out !== text };
}

/** Positions of the file's policies in the engine's evaluation order (stable: equal ones keep their order). */
function evaluationOrder(doc: PolicyDocument): number[] {
  return [...doc.policies].sort(compareEvaluationOrder).map((p) => p.index);
}

function rank(order: readonly string[], key: string): number {
  const i = order.indexOf(key);
  // Keys no list names (none validate today) go last, in the order written.
  return i === -1 ? order.length : i;
}

// ---- JSON: no comments to keep, so plain values, two-space indentation, one trailing newline.

function orderedObject(value: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const keys = Object.keys(value).map((k, i) => ({ k, i })).sort((a, b) => rank(order, a.k) - rank(order, b.k) || a.i - b.i);
  const out: Record<string, unknown> = {};
  for (const { k } of keys) out[k] = value[k];
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function formatJson(text: string, order: number[]): string {
  const root = orderedObject(JSON.parse(text) as Record<string, unknown>, DOCUMENT_KEY_ORDER);
  if (isRecord(root.killSwitch)) root.killSwitch = orderedObject(root.killSwitch, KILL_SWITCH_KEY_ORDER);
  if (Array.isArray(root.policies)) {
    const policies = root.policies as Record<string, unknown>[];
    root.policies = order.map((i) => {
      const p = orderedObject(policies[i]!, POLICY_KEY_ORDER);
      if (isRecord(p.conditions)) p.conditions = orderedObject(p.conditions, CONDITION_KEY_ORDER);
      return p;
    });
  }
  return JSON.stringify(root, null, 2) + '\n';
}

// ---- YAML: the Document API, so comments stay with the node they were written by.

function formatYaml(text: string, file: string, order: number[]): string | Diagnostic[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, lineCounter });
  const refused = refuseAnchors(doc, file, lineCounter);
  if (refused.length > 0) return refused;
  normalizeStyle(doc);
  const root = doc.contents;
  if (isMap(root)) {
    // A comment right above the file's first key is the file's header: it stays on top, above
    // whichever key comes first now (and without a blank line it did not have).
    let header: string | undefined;
    liftFirstKeyComment(root, (c) => (header = c));
    sortPairs(root, DOCUMENT_KEY_ORDER);
    const firstKey = (root.items[0] as Pair | undefined)?.key;
    if (header !== undefined && isScalar(firstKey)) firstKey.commentBefore = firstKey.commentBefore ? `${header}\n${firstKey.commentBefore}` : header;
    const killSwitch = root.get('killSwitch', true);
    if (isMap(killSwitch)) sortPairs(killSwitch, KILL_SWITCH_KEY_ORDER);
    const policies = root.get('policies', true);
    if (isSeq(policies)) {
      for (const item of policies.items) {
        if (!isMap(item)) continue;
        // A comment above `- name: …` is parsed onto the first key; it is about the whole policy.
        liftFirstKeyComment(item, (c) => (item.commentBefore = item.commentBefore ? `${item.commentBefore}\n${c}` : c));
        sortPairs(item, POLICY_KEY_ORDER);
        const conditions = item.get('conditions', true);
        if (isMap(conditions)) sortPairs(conditions, CONDITION_KEY_ORDER);
      }
      const pair = root.items.find((i) => keyOf(i as Pair) === 'policies') as Pair;
      reorderItems(policies, order, keyLineHasComment(text, pair.key, lineCounter));
    }
  }
  return doc.toString({ lineWidth: 0, singleQuote: false, flowCollectionPadding: false, indentSeq: true });
}

/**
 * An anchor or alias shares one value between places; reordering could put the alias before its
 * anchor, and writing it out expanded would lose the sharing. Refused, with where it is.
 */
function refuseAnchors(doc: Document, file: string, lines: LineCounter): Diagnostic[] {
  const found: Diagnostic[] = [];
  // A mapping's range starts at its first key, below `key: &anchor`: the holding key's line is the one to name.
  const lineOf = (node: Node, path: readonly unknown[]) => {
    const parent = path[path.length - 1];
    const at = isPair(parent) && parent.value === node && isScalar(parent.key) ? parent.key : node;
    return lines.linePos(at.range?.[0] ?? 0).line;
  };
  visit(doc, {
    Alias(_, node, path) {
      found.push({ severity: 'error', code: 'yaml-alias', file, line: lineOf(node, path), message: `the alias *${node.source} cannot be formatted safely; write the value out in full` });
    },
    Node(_, node, path) {
      if (!isAlias(node) && node.anchor) {
        found.push({ severity: 'error', code: 'yaml-alias', file, line: lineOf(node, path), message: `the anchor &${node.anchor} cannot be formatted safely; write the value out in full where it is used` });
      }
    },
  });
  return found;
}

/**
 * One quoting and one collection style everywhere: strings plain when YAML reads them back as the
 * same string, else double-quoted (block scalars, `|` and `>`, are kept: they are a choice about
 * long text); mappings in block style; lists of scalars on one line (`[a, b]`) unless one of their
 * items carries a comment, which only a block list can keep.
 */
function normalizeStyle(doc: Document): void {
  visit(doc, {
    Scalar(_, node) {
      if (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED') delete node.type;
    },
    Map(_, node) {
      // `{}` has no block form.
      node.flow = node.items.length === 0;
    },
    Seq(_, node) {
      const scalars = node.items.every((item) => isScalar(item) && !item.comment && !item.commentBefore && item.type !== 'BLOCK_LITERAL' && item.type !== 'BLOCK_FOLDED');
      node.flow = scalars && !node.comment;
      if (node.flow) for (const item of node.items) (item as Node).spaceBefore = false;
    },
  });
}

/** Takes the comment above a mapping's first key off the key (it would move with it) and hands it to `put`. */
function liftFirstKeyComment(map: YAMLMap, put: (comment: string) => void): void {
  const first = map.items[0] as Pair | undefined;
  if (!first || !isScalar(first.key) || !first.key.commentBefore) return;
  put(first.key.commentBefore);
  delete first.key.commentBefore;
}

const keyOf = (pair: Pair): string => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key));

/**
 * A comment written just above the first `- ` of a list is parsed onto the list, so it would stay
 * on top when the items move; it is handed to that first item so it moves with it. A comment at
 * the end of the `policies:` line is parsed onto the list too (as its first line): that one is
 * about the list and stays.
 */
function handCommentToFirstItem(seq: YAMLSeq, keyLineComment: boolean): void {
  const first = seq.items[0] as Node | undefined;
  if (!seq.commentBefore || !first) return;
  const lines = seq.commentBefore.split('\n');
  const kept = keyLineComment ? lines.slice(0, 1) : [];
  const moved = lines.slice(kept.length).join('\n');
  if (kept.length > 0) seq.commentBefore = kept.join('\n');
  else delete seq.commentBefore;
  if (moved === '') return;
  first.commentBefore = first.commentBefore ? `${moved}\n${first.commentBefore}` : moved;
}

/** Whether the source line of a key ends in a comment (`policies: # …`). */
function keyLineHasComment(text: string, key: unknown, lines: LineCounter): boolean {
  if (!isScalar(key) || !key.range) return false;
  const line = text.split('\n')[lines.linePos(key.range[0]).line - 1] ?? '';
  const start = lines.linePos(key.range[0]).col - 1;
  return /^\S[^:]*:\s*#/.test(line.slice(start).replace(/^(["'])(?:(?!\1).)*\1/, 'k'));
}

function sortPairs(map: YAMLMap, order: readonly string[]): void {
  const items = map.items as Pair[];
  const sorted = items.map((pair, i) => ({ pair, i })).sort((a, b) => rank(order, keyOf(a.pair)) - rank(order, keyOf(b.pair)) || a.i - b.i);
  map.items = sorted.map((s) => s.pair);
  // No blank line before the first key of a mapping: it would follow its parent's key.
  const first = map.items[0] as Pair | undefined;
  if (first && isScalar(first.key)) first.key.spaceBefore = false;
}

function reorderItems(seq: YAMLSeq, order: number[], keyLineComment: boolean): void {
  handCommentToFirstItem(seq, keyLineComment);
  const items = seq.items;
  seq.items = order.map((i) => items[i]);
  const first = seq.items[0] as Node | undefined;
  if (first) first.spaceBefore = false;
}

// ---- The safety check: the formatted text must load to the same document, in evaluation order.

type Comparable = Omit<Policy, 'index' | 'location'>;

function comparable(p: Policy): Comparable {
  const { index: _index, location: _location, ...rest } = p;
  return rest;
}

function sameDocument(before: PolicyDocument, text: string, file: string): Diagnostic | null {
  const after = loadPolicyText(text, file);
  const unsafe = (why: string): Diagnostic => ({ severity: 'error', code: 'format-unsafe', file, line: 0, message: `formatting would change the document (${why}); the file was left as it is — please report this` });
  if (hasErrors(after.diagnostics)) return unsafe('the result does not load');
  const expected = [...before.policies].sort(compareEvaluationOrder).map(comparable);
  const actual = after.document.policies.map(comparable);
  // Key order is what formatting changes, so the comparison ignores it (isDeepStrictEqual does).
  if (!isDeepStrictEqual(expected, actual)) return unsafe('a policy differs');
  if (before.version !== after.document.version) return unsafe('the version differs');
  if (!isDeepStrictEqual(before.killSwitch, after.document.killSwitch)) return unsafe('the kill switch differs');
  return null;
}
