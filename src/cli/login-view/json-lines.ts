// --json: one JSON object per event on stdout (JSON lines), the last line the outcome: the `done`
// event, or `{"type":"error","code","message","hint"?}`. Each event is copied field by field
// from its declared shape, so a field the flow did not declare (a token put there by mistake)
// never reaches the output.
import type { LoginEvent } from '../../auth/oauth/login-events.ts';
import { CliError } from '../errors.ts';

type FieldsOf<T extends LoginEvent['type']> = readonly (keyof Extract<LoginEvent, { type: T }>)[];

const FIELDS: { [T in LoginEvent['type']]: FieldsOf<T> } = {
  step: ['type', 'step', 'detail'],
  discovered: ['type', 'issuer', 'resource', 'scopes', 'deviceFlow'],
  registered: ['type', 'clientId', 'method', 'reused'],
  'authorize-url': ['type', 'url', 'opened', 'callback'],
  'device-code': ['type', 'verificationUri', 'verificationUriComplete', 'userCode', 'expiresAt'],
  warning: ['type', 'message'],
  done: ['type', 'gate', 'issuer', 'subject', 'scopes', 'expiresAt', 'refreshable', 'storage', 'location'],
};

export interface LoginErrorLine {
  type: 'error';
  code: string;
  message: string;
  hint?: string;
}

export function eventLine(event: LoginEvent): string {
  const copy: Record<string, unknown> = {};
  for (const field of FIELDS[event.type] as readonly string[]) {
    const value = (event as unknown as Record<string, unknown>)[field];
    if (value !== undefined) copy[field] = value;
  }
  return `${JSON.stringify(copy)}\n`;
}

export function errorLine(error: CliError | Error): string {
  const line: LoginErrorLine =
    error instanceof CliError
      ? { type: 'error', code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
      : { type: 'error', code: 'unexpected', message: error.message };
  return `${JSON.stringify(line)}\n`;
}
