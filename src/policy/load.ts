// Reads a policy document from disk: one file, or a folder whose *.json / *.yaml / *.yml files
// (test files excepted) form one document in file-name order. The only I/O of the policy engine.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Diagnostic } from './diagnostics.ts';
import { parseSource, type ParsedSource } from './source.ts';
import { validateDocument } from './validate.ts';
import type { PolicyDocument } from './types.ts';

export const POLICY_FILE = /\.(json|ya?ml)$/i;
export const TEST_FILE = /\.test\.(json|ya?ml)$/i;

export interface LoadResult {
  document: PolicyDocument;
  diagnostics: Diagnostic[];
}

/** Displayed file names are relative to the working directory when inside it, as compilers do. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export async function listPolicyFiles(target: string): Promise<string[] | Diagnostic> {
  let info;
  try {
    info = await stat(target);
  } catch {
    return { severity: 'error', code: 'not-found', file: displayPath(target), line: 0, message: `no such file or folder: ${target}` };
  }
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target)).filter((n) => POLICY_FILE.test(n) && !TEST_FILE.test(n)).sort();
  if (names.length === 0) {
    return { severity: 'error', code: 'not-found', file: displayPath(target), line: 0, message: `the folder ${target} holds no policy files (*.json, *.yaml, *.yml other than *.test.*)` };
  }
  return names.map((n) => path.join(target, n));
}

export function loadPolicyText(text: string, file: string): LoadResult {
  return loadParsed([{ text, file }]);
}

function loadParsed(files: { text: string; file: string }[]): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const sources: ParsedSource[] = [];
  for (const { text, file } of files) {
    const parsed = parseSource(text, file);
    if (parsed.ok) sources.push(parsed.source);
    else diagnostics.push(...parsed.diagnostics);
  }
  const validated = validateDocument(sources);
  return { document: validated.document, diagnostics: [...diagnostics, ...validated.diagnostics] };
}

export async function loadPolicyPath(target: string): Promise<LoadResult> {
  const files = await listPolicyFiles(target);
  if (!Array.isArray(files)) {
    return { document: { version: null, policies: [], killSwitch: { global: false, toolsPaused: [] }, files: [] }, diagnostics: [files] };
  }
  const texts: { text: string; file: string }[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    try {
      texts.push({ text: await readFile(file, 'utf8'), file: displayPath(file) });
    } catch (err) {
      diagnostics.push({ severity: 'error', code: 'read-error', file: displayPath(file), line: 0, message: `cannot read: ${(err as Error).message}` });
    }
  }
  const result = loadParsed(texts);
  return { document: result.document, diagnostics: [...diagnostics, ...result.diagnostics] };
}
