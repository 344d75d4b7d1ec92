// The esbuild options of the CLI bundle, shared by scripts/build.mjs and the tests that bundle a
// small entry (the login view demo) exactly as the CLI is bundled.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** @type {import('esbuild').BuildOptions} */
export const bundleOptions = {
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
  // NODE_ENV: React (and ink's reconciler) choose their production build by it at run time, and
  // both builds are bundled unless it is defined; defined, the login view's chunk is about half
  // the size (1.6 MB → 0.9 MB). Only React and ink read it in this bundle (checked when added).
  define: { __SENTRAIL_VERSION__: JSON.stringify(pkg.version), 'process.env.NODE_ENV': '"production"' },
  // The one runtime dependency: @napi-rs/keyring is a native addon (a platform package per OS/CPU,
  // each a .node binary chosen at run time), which cannot be bundled. It stays a `dependency` in
  // package.json and is resolved from node_modules when a keychain call is made (src/auth/keychain.ts).
  //
  // react-devtools-core: ink imports it only when DEV=true (a dynamic import behind that check),
  // and it is not installed; external, the import is never reached.
  external: ['@napi-rs/keyring', '@napi-rs/keyring-*', 'react-devtools-core'],
  // The login view is React (ink); TSX compiles to react/jsx-runtime calls.
  jsx: 'automatic',
  // CommonJS dependencies bundled into ESM need a require for Node built-ins.
  banner: { js: "import { createRequire as __sentrailCreateRequire } from 'node:module'; const require = __sentrailCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};
