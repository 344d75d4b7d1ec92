// The bridge's entry in Claude Code's configuration (`sentrail init`): the entry itself, and its
// merge into a project's `.mcp.json` that keeps every other server and the file's indentation.
// Pure: text in, text out. Never a secret: the key is referenced as `${SENTRAIL_API_KEY:-}`
// (Claude Code expands it at launch; empty when unset, and the bridge then uses the keychain login).

export const SERVER_NAME = 'sentrail';

export interface StdioServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export function bridgeArgs(opts: { gate: string; agent?: string }): string[] {
  return ['-y', 'sentrail', 'bridge', '--gate', opts.gate, ...(opts.agent ? ['--agent', opts.agent] : [])];
}

/** The `.mcp.json` entry. On Windows, Claude Code launches `npx` through `cmd /c` (its MCP docs). */
export function bridgeEntry(opts: { gate: string; agent?: string; platform?: NodeJS.Platform }): StdioServerEntry {
  const npx = ['npx', ...bridgeArgs(opts)];
  const [command, ...args] = (opts.platform ?? process.platform) === 'win32' ? ['cmd', '/c', ...npx] : npx;
  return { command: command!, args, env: { SENTRAIL_API_KEY: '${SENTRAIL_API_KEY:-}' } };
}

export type MergeResult =
  | { status: 'created' | 'added' | 'unchanged' | 'replaced'; text: string }
  | { status: 'conflict'; existing: unknown }
  | { status: 'invalid'; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The indentation the file already uses (its first indented line), two spaces for a new file. */
export function detectIndent(text: string): string | number {
  const m = /^([ \t]+)\S/m.exec(text);
  if (!m) return 2;
  return m[1]!.startsWith('\t') ? '\t' : m[1]!.length;
}

/**
 * `existing` is the file's text, or null when there is none. A different `sentrail` entry is a
 * conflict unless `force`; the same one leaves the file as it is, byte for byte.
 */
export function mergeIntoMcpJson(existing: string | null, entry: StdioServerEntry, force: boolean): MergeResult {
  if (existing === null || existing.trim() === '') {
    return { status: 'created', text: JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2) + '\n' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(existing);
  } catch (err) {
    return { status: 'invalid', message: `not valid JSON (${(err as Error).message}); fix it or move it away, nothing was written` };
  }
  if (!isRecord(doc)) return { status: 'invalid', message: 'the top level is not a JSON object' };
  const servers = doc.mcpServers ?? {};
  if (!isRecord(servers)) return { status: 'invalid', message: '`mcpServers` is not an object' };
  const before = servers[SERVER_NAME];
  if (before !== undefined && JSON.stringify(before) === JSON.stringify(entry)) return { status: 'unchanged', text: existing };
  if (before !== undefined && !force) return { status: 'conflict', existing: before };
  // Insertion order is kept: the other servers stay where they were, a new entry goes last.
  const merged = { ...doc, mcpServers: { ...servers, [SERVER_NAME]: entry } };
  const newline = existing.endsWith('\n') ? '\n' : '';
  return { status: before === undefined ? 'added' : 'replaced', text: JSON.stringify(merged, null, detectIndent(existing)) + newline };
}

/** For IT: Claude Code's managed settings that pin exactly this entry (managed-mcp.json, or an allowlist by command). */
export function managedSnippets(entry: StdioServerEntry): { managedMcpJson: unknown; allowedMcpServers: unknown } {
  return {
    managedMcpJson: { mcpServers: { [SERVER_NAME]: entry } },
    allowedMcpServers: { allowedMcpServers: [{ serverCommand: [entry.command, ...entry.args] }] },
  };
}
