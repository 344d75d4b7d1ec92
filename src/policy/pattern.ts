// Sentrail's patterns: `*` matches everything, a trailing `*` matches by prefix (`pull_request.*`,
// `delete_*`), anything else matches exactly. Those are documented. A `*` anywhere else is not:
// it loads as a *glob* (policy.md, readings table: "loads; uncertain"), read two ways. `test` and
// `explain` read it as "any run of characters"; the other reading, a gate that only knows the
// trailing `*`, takes the text literally (exact, or prefix when it ends in `*`). The bridge blocks
// on such a pattern only where both readings agree.

export type Pattern =
  | { kind: 'any' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'exact'; value: string }
  | { kind: 'glob'; text: string; parts: readonly string[] };

export function parsePattern(text: string): Pattern {
  const star = text.indexOf('*');
  if (star === -1) return { kind: 'exact', value: text };
  if (text === '*') return { kind: 'any' };
  if (star === text.length - 1) return { kind: 'prefix', prefix: text.slice(0, -1) };
  return { kind: 'glob', text, parts: text.split('*') };
}

export function matchesPattern(pattern: Pattern, value: string): boolean {
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'prefix':
      return value.startsWith(pattern.prefix);
    case 'exact':
      return value === pattern.value;
    case 'glob':
      return matchesGlob(pattern.parts, value);
  }
}

/** The other reading of a glob: only the trailing `*` is a wildcard. Other kinds read one way. */
export function matchesLiterally(pattern: Pattern, value: string): boolean {
  if (pattern.kind !== 'glob') return matchesPattern(pattern, value);
  return pattern.text.endsWith('*') ? value.startsWith(pattern.text.slice(0, -1)) : value === pattern.text;
}

/** A glob whose two readings disagree on `value` (the literal reading's matches are a subset). */
export function globDisputed(pattern: Pattern, value: string): boolean {
  return pattern.kind === 'glob' && matchesGlob(pattern.parts, value) && !matchesLiterally(pattern, value);
}

/**
 * `*`-only globs match greedily without backtracking: the first part is a prefix, the last a
 * suffix, and each part between is taken at its leftmost place. Leftmost is always safe, since a
 * later place leaves less room for what follows; so the cost is a few `indexOf`s, never
 * exponential, whatever a hostile tool name holds.
 */
function matchesGlob(parts: readonly string[], value: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    const found = value.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** The text every match starts with, under every reading. */
export function literalPrefix(pattern: Pattern): string {
  switch (pattern.kind) {
    case 'any':
      return '';
    case 'prefix':
      return pattern.prefix;
    case 'exact':
      return pattern.value;
    case 'glob':
      return pattern.parts[0]!;
  }
}

/** True when every string `inner` matches (under every reading) is also matched by `outer`. */
export function patternCovers(outer: Pattern, inner: Pattern): boolean {
  if (outer.kind === 'any') return true;
  if (inner.kind === 'any') return false;
  // A glob's two readings match different sets; claim nothing for it as the outer pattern.
  if (outer.kind === 'glob') return false;
  if (outer.kind === 'prefix') return literalPrefix(inner).startsWith(outer.prefix);
  return inner.kind === 'exact' && inner.value === outer.value;
}

export function describePattern(pattern: Pattern): string {
  switch (pattern.kind) {
    case 'any':
      return '*';
    case 'prefix':
      return `${pattern.prefix}*`;
    case 'exact':
      return pattern.value;
    case 'glob':
      return pattern.text;
  }
}
