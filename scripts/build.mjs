// Bundles the CLI into dist/ with esbuild: one entry, lazily imported commands as separate chunks,
// so `sentrail bridge` under npx loads only the bridge's code. The options: build-options.mjs.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { bundleOptions } from './build-options.mjs';

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({ ...bundleOptions, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' });
