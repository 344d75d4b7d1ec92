// The CLI's settings file (paths.ts configFile(): ~/.config/sentrail/config.json on Linux): the
// default gate `sentrail login` remembers, and where each gate's credential is kept. The bridge
// reads it on its fast path, so this module imports nothing beyond node:fs, paths.ts and atomic-file.ts.
// Never a secret in here: credentials live in the keychain (or the --insecure-storage files).
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { configFile } from './paths.ts';

/** The file's own format version (independent of the package version). */
export const CLI_CONFIG_SCHEMA = 1;

export type CredentialStorage = 'keychain' | 'file';

export interface GateSettings {
  /** Where `sentrail login` put this gate's credential: the keychain, or the --insecure-storage file. */
  storage?: CredentialStorage;
}

/**
 * A public OAuth client registration, remembered per issuer so the next login reuses it (no secret:
 * a registration that came with a client secret lives only in the credential entry).
 */
export interface RememberedClient {
  clientId: string;
  method: 'pre-registered' | 'metadata-document' | 'dynamic';
  redirectUris: string[];
  registeredAt: string;
}

export interface CliConfig {
  /** The gate `status`, `logout` and the bridge act on without --gate. */
  defaultGate: string | null;
  /** Per gate (the normalized gate URL). */
  gates: Record<string, GateSettings>;
  /** Per authorization server issuer. */
  clients: Record<string, RememberedClient>;
}

export interface ReadConfigResult {
  config: CliConfig;
  /** Why the file was not used as it is (unreadable, not JSON, newer format); absent when fine or missing. */
  problem?: string;
  file: string;
}

const empty = (): CliConfig => ({ defaultGate: null, gates: {}, clients: {} });

function rememberedClient(v: unknown): RememberedClient | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const c = v as Record<string, unknown>;
  if (typeof c.clientId !== 'string' || !['pre-registered', 'metadata-document', 'dynamic'].includes(c.method as string)) return null;
  const uris = Array.isArray(c.redirectUris) ? c.redirectUris.filter((u): u is string => typeof u === 'string') : [];
  return { clientId: c.clientId, method: c.method as RememberedClient['method'], redirectUris: uris, registeredAt: typeof c.registeredAt === 'string' ? c.registeredAt : '' };
}

function fromJson(raw: unknown): { config: CliConfig; problem?: string } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { config: empty(), problem: 'not a JSON object' };
  const o = raw as Record<string, unknown>;
  const config = empty();
  if (typeof o.defaultGate === 'string') config.defaultGate = o.defaultGate;
  if (o.gates && typeof o.gates === 'object' && !Array.isArray(o.gates)) {
    for (const [gate, settings] of Object.entries(o.gates as Record<string, unknown>)) {
      if (!settings || typeof settings !== 'object') continue;
      const s = settings as Record<string, unknown>;
      config.gates[gate] = s.storage === 'keychain' || s.storage === 'file' ? { storage: s.storage } : {};
    }
  }
  if (o.clients && typeof o.clients === 'object' && !Array.isArray(o.clients)) {
    for (const [issuer, v] of Object.entries(o.clients as Record<string, unknown>)) {
      const c = rememberedClient(v);
      if (c) config.clients[issuer] = c;
    }
  }
  // A newer format is read for what this version understands (it only ever adds fields).
  const problem = typeof o.schema === 'number' && o.schema > CLI_CONFIG_SCHEMA ? `written by a newer sentrail (format ${o.schema})` : undefined;
  return problem ? { config, problem } : { config };
}

export async function readCliConfig(file: string = configFile()): Promise<ReadConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: empty(), file };
    return { config: empty(), problem: `cannot read it: ${(err as Error).message}`, file };
  }
  try {
    return { ...fromJson(JSON.parse(text)), file };
  } catch {
    return { config: empty(), problem: 'not valid JSON', file };
  }
}

/**
 * Reads, changes and writes the file atomically (0600, in a 0700 folder). Fields this version does
 * not know are kept. Two logins racing may lose one default-gate update; nothing secret is lost.
 */
export async function updateCliConfig(change: (config: CliConfig) => void, file: string = configFile()): Promise<CliConfig> {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
  } catch {
    // missing or broken: start afresh
  }
  const { config } = fromJson(raw);
  change(config);
  const out = { ...raw, schema: Math.max(CLI_CONFIG_SCHEMA, typeof raw.schema === 'number' ? raw.schema : 0), defaultGate: config.defaultGate, gates: config.gates, clients: config.clients };
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writeFileAtomic(file, JSON.stringify(out, null, 2) + '\n');
  return config;
}
