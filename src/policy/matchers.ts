// The `arguments` extension: RFC 6901 JSON Pointers into a tool call's arguments, each tested by a
// matcher. Pure functions; regexes arrive compiled.
import type { LinearRegex } from './linear-regex.ts';
import type { Matcher } from './types.ts';

/** Strings longer than this are never tested by a regex: policy.md makes it an evaluation error. */
export const MAX_REGEX_INPUT = 64 * 1024;

export type CompiledMatcher =
  | { kind: 'equals'; value: unknown }
  | { kind: 'oneOf'; values: unknown[] }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'regex'; regex: LinearRegex; source: string }
  | { kind: 'exists'; exists: boolean };

export interface CompiledArgumentCondition {
  pointer: string;
  tokens: string[];
  matcher: CompiledMatcher;
}

export const MISSING = Symbol('missing');

export function parsePointer(pointer: string): string[] | { error: string } {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return { error: `"${pointer}" is not a JSON Pointer (RFC 6901): it must be empty or start with "/"` };
  const tokens = pointer.slice(1).split('/');
  for (const t of tokens) {
    if (/~(?![01])/.test(t)) return { error: `"${pointer}" has "~" not followed by 0 or 1 (RFC 6901 escapes are ~0 and ~1)` };
  }
  return tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function resolvePointer(root: unknown, tokens: readonly string[]): unknown {
  let node: unknown = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return MISSING;
      const index = Number(token);
      if (index >= node.length) return MISSING;
      node = node[index];
    } else if (node !== null && typeof node === 'object') {
      if (!Object.prototype.hasOwnProperty.call(node, token)) return MISSING;
      node = (node as Record<string, unknown>)[token];
    } else {
      return MISSING;
    }
  }
  return node;
}

/** JSON equality, type included: 1 ≠ "1", objects compared by keys regardless of order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export type MatchOutcome = true | false | { error: string };

export function testMatcher(matcher: CompiledMatcher, value: unknown): MatchOutcome {
  if (value === MISSING) return matcher.kind === 'exists' ? !matcher.exists : false;
  switch (matcher.kind) {
    case 'exists':
      return matcher.exists;
    case 'equals':
      return jsonEqual(value, matcher.value);
    case 'oneOf':
      return matcher.values.some((v) => jsonEqual(value, v));
    case 'prefix':
      return typeof value === 'string' && value.startsWith(matcher.prefix);
    case 'regex':
      if (typeof value !== 'string') return false;
      if (value.length > MAX_REGEX_INPUT) {
        return { error: `a ${value.length}-character string is over the ${MAX_REGEX_INPUT}-character limit for regex matching` };
      }
      return matcher.regex.test(value);
  }
}

export function describeMatcher(m: Matcher | CompiledMatcher): string {
  if ('kind' in m) {
    switch (m.kind) {
      case 'equals':
        return `equals ${JSON.stringify(m.value)}`;
      case 'oneOf':
        return `oneOf ${JSON.stringify(m.values)}`;
      case 'prefix':
        return `prefix ${JSON.stringify(m.prefix)}`;
      case 'regex':
        return `regex /${m.source}/`;
      case 'exists':
        return `exists ${m.exists}`;
    }
  }
  return JSON.stringify(m);
}
