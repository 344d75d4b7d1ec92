// The checks `sentrail doctor` runs, each a small function returning a result with, for a problem,
// the exact fix. They use the same parts the bridge uses (credentials, HTTP client, policy pull),
// so what doctor sees is what the bridge will see.
import { checkCredential } from '../../auth/gate-check.ts';
import { createKeychain, keychainTimeoutMs } from '../../auth/keychain.ts';
import { keychainLocation } from '../../auth/keychain-store.ts';
import type { Credential } from '../../bridge/credentials.ts';
import type { GateAddress } from '../../bridge/gate-address.ts';
import { proxyConfigured, type HttpClient } from '../../bridge/http-client.ts';
import { pullOrgPolicy } from '../../bridge/org-policy-pull.ts';
import { readCachedPolicy } from '../../config/policy-cache.ts';
import { lookupCredential } from '../gate-access.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** For warn and fail: what to do, as a command or a sentence. */
  fix?: string;
  ms: number;
}

export type Check = Omit<CheckResult, 'ms'>;

export const MIN_NODE = [20, 18, 1] as const;

export function checkNode(version = process.versions.node): Check {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  const ok = (major - MIN_NODE[0] || minor - MIN_NODE[1] || patch - MIN_NODE[2]) >= 0;
  return ok
    ? { id: 'node', title: 'Node.js', status: 'pass', detail: `v${version}` }
    : { id: 'node', title: 'Node.js', status: 'fail', detail: `v${version} is older than ${MIN_NODE.join('.')}`, fix: 'Install Node.js 20.18.1 or newer (https://nodejs.org), then run doctor again.' };
}

export interface CredentialFinding {
  check: Check;
  credential: Credential | null;
}

export async function checkKeychain(credentialOrigin: Credential['origin'] | null): Promise<Check> {
  const title = 'Keychain';
  try {
    await createKeychain({ timeoutMs: keychainTimeoutMs() }).get('sentrail-doctor-probe');
    return { id: 'keychain', title, status: 'pass', detail: `${keychainLocation()} answers` };
  } catch (err) {
    const why = (err as Error).message;
    const fix =
      process.platform === 'linux'
        ? 'Start a Secret Service (gnome-keyring-daemon, KeePassXC) in your session, or log in with `sentrail login --insecure-storage` to keep the credential in a file.'
        : 'Unlock the keychain, or log in with `sentrail login --insecure-storage` to keep the credential in a file.';
    // Where the credential comes from elsewhere (an API key in the environment), the bridge works without it.
    const status = credentialOrigin === 'env' || credentialOrigin === 'flag' || credentialOrigin === 'file' ? 'warn' : 'fail';
    return { id: 'keychain', title, status, detail: why, fix };
  }
}

export async function findCredential(gate: string, apiKey: string | undefined): Promise<CredentialFinding> {
  const title = 'Credential';
  try {
    const credential = await lookupCredential(gate, apiKey, () => {});
    if (!credential) {
      return { credential: null, check: { id: 'credential', title, status: 'fail', detail: `none for ${gate} (flag, SENTRAIL_API_KEY, keychain, file store)`, fix: `sentrail login --gate ${gate}   (or export SENTRAIL_API_KEY=agk_… for CI)` } };
    }
    const expiry = credential.expiresAt ? `, expires ${new Date(credential.expiresAt).toISOString()}` : '';
    return { credential, check: { id: 'credential', title, status: 'pass', detail: `from ${credential.origin}${expiry}` } };
  } catch (err) {
    return { credential: null, check: { id: 'credential', title, status: 'fail', detail: `cannot be read: ${(err as Error).message}`, fix: `sentrail login --gate ${gate}` } };
  }
}

/** Words for a failed request: which of DNS, connection, TLS or proxy it was. */
export function describeNetworkFailure(message: string, address: GateAddress, env: NodeJS.ProcessEnv = process.env): { detail: string; fix: string } {
  const host = address.mcpUrl.host;
  const proxy = proxyConfigured(env) ? (env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy ?? '') : '';
  const via = proxy ? ` through the proxy ${redactUserinfo(proxy)}` : '';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return { detail: `DNS: ${address.mcpUrl.hostname} does not resolve${via}`, fix: 'Check the gate URL (sentrail doctor --gate URL), or your DNS / VPN.' };
  if (/CERT|SSL|TLS|self[- ]signed|unable to verify/i.test(message)) return { detail: `TLS: ${host}'s certificate is not trusted${via} (${message})`, fix: 'If a corporate proxy inspects TLS, point NODE_EXTRA_CA_CERTS at its CA certificate.' };
  if (proxy) return { detail: `cannot reach ${host}${via}: ${message}`, fix: `Check the proxy (${redactUserinfo(proxy)}), or exempt the gate with NO_PROXY=${address.mcpUrl.hostname}.` };
  if (/ECONNREFUSED/.test(message)) return { detail: `nothing answers at ${host} (connection refused)`, fix: 'Is the gate running? For a local gate: sentrail gate --policy <file> --upstream "<command>".' };
  return { detail: `cannot reach ${host}: ${message}`, fix: 'Check the gate URL and your network.' };
}

function redactUserinfo(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.href.replace(/\/$/, '');
  } catch {
    return '(unparseable proxy URL)';
  }
}

export interface GateFinding {
  gate: Check;
  /** The credential verdict at the gate, when there was one to ask about. */
  accepted: Check | null;
}

/** `initialize` + `tools/list` with the credential (the same exchange `sentrail login` checks with). */
export async function checkGate(http: HttpClient, address: GateAddress, credential: Credential | null): Promise<GateFinding> {
  const title = 'Gate';
  if (!credential) {
    // Still worth knowing whether it answers at all: any HTTP status will do.
    try {
      const res = await http(address.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}', signal: AbortSignal.timeout(4000) });
      res.discard();
      return { gate: { id: 'gate', title, status: 'pass', detail: `${address.mcpUrl.href} answers (HTTP ${res.status} without a credential)` }, accepted: null };
    } catch (err) {
      return { gate: { id: 'gate', title, status: 'fail', ...describeNetworkFailure(causeOf(err), address) }, accepted: null };
    }
  }
  const outcome = await checkCredential(http, address.mcpUrl, credential.token, 4000);
  if (outcome.kind === 'accepted') {
    const transport = `Streamable HTTP, protocol ${outcome.protocolVersion ?? 'unknown'}, ${outcome.sessions ? 'with sessions' : 'stateless (hosted-style)'}`;
    const tools = outcome.tools === null ? (outcome.note ?? 'tools unknown') : `${outcome.tools} tools`;
    return {
      gate: { id: 'gate', title, status: 'pass', detail: `${address.mcpUrl.href}: ${transport}; ${tools}` },
      accepted: { id: 'credential-accepted', title: 'Credential at the gate', status: 'pass', detail: 'accepted' },
    };
  }
  if (outcome.kind === 'refused') {
    return {
      gate: { id: 'gate', title, status: 'pass', detail: `${address.mcpUrl.href} answers` },
      accepted: {
        id: 'credential-accepted', title: 'Credential at the gate', status: 'fail',
        detail: outcome.status === 401 ? `refused (HTTP 401): the ${credential.origin} credential is wrong, expired or revoked` : `refused (HTTP ${outcome.status}): it lacks the mcp scope`,
        fix: credential.origin === 'env' ? 'Set SENTRAIL_API_KEY to a valid key (or unset it to use your login).' : `sentrail login --gate ${address.mcpUrl.href}`,
      },
    };
  }
  return { gate: { id: 'gate', title, status: 'fail', ...describeNetworkFailure(outcome.message, address) }, accepted: null };
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? (e as NodeJS.ErrnoException).code ?? e.message;
}

/** The gate's clock against ours (token expiry depends on it), from its Date header. */
export async function checkClock(http: HttpClient, address: GateAddress, credential: Credential | null, now = Date.now): Promise<Check> {
  const title = 'Clock';
  if (!address.cloudBase) return { id: 'clock', title, status: 'skip', detail: 'no gate base to ask' };
  try {
    const sent = now();
    const res = await http(new URL(`${address.cloudBase}/mcp-gate/whoami`), { method: 'GET', headers: credential ? { authorization: `Bearer ${credential.token}` } : {}, signal: AbortSignal.timeout(4000) });
    res.discard();
    const date = res.header('date');
    if (!date) return { id: 'clock', title, status: 'skip', detail: 'the gate sends no Date header' };
    // Date has one-second resolution: half a round trip and a second of slack are not skew.
    const skew = Math.round((Date.parse(date) - (sent + now()) / 2) / 1000);
    const detail = `${Math.abs(skew)} s ${skew >= 0 ? 'behind' : 'ahead of'} the gate`;
    if (Math.abs(skew) <= 30) return { id: 'clock', title, status: 'pass', detail };
    return { id: 'clock', title, status: Math.abs(skew) > 300 ? 'fail' : 'warn', detail, fix: 'Turn on network time (NTP): tokens expire by the gate\'s clock.' };
  } catch (err) {
    return { id: 'clock', title, status: 'skip', detail: `cannot ask: ${causeOf(err)}` };
  }
}

export async function checkPolicy(http: HttpClient, gate: string, address: GateAddress, credential: Credential | null): Promise<Check> {
  const title = 'Org policy';
  if (!address.cloudBase) return { id: 'policy', title, status: 'warn', detail: 'no /mcp-gate base: the first check is off', fix: 'Pass --cloud-url to the bridge.' };
  if (!credential) return { id: 'policy', title, status: 'skip', detail: 'needs a credential' };
  const cached = await readCachedPolicy(gate);
  try {
    const outcome = await pullOrgPolicy({ gate, endpoint: `${address.cloudBase}/mcp-gate/policy`, http, headers: { authorization: `Bearer ${credential.token}` }, etag: cached?.meta.etag ?? null, timeoutMs: 4000 });
    switch (outcome.kind) {
      case 'updated':
        return { id: 'policy', title, status: 'pass', detail: `version ${outcome.version ?? '(none)'}, ${outcome.policies} policies, pulled just now; the first check is on` };
      case 'unchanged': {
        const age = cached ? Math.round((Date.now() - Date.parse(cached.meta.fetchedAt)) / 1000) : null;
        return { id: 'policy', title, status: 'pass', detail: `version ${cached?.meta.version ?? '(none)'}, unchanged at the gate${age !== null ? `, copy ${age} s old` : ''}; the first check is on` };
      }
      case 'no-endpoint':
        return { id: 'policy', title, status: 'warn', detail: `${address.cloudBase}/mcp-gate/policy does not exist (404): the first check is off, the gate decides every call`, fix: 'Nothing to do for a hosted gate without a policy endpoint; a local gate serves one.' };
      case 'invalid':
        return { id: 'policy', title, status: 'fail', detail: `${outcome.message}: the first check is off`, fix: 'Update sentrail (npx -y sentrail@latest), or run sentrail policy check on the org policy to see why.' };
      case 'not-policy':
        return { id: 'policy', title, status: 'fail', detail: `${outcome.message}: the first check is off`, fix: 'Check the gate URL (or --cloud-url).' };
      case 'refused':
        return { id: 'policy', title, status: 'fail', detail: outcome.message, fix: `sentrail login --gate ${gate}` };
    }
  } catch (err) {
    return { id: 'policy', title, status: 'fail', detail: `cannot pull: ${(err as Error).message}`, fix: 'See the Gate check above.' };
  }
}
