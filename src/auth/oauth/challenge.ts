// RFC 9110 §11.6.1 `WWW-Authenticate` challenges, for what login needs from a gate's 401/403:
// the Bearer challenge's `resource_metadata` (RFC 9728 §5.1), `scope` and `error` (RFC 6750 §3).
// Hand-written because no library here exports a parser (oauth4webapi keeps its own internal).
// Pure.

export interface Challenge {
  /** Lower-cased auth scheme, e.g. `bearer`. */
  scheme: string;
  /** Parameters, names lower-cased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Every challenge in the header value(s); malformed tails are dropped, never thrown on. */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let rest = header.trim();
  let current: Challenge | null = null;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const name = TOKEN.exec(rest)?.[0];
    if (!name) break;
    const afterName = rest.slice(name.length);
    const param = /^\s*=\s*/.exec(afterName);
    if (param && current && !/^\s*=\s*[,]|^\s*=\s*$/.test(afterName)) {
      // name=value: a parameter of the current challenge
      let value: string;
      let tail = afterName.slice(param[0].length);
      if (tail.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < tail.length && tail[i] !== '"') {
          if (tail[i] === '\\' && i + 1 < tail.length) i++;
          value += tail[i];
          i++;
        }
        tail = tail.slice(i + 1);
      } else {
        value = TOKEN.exec(tail)?.[0] ?? '';
        tail = tail.slice(value.length);
      }
      current.params[name.toLowerCase()] = value;
      rest = tail;
      continue;
    }
    // A new challenge: scheme, then parameters (a token68 form is skipped).
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
    rest = afterName;
    const token68 = /^\s+[A-Za-z0-9._~+/-]+=*\s*(?=,|$)/.exec(rest);
    if (token68) rest = rest.slice(token68[0].length);
  }
  return out;
}

/** The Bearer challenge, if the header has one. */
export function bearerChallenge(header: string | null | undefined): Challenge | null {
  return parseChallenges(header).find((c) => c.scheme === 'bearer') ?? null;
}
