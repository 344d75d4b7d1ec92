// policy.md: regexes are JavaScript with the `u` flag, anchored to the whole string, and rejected
// at load when they hold a backreference or a quantified group that contains a quantifier (the
// shapes behind catastrophic backtracking, e.g. `(a+)+`). A small scanner, not a full parser: it
// only needs to see escapes, character classes, groups and quantifiers.

export type RegexCheck = { ok: true; regex: RegExp } | { ok: false; code: 'invalid-regex' | 'unsafe-regex'; message: string };

export function compileAnchoredRegex(source: string): RegexCheck {
  let regex: RegExp;
  try {
    // The source must be a regex on its own: wrapped first, `a)|(.*` would close the wrapper
    // and match everything.
    new RegExp(source, 'u');
    regex = new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    return { ok: false, code: 'invalid-regex', message: `/${source}/ is not a valid JavaScript regex with the u flag: ${(err as Error).message}` };
  }
  const unsafe = findUnsafeConstruct(source);
  if (unsafe) return { ok: false, code: 'unsafe-regex', message: `/${source}/ ${unsafe}` };
  return { ok: true, regex };
}

function findUnsafeConstruct(src: string): string | null {
  // Each open group records whether a quantifier occurred inside it.
  const groups: boolean[] = [];
  let lastClosedGroupHadQuantifier = false;
  let i = 0;
  const markQuantified = () => {
    if (groups.length > 0) groups[groups.length - 1] = true;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const next = src[i + 1] ?? '';
      if (/[1-9]/.test(next)) return 'holds a backreference (\\' + next + '), which is not allowed';
      if (next === 'k' && src[i + 2] === '<') return 'holds a named backreference (\\k<…>), which is not allowed';
      i += 2;
      lastClosedGroupHadQuantifier = false;
      continue;
    }
    if (c === '[') {
      // skip the character class, honouring escapes
      i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
      lastClosedGroupHadQuantifier = false;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      i++;
      if (src[i] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        i++;
        if (src[i] === '<' && src[i + 1] !== '=' && src[i + 1] !== '!') {
          while (i < src.length && src[i] !== '>') i++;
        }
        i++;
      }
      continue;
    }
    if (c === ')') {
      lastClosedGroupHadQuantifier = groups.pop() ?? false;
      i++;
      const q = quantifierAt(src, i);
      if (q > 0) {
        if (lastClosedGroupHadQuantifier) {
          return 'has a quantified group that contains a quantifier (e.g. (a+)+), which can backtrack catastrophically';
        }
        markQuantified();
        i += q;
      } else if (lastClosedGroupHadQuantifier) {
        markQuantified();
      }
      continue;
    }
    const q = quantifierAt(src, i);
    if (q > 0) {
      markQuantified();
      i += q;
      continue;
    }
    i++;
  }
  return null;
}

/** Length of the quantifier starting at `i` (with its lazy `?`), or 0. */
function quantifierAt(src: string, i: number): number {
  const c = src[i];
  let len = 0;
  if (c === '*' || c === '+' || c === '?') len = 1;
  else if (c === '{') {
    const m = /^\{\d+(,\d*)?\}/.exec(src.slice(i));
    if (m) len = m[0].length;
  }
  if (len > 0 && src[i + len] === '?') len++;
  return len;
}
