// Local blocks, reported to the gate's audit (`POST C/mcp-gate/audit`, docs/gate.md): the gate never
// sees a call the bridge blocked itself, so without this the org's audit has a hole exactly where
// the policy worked. Best effort and never in the call's way: sent after the answer, a few at a
// time; a gate without the endpoint (404, the hosted gate today) is asked once, then left alone.
// The local audit file keeps every line whatever happens here.
import type { AuditRecord } from '../audit/record.ts';
import type { HttpClient } from './http-client.ts';

export interface AuditUploader {
  report(record: AuditRecord): void;
}

export function createAuditUploader(opts: { cloudBase: string; http: HttpClient; headers: () => Promise<Record<string, string>>; log: { info(m: string): void; debug(m: string): void } }): AuditUploader {
  const url = new URL(`${opts.cloudBase}/mcp-gate/audit`);
  let off = false;
  let pending: AuditRecord[] = [];
  let sending = false;
  const flush = async () => {
    if (sending || off || pending.length === 0) return;
    sending = true;
    const batch = pending.splice(0, 100);
    try {
      const res = await opts.http(url, { method: 'POST', headers: { ...(await opts.headers()), 'content-type': 'application/json' }, body: JSON.stringify({ records: batch }), signal: AbortSignal.timeout(5000) });
      res.discard();
      if (res.status === 404) {
        off = true;
        pending = [];
        opts.log.info(`the gate has no audit endpoint (${url.pathname}: 404): local blocks stay in the local audit only`);
      } else if (res.status < 200 || res.status > 299) opts.log.debug(`the gate refused ${batch.length} audit lines (HTTP ${res.status}); they stay in the local audit`);
    } catch (err) {
      opts.log.debug(`could not report ${batch.length} audit lines to the gate (${(err as Error).message}); they stay in the local audit`);
    } finally {
      sending = false;
      if (pending.length > 0) void flush();
    }
  };
  return {
    report(record) {
      if (off) return;
      // A bounded backlog: an unreachable gate must not grow it without end.
      if (pending.length < 1000) pending.push(record);
      void flush();
    },
  };
}
