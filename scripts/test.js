#!/usr/bin/env node
// `npm test`: the type check of everything (tsc, tests included), the lint (scripts/lint.js: eslint
// and shellcheck) and jest, run side by side.
//
// jest only transpiles (ts-jest with isolatedModules), so the type check is a separate tsc run, and
// the tests that start the command need the compiled CLI (scripts/build.js, by content hash). Run
// one after the other, the two tsc runs kept one core idle for the first ~15 s of every suite run;
// here the type check and the lint run beside the build and then beside jest. Arguments go to jest.
// Exits with jest's status, or 1 when only the type check or the lint failed.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const node = (args) => new Promise((resolve) => {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  child.on('close', (code) => resolve({ code: code ?? 1, output }));
});

async function main() {
  // The type check's and the lint's output are held back and printed after jest's, so they do not interleave.
  const typecheck = node([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  const lint = node([path.join(ROOT, 'scripts/lint.js')]);
  const build = await node([path.join(ROOT, 'scripts/build.js')]);
  if (build.code !== 0) {
    process.stderr.write(build.output);
    process.stderr.write((await typecheck).output);
    process.stderr.write((await lint).output);
    return 1;
  }
  const jest = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
  const checked = await typecheck;
  if (checked.code !== 0) {
    process.stderr.write(`type check (tsc -p tsconfig.json) failed:\n${checked.output}`);
  }
  const linted = await lint;
  if (linted.code !== 0) {
    process.stderr.write(`lint (npm run lint) failed:\n${linted.output}`);
  }
  if (jest !== 0) return jest;
  return checked.code !== 0 || linted.code !== 0 ? 1 : 0;
}

main().then((code) => { process.exitCode = code; });
