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
  // Everything but the keychain addon is bundled (see `external`); the licences of what is bundled
  // go beside the code.
  legalComments: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __SENTRAIL_VERSION__: JSON.stringify(pkg.version) },
  // The one runtime dependency: @napi-rs/keyring is a native addon (a platform package per OS/CPU,
  // each a .node binary chosen at run time), which cannot be bundled. It stays a `dependency` in
  // package.json and is resolved from node_modules when a keychain call is made (src/auth/keychain.ts).
  external: ['@napi-rs/keyring', '@napi-rs/keyring-*'],
  // CommonJS dependencies bundled into ESM need a require for Node built-ins.
  banner: { js: "import { createRequire as __sentrailCreateRequire } from 'node:module'; const require = __sentrailCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
