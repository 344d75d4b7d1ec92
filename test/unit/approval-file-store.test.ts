// The durable approval store on real files (a temp folder), without a gate: the transitions, the
// record on disk, and how a replay left behind by a dead run is told from one still under way.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openFileApprovalStore, PROCESS_NONCE } from '../../src/gate/approval-file-store.ts';
import type { ApprovalRecord, ApprovalStateError } from '../../src/gate/approvals.ts';

const call = { method: 'tools/call' as const, params: { name: 'deploy', arguments: { env: 'prod' } }, agent: 'ci-bot' };
const why = { policy: 'Deploys need approval', policyId: null, policyVersion: 'v1', reason: 'Policy "Deploys need approval" matched' };
const quiet = { warn: () => undefined };
const open = async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-store-'));
  return { stateDir, store: await openFileApprovalStore({ stateDir, log: quiet }) };
};

describe('approval file store', () => {
  it('writes one 0600 JSON file per request, and a second store on the folder reads it', async () => {
    const { stateDir, store } = await open();
    const r = await store.create(call, why);
    const file = path.join(stateDir, 'approvals', `${r.id}.json`);
    assert.deepEqual((JSON.parse(await readFile(file, 'utf8')) as ApprovalRecord).params, call.params);
    const other = await openFileApprovalStore({ stateDir, log: quiet });
    assert.equal((await other.get(r.id))?.status, 'pending');
    await other.decide(r.id, 'denied', 'bob', 'no');
    assert.deepEqual([(await store.get(r.id))?.status, (await store.get(r.id))?.decisionReason], ['denied', 'no']);
    assert.deepEqual((await readdir(path.join(stateDir, 'approvals'))).filter((n) => n.endsWith('.tmp')), []);
  });

  it('of concurrent decisions through two stores on one folder exactly one wins', async () => {
    const { stateDir, store } = await open();
    const other = await openFileApprovalStore({ stateDir, log: quiet });
    const r = await store.create(call, why);
    const outcomes = await Promise.allSettled([store, other, store, other, store, other].map((s, i) => s.decide(r.id, 'approved', `r${i}`)));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as ApprovalStateError).status, 'approved');
  });

  it('never reads a file that is not one of its ids (no path tricks through an id)', async () => {
    const { stateDir, store } = await open();
    await writeFile(path.join(stateDir, 'secret.json'), JSON.stringify({ id: 'x', status: 'pending' }));
    assert.equal(await store.get('../secret'), undefined);
    await assert.rejects(store.decide('../secret', 'approved', 'eve'), (err: ApprovalStateError) => err.code === 'not-found');
  });

  it('an approved record of a dead run is failed as replay_interrupted; a live run\'s stays approved', async () => {
    const { stateDir, store } = await open();
    const approved = async (pid: number, nonce: string) => {
      const r = await store.create(call, why);
      const file = path.join(stateDir, 'approvals', `${r.id}.json`);
      await writeFile(file, JSON.stringify({ ...r, status: 'approved', replayingPid: pid, replayingNonce: nonce }));
      return r.id;
    };
    // This pid, another run (a restarted gate in a container gets the same pid): dead.
    const samePid = await approved(process.pid, 'an-earlier-run');
    const got = await store.get(samePid);
    assert.deepEqual([got?.status, got?.error?.reason], ['failed', 'replay_interrupted']);
    assert.equal((JSON.parse(await readFile(path.join(stateDir, 'approvals', `${samePid}.json`), 'utf8')) as ApprovalRecord).status, 'failed', 'stored, not just shown');
    // This run: its own replay, under way.
    assert.equal((await store.get(await approved(process.pid, PROCESS_NONCE)))?.status, 'approved');
    // Another live process (the test runner's parent): another gate on the folder, replaying.
    assert.equal((await store.get(await approved(process.ppid, 'theirs')))?.status, 'approved');
  });
});
