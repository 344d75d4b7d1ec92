// The package version, set at build time (scripts/build.mjs).
declare const __SENTRAIL_VERSION__: string | undefined;
export const VERSION = typeof __SENTRAIL_VERSION__ === 'string' ? __SENTRAIL_VERSION__ : '0.0.0-dev';
