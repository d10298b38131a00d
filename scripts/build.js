#!/usr/bin/env node
// Compiles lib/ and main.ts into build/ (JavaScript and .d.ts, with tsc's full type check), copies
// lib/'s non-TypeScript files (the shell scripts read at run time) beside the compiled code, and
// compiles the library (lib/index.ts and what it imports) with jsii: the `.jsii` assembly at the
// package root, from which jsii-pacmak generates the Python, Java, Go and .NET packages and
// jsii-docgen the API docs. jsii's warnings fail the build like its errors.
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
//
// jsii writes into its project's own build/ and .jsii (the package.json `types` and jsii.tsc.outDir
// say where), with no option for another folder; so it compiles a copy of the package (package.json,
// README.md, lib/*.ts) in the staging folder, after tsc, whose output for the assembly's modules it
// replaces with its own (the same code, plus the type information the jsii runtime reads). The
// commands, the tools entry and main.ts, outside the assembly (jsii.excludeTypescript), keep tsc's.
'use strict';
const { createHash } = require('crypto');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
const HASH_FILE = '.source-hash';
const LOCK = path.join(ROOT, '.build.lock');
const LOCK_STALE_MS = 5 * 60 * 1000;
const SCHEMA_FILE = 'k8s-v1.28.0-definitions.json';
const ASSEMBLY = '.jsii';
// Copied for jsii: what it reads (the package's name, version, targets, README for the assembly).
const JSII_INPUTS = ['package.json', 'README.md'];

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
    ...JSII_INPUTS,
    path.relative(ROOT, __filename),
    'scripts/schema-code.js',
    ...filesUnder('schemas'),
  ];
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const tool of ['typescript', 'jsii']) {
    hash.update(`${tool} ${require(path.join(ROOT, 'node_modules', tool, 'package.json')).version}\n`);
  }
  for (const file of sources()) {
    hash.update(`${file}\n`);
    hash.update(fs.readFileSync(path.join(ROOT, file)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

function builtHash() {
  // The assembly is swapped in before build/ (see compile), so a build/ with its hash has it too,
  // unless it was deleted since.
  if (!fs.existsSync(path.join(ROOT, ASSEMBLY))) return undefined;
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

/** Runs a node tool; its output (tsc and jsii print diagnostics on stdout) goes to stderr on failure only. */
function run(args, options = {}) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (result.status !== 0) {
    // stderr, because the cdk8s CLI keeps the app's stdout to itself and would swallow it.
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(`${path.basename(args[0])} failed (${result.error?.message ?? `exit status ${result.status}`})`);
  }
}

/** jsii on a copy of the package in staging: emits into staging/build, writes staging/.jsii. */
function compileAssembly(staging) {
  for (const file of [...JSII_INPUTS, ...filesUnder('lib').filter((name) => name.endsWith('.ts'))]) {
    fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(staging, file));
  }
  run([path.join(ROOT, 'node_modules/jsii/bin/jsii'), '--fail-on-warnings', '--generate-tsconfig', 'tsconfig.jsii.json', staging], {
    env: {
      ...process.env,
      // Not diagnostics of the code: jsii's notice that it no longer supports node 20 (which
      // package.json's engines allows), and its release-support notice, which it fetches from the
      // network (a build reaches no network).
      JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0],
      JSII_SILENCE_SUPPORT_WARNING: '1',
    },
  });
}

function compile(hash) {
  const staging = fs.mkdtempSync(path.join(ROOT, '.build-'));
  const output = path.join(staging, 'build');
  try {
    run([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', output]);
    // Files the compiled code reads at run time (lib/scripts/*.sh) sit beside it, as in lib/.
    for (const file of filesUnder('lib').filter((name) => !name.endsWith('.ts'))) {
      const target = path.join(output, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), target);
    }
    compileAssembly(staging);
    run([path.join(ROOT, 'scripts/schema-code.js'), path.join(output, 'lib'), path.join(ROOT, 'schemas', SCHEMA_FILE)]);
    fs.rmSync(path.join(output, 'tsconfig.tsbuildinfo'), { force: true });
    fs.writeFileSync(path.join(output, HASH_FILE), `${hash}\n`);
    fs.renameSync(path.join(staging, ASSEMBLY), path.join(ROOT, ASSEMBLY));
    const old = `${staging}-old`;
    if (fs.existsSync(BUILD)) fs.renameSync(BUILD, old);
    fs.renameSync(output, BUILD);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
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
    // tsc or jsii has printed its diagnostics already.
    console.error(`build failed: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}
