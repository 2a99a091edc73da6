#!/usr/bin/env node
'use strict';
// Plain JavaScript so `npx orthanc-ai-bridge` works in a clone; the CLI itself
// is TypeScript compiled into dist/.
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'plugin', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`orthanc-ai-bridge: ${entry} is missing; run npm install && npm run build\n`);
  process.exit(1);
}
require(entry).main(process.argv.slice(2));
