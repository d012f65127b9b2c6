#!/usr/bin/env node
/**
 * The command line: `sync`, `query`, `demo` and `simulator` over the one engine. Bad input ends with one
 * sentence on stderr and exit 2; a failed run with exit 1.
 */
import { runCli } from '../cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
