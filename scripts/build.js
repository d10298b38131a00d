#!/usr/bin/env node
// Compiles lib/ and main.ts into build/ (JavaScript and .d.ts, with tsc's full type check) and
// copies lib/'s non-TypeScript files (the shell scripts read at run time) beside the compiled code.
//
//   node scripts/build.js          build when the sources changed since the last build (npm's
//                                  `prepack`, so `npm pack` and `npm publish` ship an up-to-date
//                                  build/; not `prepare`, which the published package.json would
//                                  keep while scripts/ is not shipped)
//   node scripts/build.js --force  build now (`npm run build`)
//   require('./build').ensureBuilt()   the same check from the synth app (scripts/synth-app.js)
//
// "Changed" is decided by a sha256 over the sources (not their mtimes, which git checkouts and
// copies do not keep), stored in build/.source-hash. The build is written to a temporary folder and
// swapped in whole, under a lock, so that two builds at once (parallel test workers, a synth during
// `npm pack`) neither mix their output nor leave a half-written build/ for a reader.
'use strict';
const { createHash } = require('crypto');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
const HASH_FILE = '.source-hash';
const LOCK = path.join(ROOT, '.build.lock');
const LOCK_STALE_MS = 5 * 60 * 1000;

/** Every file under dir (recursively), as paths relative to ROOT, sorted. */
function filesUnder(dir) {
  const absolute = path.join(ROOT, dir);
  if (!fs.existsSync(absolute)) return [];
  return fs.readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

/** The inputs of a build: what tsc compiles, what is copied, and how. */
function sources() {
  return [
    ...filesUnder('lib'),
    ...filesUnder('imports'),
    'main.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    path.relative(ROOT, __filename),
  ];
}

function sourceHash() {
  const hash = createHash('sha256');
  hash.update(`typescript ${require(path.join(ROOT, 'node_modules/typescript/package.json')).version}\n`);
  for (const file of sources()) {
    hash.update(`${file}\n`);
    hash.update(fs.readFileSync(path.join(ROOT, file)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

function builtHash() {
  try {
    return fs.readFileSync(path.join(BUILD, HASH_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock(fn) {
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A build killed half-way leaves its lock behind; no build takes minutes.
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > LOCK_STALE_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch { /* removed by its owner meanwhile */ }
      sleep(100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

function compile(hash) {
  const staging = fs.mkdtempSync(path.join(ROOT, '.build-'));
  try {
    execFileSync(process.execPath, [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', staging,
    // tsc prints its diagnostics on stdout; they go to stderr here, because the cdk8s CLI keeps
    // the app's stdout to itself and would swallow them.
    ], { stdio: ['ignore', 2, 2] });
    // Files the compiled code reads at run time (lib/scripts/*.sh) sit beside it, as in lib/.
    for (const file of filesUnder('lib').filter((name) => !name.endsWith('.ts'))) {
      const target = path.join(staging, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), target);
    }
    fs.writeFileSync(path.join(staging, HASH_FILE), `${hash}\n`);
    const old = `${staging}-old`;
    if (fs.existsSync(BUILD)) fs.renameSync(BUILD, old);
    fs.renameSync(staging, BUILD);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Builds when build/ is missing or older than the sources; returns whether it built. */
function ensureBuilt({ force = false } = {}) {
  if (!force && builtHash() === sourceHash()) return false;
  return withLock(() => {
    // Another process may have built while this one waited for the lock.
    const hash = sourceHash();
    if (!force && builtHash() === hash) return false;
    compile(hash);
    return true;
  });
}

module.exports = { ensureBuilt, sourceHash };

if (require.main === module) {
  try {
    ensureBuilt({ force: process.argv.includes('--force') });
  } catch (error) {
    // tsc has printed its diagnostics already.
    console.error(`build failed: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}
