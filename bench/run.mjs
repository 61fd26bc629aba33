#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME/index.ts; each benchmark prints its result as its last
// line: `NAME: <details> ratio=<x.xx>`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(benchDir, entry.name, 'index.ts')))
  .map((entry) => entry.name);

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(
    `usage: npm run bench -- NAME [args]; NAME is one of: ${available.join(', ') || '(none yet)'}`,
  );
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(benchDir, name, 'index.ts'), ...args],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
