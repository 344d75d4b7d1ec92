// `sentrail init`: the bridge's entry for Claude Code, written where Claude Code reads it (project
// scope: `.mcp.json` at the repository root) or printed as the `claude mcp add` line to run (user
// and local scope: that file is Claude Code's own, ~/.claude.json, and `claude mcp add` is the
// safe way to edit it). Then the next step: `sentrail login` when no credential is found.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveGateAddress } from '../bridge/gate-address.ts';
import { writeFileAtomic } from '../config/atomic-file.ts';
import { readCliConfig } from '../config/cli-config.ts';
import { findProjectRoot } from '../config/project-root.ts';
import { bridgeArgs, bridgeEntry, managedSnippets, mergeIntoMcpJson, SERVER_NAME } from '../config/mcp-json.ts';
import { CliError, usageError } from './errors.ts';
import { lookupCredential } from './gate-access.ts';
import { ExitCode } from './exit-codes.ts';

export interface InitOptions {
  gate?: string;
  scope?: string;
  agent?: string;
  print?: boolean;
  force?: boolean;
  json?: boolean;
}

const SCOPES = ['project', 'user', 'local'] as const;

async function hasCredential(gate: string): Promise<boolean> {
  try {
    return (await lookupCredential(gate, undefined, () => {})) !== null;
  } catch {
    return false; // a keychain that cannot be read is no credential, for this purpose
  }
}

/** What is wrong with a gate URL for the bridge, or null (the prompt's check). */
function gateProblem(gate: string): string | null {
  if (gate === '') return 'a gate URL is needed, e.g. https://<ref>.supabase.co/functions/v1/mcp-gate/sse';
  try {
    resolveGateAddress(gate);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A shell line for people: quoted only where needed. */
function shellLine(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function runInit(opts: InitOptions): Promise<number> {
  let scope = opts.scope ?? 'project';
  if (!(SCOPES as readonly string[]).includes(scope)) throw usageError(`--scope ${scope}: must be one of ${SCOPES.join(', ')}`);
  let gate = opts.gate ?? (await readCliConfig()).config.defaultGate ?? undefined;
  // At a terminal, without --gate: ask (both ends a TTY, as gh does; never under --json, --print or CI).
  if (!opts.gate && !opts.json && !opts.print && process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) {
    const { askInit } = await import('./init-prompt.tsx');
    const answers = await askInit({ initialGate: gate ?? '', check: gateProblem, stdout: process.stdout, stdin: process.stdin });
    if (!answers) throw new CliError('cancelled', 'cancelled: nothing was written', { exitCode: ExitCode.FAILURE });
    gate = answers.gate;
    scope = answers.scope;
  }
  if (!gate) throw usageError('which gate? pass --gate <gate URL>', 'e.g. sentrail init --gate https://<ref>.supabase.co/functions/v1/mcp-gate/sse');
  // The same rules the bridge applies, now rather than at Claude Code's first launch.
  resolveGateAddress(gate);
  const entry = bridgeEntry({ gate, ...(opts.agent ? { agent: opts.agent } : {}) });
  const credential = await hasCredential(gate);
  const next = credential ? [] : [`sentrail login --gate ${gate}`];
  const managed = managedSnippets(entry);

  let file: string | null = null;
  let status: string;
  let command: string | null = null;
  if (scope === 'project') {
    file = path.join(await findProjectRoot(), '.mcp.json');
    const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw new CliError('read-error', `cannot read ${file}: ${err.message}`);
    });
    const merged = mergeIntoMcpJson(existing, entry, Boolean(opts.force));
    if (merged.status === 'invalid') throw new CliError('invalid-mcp-json', `${file}: ${merged.message}`, { exitCode: ExitCode.INVALID_INPUT });
    if (merged.status === 'conflict') {
      throw new CliError('entry-exists', `${file} already has a different "${SERVER_NAME}" server: ${JSON.stringify(merged.existing)}`, {
        exitCode: ExitCode.INVALID_INPUT,
        hint: 'Pass --force to replace it (every other server is kept), or --print to see the entry.',
      });
    }
    status = opts.print ? 'printed' : merged.status;
    if (!opts.print && merged.status !== 'unchanged') await writeFileAtomic(file, merged.text, { mode: 0o644 });
  } else {
    // ~/.claude.json is Claude Code's own state file; `claude mcp add` edits it safely.
    command = shellLine(['claude', 'mcp', 'add', '--scope', scope, SERVER_NAME, '--', 'npx', ...bridgeArgs({ gate, ...(opts.agent ? { agent: opts.agent } : {}) })]);
    status = 'printed';
  }

  if (opts.json) {
    process.stdout.write(JSON.stringify({ scope, status, file, command, entry, credential, next, managed }, null, 2) + '\n');
    return ExitCode.OK;
  }
  const lines: string[] = [];
  if (opts.print && file) lines.push(JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2), '', `(not written; without --print this goes into ${file})`);
  else if (file) {
    const said = { created: 'created', added: 'added the sentrail server to', replaced: 'replaced the sentrail server in', unchanged: 'already set up:' }[status as 'created'] ?? status;
    lines.push(`✔ ${said} ${file}`, `  ${entry.command} ${entry.args.join(' ')}`);
    lines.push('  The API key is not in the file: the bridge uses your `sentrail login`, or SENTRAIL_API_KEY from the environment.');
  } else lines.push(`Run this to add the bridge for ${scope === 'user' ? 'all your projects' : 'you, in this project'}:`, '', `  ${command}`);
  lines.push('');
  if (next.length > 0) lines.push(`Next: no credential for ${gate} was found. Run:`, '', `  ${next[0]}`, '');
  else lines.push(`A credential for ${gate} is in place. Start Claude Code; /mcp lists "sentrail".`, '');
  lines.push('For IT, to pin exactly this entry (Claude Code managed settings): managed-mcp.json', `  ${JSON.stringify(managed.managedMcpJson)}`, 'or, in managed-settings.json, an allowlist by command:', `  ${JSON.stringify(managed.allowedMcpServers)}`);
  process.stdout.write(lines.join('\n') + '\n');
  return ExitCode.OK;
}
