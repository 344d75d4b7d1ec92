// The lasting lines of a login, shared by the ink and plain views: what was found, where to go
// and what code to type, warnings, and the outcome. Pure: an event (or the error) and a palette
// in, lines out. Only the event's own fields are shown, so nothing else can leak into them.
//
// A URL is always a line of its own, never indented or decorated: a triple-click copies it whole,
// and the terminal (not the view) wraps it, so it copies as one line however long it is.
import type { LoginEvent } from '../../auth/oauth/login-events.ts';
import { CliError } from '../errors.ts';

/** The styles the lines use; identity functions when colour is off. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

/** A group of lines; `standsOut` groups get a blank line before them (URLs, codes, outcome). */
export interface TranscriptBlock {
  lines: string[];
  standsOut: boolean;
}

const CLIENT_METHOD: Record<Extract<LoginEvent, { type: 'registered' }>['method'], string> = {
  'pre-registered': 'pre-registered at the authorization server',
  'metadata-document': 'a client ID metadata document',
  dynamic: 'registered dynamically',
};

/** The lines an event leaves on screen; null for events that only move the spinner (steps). */
export function eventBlock(event: LoginEvent, p: Palette): TranscriptBlock | null {
  switch (event.type) {
    case 'step':
      return null;
    case 'discovered':
      return { lines: [p.dim(`Authorization server: ${event.issuer}`)], standsOut: false };
    case 'registered': {
      const how = `${CLIENT_METHOD[event.method]}${event.reused ? ', from an earlier login' : ''}`;
      return { lines: [p.dim(`Client ID: ${event.clientId} (${how})`)], standsOut: false };
    }
    case 'authorize-url':
      return {
        lines: [
          event.opened ? 'Opened this URL in your browser; if nothing appeared, open it yourself:' : 'Open this URL in a browser:',
          event.url,
          p.dim(`(the browser comes back to ${event.callback}, on this machine)`),
        ],
        standsOut: true,
      };
    case 'device-code':
      return {
        lines: [
          'Open this URL in a browser:',
          event.verificationUri,
          'and enter the code:',
          p.bold(event.userCode),
          ...(event.verificationUriComplete ? ['Or open this URL, which fills in the code for you:', event.verificationUriComplete] : []),
          p.dim(`The code expires at ${event.expiresAt}.`),
        ],
        standsOut: true,
      };
    case 'warning':
      return { lines: [p.yellow(`warning: ${event.message}`)], standsOut: false };
    case 'done': {
      const label = (name: string) => `  ${`${name}:`.padEnd(9)} `;
      const expires = event.expiresAt === null ? 'not said by the authorization server' : event.expiresAt;
      return {
        lines: [
          `${p.green('✓')} Logged in to ${event.gate}${event.subject === null ? '' : ` as ${p.bold(event.subject)}`}`,
          `${label('scopes')}${event.scopes.length ? event.scopes.join(' ') : 'none granted'}`,
          `${label('expires')}${expires}${event.refreshable ? ' (refreshable)' : ''}`,
          `${label('stored')}${event.location}${event.storage === 'file' ? ' (--insecure-storage)' : ''}`,
        ],
        standsOut: true,
      };
    }
  }
}

/** The lines of a failed login: ✗ and the message, then the hint as written (it may hold a command). */
export function failureBlock(error: CliError | Error, p: Palette): TranscriptBlock {
  const message = error instanceof CliError ? error.message : `unexpected error: ${error.message}`;
  const hint = error instanceof CliError && error.hint ? error.hint.split('\n') : [];
  return { lines: [`${p.red('✗')} ${message}`, ...hint], standsOut: true };
}

/** A block as text, with its blank line before it when it stands out and something came before. */
export function blockText(block: TranscriptBlock, first: boolean): string {
  return `${block.standsOut && !first ? '\n' : ''}${block.lines.join('\n')}\n`;
}
