// Types of build-options.mjs, for the tests that import it.
import type { BuildOptions } from 'esbuild';
export declare const bundleOptions: BuildOptions;
