// Property/fuzz test of `sentrail policy check` and `sentrail policy test` (docs: shared/docs/policy.md).
//
// With a fixed seed (a small mulberry32 PRNG, no Math.random) it makes 1,000+ mutations of the
// example org policy (examples/org-policy.yaml) and of a small slice of its test file
// (examples/org-policy.test.yaml), writes each into a temp folder and runs the built CLI on it
// (`policy check <file>` / `policy test <dir|file>`, alternating), four processes at a time.
//
// Kinds of mutation (at least 50 of each):
//   wrong-type      a field's value replaced by a value of another type
//   unknown-key     a key added to the document, killSwitch, a policy, conditions, a matcher,
//                   the test file, a test case, a request, an expect
//   duplicate-name  two policies (in one file or across a folder's files) or two cases share a name
//   mid-wildcard    a `*` before the end of actionPattern / toolNamePattern, any `*` in toolName
//   bad-regex       invalid syntax, backreferences, quantified groups that contain a quantifier
//   missing-field   name, tool, actionPattern, mode, priority; a case's name, request, expect,
//                   action; the test file's cases; an empty expect
//   broken-yaml     text mutations: unbalanced brackets, bad indentation, tabs, truncation,
//                   duplicate keys
//   json            the (sometimes mutated) document as JSON, sometimes broken as text
// Structural kinds mutate the data parsed with the `yaml` package (either its Document, which
// keeps the example's comments and flow style, or the plain value) and serialize it again.
//
// Asserted for every run: exit code 0, 1 or 2 (`policy check`: 0 or 2); on exit 2 a
// `file:line: code: message` line (or a `sentrail: …` line); never a stack trace or
// "unexpected error". For mutations that must be invalid: exit 2 and a diagnostic with the
// expected code on the mutated field's line (or, for a text mutation, on a line next to it).
// For a document only converted to JSON: exit 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, stringify, type Document, type Node } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'sentrail.js');
const DIST = path.join(ROOT, 'dist', 'cli.js');
const EXAMPLE_POLICY = path.join(ROOT, 'examples', 'org-policy.yaml');
const EXAMPLE_TESTS = path.join(ROOT, 'examples', 'org-policy.test.yaml');

const SEED = 0x5e17a11;
const PER_KIND = 125; // 8 kinds → 1,000 runs
const MIN_PER_KIND = 50;
const CONCURRENCY = 4;
const CASES_PER_TEST_FILE = 3;
const KEEP_FAILED_DIRS = 10;

// ─── seeded randomness ───────────────────────────────────────────────────────────────────────

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  /** A random permutation (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  /** `n` distinct items, in their original order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const idx = this.shuffle(items.map((_, i) => i)).slice(0, n).sort((a, b) => a - b);
    return idx.map((i) => items[i]!);
  }
}

// ─── mutations as data ───────────────────────────────────────────────────────────────────────

type Path = (string | number)[];
type Op = { op: 'set'; path: Path; value: unknown } | { op: 'delete'; path: Path };
type Target = 'policy' | 'test';
type Kind = 'wrong-type' | 'unknown-key' | 'duplicate-name' | 'mid-wildcard' | 'bad-regex' | 'missing-field' | 'broken-yaml' | 'json';
const KINDS: Kind[] = ['wrong-type', 'unknown-key', 'duplicate-name', 'mid-wildcard', 'bad-regex', 'missing-field', 'broken-yaml', 'json'];

/** A structural mutation of one file; `lines` are the fields whose line a diagnostic must name. */
interface Structural {
  target: Target;
  ops: Op[];
  desc: string;
  /** Must the CLI reject it? (false: it may by chance leave the document valid) */
  mustInvalid: boolean;
  codes: string[];
  /** Paths in the mutated file whose line (key line; with `withValue`, also the value's first line) is accepted. */
  linePaths: Path[];
  withValue?: boolean;
  /** A second policy file of the folder (duplicate names across files); the oracle is about it. */
  extraPolicy?: unknown;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function setPlain(root: unknown, p: Path, value: unknown): unknown {
  if (p.length === 0) return value;
  let node = root as Rec;
  for (const seg of p.slice(0, -1)) {
    let child = (node as Record<string | number, unknown>)[seg];
    if (!isRec(child) && !Array.isArray(child)) {
      child = {};
      defineOwn(node, seg, child);
    }
    node = child as Rec;
  }
  defineOwn(node, p[p.length - 1]!, value);
  return root;
}

/** Own data property even for `__proto__` (a plain assignment would set the prototype). */
function defineOwn(obj: object, key: string | number, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function deletePlain(root: unknown, p: Path): void {
  let node = root as Record<string | number, unknown>;
  for (const seg of p.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
  delete node[p[p.length - 1]!];
}

function applyPlain(base: unknown, ops: Op[]): unknown {
  let value = structuredClone(base);
  for (const o of ops) {
    if (o.op === 'set') value = setPlain(value, o.path, structuredClone(o.value));
    else deletePlain(value, o.path);
  }
  return value;
}

function applyDocument(text: string, ops: Op[]): string {
  const doc = parseDocument(text, { version: '1.2' }) as Document.Parsed;
  for (const o of ops) {
    if (o.op === 'delete') doc.deleteIn(o.path);
    else if (o.path.length === 0) doc.contents = doc.createNode(o.value) as never;
    else doc.setIn(o.path, doc.createNode(o.value));
  }
  return String(doc);
}

/** The same document with the keys of each policy / test case in a random order (meaning unchanged). */
function shuffleItemKeys(rng: Rng, doc: unknown): unknown {
  if (!isRec(doc)) return doc;
  for (const listKey of ['policies', 'cases']) {
    const list = doc[listKey];
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      if (!isRec(item)) return;
      const order = rng.shuffle(Object.keys(item));
      const out = {};
      for (const key of order) defineOwn(out, key, item[key]);
      list[i] = out;
    });
  }
  return doc;
}

// ─── the base documents ──────────────────────────────────────────────────────────────────────

interface Base {
  policyText: string;
  policy: Rec & { policies: Rec[] };
  caseBlocks: string[];
}

function loadBase(): Base {
  const policyText = readFileSync(EXAMPLE_POLICY, 'utf8');
  const testText = readFileSync(EXAMPLE_TESTS, 'utf8');
  // Cut the test file into its case blocks (each starts at `  - name:`), keeping their flow style.
  const caseBlocks: string[] = [];
  let current: string[] | null = null;
  for (const line of testText.split('\n')) {
    if (/^ {2}- name:/.test(line)) {
      if (current) caseBlocks.push(current.join('\n').trimEnd());
      current = [line];
    } else if (current) current.push(line);
  }
  if (current) caseBlocks.push(current.join('\n').trimEnd());
  return { policyText, policy: parse(policyText), caseBlocks };
}

/** A small test file: a few of the example's cases, sometimes with `policy:`. */
function makeTestText(rng: Rng, base: Base, policyFile: string): string {
  const blocks = rng.sample(base.caseBlocks, CASES_PER_TEST_FILE);
  const head = rng.chance(0.3) ? `policy: ./${policyFile}\n` : '';
  return `${head}cases:\n${blocks.join('\n\n')}\n`;
}

// ─── structural generators ───────────────────────────────────────────────────────────────────

type TypeClass = 'string' | 'integer' | 'float' | 'boolean' | 'list' | 'mapping' | 'null';
const SAMPLES: Record<TypeClass, unknown[]> = {
  string: ['oops', '10', 'true', 'a list'],
  integer: [42, -3, 0],
  float: [2.5],
  boolean: [true, false],
  list: [[], ['a', 1]],
  mapping: [{}, { k: 'v' }],
  null: [null],
};
const ALL_TYPES = Object.keys(SAMPLES) as TypeClass[];

interface FieldSpec {
  path: Path;
  accepts: TypeClass[];
  /** null is accepted (taken as absent) by the loader, so it is not a wrong type here. */
  nullOk?: boolean;
}

const STRING: TypeClass[] = ['string'];
const RISK = ['low', 'medium', 'high', 'critical'];

function policyFields(policy: Rec & { policies: Rec[] }, i: number): FieldSpec[] {
  const p = policy.policies[i]!;
  const at = (...rest: Path): Path => ['policies', i, ...rest];
  const out: FieldSpec[] = [
    { path: at(), accepts: ['mapping'] },
    { path: at('name'), accepts: STRING },
    { path: at('tool'), accepts: STRING },
    { path: at('actionPattern'), accepts: STRING },
    { path: at('mode'), accepts: STRING },
    { path: at('priority'), accepts: ['integer'] },
    { path: at('enabled'), accepts: ['boolean'] },
    { path: at('toolName'), accepts: STRING, nullOk: true },
    { path: at('toolNamePattern'), accepts: STRING, nullOk: true },
    { path: at('resourceType'), accepts: STRING, nullOk: true },
    { path: at('riskLevel'), accepts: STRING, nullOk: true },
    { path: at('id'), accepts: STRING, nullOk: true },
    { path: at('conditions'), accepts: ['mapping'], nullOk: true },
  ];
  const c = p.conditions;
  if (isRec(c)) {
    for (const key of ['allowedAgents', 'blockedAgents'] as const) {
      if (!Array.isArray(c[key])) continue;
      out.push({ path: at('conditions', key), accepts: ['list'] });
      (c[key] as unknown[]).forEach((_, j) => out.push({ path: at('conditions', key, j), accepts: STRING }));
    }
    for (const key of ['minRiskLevel', 'maxRiskLevel']) if (key in c) out.push({ path: at('conditions', key), accepts: STRING });
    if (isRec(c.arguments)) {
      out.push({ path: at('conditions', 'arguments'), accepts: ['mapping'] });
      for (const [pointer, matcher] of Object.entries(c.arguments)) {
        out.push({ path: at('conditions', 'arguments', pointer), accepts: ['mapping'] });
        for (const mk of Object.keys(matcher as Rec)) {
          const accepts: Record<string, TypeClass[]> = { oneOf: ['list'], prefix: STRING, regex: STRING, exists: ['boolean'] };
          if (accepts[mk]) out.push({ path: at('conditions', 'arguments', pointer, mk), accepts: accepts[mk]! });
        }
      }
    }
  }
  return out;
}

function testFields(test: Rec & { cases: Rec[] }, i: number): FieldSpec[] {
  const at = (...rest: Path): Path => ['cases', i, ...rest];
  return [
    { path: at(), accepts: ['mapping'] },
    { path: at('name'), accepts: STRING },
    { path: at('skip'), accepts: ['string', 'boolean'] },
    { path: at('request'), accepts: ['mapping'] },
    { path: at('request', 'action'), accepts: STRING },
    { path: at('request', 'agent'), accepts: STRING },
    { path: at('request', 'tool'), accepts: STRING },
    { path: at('request', 'riskLevel'), accepts: STRING },
    { path: at('request', 'resourceType'), accepts: STRING },
    { path: at('expect'), accepts: ['mapping'] },
    { path: at('expect', 'mode'), accepts: STRING },
    { path: at('expect', 'policy'), accepts: STRING, nullOk: true },
    { path: at('expect', 'policyId'), accepts: STRING, nullOk: true },
  ];
}

function genWrongType(rng: Rng, target: Target, policy: Base['policy'], test: Rec & { cases: Rec[] }): Structural {
  let field: FieldSpec;
  if (target === 'policy') {
    field = rng.chance(0.15)
      ? rng.pick<FieldSpec>([
          { path: [], accepts: ['mapping'] },
          { path: ['version'], accepts: STRING },
          { path: ['policies'], accepts: ['list'] },
          { path: ['killSwitch'], accepts: ['mapping'] },
          { path: ['killSwitch', 'global'], accepts: ['boolean'] },
          { path: ['killSwitch', 'toolsPaused'], accepts: ['list'] },
        ])
      : rng.pick(policyFields(policy, rng.int(policy.policies.length)));
  } else {
    field = rng.chance(0.15)
      ? rng.pick<FieldSpec>([
          { path: [], accepts: ['mapping'] },
          { path: ['policy'], accepts: STRING },
          { path: ['cases'], accepts: ['list'] },
        ])
      : rng.pick(testFields(test, rng.int(test.cases.length)));
  }
  const wrong = ALL_TYPES.filter((t) => !field.accepts.includes(t) && !(t === 'null' && field.nullOk));
  const type = rng.pick(wrong);
  const value = rng.pick(SAMPLES[type]);
  return {
    target,
    ops: [{ op: 'set', path: field.path, value }],
    desc: `${pathText(field.path)} = ${JSON.stringify(value)} (${type})`,
    mustInvalid: true,
    codes: ['wrong-type', 'invalid-value'],
    linePaths: [field.path],
    withValue: true,
  };
}

const UNKNOWN_KEYS = [
  'description', 'comment', 'Name', 'Mode', 'priorty', 'allowed_agents', 'x-note', 'weird.key', 'a[0]',
  'we"ird', 'a:b', '1', '', 'toolname', 'Equals', 'regexp', 'when', '__proto__', 'constructor', 'toString',
];
const UNKNOWN_VALUES: unknown[] = ['x', 1, true, null, ['a'], { k: 'v' }];

function genUnknownKey(rng: Rng, target: Target, policy: Base['policy'], test: Rec & { cases: Rec[] }): Structural {
  let where: Path;
  let label: string;
  const extraOps: Op[] = [];
  if (target === 'policy') {
    const withConditions = policy.policies.map((p, i) => (isRec(p.conditions) ? i : -1)).filter((i) => i >= 0);
    const withMatchers = policy.policies.map((p, i) => (isRec(p.conditions) && isRec(p.conditions.arguments) ? i : -1)).filter((i) => i >= 0);
    label = rng.pick(['document', 'killSwitch', 'policy', 'policy', 'conditions', 'conditions', 'matcher', 'matcher']);
    if (label === 'document') where = [];
    else if (label === 'killSwitch') where = ['killSwitch'];
    else if (label === 'policy') where = ['policies', rng.int(policy.policies.length)];
    else if (label === 'conditions') where = ['policies', rng.pick(withConditions), 'conditions'];
    else if (rng.chance(0.6)) {
      const i = rng.pick(withMatchers);
      const args = (policy.policies[i]!.conditions as Rec).arguments as Rec;
      where = ['policies', i, 'conditions', 'arguments', rng.pick(Object.keys(args))];
    } else {
      // a new matcher, valid but for the unknown key
      where = ['policies', rng.int(policy.policies.length), 'conditions', 'arguments', '/fuzz'];
      extraOps.push({ op: 'set', path: where, value: rng.pick([{ equals: 'x' }, { prefix: 'acme/' }, { exists: true }, { oneOf: [1, 2] }]) });
    }
  } else {
    label = rng.pick(['test file', 'case', 'request', 'request', 'expect', 'expect']);
    const i = rng.int(test.cases.length);
    where = label === 'test file' ? [] : label === 'case' ? ['cases', i] : ['cases', i, label];
  }
  const key = rng.pick(UNKNOWN_KEYS);
  const value = rng.pick(UNKNOWN_VALUES);
  const keyPath = [...where, key];
  return {
    target,
    ops: [...extraOps, { op: 'set', path: keyPath, value }],
    desc: `unknown key ${JSON.stringify(key)} in the ${label} at ${pathText(where) || '(root)'}`,
    mustInvalid: true,
    codes: ['unknown-key'],
    linePaths: [keyPath],
  };
}

function genDuplicateName(rng: Rng, target: Target, policy: Base['policy'], test: Rec & { cases: Rec[] }, allowExtra: boolean): Structural {
  if (target === 'test') {
    const [i, j] = rng.sample(test.cases.map((_, k) => k), 2) as [number, number];
    const [from, to] = rng.chance(0.5) ? [i, j] : [j, i];
    return {
      target,
      ops: [{ op: 'set', path: ['cases', to, 'name'], value: test.cases[from]!.name }],
      desc: `cases[${to}].name = cases[${from}].name`,
      mustInvalid: true,
      codes: ['duplicate-name'],
      linePaths: [['cases', i, 'name'], ['cases', j, 'name']],
    };
  }
  const n = policy.policies.length;
  if (allowExtra && rng.chance(0.2)) {
    const i = rng.int(n);
    const clone = structuredClone(policy.policies[rng.int(n)]!);
    clone.name = policy.policies[i]!.name;
    return {
      target,
      ops: [],
      desc: `a second policy file repeats the name of policies[${i}]`,
      mustInvalid: true,
      codes: ['duplicate-name'],
      linePaths: [['policies', 0, 'name']],
      extraPolicy: { policies: [clone] },
    };
  }
  const [i, j] = rng.sample([...Array(n).keys()], 2) as [number, number];
  const [from, to] = rng.chance(0.5) ? [i, j] : [j, i];
  return {
    target,
    ops: [{ op: 'set', path: ['policies', to, 'name'], value: policy.policies[from]!.name }],
    desc: `policies[${to}].name = policies[${from}].name (${JSON.stringify(policy.policies[from]!.name)})`,
    mustInvalid: true,
    codes: ['duplicate-name'],
    linePaths: [['policies', i, 'name'], ['policies', j, 'name']],
  };
}

const MID_WILDCARDS = ['de*lete', '*_issue', '*delete*', 'pull_request.*.create', '**', 'a**', '*.create', 'issue*comment.*', 'delete_*_repo', '*x*'];
const TOOL_NAME_STARS = [...MID_WILDCARDS, 'create_*', '*', 'delete_*'];

function genMidWildcard(rng: Rng, policy: Base['policy']): Structural {
  const i = rng.int(policy.policies.length);
  // A `*` inside actionPattern / toolNamePattern loads (an uncertain glob, docs/policy.md); in the
  // exact toolName any `*` is still an error.
  const field = 'toolName';
  const value = rng.pick(TOOL_NAME_STARS);
  const p: Path = ['policies', i, field];
  return {
    target: 'policy',
    ops: [{ op: 'set', path: p, value }],
    desc: `${pathText(p)} = ${JSON.stringify(value)}`,
    mustInvalid: true,
    codes: ['bad-wildcard'],
    linePaths: [p],
  };
}

const BAD_REGEXES = {
  syntax: ['(', '[a-', 'a{2,1}', '*a', '(?<n>a', 'a)', '[z-a]', '\\p{Nope}', '\\q', 'x{', '(?<a>x)(?<a>y)', 'a)|(b', ')('],
  backreference: ['(a)\\1', '(?<x>a)\\k<x>', '(a)(b)\\2', '(a)|\\1b'],
  nested: ['(a+)+', '(a*)*', '(x|y+)*', '((ab)*)+', '(a{2,})+', '(?:a+)+', '([a-z]+)*', '(\\d+)+', '(a+){2}'],
};

function genBadRegex(rng: Rng, policy: Base['policy']): Structural {
  const family = rng.pick(Object.keys(BAD_REGEXES) as (keyof typeof BAD_REGEXES)[]);
  const regex = rng.pick(BAD_REGEXES[family]);
  const withMatchers = policy.policies.map((p, i) => (isRec(p.conditions) && isRec(p.conditions.arguments) ? i : -1)).filter((i) => i >= 0);
  let matcherPath: Path;
  if (rng.chance(0.5)) {
    const i = rng.pick(withMatchers);
    const pointer = rng.pick(Object.keys((policy.policies[i]!.conditions as Rec).arguments as Rec));
    matcherPath = ['policies', i, 'conditions', 'arguments', pointer];
  } else {
    matcherPath = ['policies', rng.int(policy.policies.length), 'conditions', 'arguments', rng.pick(['/q', '/query', '/a/b', '/x~1y'])];
  }
  return {
    target: 'policy',
    ops: [{ op: 'set', path: matcherPath, value: { regex } }],
    desc: `${pathText(matcherPath)} = {regex: ${JSON.stringify(regex)}} (${family})`,
    mustInvalid: true,
    codes: ['invalid-regex', 'unsafe-regex'],
    linePaths: [[...matcherPath, 'regex']],
  };
}

function genMissingField(rng: Rng, target: Target, policy: Base['policy'], test: Rec & { cases: Rec[] }): Structural {
  if (target === 'policy') {
    const i = rng.int(policy.policies.length);
    const field = rng.pick(['name', 'tool', 'actionPattern', 'mode', 'priority']);
    return {
      target,
      ops: [{ op: 'delete', path: ['policies', i, field] }],
      desc: `policies[${i}] without ${field}`,
      mustInvalid: true,
      codes: ['missing-field'],
      linePaths: [['policies', i]],
      withValue: true,
    };
  }
  const i = rng.int(test.cases.length);
  const what = rng.pick(['name', 'request', 'expect', 'action', 'action', 'cases', 'empty expect']);
  if (what === 'cases') {
    return { target, ops: [{ op: 'delete', path: ['cases'] }], desc: 'test file without cases', mustInvalid: true, codes: ['missing-field'], linePaths: [[]], withValue: true };
  }
  if (what === 'empty expect') {
    return { target, ops: [{ op: 'set', path: ['cases', i, 'expect'], value: {} }], desc: `cases[${i}].expect = {}`, mustInvalid: true, codes: ['invalid-value', 'missing-field'], linePaths: [['cases', i, 'expect']], withValue: true };
  }
  if (what === 'action') {
    return { target, ops: [{ op: 'delete', path: ['cases', i, 'request', 'action'] }], desc: `cases[${i}].request without action`, mustInvalid: true, codes: ['missing-field'], linePaths: [['cases', i, 'request']], withValue: true };
  }
  return { target, ops: [{ op: 'delete', path: ['cases', i, what] }], desc: `cases[${i}] without ${what}`, mustInvalid: true, codes: ['missing-field'], linePaths: [['cases', i]], withValue: true };
}

// ─── text mutations ──────────────────────────────────────────────────────────────────────────

interface TextBreak {
  text: string;
  desc: string;
  /** Lines (1-based, inclusive) where the error may be reported; null: the text may still be valid. */
  window: [number, number] | null;
}

const isContent = (line: string) => line.trim() !== '' && !line.trim().startsWith('#');
const indentOf = (line: string) => /^ */.exec(line)![0].length;

/** 1-based number of the first content line after the 0-based line `i` (the last line when none). */
function nextContentLine(lines: string[], i: number): number {
  for (let k = i + 1; k < lines.length; k++) if (isContent(lines[k]!)) return k + 1;
  return lines.length;
}

function pickLine(rng: Rng, lines: string[], ok: (line: string, i: number) => boolean): number | null {
  const idx = lines.map((l, i) => (ok(l, i) ? i : -1)).filter((i) => i >= 0);
  return idx.length === 0 ? null : rng.pick(idx);
}

function breakYaml(rng: Rng, text: string): TextBreak {
  const lines = text.split('\n');
  const done = (i: number, desc: string, window: [number, number] | null): TextBreak => ({ text: lines.join('\n'), desc: `${desc} (line ${i + 1})`, window });
  for (;;) {
    const how = rng.pick(['tab', 'unclosed-bracket', 'extra-bracket', 'open-bracket', 'indent-more', 'indent-less', 'truncate', 'duplicate-key', 'duplicate-key']);
    switch (how) {
      case 'tab': {
        const i = pickLine(rng, lines, (l) => isContent(l) && indentOf(l) > 0);
        if (i === null) continue;
        lines[i] = '\t' + lines[i]!.trimStart();
        return done(i, 'tab as indentation', [i, i + 2]);
      }
      case 'unclosed-bracket': {
        // the parser notices at the next content line at the latest
        const i = pickLine(rng, lines, (l) => isContent(l) && /[\]}]\s*(#.*)?$/.test(l) && /[[{]/.test(l));
        if (i === null) continue;
        lines[i] = lines[i]!.replace(/[\]}](\s*(#.*)?)$/, '$1');
        return done(i, 'closing bracket removed', [i + 1, nextContentLine(lines, i)]);
      }
      case 'extra-bracket': {
        const i = pickLine(rng, lines, (l) => isContent(l) && /[\]}]\s*$/.test(l) && /[[{]/.test(l));
        if (i === null) continue;
        lines[i] = lines[i]!.replace(/([\]}])\s*$/, '$1$1');
        return done(i, 'extra closing bracket', [i + 1, i + 2]);
      }
      case 'open-bracket': {
        const i = pickLine(rng, lines, (l) => isContent(l) && /^\s*(- )?[\w"]+: \S/.test(l));
        if (i === null) continue;
        lines[i] = lines[i]!.replace(/: (\S)/, `: ${rng.pick(['[', '{'])}$1`);
        return done(i, 'unmatched opening bracket', [i + 1, nextContentLine(lines, i)]);
      }
      case 'indent-more': {
        // a `key: value` line pushed right under a sibling `key: scalar` line: always an error
        const i = pickLine(rng, lines, (l, k) => {
          const prev = lines[k - 1];
          return k > 0 && /^\s*[\w]+: [^\s#[{]/.test(l) && prev !== undefined && /^\s*[\w]+: [^\s#[{|>&*!]/.test(prev) && indentOf(prev) === indentOf(l);
        });
        if (i === null) continue;
        lines[i] = ' '.repeat(1 + rng.int(3)) + lines[i];
        return done(i, 'line indented under its sibling', [i, i + 1]);
      }
      case 'indent-less': {
        const i = pickLine(rng, lines, (l) => isContent(l) && indentOf(l) > 0);
        if (i === null) continue;
        lines[i] = lines[i]!.slice(Math.min(indentOf(lines[i]!), 1 + rng.int(2)));
        return done(i, 'line de-indented', null);
      }
      case 'truncate': {
        const cut = 1 + rng.int(text.length - 2);
        return { text: text.slice(0, cut), desc: `truncated at offset ${cut} of ${text.length}`, window: null };
      }
      case 'duplicate-key': {
        if (rng.chance(0.3)) {
          // inside a flow mapping
          const i = pickLine(rng, lines, (l) => isContent(l) && /\{ ?[\w]+: [^,}]+,/.test(l));
          if (i === null) continue;
          lines[i] = lines[i]!.replace(/\{ ?([\w]+: [^,}]+),/, '{ $1, $1,');
          return done(i, 'duplicate key in a flow mapping', [i + 1, i + 1]);
        }
        const i = pickLine(rng, lines, (l) => isContent(l) && /^\s*(- )?[\w]+:( |$)/.test(l));
        if (i === null) continue;
        const line = lines[i]!;
        const copy = line.replace(/^(\s*)- /, '$1  ');
        lines.splice(i + 1, 0, copy);
        return done(i, 'duplicate key', [i + 1, i + 2]);
      }
    }
  }
}

function breakJson(rng: Rng, text: string): TextBreak {
  const lines = text.split('\n');
  const compact = lines.length === 1;
  const done = (i: number, desc: string, window: [number, number]): TextBreak => ({ text: lines.join('\n'), desc: `${desc} (line ${i + 1})`, window });
  for (;;) {
    const how = rng.pick(['remove-comma', 'trailing-comma', 'unquote-key', 'single-quotes', 'truncate', 'duplicate-key', 'comment', 'trailing-garbage']);
    switch (how) {
      case 'remove-comma': {
        if (compact) {
          const commas = [...text.matchAll(/,"/g)].map((m) => m.index!);
          if (commas.length === 0) continue;
          const at = rng.pick(commas);
          return { text: text.slice(0, at) + text.slice(at + 1), desc: `comma removed at offset ${at}`, window: [1, 1] };
        }
        const i = pickLine(rng, lines, (l) => l.endsWith(','));
        if (i === null) continue;
        lines[i] = lines[i]!.slice(0, -1);
        return done(i, 'comma removed', [i + 1, i + 2]);
      }
      case 'trailing-comma': {
        if (compact) {
          const ends = [...text.matchAll(/[^{[](?=[}\]])/g)].map((m) => m.index! + 1);
          if (ends.length === 0) continue;
          const at = rng.pick(ends);
          return { text: text.slice(0, at) + ',' + text.slice(at), desc: `trailing comma at offset ${at}`, window: [1, 1] };
        }
        const i = pickLine(rng, lines, (l, k) => !/[{[,]$/.test(l) && l.trim() !== '' && /^\s*[}\]]/.test(lines[k + 1] ?? ''));
        if (i === null) continue;
        lines[i] = lines[i] + ',';
        return done(i, 'trailing comma', [i + 1, i + 2]);
      }
      case 'unquote-key': {
        const i = pickLine(rng, lines, (l) => /"[A-Za-z]\w*":/.test(l));
        if (i === null) continue;
        const keys = [...lines[i]!.matchAll(/"([A-Za-z]\w*)":/g)];
        const m = rng.pick(keys);
        lines[i] = lines[i]!.slice(0, m.index!) + `${m[1]}:` + lines[i]!.slice(m.index! + m[0].length);
        return done(i, `key ${m[1]} unquoted`, [i + 1, i + 1]);
      }
      case 'single-quotes': {
        const i = pickLine(rng, lines, (l) => /: "[^"\\]*"/.test(l));
        if (i === null) continue;
        lines[i] = lines[i]!.replace(/: "([^"\\]*)"/, ": '$1'");
        return done(i, 'single-quoted string', [i + 1, i + 1]);
      }
      case 'truncate': {
        if (text.trimEnd().length < 8) continue;
        const cut = 1 + rng.int(text.trimEnd().length - 2);
        const cutText = text.slice(0, cut);
        const all = cutText.split('\n');
        let lastContent = all.length;
        while (lastContent > 1 && all[lastContent - 1]!.trim() === '') lastContent--;
        return { text: cutText, desc: `truncated at offset ${cut} of ${text.length}`, window: [lastContent, all.length] };
      }
      case 'duplicate-key': {
        if (compact) continue;
        const i = pickLine(rng, lines, (l) => /^\s*"[^"]+": [^{[]*,$/.test(l));
        if (i === null) continue;
        lines.splice(i + 1, 0, lines[i]!);
        return done(i, 'duplicate key', [i + 1, i + 2]);
      }
      case 'comment': {
        if (compact) {
          if (!text.includes('{')) continue;
          return { text: text.replace('{', '{ /* note */ '), desc: 'a comment', window: [1, 1] };
        }
        const i = rng.int(lines.length - 1);
        lines.splice(i + 1, 0, '// note');
        return done(i + 1, 'a // comment line', [i + 2, i + 2]);
      }
      case 'trailing-garbage': {
        const extra = rng.pick(['}', ']', 'x', '{}', ',']);
        const out = text.trimEnd() + '\n' + extra + '\n';
        const n = out.split('\n').length - 1;
        return { text: out, desc: `trailing ${JSON.stringify(extra)}`, window: [n, n] };
      }
    }
  }
}

// ─── line oracle ─────────────────────────────────────────────────────────────────────────────

/** Lines of a field in a (valid) YAML or JSON text: its key's line, and with `withValue` its value's first line. */
function fieldLines(text: string, p: Path, withValue: boolean): number[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/\t/g, ' '), { version: '1.2', uniqueKeys: false, lineCounter });
  const at = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  let node: unknown = doc.contents;
  let lines = [at((node as Node | null)?.range?.[0]) ?? 1];
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value ?? '') === String(seg));
      if (!pair) throw new Error(`oracle: no ${JSON.stringify(seg)} at ${pathText(p)}`);
      const value = pair.value as Node | null;
      lines = [at((pair.key as Node).range?.[0])!, ...(withValue && value?.range ? [at(value.range[0])!] : [])];
      node = value;
    } else if (isSeq(node)) {
      const item = node.items[seg as number] as Node | undefined;
      if (!item) throw new Error(`oracle: no item ${String(seg)} at ${pathText(p)}`);
      lines = [at(item.range?.[0])!];
      node = item;
    } else {
      throw new Error(`oracle: cannot descend into ${pathText(p)}`);
    }
  }
  return [...new Set(lines)];
}

function pathText(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_]\w*$/.test(s) ? `${i === 0 ? '' : '.'}${s}` : `[${JSON.stringify(s)}]`)).join('');
}

// ─── specs ───────────────────────────────────────────────────────────────────────────────────

interface Spec {
  id: number;
  kind: Kind;
  desc: string;
  files: { name: string; text: string }[];
  command: 'check' | 'test';
  /** CLI arguments after `policy`; `{dir}` is the run's folder. */
  args: string[];
  /** The run must exit 2 with a diagnostic of one of these codes on one of these lines of this file. */
  invalid: { file: string; codes: string[]; lines: number[] } | null;
  /** The run must exit 0 (a valid document, only converted). */
  mustPass: boolean;
}

function buildSpecs(): Spec[] {
  const rng = new Rng(SEED);
  const base = loadBase();
  const specs: Spec[] = [];
  let policyRuns = 0;
  let testRuns = 0;

  const chooseRun = (target: Target, policyName: string, testName: string, folder = false): { command: Spec['command']; args: string[] } => {
    if (target === 'policy') {
      const n = policyRuns++;
      if (n % 2 === 0) return { command: 'check', args: ['check', folder ? '{dir}' : `{dir}/${policyName}`] };
      return { command: 'test', args: ['test', '{dir}'] };
    }
    const n = testRuns++;
    return { command: 'test', args: ['test', n % 2 === 0 ? '{dir}' : `{dir}/${testName}`] };
  };

  const structural = (rng: Rng, kind: Kind, target: Target, policy: Base['policy'], test: Rec & { cases: Rec[] }, allowExtra: boolean): Structural => {
    switch (kind) {
      case 'wrong-type':
        return genWrongType(rng, target, policy, test);
      case 'unknown-key':
        return genUnknownKey(rng, target, policy, test);
      case 'duplicate-name':
        return genDuplicateName(rng, target, policy, test, allowExtra);
      case 'mid-wildcard':
        return genMidWildcard(rng, policy);
      case 'bad-regex':
        return genBadRegex(rng, policy);
      case 'missing-field':
        return genMissingField(rng, target, policy, test);
      default:
        throw new Error(`not a structural kind: ${kind}`);
    }
  };
  const targetFor = (kind: Kind): Target =>
    kind === 'mid-wildcard' || kind === 'bad-regex' ? 'policy' : rng.chance(kind === 'duplicate-name' ? 0.7 : 0.55) ? 'policy' : 'test';

  for (let n = 0; n < PER_KIND * KINDS.length; n++) {
    const kind = KINDS[n % KINDS.length]!;
    const id = n;
    const json = kind === 'json';
    const policyName = json && rng.chance(0.8) ? 'org-policy.json' : 'org-policy.yaml';
    const testName = json && rng.chance(0.5) ? 'org-policy.test.json' : 'org-policy.test.yaml';
    const testText = makeTestText(rng, base, policyName);
    const test = parse(testText) as Rec & { cases: Rec[] };

    if (kind === 'broken-yaml') {
      const target: Target = rng.chance(0.55) ? 'policy' : 'test';
      const source = target === 'policy' ? (rng.chance(0.75) ? base.policyText : stringify(base.policy)) : rng.chance(0.75) ? testText : stringify(test);
      const broken = breakYaml(rng, source);
      const mutatedName = target === 'policy' ? policyName : testName;
      const run = chooseRun(target, policyName, testName);
      specs.push({
        id, kind, desc: `${target}: ${broken.desc}`,
        files: [
          { name: policyName, text: target === 'policy' ? broken.text : base.policyText },
          { name: testName, text: target === 'test' ? broken.text : testText },
        ],
        ...run,
        invalid: broken.window ? { file: mutatedName, codes: ['parse-error', 'duplicate-key'], lines: range(broken.window) } : null,
        mustPass: false,
      });
      continue;
    }

    if (!json) {
      const target = targetFor(kind);
      const s = structural(rng, kind, target, base.policy, test, true);
      const baseText = target === 'policy' ? base.policyText : testText;
      const baseValue = target === 'policy' ? base.policy : test;
      const viaDocument = rng.chance(0.5);
      // re-serialized from the plain value, the keys of policies and cases are sometimes reordered
      const reorder = !viaDocument && rng.chance(0.3);
      const text = viaDocument ? applyDocument(baseText, s.ops) : stringify(reorder ? shuffleItemKeys(rng, applyPlain(baseValue, s.ops)) : applyPlain(baseValue, s.ops));
      const files = [
        { name: policyName, text: target === 'policy' ? text : base.policyText },
        { name: testName, text: target === 'test' ? text : testText },
      ];
      let oracleFile = target === 'policy' ? policyName : testName;
      let oracleText = text;
      if (s.extraPolicy) {
        // the folder is the policy: the test file must not name one file of it
        files[1]!.text = files[1]!.text.replace(/^policy: .*\n/, '');
        oracleFile = 'zz-more.yaml';
        oracleText = stringify(s.extraPolicy);
        files.push({ name: oracleFile, text: oracleText });
      }
      const run = chooseRun(target, policyName, testName, Boolean(s.extraPolicy));
      specs.push({
        id, kind, desc: `${target}: ${s.desc}${viaDocument ? '' : reorder ? ' [re-serialized, keys reordered]' : ' [re-serialized]'}`,
        files, ...run,
        invalid: s.mustInvalid ? { file: oracleFile, codes: s.codes, lines: s.linePaths.flatMap((p) => fieldLines(oracleText, p, Boolean(s.withValue))) } : null,
        mustPass: false,
      });
      continue;
    }

    // json: the document (sometimes mutated) as JSON, sometimes broken as text
    const target: Target = rng.chance(0.6) ? 'policy' : 'test';
    const jsonName = target === 'policy' ? 'org-policy.json' : 'org-policy.test.json';
    const otherPolicyName = target === 'policy' ? jsonName : policyName;
    const testFor = target === 'policy' ? parse(makeTestText(rng, base, jsonName)) as Rec & { cases: Rec[] } : test;
    const s = rng.chance(0.6)
      ? structural(rng, rng.pick<Kind>(target === 'policy' ? ['wrong-type', 'unknown-key', 'duplicate-name', 'mid-wildcard', 'bad-regex', 'missing-field'] : ['wrong-type', 'unknown-key', 'duplicate-name', 'missing-field']), target, base.policy, testFor, false)
      : null;
    const value = applyPlain(target === 'policy' ? base.policy : testFor, s?.ops ?? []);
    const indent = rng.pick<string | number | undefined>([2, 2, '\t', undefined]);
    let text = JSON.stringify(value, null, indent) + '\n';
    let brokenBy: TextBreak | null = null;
    if (rng.chance(0.5)) {
      brokenBy = breakJson(rng, text);
      text = brokenBy.text;
    }
    const otherTestName = target === 'test' ? jsonName : rng.chance(0.5) ? 'org-policy.test.json' : 'org-policy.test.yaml';
    const files =
      target === 'policy'
        ? [{ name: jsonName, text }, { name: otherTestName, text: otherTestName.endsWith('.json') ? JSON.stringify(testFor, null, 2) : stringify(testFor) }]
        : [{ name: otherPolicyName, text: otherPolicyName.endsWith('.json') ? JSON.stringify(base.policy, null, 2) : base.policyText }, { name: jsonName, text }];
    const run = chooseRun(target, jsonName, target === 'test' ? jsonName : otherTestName);
    let invalid: Spec['invalid'] = null;
    if (brokenBy) invalid = { file: jsonName, codes: ['parse-error', 'duplicate-key'], lines: range(brokenBy.window!) };
    else if (s?.mustInvalid) invalid = { file: jsonName, codes: s.codes, lines: s.linePaths.flatMap((p) => fieldLines(text, p, Boolean(s.withValue))) };
    specs.push({
      id, kind,
      desc: `${target} as JSON (${indent === undefined ? 'one line' : indent === '\t' ? 'tabs' : 'indented'})${s ? `: ${s.desc}` : ''}${brokenBy ? `; broken: ${brokenBy.desc}` : ''}`,
      files, ...run, invalid,
      mustPass: !s && !brokenBy,
    });
  }
  return specs;
}

function range([a, b]: [number, number]): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

// ─── running ─────────────────────────────────────────────────────────────────────────────────

interface RunResult {
  code: number | null;
  signal: string | null;
  output: string;
  ms: number;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'policy', ...args], { cwd: ROOT, env, timeout: 30_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string | null }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        output: `${stdout}${stderr}`,
        ms: Date.now() - start,
      });
    });
  });
}

async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const DIAGNOSTIC = /^[^\s:][^:]*:\d+: (warning: )?[a-z-]+: .+/m;
const DIAGNOSTIC_PARTS = /^([^\s:][^:]*):(\d+): (warning: )?([a-z-]+): (.+)$/gm;
const STACK = /\n\s+at .+\(.*:\d+:\d+\)/;

/** Every problem with one run; empty when it behaved. */
function judge(spec: Spec, r: RunResult): string[] {
  const problems: string[] = [];
  const allowed = spec.command === 'check' ? [0, 2] : [0, 1, 2];
  if (r.code === null || !allowed.includes(r.code)) problems.push(`exit code ${r.code ?? `signal ${r.signal}`}, expected one of ${allowed.join(', ')}`);
  if (STACK.test(r.output)) problems.push('the output holds a stack trace');
  if (/unexpected error/i.test(r.output)) problems.push('the output says "unexpected error"');
  if (r.code === 2 && !DIAGNOSTIC.test(r.output) && !/^sentrail: /m.test(r.output)) problems.push('exit 2 without a `file:line: code: message` line');
  if (spec.command === 'test' && (r.code === 0 || r.code === 1) && !/^\d+ passed, \d+ failed/m.test(r.output)) problems.push('no closing `N passed, N failed` line');
  if (spec.mustPass && r.code !== 0) problems.push(`a valid document (only converted to JSON) exited ${r.code}`);
  if (spec.invalid) {
    const inv = spec.invalid;
    if (r.code !== 2) problems.push(`must be invalid (exit 2), exited ${r.code}`);
    else {
      const diags = [...r.output.matchAll(DIAGNOSTIC_PARTS)].map((m) => ({ file: m[1]!, line: Number(m[2]), warning: Boolean(m[3]), code: m[4]!, text: m[0] }));
      const inFile = diags.filter((d) => !d.warning && path.basename(d.file) === inv.file);
      if (!inFile.some((d) => inv.codes.includes(d.code) && inv.lines.includes(d.line))) {
        problems.push(
          `no ${inv.codes.join('|')} error on ${inv.file} line ${inv.lines.join('|')}; got: ${inFile.length === 0 ? '(none)' : inFile.slice(0, 4).map((d) => `${path.basename(d.file)}:${d.line}: ${d.code}`).join('; ')}`,
        );
      }
    }
  }
  return problems;
}

test('policy check / policy test survive 1,000+ seeded mutations of the example policy and its tests', { timeout: 600_000 }, async (t) => {
  assert.ok(existsSync(DIST), `${path.relative(ROOT, DIST)} is missing: run \`npm run build\` first (\`npm test\` builds before testing)`);
  const started = Date.now();
  const specs = buildSpecs();
  const builtMs = Date.now() - started;

  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'sentrail-fuzz-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  env.SENTRAIL_CACHE_DIR = path.join(tmpRoot, '.cache');
  env.SENTRAIL_CONFIG_DIR = path.join(tmpRoot, '.config');
  env.SENTRAIL_STATE_DIR = path.join(tmpRoot, '.state');

  const failures: { spec: Spec; result: RunResult; problems: string[]; dir: string | null }[] = [];
  try {
    // Controls: the unmutated example passes both commands.
    const base = loadBase();
    const controlDir = await mkdtemp(path.join(tmpRoot, 'control-'));
    await writeFile(path.join(controlDir, 'org-policy.yaml'), base.policyText);
    await writeFile(path.join(controlDir, 'org-policy.test.yaml'), readFileSync(EXAMPLE_TESTS, 'utf8'));
    for (const args of [['test', controlDir], ['check', path.join(controlDir, 'org-policy.yaml')]]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, `control run \`sentrail policy ${args.join(' ')}\` must exit 0:\n${r.output}`);
    }

    const results = await pool(specs, CONCURRENCY, async (spec) => {
      const dir = await mkdtemp(path.join(tmpRoot, `m${String(spec.id).padStart(4, '0')}-`));
      for (const f of spec.files) await writeFile(path.join(dir, f.name), f.text);
      const result = await runCli(spec.args.map((a) => a.replace('{dir}', dir)), env);
      const problems = judge(spec, result);
      const keep = problems.length > 0 && failures.length < KEEP_FAILED_DIRS;
      if (problems.length > 0) failures.push({ spec, result, problems, dir: keep ? dir : null });
      if (!keep) await rm(dir, { recursive: true, force: true });
      return result;
    });

    // Summary
    const perKind = new Map<Kind, { total: number; invalid: number; exits: Record<string, number> }>();
    const perExit: Record<string, number> = {};
    specs.forEach((spec, i) => {
      const exit = String(results[i]!.code ?? results[i]!.signal);
      const k = perKind.get(spec.kind) ?? { total: 0, invalid: 0, exits: {} };
      k.total++;
      if (spec.invalid) k.invalid++;
      k.exits[exit] = (k.exits[exit] ?? 0) + 1;
      perKind.set(spec.kind, k);
      perExit[exit] = (perExit[exit] ?? 0) + 1;
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      `policy fuzz: ${specs.length} mutations (seed 0x${SEED.toString(16)}) built in ${builtMs} ms, run in ${seconds}s with ${CONCURRENCY} at a time`,
      `commands: policy check ${specs.filter((x) => x.command === 'check').length}, policy test ${specs.filter((x) => x.command === 'test').length}; slowest run ${Math.max(...results.map((r) => r.ms))} ms`,
      `exit codes: ${Object.entries(perExit).map(([c, n]) => `${c}: ${n}`).join(', ')}`,
      ...KINDS.map((kind) => {
        const k = perKind.get(kind)!;
        return `  ${kind.padEnd(15)} ${String(k.total).padStart(4)} runs, ${String(k.invalid).padStart(4)} must be invalid; exits ${Object.entries(k.exits).sort().map(([c, n]) => `${c}: ${n}`).join(', ')}`;
      }),
      `failures: ${failures.length}`,
    ];
    for (const line of lines) t.diagnostic(line);

    assert.ok(specs.length >= 1000, `only ${specs.length} mutations`);
    for (const kind of KINDS) {
      const n = perKind.get(kind)?.total ?? 0;
      assert.ok(n >= MIN_PER_KIND, `only ${n} mutations of kind ${kind} (at least ${MIN_PER_KIND})`);
    }
    if (failures.length > 0) {
      failures.sort((a, b) => a.spec.id - b.spec.id);
      const shown = failures.slice(0, 15).map(({ spec, result, problems, dir }) =>
        [
          `#${spec.id} [${spec.kind}] ${spec.desc}`,
          `  sentrail policy ${spec.args.join(' ')}  → exit ${result.code}`,
          ...problems.map((p) => `  ✗ ${p}`),
          `  folder: ${dir ?? '(removed)'}`,
          ...result.output.split('\n').slice(0, 6).map((l) => `  | ${l.slice(0, 200)}`),
        ].join('\n'),
      );
      const rest = failures.slice(15).map(({ spec, result, problems }) => `#${spec.id} [${spec.kind}] ${spec.desc} → exit ${result.code}: ${problems.join('; ')}`);
      const byKind = KINDS.map((k) => `${k}: ${failures.filter((f) => f.spec.kind === k).length}`).join(', ');
      assert.fail(`${failures.length} of ${specs.length} runs misbehaved (${byKind}):\n\n${shown.join('\n\n')}${rest.length > 0 ? `\n\n${rest.join('\n')}` : ''}`);
    }
  } finally {
    if (failures.length === 0) await rm(tmpRoot, { recursive: true, force: true });
    else t.diagnostic(`kept the folders of the first failing runs under ${tmpRoot}`);
  }
});
