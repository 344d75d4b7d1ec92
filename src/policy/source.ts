// Parses a YAML or JSON text into plain values plus the line of every field, so that validation
// can work on plain data and still name `file:line`. YAML 1.2, duplicate keys are errors.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Diagnostic } from './diagnostics.ts';

export interface ParsedSource {
  file: string;
  value: unknown;
  /** Line (1-based) of a field path such as `policies[2].conditions`; nearest ancestor if unknown. */
  lineOf(path: string): number;
}

export type ParseResult =
  | { ok: true; source: ParsedSource }
  | { ok: false; diagnostics: Diagnostic[] };

const MAX_PARSE_ERRORS = 3;

export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function parentPath(path: string): string {
  // `a.b`, `a[0]`, `a["/x.y"]`: strip the last segment (a quoted key may itself hold . or [).
  const quoted = /\["(?:[^"\\]|\\.)*"\]$/.exec(path);
  if (quoted) return path.slice(0, quoted.index);
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

export function parseSource(text: string, file: string): ParseResult {
  const isJson = /\.json$/i.test(file);
  if (isJson) {
    const jsonError = checkJson(text, file);
    if (jsonError) return { ok: false, diagnostics: [jsonError] };
    // JSON allows tab indentation, YAML does not; positions are all we take from the YAML
    // parse of a JSON file, and a tab → space swap keeps every line and column.
    text = text.replace(/\t/g, ' ');
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    // One stray bracket makes the YAML parser report every later token: the first few are the useful ones.
    const shown = doc.errors.slice(0, MAX_PARSE_ERRORS);
    const diagnostics: Diagnostic[] = shown.map((e) => ({
        severity: 'error' as const,
        code: e.code === 'DUPLICATE_KEY' ? ('duplicate-key' as const) : ('parse-error' as const),
        file,
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
        message: e.code === 'DUPLICATE_KEY' ? describeDuplicateKey(text, e.pos[0]) : firstLine(e.message),
      }));
    if (doc.errors.length > shown.length) {
      const last = diagnostics[diagnostics.length - 1]!;
      last.message += ` (and ${doc.errors.length - shown.length} more parse errors after it)`;
    }
    return { ok: false, diagnostics };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return {
      ok: false,
      diagnostics: [{ severity: 'error', code: 'parse-error', file, line: 1, message: firstLine(String((err as Error).message)) }],
    };
  }
  const lines = new Map<string, number>();
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const child = fieldPath(path, key);
        lines.set(child, lineAt(keyNode?.range?.[0]));
        walk(pair.value, child);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const child = fieldPath(path, i);
        lines.set(child, lineAt((item as Node | null)?.range?.[0]));
        walk(item, child);
      });
    } else if (isAlias(node)) {
      // An alias's fields live at the anchor; the alias line is the best we can name.
    }
  };
  lines.set('', lineAt((doc.contents as Node | null)?.range?.[0]));
  walk(doc.contents, '');
  return {
    ok: true,
    source: {
      file,
      value,
      lineOf(path: string): number {
        for (let p = path; ; p = parentPath(p)) {
          const line = lines.get(p);
          if (line !== undefined) return line;
          if (p === '') return 1;
        }
      },
    },
  };
}

function checkJson(text: string, file: string): Diagnostic | null {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    // V8's messages often carry no position (single quotes, comments, end of input), so the
    // position comes from a strict JSON scanner instead.
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first ? first.offset : text.length;
    const line = text.slice(0, offset).split('\n').length;
    const what = first ? describeJsonError(first.error) : oneLine(String((err as Error).message));
    return { severity: 'error', code: 'parse-error', file, line, message: `invalid JSON: ${what}` };
  }
}

function describeJsonError(code: number): string {
  const name = printParseErrorCode(code);
  const readable: Record<string, string> = {
    InvalidSymbol: 'unexpected character (JSON strings use double quotes; comments are not allowed)',
    InvalidCommentToken: 'comments are not allowed in JSON',
    ValueExpected: 'a value was expected',
    PropertyNameExpected: 'a property name (in double quotes) was expected',
    ColonExpected: 'a colon was expected',
    CommaExpected: 'a comma was expected',
    CloseBraceExpected: 'a closing } was expected',
    CloseBracketExpected: 'a closing ] was expected',
    EndOfFileExpected: 'the document should end here',
    UnexpectedEndOfString: 'a string is not closed',
    UnexpectedEndOfComment: 'a comment is not closed',
    InvalidEscapeCharacter: 'invalid escape in a string',
    InvalidUnicode: 'invalid \\u escape in a string',
    InvalidCharacter: 'invalid character in a string',
    UnexpectedEndOfNumber: 'a number is not complete',
    InvalidNumberFormat: 'invalid number',
  };
  return readable[name] ?? name;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

function describeDuplicateKey(text: string, offset: number): string {
  const key = /^["']?([^"':\n]*)/.exec(text.slice(offset))?.[1]?.trim();
  return key ? `duplicate key "${key}" (each key may appear once in a mapping)` : 'duplicate key in a mapping';
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
