// `sentrail gate`: implemented in src/gate/ (in progress).
import { CliError } from './errors.ts';

export async function runGate(_opts: Record<string, unknown>): Promise<number> {
  throw new CliError('not-implemented', 'sentrail gate is not implemented yet');
}
