// Turns parsed policy files into one PolicyDocument, collecting every schema finding with its file,
// line and field (policy.md, "The document" and "Checking a policy"). Pure: no I/O.
import type { Diagnostic, DiagnosticCode } from './diagnostics.ts';
import { parsePointer } from './matchers.ts';
import { compileAnchoredRegex } from './regex-safety.ts';
import { AMBIGUITY_FIELD, AMBIGUITY_TEXT, ambiguitiesOf, type Ambiguity } from './readings.ts';
import { fieldPath, type ParsedSource } from './source.ts';
import {
  MODES,
  RISK_LEVELS,
  TOOLS,
  type Conditions,
  type KillSwitch,
  type Matcher,
  type Policy,
  type PolicyDocument,
  type PolicyTool,
  type RiskLevel,
  type Tool,
} from './types.ts';

const DOCUMENT_KEYS = ['version', 'policies', 'killSwitch'];
// Every key some Sentrail page names (the contract's, plus the "Policy engine" page's
// `workspaceId`, `actionType` and three conditions); anything else is a typo and an error.
const POLICY_KEYS = [
  'id', 'workspaceId', 'name', 'tool', 'actionType', 'actionPattern', 'toolName', 'toolNamePattern', 'resourceType',
  'riskLevel', 'conditions', 'mode', 'priority', 'enabled',
];
const CONDITION_KEYS = [
  'allowedAgents', 'blockedAgents', 'minRiskLevel', 'maxRiskLevel', 'arguments',
  'allowedResourceTypes', 'blockedResourceTypes', 'customRules',
];
/** The Policy engine page's `tool: "*"`: every integration. */
const POLICY_TOOLS: readonly PolicyTool[] = [...TOOLS, '*'];
const KILL_SWITCH_KEYS = ['global', 'toolsPaused', 'enabledAt', 'enabledBy'];
const MATCHER_KEYS = ['equals', 'oneOf', 'prefix', 'regex', 'exists'];

export interface ValidationResult {
  document: PolicyDocument;
  diagnostics: Diagnostic[];
}

class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly source: ParsedSource) {}
  error(code: DiagnosticCode, field: string, message: string): void {
    this.diagnostics.push({ severity: 'error', code, file: this.source.file, line: this.source.lineOf(field), field, message });
  }
  warn(code: DiagnosticCode, field: string, message: string): void {
    this.diagnostics.push({ severity: 'warning', code, file: this.source.file, line: this.source.lineOf(field), field, message });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function unknownKeys(r: Reporter, obj: Record<string, unknown>, allowed: string[], path: string, what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      r.error('unknown-key', fieldPath(path, key), `${fieldPath(path, key)} is not a known ${what} key (expected one of ${allowed.join(', ')})`);
    }
  }
}

function checkString(r: Reporter, value: unknown, path: string, opts: { nonEmpty?: boolean } = {}): value is string {
  if (typeof value !== 'string') {
    r.error('wrong-type', path, `${path} must be a string, got ${typeName(value)}`);
    return false;
  }
  if (opts.nonEmpty && value.length === 0) {
    r.error('invalid-value', path, `${path} must not be empty`);
    return false;
  }
  return true;
}

function checkEnum<T extends string>(r: Reporter, value: unknown, allowed: readonly T[], path: string): value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    r.error(typeof value === 'string' ? 'invalid-value' : 'wrong-type', path, `${path} must be one of ${allowed.join(', ')}, got ${typeName(value)}`);
    return false;
  }
  return true;
}

function checkStringList(r: Reporter, value: unknown, path: string): value is string[] {
  if (!Array.isArray(value)) {
    r.error('wrong-type', path, `${path} must be a list of strings, got ${typeName(value)}`);
    return false;
  }
  let ok = true;
  value.forEach((item, i) => {
    if (typeof item !== 'string') {
      r.error('wrong-type', fieldPath(path, i), `${fieldPath(path, i)} must be a string, got ${typeName(item)}`);
      ok = false;
    }
  });
  return ok;
}

interface FilePart {
  version?: { value: string; file: string };
  killSwitch?: { value: KillSwitch; file: string };
  policies: Omit<Policy, 'index'>[];
  /** The line of each policy's `name` field, where a duplicate name is reported. */
  nameLines: Map<Omit<Policy, 'index'>, number>;
  /** Each policy's field path (`policies[3]`), where its findings are reported. */
  paths: Map<Omit<Policy, 'index'>, string>;
}

function validateFile(source: ParsedSource, r: Reporter): FilePart {
  const part: FilePart = { policies: [], nameLines: new Map(), paths: new Map() };
  const root = source.value;
  if (!isRecord(root)) {
    r.error(
      'wrong-type', '',
      root === null || root === undefined
        ? 'the document is empty; expected a mapping with `policies` (and optionally `version`, `killSwitch`)'
        : `the document must be a mapping with \`policies\`, got ${typeName(root)}`,
    );
    return part;
  }
  unknownKeys(r, root, DOCUMENT_KEYS, '', 'document');
  if (!('policies' in root) && !('version' in root) && !('killSwitch' in root)) {
    r.error('missing-field', '', 'the document has no `policies` list');
  }
  if ('version' in root && checkString(r, root.version, 'version', { nonEmpty: true })) {
    part.version = { value: root.version as string, file: source.file };
  }
  if ('killSwitch' in root) {
    const ks = validateKillSwitch(r, root.killSwitch);
    if (ks) part.killSwitch = { value: ks, file: source.file };
  }
  if ('policies' in root) {
    if (!Array.isArray(root.policies)) {
      r.error('wrong-type', 'policies', `policies must be a list, got ${typeName(root.policies)}`);
    } else {
      root.policies.forEach((raw, i) => {
        const path = fieldPath('policies', i);
        const policy = validatePolicy(r, raw, path, source);
        if (policy) {
          part.policies.push(policy);
          part.nameLines.set(policy, source.lineOf(fieldPath(path, 'name')));
          part.paths.set(policy, path);
        }
      });
    }
  }
  return part;
}

function validateKillSwitch(r: Reporter, value: unknown): KillSwitch | null {
  if (!isRecord(value)) {
    r.error('wrong-type', 'killSwitch', `killSwitch must be a mapping {global, toolsPaused}, got ${typeName(value)}`);
    return null;
  }
  unknownKeys(r, value, KILL_SWITCH_KEYS, 'killSwitch', 'killSwitch');
  let ok = true;
  const ks: KillSwitch = { global: false, toolsPaused: [] };
  if ('global' in value) {
    if (typeof value.global !== 'boolean') {
      r.error('wrong-type', 'killSwitch.global', `killSwitch.global must be true or false, got ${typeName(value.global)}`);
      ok = false;
    } else ks.global = value.global;
  }
  if ('toolsPaused' in value) {
    if (!Array.isArray(value.toolsPaused)) {
      r.error('wrong-type', 'killSwitch.toolsPaused', `killSwitch.toolsPaused must be a list of tools, got ${typeName(value.toolsPaused)}`);
      ok = false;
    } else {
      value.toolsPaused.forEach((t, i) => {
        if (checkEnum(r, t, TOOLS, fieldPath('killSwitch.toolsPaused', i))) ks.toolsPaused.push(t);
        else ok = false;
      });
    }
  }
  return ok ? ks : null;
}

function validatePolicy(r: Reporter, raw: unknown, path: string, source: ParsedSource): Omit<Policy, 'index'> | null {
  if (!isRecord(raw)) {
    r.error('wrong-type', path, `${path} must be a mapping (a policy), got ${typeName(raw)}`);
    return null;
  }
  const errorsBefore = r.diagnostics.filter((d) => d.severity === 'error').length;
  const at = (k: string) => fieldPath(path, k);
  unknownKeys(r, raw, POLICY_KEYS, path, 'policy');
  for (const required of ['name', 'tool', 'actionPattern', 'mode', 'priority']) {
    if (!(required in raw)) r.error('missing-field', path, `${path} has no \`${required}\` (required)`);
  }
  if ('name' in raw) checkString(r, raw.name, at('name'), { nonEmpty: true });
  const toolOk = 'tool' in raw && checkEnum(r, raw.tool, POLICY_TOOLS, at('tool'));
  if ('actionPattern' in raw && checkString(r, raw.actionPattern, at('actionPattern'), { nonEmpty: true })) {
    // A `*` before the end loads as a glob (pattern.ts); readings.ts reports it as disputed.
  }
  for (const key of ['toolName', 'toolNamePattern'] as const) {
    if (!(key in raw) || raw[key] === null) continue;
    // `*` covers MCP too, so a tool-name filter on it is meaningful.
    if (toolOk && raw.tool !== 'mcp' && raw.tool !== '*') {
      r.error('mcp-only-field', at(key), `${at(key)} applies to MCP policies only, but this policy's tool is ${String(raw.tool)}`);
    }
    if (!checkString(r, raw[key], at(key), { nonEmpty: true })) continue;
    const text = raw[key] as string;
    if (key === 'toolName' && text.includes('*')) {
      r.error('bad-wildcard', at(key), `${at(key)} "${text}" is an exact tool name; use toolNamePattern for a trailing wildcard`);
    }
  }
  if ('resourceType' in raw && raw.resourceType !== null) checkString(r, raw.resourceType, at('resourceType'), { nonEmpty: true });
  if ('riskLevel' in raw && raw.riskLevel !== null) checkEnum(r, raw.riskLevel, RISK_LEVELS, at('riskLevel'));
  if ('mode' in raw) checkEnum(r, raw.mode, MODES, at('mode'));
  if ('priority' in raw && (typeof raw.priority !== 'number' || !Number.isSafeInteger(raw.priority))) {
    r.error('wrong-type', at('priority'), `${at('priority')} must be an integer, got ${typeName(raw.priority)}`);
  }
  // Not optional on the Policy engine page (`enabled: boolean`), so null is no default here.
  if ('enabled' in raw && typeof raw.enabled !== 'boolean') {
    r.error('wrong-type', at('enabled'), `${at('enabled')} must be true or false, got ${typeName(raw.enabled)}`);
  }
  if ('id' in raw && raw.id !== null) checkString(r, raw.id, at('id'), { nonEmpty: true });
  if ('workspaceId' in raw && raw.workspaceId !== null) checkString(r, raw.workspaceId, at('workspaceId'), { nonEmpty: true });
  if ('actionType' in raw && raw.actionType !== null) checkString(r, raw.actionType, at('actionType'), { nonEmpty: true });
  let conditions: Conditions | undefined;
  if ('conditions' in raw && raw.conditions !== null) conditions = validateConditions(r, raw.conditions, at('conditions')) ?? undefined;

  const errorsAfter = r.diagnostics.filter((d) => d.severity === 'error').length;
  if (errorsAfter > errorsBefore) return null;
  const policy: Omit<Policy, 'index'> = {
    name: raw.name as string,
    tool: raw.tool as PolicyTool,
    actionPattern: raw.actionPattern as string,
    mode: raw.mode as Policy['mode'],
    priority: raw.priority as number,
    enabled: (raw.enabled as boolean | undefined) ?? true,
    location: { file: source.file, line: source.lineOf(path) },
  };
  if (typeof raw.id === 'string') policy.id = raw.id;
  if (typeof raw.workspaceId === 'string') policy.workspaceId = raw.workspaceId;
  if (typeof raw.actionType === 'string') policy.actionType = raw.actionType;
  if (typeof raw.toolName === 'string') policy.toolName = raw.toolName;
  if (typeof raw.toolNamePattern === 'string') policy.toolNamePattern = raw.toolNamePattern;
  if (typeof raw.resourceType === 'string') policy.resourceType = raw.resourceType;
  if (typeof raw.riskLevel === 'string') policy.riskLevel = raw.riskLevel as RiskLevel;
  if (conditions) policy.conditions = conditions;
  warnNeverMatches(r, policy, path);
  return policy;
}

function validateConditions(r: Reporter, value: unknown, path: string): Conditions | null {
  if (!isRecord(value)) {
    r.error('wrong-type', path, `${path} must be a mapping, got ${typeName(value)}`);
    return null;
  }
  const at = (k: string) => fieldPath(path, k);
  unknownKeys(r, value, CONDITION_KEYS, path, 'condition');
  const c: Conditions = {};
  let ok = true;
  // The Policy engine page's PolicyConditions fields are all optional, and the gate's rows use null.
  for (const key of ['allowedAgents', 'blockedAgents', 'allowedResourceTypes', 'blockedResourceTypes'] as const) {
    if (!(key in value) || value[key] === null) continue;
    if (checkStringList(r, value[key], at(key))) c[key] = value[key] as string[];
    else ok = false;
  }
  for (const key of ['minRiskLevel', 'maxRiskLevel'] as const) {
    if (!(key in value) || value[key] === null) continue;
    if (checkEnum(r, value[key], RISK_LEVELS, at(key))) c[key] = value[key] as RiskLevel;
    else ok = false;
  }
  if ('customRules' in value && value.customRules !== null) {
    // No page gives its shape; a mapping or a list is what a JSON column would hold.
    if (isRecord(value.customRules) || Array.isArray(value.customRules)) c.customRules = value.customRules;
    else {
      r.error('wrong-type', at('customRules'), `${at('customRules')} must be a mapping or a list, got ${typeName(value.customRules)}`);
      ok = false;
    }
  }
  if ('arguments' in value && value.arguments !== null) {
    const args = validateArguments(r, value.arguments, at('arguments'));
    if (args) {
      c.arguments = args;
      r.warn(
        'arguments-extension', at('arguments'),
        `${at('arguments')} is an extension of the sentrail CLI and its local gate; Sentrail's hosted gate does not document it, so it may not enforce it`,
      );
    } else ok = false;
  }
  return ok ? c : null;
}

function validateArguments(r: Reporter, value: unknown, path: string): Record<string, Matcher> | null {
  if (!isRecord(value)) {
    r.error('wrong-type', path, `${path} must be a mapping of JSON Pointer → matcher, got ${typeName(value)}`);
    return null;
  }
  const out: Record<string, Matcher> = {};
  let ok = true;
  for (const [pointer, raw] of Object.entries(value)) {
    const at = fieldPath(path, pointer);
    const parsed = parsePointer(pointer);
    if ('error' in parsed) {
      r.error('invalid-pointer', at, `${path}: ${parsed.error}`);
      ok = false;
    }
    const m = validateMatcher(r, raw, at);
    if (m) out[pointer] = m;
    else ok = false;
  }
  return ok ? out : null;
}

function validateMatcher(r: Reporter, raw: unknown, path: string): Matcher | null {
  const expected = 'one of {equals: …}, {oneOf: […]}, {prefix: "…"}, {regex: "…"}, {exists: true|false}';
  if (!isRecord(raw)) {
    r.error('wrong-type', path, `${path} must be a matcher, ${expected}; got ${typeName(raw)}`);
    return null;
  }
  const keys = Object.keys(raw);
  const unknown = keys.filter((k) => !MATCHER_KEYS.includes(k));
  if (unknown.length > 0) {
    r.error('unknown-key', fieldPath(path, unknown[0]!), `${fieldPath(path, unknown[0]!)} is not a matcher (expected ${expected})`);
    return null;
  }
  if (keys.length !== 1) {
    r.error('invalid-value', path, `${path} must have exactly one of equals, oneOf, prefix, regex, exists; it has ${keys.length === 0 ? 'none' : keys.join(', ')}`);
    return null;
  }
  const key = keys[0]!;
  const v = raw[key];
  const at = fieldPath(path, key);
  switch (key) {
    case 'equals':
      return { equals: v };
    case 'oneOf':
      if (!Array.isArray(v)) {
        r.error('wrong-type', at, `${at} must be a list, got ${typeName(v)}`);
        return null;
      }
      return { oneOf: v };
    case 'prefix':
      return checkString(r, v, at) ? { prefix: v as string } : null;
    case 'exists':
      if (typeof v !== 'boolean') {
        r.error('wrong-type', at, `${at} must be true or false, got ${typeName(v)}`);
        return null;
      }
      return { exists: v };
    default: {
      if (!checkString(r, v, at)) return null;
      const check = compileAnchoredRegex(v as string);
      if (!check.ok) {
        r.error(check.code, at, `${at}: ${check.message}`);
        return null;
      }
      return { regex: v as string };
    }
  }
}

function warnNeverMatches(r: Reporter, p: Omit<Policy, 'index'>, path: string): void {
  const c = p.conditions;
  if (!c) return;
  for (const key of ['allowedAgents', 'blockedAgents'] as const) {
    if (c[key] && c[key]!.length === 0) {
      r.warn('never-matches', fieldPath(fieldPath(path, 'conditions'), key), `${path} ("${p.name}") has an empty ${key} list, so it applies to no agent and never matches`);
    }
  }
  const order = RISK_LEVELS as readonly string[];
  if (c.minRiskLevel && c.maxRiskLevel && order.indexOf(c.minRiskLevel) > order.indexOf(c.maxRiskLevel)) {
    r.warn('never-matches', fieldPath(path, 'conditions'), `${path} ("${p.name}") has minRiskLevel ${c.minRiskLevel} above maxRiskLevel ${c.maxRiskLevel}, so it never matches`);
  }
  if (p.riskLevel) {
    const rank = order.indexOf(p.riskLevel);
    if ((c.minRiskLevel && rank < order.indexOf(c.minRiskLevel)) || (c.maxRiskLevel && rank > order.indexOf(c.maxRiskLevel))) {
      r.warn('never-matches', fieldPath(path, 'riskLevel'), `${path} ("${p.name}") has riskLevel ${p.riskLevel} outside its minRiskLevel/maxRiskLevel range, so it never matches`);
    }
  }
}

/**
 * policy.md, "Readings": once per document and point, at its first use, say that the gate may read
 * the field otherwise, so `test` results built on it are the contract's reading only. Never an error:
 * these are documented fields, and refusing them would turn the bridge's first check off.
 */
function warnAmbiguities(r: Reporter, p: Omit<Policy, 'index'>, path: string, seen: Set<Ambiguity>): void {
  for (const kind of ambiguitiesOf(p)) {
    if (seen.has(kind)) continue;
    seen.add(kind);
    const field = `${path}.${AMBIGUITY_FIELD[kind]}`;
    r.warn(
      'ambiguous-field', field,
      `${field} ("${p.name}"): ${AMBIGUITY_TEXT[kind]}; policy test and explain use the contract's reading, the bridge blocks locally only when every reading blocks (first use in this document)`,
    );
  }
}

/**
 * Validates the parsed files of one document (a file, or a folder's files in file-name order) and
 * joins them: policies concatenated, `version` and `killSwitch` set by one file at most.
 */
export function validateDocument(sources: ParsedSource[]): ValidationResult {
  const diagnostics: Diagnostic[] = [];
  const policies: Policy[] = [];
  let version: FilePart['version'];
  let killSwitch: FilePart['killSwitch'];
  const names = new Map<string, { file: string; line: number }>();
  const ambiguities = new Set<Ambiguity>();
  for (const source of sources) {
    const r = new Reporter(source);
    const part = validateFile(source, r);
    for (const p of part.policies) warnAmbiguities(r, p, part.paths.get(p) ?? 'policies', ambiguities);
    if (part.version) {
      if (version) r.error('conflict', 'version', `version is already set by ${version.file}; one file of a folder at most sets it`);
      else version = part.version;
    }
    if (part.killSwitch) {
      if (killSwitch) r.error('conflict', 'killSwitch', `killSwitch is already set by ${killSwitch.file}; one file of a folder at most sets it`);
      else killSwitch = part.killSwitch;
    }
    for (const p of part.policies) {
      const nameAt = { file: p.location.file, line: part.nameLines.get(p) ?? p.location.line };
      const previous = names.get(p.name);
      if (previous) {
        diagnostics.push({
          severity: 'error', code: 'duplicate-name', file: nameAt.file, line: nameAt.line, field: 'name',
          message: `policy name "${p.name}" is already used at ${previous.file}:${previous.line}; names must be unique`,
        });
        continue;
      }
      names.set(p.name, nameAt);
      policies.push({ ...p, index: policies.length });
    }
    diagnostics.push(...r.diagnostics);
  }
  return {
    document: {
      version: version?.value ?? null,
      policies,
      killSwitch: killSwitch?.value ?? { global: false, toolsPaused: [] },
      files: sources.map((s) => s.file),
    },
    diagnostics,
  };
}
