// Parses a YAML or JSON text into plain values plus the line of every field, so that validation
// can work on plain data and still name `file:line`. YAML 1.2, duplicate keys are errors.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
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
    return {
      ok: false,
      diagnostics: doc.errors.map((e) => ({
        severity: 'error' as const,
        code: e.code === 'DUPLICATE_KEY' ? ('duplicate-key' as const) : ('parse-error' as const),
        file,
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
        message: e.code === 'DUPLICATE_KEY' ? describeDuplicateKey(text, e.pos[0]) : firstLine(e.message),
      })),
    };
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
    const message = String((err as Error).message);
    const pos = /position (\d+)/.exec(message);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : 1;
    return { severity: 'error', code: 'parse-error', file, line, message: `invalid JSON: ${message}` };
  }
}

function describeDuplicateKey(text: string, offset: number): string {
  const key = /^["']?([^"':\n]*)/.exec(text.slice(offset))?.[1]?.trim();
  return key ? `duplicate key "${key}" (each key may appear once in a mapping)` : 'duplicate key in a mapping';
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
