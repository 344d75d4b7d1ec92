// The view of `sentrail login`: shows the login flow's events (auth/oauth/login-events.ts) to
// people (ink at a terminal, plain lines otherwise) or to programs (--json: JSON lines).
//
//   createLoginView(options: LoginViewOptions): Promise<LoginView>   // async: ink loads lazily
//   loginViewOptions(flags: { json?: boolean }): LoginViewOptions   // the mode, colour and stream
//
// In src/cli/login.ts:
//
//   const view = await createLoginView(loginViewOptions({ json: opts.json }));
//   try {
//     await runLoginFlow({ ...flowOptions, onEvent: view.listener, signal: view.signal });
//     return ExitCode.OK;
//   } catch (e) {
//     return view.fail(e); // shows the error (✗ message + hint, or the JSON `error` line): don't rethrow
//   } finally {
//     await view.close(); // stops the spinner, unmounts ink, restores the terminal
//   }
//
// Modes: `json` with --json (stdout, JSON lines; docs/login.md); `ink` when stderr is a terminal
// and not under CI (ink prints only its last frame there); `plain` otherwise. People's output goes
// to stderr, so stdout stays for --json. Colour follows terminal.ts: a TTY, never with NO_COLOR.
//
// Ctrl-C (SIGINT) while the view is open aborts `view.signal`, whose reason is a CliError
// `cancelled`; the flow stops, and view.fail shows the cancellation whatever the flow threw.
// A second Ctrl-C ends the process at once.
import { Chalk } from 'chalk';
import type { LoginEvent, LoginListener } from '../../auth/oauth/login-events.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { createTerminal } from '../terminal.ts';
import { onInterrupt } from './interrupt.ts';
import { createJsonView } from './json-view.ts';
import { createPlainView } from './plain-view.ts';
import type { ViewRenderer } from './renderer.ts';

export type LoginViewMode = 'ink' | 'plain' | 'json';

export interface LoginViewOptions {
  mode: LoginViewMode;
  /** Colour and bold (ink, plain); ignored by json. */
  color: boolean;
  /** Where the view writes: stderr for people (ink needs a TTY stream), stdout for json. */
  stream: NodeJS.WriteStream;
  /** ink only; default process.stdin. Ink does not read it (Ctrl-C comes as SIGINT). */
  stdin?: NodeJS.ReadStream;
  /** Catch Ctrl-C (SIGINT) while open; default true. Tests that share a process turn it off. */
  catchInterrupts?: boolean;
}

export interface LoginView {
  /** Give it to the flow: each event is shown as it comes. Events after the end are ignored. */
  readonly listener: LoginListener;
  /** Give it to the flow: aborted by Ctrl-C (or cancel()), with a CliError `cancelled` as reason. */
  readonly signal: AbortSignal;
  /** Stops the flow as Ctrl-C does (a caller's own time limit, tests); `reason` replaces the Ctrl-C one. */
  cancel(reason?: CliError): void;
  /**
   * Shows how the login failed and returns the exit code to end with. After a cancel, what the flow
   * threw (an AbortError…) is shown as the cancellation. Only the first call shows anything.
   */
  fail(error: unknown): ExitCode;
  /** Ends the view: no spinner left, ink unmounted, Ctrl-C no longer caught. Safe to call twice. */
  close(): Promise<void>;
}

/** `ci`: CI or CONTINUOUS_INTEGRATION set, as ink's is-in-ci reads them. */
export function chooseLoginViewMode(opts: { json?: boolean; isTTY: boolean; ci: boolean }): LoginViewMode {
  if (opts.json) return 'json';
  return opts.isTTY && !opts.ci ? 'ink' : 'plain';
}

export function loginViewOptions(flags: { json?: boolean }): LoginViewOptions {
  const ciFlag = (name: string) => name in process.env && process.env[name] !== '0' && process.env[name] !== 'false';
  const mode = chooseLoginViewMode({ json: flags.json, isTTY: Boolean(process.stderr.isTTY), ci: ciFlag('CI') || ciFlag('CONTINUOUS_INTEGRATION') });
  if (mode === 'json') return { mode, color: false, stream: process.stdout };
  return { mode, color: createTerminal(process.stderr).color.level > 0, stream: process.stderr };
}

export async function createLoginView(opts: LoginViewOptions): Promise<LoginView> {
  const renderer = await createRenderer(opts);
  const controller = new AbortController();
  let ended = false;
  let closed = false;
  const stopCatching = opts.catchInterrupts === false ? () => {} : onInterrupt(() => view.cancel());

  const view: LoginView = {
    listener(event: LoginEvent) {
      if (ended) return;
      renderer.event(event);
      if (event.type === 'done') ended = true;
    },
    signal: controller.signal,
    cancel(reason?: CliError) {
      if (ended || controller.signal.aborted) return;
      controller.abort(reason ?? new CliError('cancelled', 'cancelled (Ctrl-C)'));
      renderer.cancelling();
    },
    fail(thrown: unknown) {
      const error = asError(controller.signal.aborted && !(thrown instanceof CliError) ? controller.signal.reason : thrown);
      if (!ended) renderer.fail(error);
      ended = true;
      return error instanceof CliError ? error.exitCode : ExitCode.FAILURE;
    },
    async close() {
      if (closed) return;
      closed = true;
      ended = true;
      stopCatching();
      await renderer.close();
    },
  };
  return view;
}

async function createRenderer(opts: LoginViewOptions): Promise<ViewRenderer> {
  const palette = new Chalk({ level: opts.color ? 1 : 0 });
  if (opts.mode === 'json') return createJsonView(opts.stream);
  if (opts.mode === 'plain') return createPlainView(opts.stream, palette);
  // ink and React load only here: plain and json logins (CI, scripts) never pay for them.
  const { createInkRenderer } = await import('./ink-renderer.ts');
  return createInkRenderer({ stream: opts.stream, color: opts.color, palette, ...(opts.stdin ? { stdin: opts.stdin } : {}) });
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
