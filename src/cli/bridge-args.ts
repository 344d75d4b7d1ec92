// The bridge's flags without commander (node's own parseArgs): the bridge starts on every Claude
// Code launch, so it skips the ~15 ms commander costs. Returns null for anything unusual (help, an
// unknown flag, a bad value), and main() then lets commander parse and explain it.
import { parseArgs } from 'node:util';
import type { BridgeFlags } from './bridge.ts';

const TRANSPORTS = ['auto', 'http', 'sse'];
const LEVELS = ['error', 'warn', 'info', 'debug'];

export function parseBridgeArgs(args: string[]): BridgeFlags | null {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        gate: { type: 'string' },
        'cloud-url': { type: 'string' },
        agent: { type: 'string' },
        policy: { type: 'string' },
        transport: { type: 'string' },
        'allow-http': { type: 'boolean' },
        'log-file': { type: 'string' },
        'log-level': { type: 'string' },
        'api-key': { type: 'string' },
        'request-timeout': { type: 'string' },
        'approval-wait': { type: 'string' },
        'no-audit': { type: 'boolean' },
      },
    }));
  } catch {
    return null;
  }
  if (values.transport !== undefined && !TRANSPORTS.includes(values.transport)) return null;
  if (values['log-level'] !== undefined && !LEVELS.includes(values['log-level'])) return null;
  const requestTimeout = values['request-timeout'] === undefined ? undefined : parseSeconds(values['request-timeout']);
  if (requestTimeout === null) return null;
  const approvalWait = values['approval-wait'] === undefined ? undefined : parseSeconds(values['approval-wait']);
  if (approvalWait === null) return null;
  const flags: BridgeFlags = { transport: (values.transport ?? 'auto') as BridgeFlags['transport'], logLevel: (values['log-level'] ?? 'info') as BridgeFlags['logLevel'] };
  if (values.gate !== undefined) flags.gate = values.gate;
  if (values['cloud-url'] !== undefined) flags.cloudUrl = values['cloud-url'];
  if (values.agent !== undefined) flags.agent = values.agent;
  if (values.policy !== undefined) flags.policy = values.policy;
  if (values['allow-http']) flags.allowHttp = true;
  if (values['log-file'] !== undefined) flags.logFile = values['log-file'];
  if (values['api-key'] !== undefined) flags.apiKey = values['api-key'];
  if (requestTimeout !== undefined) flags.requestTimeout = requestTimeout;
  if (approvalWait !== undefined) flags.approvalWait = approvalWait;
  if (values['no-audit']) flags.audit = false;
  return flags;
}

/** A number of seconds, 0 or more (fractions allowed); null when it is not one. */
export function parseSeconds(text: string): number | null {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return null;
  return Number(text);
}
