// `sentrail status [--gate URL] [--json]`: the gate, who the gate takes you for (`C/mcp-gate/whoami`
// where it exists), the credential's expiry and where it comes from (the same order the bridge uses),
// and the cached org policy's version and age. Never a token; an API key only masked. Exit 0 when a
// usable credential exists, 4 when not logged in (or the gate refuses the credential).
import { refreshDue } from '../auth/refresh-timing.ts';
import { bridgeCredentials, firstOf, RenewalError, type Credential } from '../bridge/credentials.ts';
import { resolveGateAddress, type GateAddress } from '../bridge/gate-address.ts';
import { createHttpClient } from '../bridge/http-client.ts';
import { createLegacyConfigSource, createStoreCredentialSource } from '../auth/credential-sources.ts';
import { whoAmI, type WhoAmI, type WhoAmIOutcome } from '../auth/gate-check.ts';
import { keychainLocation } from '../auth/keychain-store.ts';
import { gateResource, normalizeGateUrl } from '../auth/token-entry.ts';
import { readCliConfig } from '../config/cli-config.ts';
import { insecureEntryFile } from '../auth/file-store.ts';
import { legacyConfigFile } from '../config/paths.ts';
import { readCachedPolicy } from '../config/policy-cache.ts';
import { maskKey } from '../log/redact.ts';
import { usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { createTerminal } from './terminal.ts';

export interface StatusOptions {
  gate?: string;
  json?: boolean;
  apiKey?: string;
  allowHttp?: boolean;
}

export interface StatusReport {
  gate: string | null;
  /** Where the gate came from: --gate, or the default gate `sentrail login` remembered. */
  gateFrom: 'flag' | 'default' | null;
  loggedIn: boolean;
  credential: {
    origin: Credential['origin'];
    type: 'api_key' | 'oauth' | 'token';
    /** `agk_xxxx…yyyy` for an API key; never anything of a token. */
    key: string | null;
    /** Where it is kept, for people. */
    location: string;
    storedAt: string | null;
    expiresAt: string | null;
  } | null;
  whoami: (WhoAmI & { status: 'ok' }) | { status: 'unsupported' | 'refused' | 'failed' | 'skipped'; detail: string } | null;
  policy: { version: string | null; fetchedAt: string; ageSeconds: number; file: string } | null;
  problems: string[];
  warnings: string[];
}

export async function runStatus(opts: StatusOptions): Promise<number> {
  const report = await collect(opts);
  print(report, opts);
  return report.loggedIn ? ExitCode.OK : ExitCode.NOT_LOGGED_IN;
}

const ORIGIN_LOCATION: Record<Credential['origin'], (gate: string) => string> = {
  flag: () => 'the --api-key flag',
  env: () => 'the SENTRAIL_API_KEY environment variable',
  keychain: () => `${keychainLocation()}, service "sentrail"`,
  file: (gate) => `${insecureEntryFile(gate, gateResource(gate))} (--insecure-storage)`,
  config: () => `${legacyConfigFile()} (Sentrail's earlier CLI)`,
};

async function collect(opts: StatusOptions): Promise<StatusReport> {
  const report: StatusReport = { gate: null, gateFrom: null, loggedIn: false, credential: null, whoami: null, policy: null, problems: [], warnings: [] };
  const { config, problem, file } = await readCliConfig();
  if (problem) report.warnings.push(`${file}: ${problem}`);
  const given = opts.gate ?? config.defaultGate;
  if (!given) {
    report.problems.push('no gate: pass --gate <gate URL>, or log in once (sentrail login remembers the gate)');
    return report;
  }
  let address: GateAddress;
  try {
    address = resolveGateAddress(given, { allowHttp: opts.allowHttp });
  } catch (e) {
    if (opts.gate) throw e;
    throw usageError(`the default gate in ${file} cannot be used: ${(e as Error).message}`);
  }
  const gate = normalizeGateUrl(given);
  report.gate = gate;
  report.gateFrom = opts.gate ? 'flag' : 'default';

  const warn = (m: string) => report.warnings.push(m);
  const store = createStoreCredentialSource({ gate, warn });
  const sources = bridgeCredentials({ apiKey: opts.apiKey, store: firstOf([store, createLegacyConfigSource({ warn })]) });
  let credential = await sources.get();
  // An OAuth token near or past its expiry is renewed first, as the bridge would: status then tells
  // the truth about the login rather than about one spent access token.
  if (credential && refreshDue(credential)) {
    try {
      credential = (await sources.refresh(credential)) ?? credential;
    } catch (err) {
      if (err instanceof RenewalError) {
        report.problems.push(err.kind === 'login' ? `${err.message}: run sentrail login` : `cannot renew the login now: ${err.message}`);
        if (err.kind === 'login') credential = await sources.get();
      } else throw err;
    }
  }
  // store.last is set only when the store was asked (no --api-key, no SENTRAIL_API_KEY).
  const lookup = store.last;
  if (lookup?.problem) {
    const { storage, error } = lookup.problem;
    // Where login put the credential, a failure is the problem; elsewhere (looked into just in case)
    // it matters only when nothing else was found.
    if (storage === lookup.hint) report.problems.push(error.message);
    else if (!credential) report.warnings.push(`the ${storage === 'file' ? 'insecure-storage file' : 'OS keychain'} could not be checked: ${error.message}`);
  }

  const policy = (await readCachedPolicy(given)) ?? (given === gate ? null : await readCachedPolicy(gate));
  if (policy) {
    const fetched = Date.parse(policy.meta.fetchedAt);
    report.policy = { version: policy.meta.version, fetchedAt: policy.meta.fetchedAt, ageSeconds: Number.isNaN(fetched) ? -1 : Math.max(0, Math.round((Date.now() - fetched) / 1000)), file: policy.file };
  }

  if (!credential) {
    report.problems.push(`not logged in to ${gate}`);
    return report;
  }
  const entry = credential.origin === 'keychain' || credential.origin === 'file' ? lookup?.entry ?? null : null;
  const type: 'api_key' | 'oauth' | 'token' = entry?.type ?? (credential.token.startsWith('agk_') ? 'api_key' : 'token');
  report.credential = {
    origin: credential.origin,
    type,
    key: type === 'api_key' ? maskKey(credential.token) : null,
    location: ORIGIN_LOCATION[credential.origin](gate),
    storedAt: entry?.updatedAt ?? null,
    expiresAt: entry?.expiresAt ?? null,
  };
  report.loggedIn = true;

  if (!address.cloudBase) {
    report.whoami = { status: 'skipped', detail: 'the gate URL has no /mcp-gate base to ask' };
    return report;
  }
  const outcome: WhoAmIOutcome = await whoAmI(await createHttpClient(), address.cloudBase, credential.token);
  switch (outcome.kind) {
    case 'ok':
      report.whoami = { status: 'ok', ...outcome.whoami };
      if (outcome.whoami.expiresAt) report.credential.expiresAt = outcome.whoami.expiresAt;
      break;
    case 'refused':
      report.whoami = { status: 'refused', detail: `the gate refuses this credential (HTTP ${outcome.status})` };
      report.loggedIn = false;
      report.problems.push(`the gate refuses the credential from ${report.credential.location} (HTTP ${outcome.status}): it is wrong, expired or revoked`);
      break;
    case 'unsupported':
      report.whoami = { status: 'unsupported', detail: `the gate has no whoami endpoint (HTTP ${outcome.status})` };
      break;
    case 'failed':
      report.whoami = { status: 'failed', detail: outcome.message };
      report.warnings.push(`could not ask the gate who you are: ${outcome.message}`);
      break;
  }
  return report;
}

function age(seconds: number): string {
  if (seconds < 0) return 'at an unknown time';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function expiry(r: StatusReport): string {
  const c = r.credential!;
  if (c.expiresAt) {
    const left = Math.round((Date.parse(c.expiresAt) - Date.now()) / 1000);
    return left > 0 ? `${c.expiresAt} (in ${left < 90 ? `${left} s` : left < 5400 ? `${Math.round(left / 60)} min` : `${Math.round(left / 3600)} h`})` : `${c.expiresAt} (expired)`;
  }
  return c.type === 'api_key' ? 'none (API keys last until revoked in Sentrail)' : 'unknown';
}

function print(r: StatusReport, opts: StatusOptions): void {
  if (opts.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const t = createTerminal(process.stdout);
  const e = createTerminal(process.stderr);
  const line = (label: string, value: string) => process.stdout.write(`${t.color.bold(`${label}:`.padEnd(12))} ${value}\n`);
  if (r.gate) line('gate', `${r.gate}${r.gateFrom === 'default' ? ' (default gate)' : ''}`);
  line('logged in', r.loggedIn ? t.color.green('yes') : t.color.red('no'));
  if (r.credential) {
    const c = r.credential;
    const what = c.type === 'api_key' ? `API key ${c.key}` : c.type === 'oauth' ? 'OAuth access token' : 'a bearer token';
    line('credential', `${what}, from ${c.location}${c.storedAt ? `, stored ${c.storedAt}` : ''}`);
    if (r.whoami?.status === 'ok') line('who', `${r.whoami.subject}${r.whoami.tokenType ? ` (${r.whoami.tokenType}${r.whoami.scopes.length ? `; scopes ${r.whoami.scopes.join(' ')}` : ''})` : ''}`);
    else if (r.whoami) line('who', t.color.dim(`unknown: ${r.whoami.detail}`));
    line('expires', expiry(r));
  }
  if (r.gate) line('org policy', r.policy ? `${r.policy.version ?? '(no version)'}, cached ${age(r.policy.ageSeconds)} (${r.policy.file})` : t.color.dim('none cached (the bridge pulls it; or: sentrail policy pull)'));
  for (const w of r.warnings) process.stderr.write(`${e.color.yellow('warning:')} ${w}\n`);
  for (const p of r.problems) process.stderr.write(`sentrail: ${p}\n`);
  if (!r.loggedIn) {
    const gateArg = r.gate && r.gateFrom === 'flag' ? ` --gate ${r.gate}` : r.gate ? '' : ' --gate <gate URL>';
    process.stderr.write(`Log in with: sentrail login${gateArg}   (or with an API key: printenv SENTRAIL_API_KEY | sentrail login --with-api-key${gateArg}; or set SENTRAIL_API_KEY)\n`);
  }
}
