// `sentrail logout [--gate URL]`: deletes the gate's stored credential (the keychain entry, or the
// --insecure-storage file). An OAuth entry's tokens are revoked first where the authorization server
// has a revocation endpoint (RFC 7009; best effort: the entry is deleted either way). Idempotent:
// nothing stored is not an error. The default gate stays remembered, so `status` keeps naming it
// and a new `login` needs no --gate.
import { defaultOpenStore, readLegacyApiKey, storageOrder } from '../auth/credential-sources.ts';
import { gateResource, normalizeGateUrl } from '../auth/token-entry.ts';
import { readCliConfig, updateCliConfig } from '../config/cli-config.ts';
import { legacyConfigFile } from '../config/paths.ts';
import { usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';

export interface LogoutOptions {
  gate?: string;
}

export async function runLogout(opts: LogoutOptions): Promise<number> {
  return logout(opts);
}

async function logout(opts: LogoutOptions): Promise<number> {
  const err = process.stderr;
  const { config } = await readCliConfig();
  const given = opts.gate ?? config.defaultGate;
  if (!given) {
    err.write('Not logged in to any gate (no --gate, and no default gate): nothing to do.\n');
    return ExitCode.OK;
  }
  let gate: string;
  try {
    gate = normalizeGateUrl(given);
  } catch {
    throw usageError(`--gate ${given}: not a URL`);
  }
  const resource = gateResource(gate);
  const hint = config.gates[gate]?.storage ?? null;
  const openStore = defaultOpenStore();
  const removed: string[] = [];
  for (const storage of storageOrder(hint)) {
    const store = await openStore(storage);
    try {
      const entry = await store.get(gate, resource).catch(() => null);
      if (entry?.type === 'oauth') {
        const { revokeEntry } = await import('../auth/oauth/revoke.ts');
        const revoked = await revokeEntry(entry);
        if (revoked.kind === 'revoked') err.write(`Revoked the tokens at ${entry.issuer}.\n`);
        else if (revoked.kind === 'failed') err.write(`warning: could not revoke the tokens at ${entry.issuer} (${revoked.message}); they stay valid there until they expire.\n`);
      }
      if (await store.delete(gate, resource)) removed.push(storage === 'file' ? `the file store (${store.location})` : store.location);
    } catch (e) {
      // Where login put it, a failure is the answer; elsewhere it is only worth a note.
      if (storage === hint) throw e;
      if (storage === 'file') err.write(`note: could not check the insecure-storage file: ${(e as Error).message}\n`);
    }
  }
  if (config.gates[gate]) {
    await updateCliConfig((c) => {
      delete c.gates[gate];
    });
  }
  if (removed.length > 0) err.write(`Logged out of ${gate}: removed its credential from ${removed.join(' and ')}.\n`);
  else err.write(`No credential was stored for ${gate}: nothing to remove.\n`);
  if (process.env.SENTRAIL_API_KEY) err.write('note: SENTRAIL_API_KEY is set in this environment; commands and the bridge started from it still use that key.\n');
  if (await readLegacyApiKey()) err.write(`note: ${legacyConfigFile()} (Sentrail's earlier CLI) still holds an API key, which sentrail uses as a last resort; delete it there to stop that.\n`);
  return ExitCode.OK;
}
