// Bundles the CLI into dist/ with esbuild: one entry, lazily imported commands as separate chunks,
// so `sentrail bridge` under npx loads only the bridge's code.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer ESM builds: some packages (jsonc-parser) ship a UMD `main` whose requires esbuild cannot follow.
  mainFields: ['module', 'main'],
  target: 'node20',
  sourcemap: false,
  // Everything is bundled (the package has no runtime dependencies, so `npx -y sentrail` fetches one
  // tarball); the licences of what is bundled go beside the code.
  legalComments: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __SENTRAIL_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies bundled into ESM need a require for Node built-ins.
  banner: { js: "import { createRequire as __sentrailCreateRequire } from 'node:module'; const require = __sentrailCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
