// Where the gate is: the URL users are given, the cloud base `C` the other endpoints hang off
// (gate-protocol.md, "Addresses"), and the http:// rule (loopback only unless --allow-http).
import { CliError } from '../cli/errors.ts';
import { ExitCode } from '../cli/exit-codes.ts';

export interface GateAddress {
  /** The MCP endpoint: POST/GET/DELETE here. */
  mcpUrl: URL;
  /** `C`: the gate URL up to `/mcp-gate` (or --cloud-url); null for a plain MCP server. */
  cloudBase: string | null;
}

/** Loopback by name or address (a URL's hostname, or a bare --host): where plain HTTP stays on the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function isLoopback(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}

export function resolveGateAddress(gate: string, opts: { cloudUrl?: string; allowHttp?: boolean } = {}): GateAddress {
  let mcpUrl: URL;
  try {
    mcpUrl = new URL(gate);
  } catch {
    throw new CliError('bad-gate-url', `--gate ${gate}: not a URL (expected e.g. https://<ref>.supabase.co/functions/v1/mcp-gate/sse)`, { exitCode: ExitCode.INVALID_INPUT });
  }
  checkScheme(mcpUrl, '--gate', opts.allowHttp);
  let cloudBase: string | null = null;
  if (opts.cloudUrl) {
    let c: URL;
    try {
      c = new URL(opts.cloudUrl);
    } catch {
      throw new CliError('bad-cloud-url', `--cloud-url ${opts.cloudUrl}: not a URL`, { exitCode: ExitCode.INVALID_INPUT });
    }
    checkScheme(c, '--cloud-url', opts.allowHttp);
    cloudBase = c.href.replace(/\/+$/, '');
  } else {
    const at = mcpUrl.pathname.indexOf('/mcp-gate');
    if (at !== -1) cloudBase = `${mcpUrl.origin}${mcpUrl.pathname.slice(0, at)}`;
  }
  return { mcpUrl, cloudBase };
}

function checkScheme(url: URL, flag: string, allowHttp: boolean | undefined): void {
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') {
    throw new CliError('bad-gate-url', `${flag} ${url.href}: only https:// (or http:// on loopback) is supported`, { exitCode: ExitCode.INVALID_INPUT });
  }
  if (!isLoopback(url) && !allowHttp) {
    throw new CliError('insecure-gate-url', `${flag} ${url.href}: plain http:// is refused for a host other than loopback, because your credentials would travel in the clear`, {
      exitCode: ExitCode.INVALID_INPUT,
      hint: 'Use https://, or pass --allow-http if you really mean it.',
    });
  }
}
