// Whether the tests have a real OS keychain: the Secret Service of gnome-keyring on a D-Bus session
// bus, as .ci/run starts one. Tests that need it skip with the reason when there is none, but fail
// under CI=true, where its absence is a broken set-up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ROOT } from './cli.ts';

export const CI = process.env.CI === 'true' || process.env.CI === '1';

/** Probes the Secret Service the way sentrail uses it (in a child process: a wedged bus cannot hang the tests). */
export function probeKeychain(): Promise<string | null> {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return Promise.resolve('DBUS_SESSION_BUS_ADDRESS is not set: no D-Bus session bus, so no Secret Service');
  const script = `
    const { Entry } = require('@napi-rs/keyring');
    const e = new Entry('sentrail-test-probe', 'probe-' + process.pid, { linux: { store: 'secret-service' } });
    e.setPassword('probe');
    const back = e.getPassword();
    e.deletePassword();
    if (back !== 'probe') { console.error('the keychain did not return what was stored (locked?)'); process.exit(1); }`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { cwd: ROOT, timeout: 5000 }, (err, _stdout, stderr) => {
      resolve(err ? `the Secret Service probe failed: ${(stderr || err.message).trim().split('\n').pop()}` : null);
    });
  });
}

/** For tests that need the real keychain: true when there is one; else skips `t` with the reason (fails under CI). */
export function needKeychain(t: { skip(message?: string): void }, noKeychain: string | null): boolean {
  if (!noKeychain) return true;
  if (CI) assert.fail(`CI=true but there is no usable Secret Service (${noKeychain}). .ci/run must run the tests under dbus-run-session with gnome-keyring unlocked (docs/login.md).`);
  t.skip(`no OS keychain: ${noKeychain}. Run under: dbus-run-session -- sh -c 'echo -n ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null && npm test'`);
  return false;
}
