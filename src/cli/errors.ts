// One error family for everything the CLI reports to a person: a stable code, the exit code it
// maps to, and the cause kept for --debug. Anything else reaching the top is a bug.
import { ExitCode } from './exit-codes.ts';

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** Extra lines shown under the message (a hint: what to run). */
  readonly hint?: string;
  constructor(code: string, message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.FAILURE;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

export const usageError = (message: string, hint?: string) =>
  new CliError('usage', message, { exitCode: ExitCode.INVALID_INPUT, ...(hint ? { hint } : {}) });
