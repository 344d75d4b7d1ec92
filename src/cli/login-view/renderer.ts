// What each mode of the login view (ink, plain, json) implements; index.ts adds Ctrl-C and the
// once-only rules on top.
import type { LoginEvent } from '../../auth/oauth/login-events.ts';
import type { CliError } from '../errors.ts';

export interface ViewRenderer {
  event(event: LoginEvent): void;
  /** Ctrl-C was pressed: the flow is being stopped. */
  cancelling(): void;
  fail(error: CliError | Error): void;
  close(): Promise<void>;
}
