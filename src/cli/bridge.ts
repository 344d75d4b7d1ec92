// `sentrail bridge`: flags → options → the bridge process (src/bridge/bridge.ts). It exits on its own
// (stdin end, a signal, the parent's death); the exit code is 0 unless it could not start at all.
import type { LogLevel } from '../log/logger.ts';
import { VERSION } from './version.ts';

export interface BridgeFlags {
  gate?: string;
  cloudUrl?: string;
  agent?: string;
  policy?: string;
  transport?: 'auto' | 'http' | 'sse';
  allowHttp?: boolean;
  logFile?: string;
  logLevel?: LogLevel;
  apiKey?: string;
}

export async function runBridge(flags: BridgeFlags): Promise<number> {
  const { runBridgeProcess } = await import('../bridge/bridge.ts');
  const code = await runBridgeProcess({ ...flags, version: VERSION });
  // Open sockets (a GET stream being torn down) must not keep a finished bridge alive.
  setTimeout(() => process.exit(code), 50).unref();
  return code;
}
