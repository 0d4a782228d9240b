/**
 * The version of this package, recorded in the checkpoints it writes
 * (tests/core/version.test.ts keeps it equal to package.json's).
 */
export const SELFSUP_VERSION = '0.1.0';
