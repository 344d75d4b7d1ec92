// Replays a scripted login through the real login view, with delays, as `sentrail login` will drive
// it: for looking at the view, and for the tmux test (test/e2e/login-view-tty.test.ts).
//   node --import tsx scripts/login-view-demo.ts [--flow device|browser|fail] [--json] [--wait MS]
// --wait: how long the "waiting for you" step lasts (Ctrl-C it to see a cancellation).
import { parseArgs } from 'node:util';
import type { LoginEvent } from '../src/auth/oauth/login-events.ts';
import { CliError } from '../src/cli/errors.ts';
import { createLoginView, loginViewOptions } from '../src/cli/login-view/index.ts';

const { values } = parseArgs({
  options: { flow: { type: 'string', default: 'device' }, json: { type: 'boolean', default: false }, wait: { type: 'string', default: '1500' } },
});
const flow = values.flow as 'device' | 'browser' | 'fail';
const waitMs = Number(values.wait);
const issuer = 'https://auth.demo.sentrail.dev';
const gate = 'https://demo-ref.supabase.co/functions/v1/mcp-gate/sse';

// Long on purpose: wider than most terminals, as real ones are.
const authorizeUrl = `${issuer}/authorize?response_type=code&client_id=sentrail-cli-6f0c2a9e&redirect_uri=${encodeURIComponent('http://127.0.0.1:53682/callback')}&scope=mcp%20offline_access&state=q6JtW0b8mEw1Yk3rZ0aF&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=${encodeURIComponent('https://demo-ref.supabase.co/functions/v1/mcp-gate')}`;

const start: [LoginEvent, number][] = [
  [{ type: 'step', step: 'discovering' }, 600],
  [{ type: 'discovered', issuer, resource: 'https://demo-ref.supabase.co/functions/v1/mcp-gate', scopes: ['mcp', 'offline_access'], deviceFlow: true }, 0],
  [{ type: 'step', step: 'registering' }, 500],
  [{ type: 'registered', clientId: 'sentrail-cli-6f0c2a9e', method: 'dynamic', reused: true }, 0],
];
const waiting: [LoginEvent, number][] =
  flow === 'browser'
    ? [
        [{ type: 'authorize-url', url: authorizeUrl, opened: false, callback: 'http://127.0.0.1:53682/callback' }, 0],
        [{ type: 'step', step: 'waiting-for-browser' }, waitMs],
      ]
    : [
        [
          {
            type: 'device-code',
            verificationUri: `${issuer}/device`,
            verificationUriComplete: `${issuer}/device?user_code=WDJB-MJHT&client_id=sentrail-cli-6f0c2a9e&resource=${encodeURIComponent('https://demo-ref.supabase.co/functions/v1/mcp-gate')}`,
            userCode: 'WDJB-MJHT',
            expiresAt: '2026-11-21T12:10:00.000Z',
          },
          0,
        ],
        [{ type: 'step', step: 'waiting-for-device' }, waitMs],
      ];
const finish: [LoginEvent, number][] = [
  [{ type: 'warning', message: 'the authorization server did not grant offline_access: log in again when the token expires' }, 0],
  [{ type: 'step', step: 'exchanging' }, 400],
  [{ type: 'step', step: 'checking' }, 400],
  [{ type: 'step', step: 'storing' }, 300],
  [
    {
      type: 'done',
      gate,
      issuer,
      subject: 'ada@example.com',
      scopes: ['mcp'],
      expiresAt: '2026-11-21T13:00:00.000Z',
      refreshable: false,
      storage: 'keychain',
      location: 'the OS keychain (Secret Service), service "sentrail"',
    },
    0,
  ],
];

const view = await createLoginView(loginViewOptions({ json: values.json }));
let exitCode = 0;
try {
  for (const [event, delay] of [...start, ...waiting, ...(flow === 'fail' ? [] : finish)]) {
    view.listener(event);
    await sleep(delay, view.signal);
  }
  if (flow === 'fail') {
    throw new CliError('device-code-expired', 'the code expired before it was entered; nothing was stored', { hint: 'Run sentrail login again for a new code.' });
  }
} catch (e) {
  exitCode = view.fail(e);
} finally {
  await view.close();
}
process.exitCode = exitCode;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(timer), reject(new DOMException('aborted', 'AbortError')));
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
