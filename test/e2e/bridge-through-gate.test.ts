// The bridge end-to-end suite again, with the local gate (`sentrail gate`) between the bridge and
// server-everything: every fidelity, id and fault test through the gate the product ships.
process.env.SENTRAIL_E2E_UPSTREAM = 'gate';
await import('./bridge.test.ts');
