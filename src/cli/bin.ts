#!/usr/bin/env node
/** The `selfsup` executable (package.json "bin"): runs the command line and exits with its code. */
import { main } from './main.js';

// Decoding threads and the wasm runtime may hold the event loop: exit when the command is done.
void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }).then((code) => process.exit(code));
