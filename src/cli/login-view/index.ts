// TEMPORARY plain view until the ink view lands (wip-ui): one line per event on stderr, or JSON
// lines on stdout with --json.
import type { LoginEvent, LoginListener } from '../../auth/oauth/login-events.ts';
import type { CliError } from '../errors.ts';

export interface LoginView {
  listener: LoginListener;
  fail(error: Error): void;
  close(): Promise<void>;
  onCancel?(handler: () => void): void;
}

export function createLoginView(opts: { json: boolean }): LoginView {
  const line = (e: LoginEvent): string | null => {
    switch (e.type) {
      case 'authorize-url':
        return e.opened ? `Opened your browser at:\n  ${e.url}` : `Open this URL in a browser to log in:\n  ${e.url}`;
      case 'device-code':
        return `Open ${e.verificationUri} and enter the code: ${e.userCode}`;
      case 'warning':
        return `warning: ${e.message}`;
      case 'done':
        return `Logged in to ${e.gate}${e.subject ? ` as ${e.subject}` : ''}.`;
      default:
        return null;
    }
  };
  return {
    listener(e) {
      if (opts.json) process.stdout.write(JSON.stringify(e) + '\n');
      else {
        const l = line(e);
        if (l) process.stderr.write(l + '\n');
      }
    },
    fail(error) {
      const c = error as CliError;
      if (opts.json) process.stdout.write(JSON.stringify({ type: 'error', code: c.code ?? 'error', message: error.message, ...(c.hint ? { hint: c.hint } : {}) }) + '\n');
      else process.stderr.write(`sentrail: ${error.message}\n${c.hint ? `${c.hint}\n` : ''}`);
    },
    async close() {},
  };
}
