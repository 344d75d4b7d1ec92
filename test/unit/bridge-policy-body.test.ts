// What the bridge calls a policy document when the gate's policy endpoint answers (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notAPolicyDocument } from '../../src/bridge/policy-body.ts';

describe('notAPolicyDocument', () => {
  it('a JSON object with policies or version is a policy document (the loader judges the rest)', () => {
    assert.equal(notAPolicyDocument('application/json', '{"version":"1","policies":[]}'), null);
    assert.equal(notAPolicyDocument('application/json; charset=utf-8', '{"policies":[{"oddField":1}]}'), null);
    assert.equal(notAPolicyDocument(null, '{"version":"2"}'), null);
    assert.equal(notAPolicyDocument('text/plain', ' {"policies":[]} '), null);
    assert.equal(notAPolicyDocument('application/vnd.sentrail.policy+json', '{"policies":[]}'), null);
  });
  it('names the media type of anything else', () => {
    assert.equal(notAPolicyDocument('text/html; charset=utf-8', '{"policies":[]}'), 'the gate answered text/html, not a policy document');
    assert.equal(notAPolicyDocument('text/event-stream', 'data: x\n\n'), 'the gate answered text/event-stream, not a policy document');
    assert.equal(notAPolicyDocument('application/yaml', 'policies: []'), 'the gate answered application/yaml, not a policy document');
  });
  it('says what the body was when the type would do', () => {
    assert.match(notAPolicyDocument('application/json', '')!, /empty body/);
    assert.match(notAPolicyDocument(null, '<!doctype html><p>hi')!, /looks like HTML/);
    assert.match(notAPolicyDocument('text/plain', 'OK')!, /text\/plain that is not JSON/);
    assert.match(notAPolicyDocument('application/json', '[1,2]')!, /holding a list/);
    assert.match(notAPolicyDocument('application/json', '"hello"')!, /holding a string/);
    assert.match(notAPolicyDocument('application/json', '{"ok":true,"user":"x"}')!, /without "policies" or "version"/);
  });
  it('never quotes the body (a careless gate may echo the request headers into it)', () => {
    const msg = notAPolicyDocument('application/json', '{"Authorization": Bearer agk_secret')!;
    assert.doesNotMatch(msg, /agk_secret|Bearer/);
  });
});
