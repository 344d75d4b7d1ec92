// Entry of the CLI: runs a command and resolves to its exit code; one top-level catch maps errors
// to exit codes. `sentrail bridge` takes a fast path that skips commander: Claude Code counts the
// bridge's start-up against its connect timeout.
import { CliError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';

export { VERSION } from './version.ts';

export function report(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`sentrail: ${err.message}\n${err.hint ? `${err.hint}\n` : ''}`);
    return err.exitCode;
  }
  // commander's errors (usage, --help, --version), told apart without loading commander here
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && (err as unknown as { code: string }).code.startsWith('commander.')) {
    const exitCode = (err as { exitCode?: number }).exitCode;
    // help and --version end here too, with exit code 0
    if (exitCode === 0) return ExitCode.OK;
    return ExitCode.INVALID_INPUT;
  }
  const e = err as Error;
  process.stderr.write(`sentrail: unexpected error: ${e?.message ?? String(err)}\n`);
  if (process.env.SENTRAIL_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('This is a bug in sentrail; run again with SENTRAIL_DEBUG=1 to see where it happened.\n');
  return ExitCode.FAILURE;
}

/** Runs the CLI and resolves to the exit code; the bin sets it and does nothing else. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[2] === 'bridge') {
      const { parseBridgeArgs } = await import('./bridge-args.ts');
      const flags = parseBridgeArgs(argv.slice(3));
      // Anything unusual (help, a typo) goes through commander for its messages.
      if (flags) return await (await import('./bridge.ts')).runBridge(flags);
    }
    const { buildProgram } = await import('./program.ts');
    let pending: Promise<number> | null = null;
    const program = buildProgram((action) => {
      pending = action();
    });
    await program.parseAsync(argv);
    if (pending) return await pending;
    return ExitCode.OK;
  } catch (err) {
    return report(err);
  }
}
