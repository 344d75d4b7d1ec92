// `sentrail policy pull --out DIR|FILE [--check]`: the org policy as files in the repository, and
// the CI check that they still say what the gate says. A FILE ending in .yaml/.yml gets the whole
// document; anything else is a folder with one file per policy (docs/commands.md).
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../config/atomic-file.ts';
import { formatDiagnostic, hasErrors } from '../../policy/diagnostics.ts';
import { displayPath, loadPolicyPath, loadPolicyText, POLICY_FILE, TEST_FILE } from '../../policy/load.ts';
import { copyDifferences, isPulledFile, renderOneFile, renderPerPolicy, type PulledFrom } from '../../policy/pulled-copy.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export const ONE_FILE = /\.ya?ml$/i;

export interface OutReport {
  line: string;
  data: Record<string, unknown>;
  code: number;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

/** Writes the gate's document (its JSON text) under `out`; never touches a file it did not write, unless --force. */
export async function writePulledCopy(out: string, documentText: string, from: PulledFrom, force: boolean): Promise<OutReport> {
  const served = JSON.parse(documentText);
  const oneFile = ONE_FILE.test(out) && !(await isDirectory(out));
  const rendered = oneFile ? renderOneFile(served, from, path.basename(out)) : renderPerPolicy(served, from);
  if (!rendered.ok) throw new CliError('cannot-write', rendered.message, { exitCode: ExitCode.FAILURE });
  const folder = oneFile ? path.dirname(out) : out;
  await mkdir(folder, { recursive: true });
  const targets = rendered.files.map((f) => ({ file: oneFile ? out : path.join(folder, f.name), text: f.text }));
  // Check every target before writing any: a refusal leaves the repository as it was.
  for (const t of targets) {
    if (!force && (await exists(t.file)) && !isPulledFile(await readFile(t.file, 'utf8'))) {
      throw new CliError('would-overwrite', `${displayPath(t.file)} exists and was not written by sentrail policy pull`, { exitCode: ExitCode.INVALID_INPUT, hint: 'Move it away, or pass --force to replace it.' });
    }
  }
  let written = 0;
  for (const t of targets) {
    const before = await readFile(t.file, 'utf8').catch(() => null);
    if (before === t.text) continue;
    await writeFileAtomic(t.file, t.text, { mode: 0o644 });
    written++;
  }
  const removed: string[] = [];
  const foreign: string[] = [];
  if (!oneFile) {
    const keep = new Set(targets.map((t) => path.basename(t.file)));
    for (const name of (await readdir(folder)).sort()) {
      if (keep.has(name) || !POLICY_FILE.test(name) || TEST_FILE.test(name)) continue;
      const file = path.join(folder, name);
      // A policy the gate no longer has: its file goes. Someone else's file stays, and is named.
      if (isPulledFile(await readFile(file, 'utf8').catch(() => ''))) {
        await unlink(file);
        removed.push(displayPath(file));
      } else foreign.push(displayPath(file));
    }
  }
  const files = targets.map((t) => displayPath(t.file));
  const policies = served.policies.length as number;
  const parts = [`${written} written`, `${files.length - written} unchanged`];
  if (removed.length > 0) parts.push(`${removed.length} removed`);
  let line = `pulled org policy ${from.version ?? '(no version)'} (${policies} policies) into ${displayPath(out)} (${files.length} file${files.length === 1 ? '' : 's'}: ${parts.join(', ')})`;
  for (const f of foreign) line += `\nwarning: ${f} was not written by sentrail policy pull; the folder loads with it, so --check will count it`;
  return { line, data: { status: 'written', version: from.version, etag: from.etag, policies, out: displayPath(out), files, written, removed, foreign }, code: ExitCode.OK };
}

/** Exit 0 when the copy under `out` says what the gate's document says, 1 when it is behind (or missing). */
export async function checkPulledCopy(out: string, documentText: string, from: PulledFrom): Promise<OutReport> {
  const shown = displayPath(out);
  if (!(await exists(out))) {
    return { line: `✖ ${shown} does not exist: run sentrail policy pull --out ${shown}`, data: { status: 'missing', out: shown, differences: [] }, code: ExitCode.FAILURE };
  }
  const repo = await loadPolicyPath(out);
  if (hasErrors(repo.diagnostics)) {
    const errors = repo.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    return { line: `${errors.join('\n')}\n✖ ${shown} does not load`, data: { status: 'invalid', out: shown, diagnostics: errors }, code: ExitCode.INVALID_INPUT };
  }
  const gate = loadPolicyText(documentText, 'org-policy.json').document;
  const differences = copyDifferences(repo.document, gate);
  if (differences.length === 0) {
    return { line: `✔ ${shown} is up to date with the org policy ${from.version ?? '(no version)'} at ${from.gate}`, data: { status: 'up-to-date', out: shown, version: from.version, etag: from.etag, differences }, code: ExitCode.OK };
  }
  const line = [...differences.map((d) => `  ${d}`), `✖ ${shown} is behind the org policy ${from.version ?? '(no version)'} at ${from.gate} (${differences.length} difference${differences.length === 1 ? '' : 's'}): run sentrail policy pull --out ${shown}`].join('\n');
  return { line, data: { status: 'behind', out: shown, version: from.version, etag: from.etag, differences }, code: ExitCode.FAILURE };
}
