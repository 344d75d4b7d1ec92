// What each step of the login flow is called on screen: the spinner's text (ink) or a progress
// line (plain). Phrased as what sentrail is doing, or what it waits for you to do.
import type { LoginStep } from '../../auth/oauth/login-events.ts';

const STEP_TEXT: Record<LoginStep, string> = {
  discovering: "Finding the gate's authorization server",
  registering: 'Registering sentrail with the authorization server',
  'waiting-for-browser': 'Waiting for you to log in in the browser',
  'waiting-for-device': 'Waiting for you to enter the code',
  exchanging: 'Exchanging the code for tokens',
  checking: 'Checking the new token with the gate',
  storing: 'Storing the credential',
};

/** "Checking the new token with the gate (detail)…" */
export function stepText(step: LoginStep, detail?: string): string {
  return `${STEP_TEXT[step]}${detail ? ` (${detail})` : ''}…`;
}
