#!/usr/bin/env node
// Entry point: runs the CLI and sets the exit code, nothing else.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv);
