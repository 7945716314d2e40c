#!/usr/bin/env node
// The `tollgate` command. The project is TypeScript run through tsx, so no build step stands between a clone and a run.
require('tsx/cjs');
require('../cli/tollgate.ts').main();
