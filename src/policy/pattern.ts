// Sentrail's patterns: `*` matches everything, a trailing `*` matches by prefix (`pull_request.*`,
// `delete_*`), anything else matches exactly. A `*` anywhere else is an error at load.

export type Pattern = { kind: 'any' } | { kind: 'prefix'; prefix: string } | { kind: 'exact'; value: string };

export function parsePattern(text: string): Pattern | { error: string } {
  const star = text.indexOf('*');
  if (star === -1) return { kind: 'exact', value: text };
  if (star !== text.length - 1) {
    return { error: `"${text}" has a wildcard before its end; only a trailing * is supported (e.g. "delete_*")` };
  }
  if (text === '*') return { kind: 'any' };
  return { kind: 'prefix', prefix: text.slice(0, -1) };
}

export function matchesPattern(pattern: Pattern, value: string): boolean {
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'prefix':
      return value.startsWith(pattern.prefix);
    case 'exact':
      return value === pattern.value;
  }
}

/** True when every string `inner` matches is also matched by `outer`. */
export function patternCovers(outer: Pattern, inner: Pattern): boolean {
  if (outer.kind === 'any') return true;
  if (inner.kind === 'any') return false;
  const innerText = inner.kind === 'exact' ? inner.value : inner.prefix;
  if (outer.kind === 'prefix') return innerText.startsWith(outer.prefix);
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
  }
}
