// Test files (policy.md, "Testing a policy"): `policy:` (optional, relative to the file) and
// `cases:` with a request and a partial expectation. Parsed with the same file:line reporting.
import type { Diagnostic, DiagnosticCode } from './diagnostics.ts';
import { fieldPath, parseSource, type ParsedSource } from './source.ts';
import { MODES, RISK_LEVELS, TOOLS, type Mode, type PolicyRequest } from './types.ts';

export interface Expectation {
  mode?: Mode;
  /** `null` asserts that no policy matched. */
  policy?: string | null;
  policyId?: string | null;
}

export interface TestCase {
  name: string;
  request: PolicyRequest;
  expect: Expectation;
  skip?: string;
  line: number;
}

export interface TestFile {
  file: string;
  /** The `policy:` value as written (resolved against the file's folder by the caller). */
  policy?: string;
  cases: TestCase[];
}

const FILE_KEYS = ['policy', 'cases'];
const CASE_KEYS = ['name', 'request', 'expect', 'skip'];
const REQUEST_KEYS = ['tool', 'action', 'riskLevel', 'agent', 'resourceType', 'arguments'];
const EXPECT_KEYS = ['mode', 'policy', 'policyId'];

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parseTestFile(text: string, file: string): { testFile: TestFile | null; diagnostics: Diagnostic[] } {
  const parsed = parseSource(text, file);
  if (!parsed.ok) return { testFile: null, diagnostics: parsed.diagnostics };
  const src = parsed.source;
  const diagnostics: Diagnostic[] = [];
  const error = (code: DiagnosticCode, field: string, message: string) =>
    diagnostics.push({ severity: 'error', code, file, line: src.lineOf(field), field, message });
  const root = src.value;
  if (!isRecord(root)) {
    error('wrong-type', '', `a test file must be a mapping with \`cases\`, got ${root === null || root === undefined ? 'an empty document' : typeof root}`);
    return { testFile: null, diagnostics };
  }
  unknown(root, FILE_KEYS, '', 'test file', error);
  const testFile: TestFile = { file, cases: [] };
  if ('policy' in root) {
    if (typeof root.policy === 'string' && root.policy !== '') testFile.policy = root.policy;
    else error('wrong-type', 'policy', 'policy must be a path (a non-empty string), relative to this test file');
  }
  if (!Array.isArray(root.cases)) {
    error(root.cases === undefined ? 'missing-field' : 'wrong-type', 'cases', 'cases must be a list of test cases');
  } else {
    const names = new Map<string, number>();
    root.cases.forEach((raw, i) => {
      const c = parseCase(raw, fieldPath('cases', i), src, error);
      if (!c) return;
      const seen = names.get(c.name);
      if (seen !== undefined) error('duplicate-name', fieldPath(fieldPath('cases', i), 'name'), `case name "${c.name}" is already used on line ${seen}`);
      names.set(c.name, c.line);
      testFile.cases.push(c);
    });
  }
  return { testFile: diagnostics.length === 0 ? testFile : null, diagnostics };
}

/**
 * A list of requests (`policy diff --requests`): YAML or JSON, a list of request mappings, or a
 * mapping `{requests: [...]}`; each checked as a test case's request is, with file:line.
 */
export function parseRequestList(text: string, file: string): { requests: PolicyRequest[] | null; diagnostics: Diagnostic[] } {
  const parsed = parseSource(text, file);
  if (!parsed.ok) return { requests: null, diagnostics: parsed.diagnostics };
  const src = parsed.source;
  const diagnostics: Diagnostic[] = [];
  const error: ErrorFn = (code, field, message) => diagnostics.push({ severity: 'error', code, file, line: src.lineOf(field), field, message });
  const root = src.value;
  const list = Array.isArray(root) ? root : isRecord(root) && Array.isArray(root.requests) ? root.requests : null;
  const base = Array.isArray(root) ? '' : 'requests';
  if (!list) {
    error('wrong-type', '', 'expected a list of requests ({action, agent?, tool?, riskLevel?, resourceType?, arguments?}), or a test file with cases');
    return { requests: null, diagnostics };
  }
  const requests: PolicyRequest[] = [];
  list.forEach((raw, i) => {
    const r = parseRequest(raw, fieldPath(base, i), error);
    if (r) requests.push(r);
  });
  return { requests: diagnostics.length === 0 ? requests : null, diagnostics };
}

type ErrorFn = (code: DiagnosticCode, field: string, message: string) => void;

function unknown(obj: Record<string, unknown>, allowed: string[], path: string, what: string, error: ErrorFn): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) error('unknown-key', fieldPath(path, key), `${fieldPath(path, key)} is not a known ${what} key (expected one of ${allowed.join(', ')})`);
  }
}

function parseCase(raw: unknown, path: string, src: ParsedSource, error: ErrorFn): TestCase | null {
  if (!isRecord(raw)) {
    error('wrong-type', path, `${path} must be a mapping (a test case)`);
    return null;
  }
  let errors = 0;
  const err: ErrorFn = (...a) => {
    errors++;
    error(...a);
  };
  const at = (k: string) => fieldPath(path, k);
  unknown(raw, CASE_KEYS, path, 'test case', err);
  if (typeof raw.name !== 'string' || raw.name === '') err(raw.name === undefined ? 'missing-field' : 'wrong-type', at('name'), `${at('name')} must be a non-empty string`);
  if ('skip' in raw && typeof raw.skip !== 'string' && raw.skip !== true) err('wrong-type', at('skip'), `${at('skip')} must be a reason (a string) or true`);
  const request = parseRequest(raw.request, at('request'), err);
  const expect = parseExpect(raw.expect, at('expect'), err);
  if (errors > 0 || !request || !expect) return null;
  const c: TestCase = { name: raw.name as string, request, expect, line: src.lineOf(path) };
  if (raw.skip !== undefined) c.skip = raw.skip === true ? 'skipped' : (raw.skip as string);
  return c;
}

function parseRequest(raw: unknown, path: string, err: ErrorFn): PolicyRequest | null {
  if (!isRecord(raw)) {
    err(raw === undefined ? 'missing-field' : 'wrong-type', path, `${path} must be a mapping {action, agent?, tool?, riskLevel?, resourceType?, arguments?}`);
    return null;
  }
  const at = (k: string) => fieldPath(path, k);
  unknown(raw, REQUEST_KEYS, path, 'request', err);
  let ok = true;
  const fail: ErrorFn = (...a) => {
    ok = false;
    err(...a);
  };
  if (typeof raw.action !== 'string' || raw.action === '') fail(raw.action === undefined ? 'missing-field' : 'wrong-type', at('action'), `${at('action')} must be a non-empty string`);
  if ('tool' in raw && !(TOOLS as readonly unknown[]).includes(raw.tool)) fail('invalid-value', at('tool'), `${at('tool')} must be one of ${TOOLS.join(', ')}`);
  if ('riskLevel' in raw && !(RISK_LEVELS as readonly unknown[]).includes(raw.riskLevel)) fail('invalid-value', at('riskLevel'), `${at('riskLevel')} must be one of ${RISK_LEVELS.join(', ')}`);
  for (const k of ['agent', 'resourceType'] as const) {
    if (k in raw && typeof raw[k] !== 'string') fail('wrong-type', at(k), `${at(k)} must be a string`);
  }
  if (!ok) return null;
  const request: PolicyRequest = { action: raw.action as string };
  if (raw.tool !== undefined) request.tool = raw.tool as PolicyRequest['tool'];
  if (raw.riskLevel !== undefined) request.riskLevel = raw.riskLevel as PolicyRequest['riskLevel'];
  if (raw.agent !== undefined) request.agent = raw.agent as string;
  if (raw.resourceType !== undefined) request.resourceType = raw.resourceType as string;
  if ('arguments' in raw) request.arguments = raw.arguments;
  return request;
}

function parseExpect(raw: unknown, path: string, err: ErrorFn): Expectation | null {
  if (!isRecord(raw)) {
    err(raw === undefined ? 'missing-field' : 'wrong-type', path, `${path} must be a mapping {mode?, policy?, policyId?}`);
    return null;
  }
  const at = (k: string) => fieldPath(path, k);
  unknown(raw, EXPECT_KEYS, path, 'expect', err);
  let ok = Object.keys(raw).length > 0;
  if (!ok) err('invalid-value', path, `${path} must state at least one of mode, policy, policyId`);
  const expect: Expectation = {};
  if ('mode' in raw) {
    if ((MODES as readonly unknown[]).includes(raw.mode)) expect.mode = raw.mode as Mode;
    else {
      ok = false;
      err('invalid-value', at('mode'), `${at('mode')} must be one of ${MODES.join(', ')}`);
    }
  }
  for (const k of ['policy', 'policyId'] as const) {
    if (!(k in raw)) continue;
    if (typeof raw[k] === 'string' || raw[k] === null) expect[k] = raw[k] as string | null;
    else {
      ok = false;
      err('wrong-type', at(k), `${at(k)} must be a string, or null for "no policy matched"`);
    }
  }
  return ok ? expect : null;
}
