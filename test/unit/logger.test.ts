// The log file: 0600, size-capped with one rotation, secrets redacted, nothing on stdout.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/logger.ts';

describe('logger', () => {
  it('writes stderr and a 0600 file, rotates past the cap, redacts registered secrets', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-log-'));
    const file = path.join(dir, 'nested', 'bridge.log');
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => (err += d));
    const log = createLogger({ file, maxBytes: 2000, stderr, level: 'debug', name: 'test' });
    log.redactor.add('agk_SECRETSECRETSECRETSECRET');
    for (let i = 0; i < 40; i++) log.info(`line ${i} token agk_SECRETSECRETSECRETSECRET and Bearer abc.def`, { i });
    log.debug('a debug line');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    const current = await readFile(file, 'utf8');
    const rotated = await readFile(`${file}.1`, 'utf8');
    assert.ok(current.length <= 2000 && rotated.length <= 2000, 'each file stays under the cap');
    assert.match(current, /a debug line/);
    for (const text of [current, rotated, err]) {
      assert.doesNotMatch(text, /SECRET|abc\.def/);
      assert.match(text, /\[redacted\]/);
    }
    assert.match(err, /^test: line 0 token \[redacted\]/);
  });
  it('respects the level', () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => (err += d));
    const log = createLogger({ file: null, stderr, level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    assert.doesNotMatch(err, /quiet/);
    assert.match(err, /warn: loud/);
  });
});
