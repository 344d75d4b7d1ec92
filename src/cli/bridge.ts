// `sentrail bridge`: implemented in src/bridge/ (in progress).
import { CliError } from './errors.ts';

export async function runBridge(_opts: Record<string, unknown>): Promise<number> {
  throw new CliError('not-implemented', 'sentrail bridge is not implemented yet');
}
