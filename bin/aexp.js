#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'runtime', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`aexp: the runtime is not built (${bundle} is missing); run "npm run build" first.\n`);
  process.exit(1);
}
require(bundle);
