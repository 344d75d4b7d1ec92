// The token stores' errors, as the CLI reports them: what happened, and what to do instead. Never a
// secret in a message: the stores' native errors name the service, never the stored value.
import { CliError } from '../cli/errors.ts';
import { ExitCode } from '../cli/exit-codes.ts';

/** What to do when the keychain cannot be used: the two ways around it. */
export const NO_KEYCHAIN_HINT =
  'Either keep the key in a file only you can read: sentrail login --with-api-key --insecure-storage\n' +
  'or, in CI and containers, give the key to each command in the SENTRAIL_API_KEY environment variable.';

export type KeychainProblem = 'unavailable' | 'locked' | 'timeout' | 'unsupported';

export class KeychainError extends CliError {
  readonly problem: KeychainProblem;
  constructor(problem: KeychainProblem, message: string, cause?: unknown) {
    super(`keychain-${problem}`, message, { exitCode: ExitCode.FAILURE, hint: NO_KEYCHAIN_HINT, cause });
    this.name = 'KeychainError';
    this.problem = problem;
  }
}

/** Sorts a native keyring error into a problem with a sentence a person can act on. */
export function keychainErrorFrom(raw: string, platform: NodeJS.Platform = process.platform): KeychainError {
  const reason = raw.replace(/\s+/g, ' ').trim();
  if (/unlock prompt was dismissed|IsLocked|is locked|locked collection/i.test(reason)) {
    return new KeychainError('locked', `the OS keychain is locked and could not be unlocked here (${reason}); unlock it (on Linux: your login keyring) and try again`);
  }
  if (platform === 'linux' && /DBUS_SESSION_BUS_ADDRESS|AccessDenied|not provided by any \.service files|ServiceUnknown|no result found|autolaunch|DBus error/i.test(reason)) {
    return new KeychainError(
      'unavailable',
      `no OS keychain is reachable: sentrail keeps credentials in the Secret Service (GNOME Keyring, KWallet…) over the D-Bus session bus, and none answered (${reason})`,
    );
  }
  return new KeychainError('unavailable', `the OS keychain cannot be used: ${reason}`);
}
