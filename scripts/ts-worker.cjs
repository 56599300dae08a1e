// Runs a worker thread's TypeScript entry from the sources (tests and benchmarks run without a
// build): registers tsx in the worker, as `node --import tsx` does in the main thread, then loads
// the entry named as the worker's first argument. A built runtime never uses this file.
'use strict';
require('tsx/cjs/api').register();
require(process.argv[2]);
