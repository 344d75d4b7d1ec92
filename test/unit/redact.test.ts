// Secrets never reach any output: the redactor on the log path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskKey, Redactor } from '../../src/log/redact.ts';

describe('Redactor', () => {
  const r = new Redactor();
  r.add('s3cr3t-token-value-123');
  it('removes registered values wherever they appear', () => {
    assert.equal(r.redact('x s3cr3t-token-value-123 y'), 'x [redacted] y');
  });
  it('masks credential shapes it was not told about', () => {
    assert.equal(r.redact('Authorization: Bearer abc.def-ghi'), 'Authorization: Bearer [redacted]');
    assert.equal(r.redact('key agk_' + 'A'.repeat(40)), 'key agk_[redacted]');
    assert.equal(r.redact('{"access_token":"t1","refresh_token":"t2","x":1}'), '{"access_token":"[redacted]","refresh_token":"[redacted]","x":1}');
    assert.equal(r.redact('GET /cb?code=abc123&state=xyz'), 'GET /cb?code=[redacted]&state=xyz');
    assert.equal(r.redact('code_verifier=v1&device_code=d2'), 'code_verifier=[redacted]&device_code=[redacted]');
    assert.equal(r.redact('body: grant_type=x&code=c9'), 'body: grant_type=x&code=[redacted]');
  });
  it('leaves prose alone', () => {
    assert.equal(r.redact('agent claude-code: allow (code: MODULE_NOT_FOUND)'), 'agent claude-code: allow (code: MODULE_NOT_FOUND)');
  });
  it('masks keys for display as agk_xxxx…yyyy', () => {
    assert.equal(maskKey('agk_abcd' + 'x'.repeat(32) + 'wxyz'), 'agk_abcd…wxyz');
  });
});
