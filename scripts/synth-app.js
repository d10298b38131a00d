#!/usr/bin/env node
// The cdk8s app (cdk8s.yaml `app:`): runs the compiled main.js, after compiling it when the
// sources changed since the last build. Synth thus runs plain JavaScript (no TypeScript compiler
// loaded, no type check) unless there is something new to compile, and never runs a stale build.
'use strict';
try {
  require('./build').ensureBuilt();
} catch {
  // tsc or jsii has printed its diagnostics.
  console.error('synth: building lib/ and main.ts (tsc, jsii) failed (see the errors above); fix them, or run `npm run build` to see them again');
  process.exit(1);
}
require('../build/main.js');
