#!/usr/bin/env node
// `npm run docs`: the API reference, per language, from the jsii assembly (.jsii, which the build
// writes) with jsii-docgen, the generator Construct Hub uses: docs/api/<language>.md, with the
// examples translated into each language, and docs/api/README.md linking them.
//
//   node scripts/docs.js [outdir]   default docs/api; test/api-docs.test.ts writes a fresh copy
//                                   into a temporary folder and compares
//
// The examples are translated first, once for every language, by jsii-rosetta into the tablet
// beside the assembly (.jsii.tabl.json, a cache: only new or changed examples are compiled again),
// where jsii-docgen finds them; by itself it would compile every example again for each language
// (about 5 s each). Then one jsii-docgen per language, side by side.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
// jsii-docgen's languages, and the name each page has.
const LANGUAGES = [
  ['typescript', 'TypeScript'],
  ['python', 'Python'],
  ['java', 'Java'],
  ['csharp', 'C#'],
  ['go', 'Go'],
];
const TIMEOUT_MS = 300_000;

/** Runs a node tool of node_modules; its output is shown only when it fails. */
function tool(what, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // jsii's notice that it no longer supports node 20, which package.json's engines allows.
      env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0] },
    });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit status ${code}`}):\n${output}`));
    });
  });
}

function index() {
  const { name } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return [
    `# ${name} API reference`,
    '',
    'Generated from the jsii assembly by `npm run docs` (jsii-docgen); do not edit.',
    '',
    ...LANGUAGES.map(([language, title]) => `- [${title}](${language}.md)`),
    '',
  ].join('\n');
}

async function main(outdir) {
  require('./build').ensureBuilt();
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of fs.readdirSync(outdir)) fs.rmSync(path.join(outdir, file), { recursive: true, force: true });
  await tool('jsii-rosetta extract', [path.join(ROOT, 'node_modules/jsii-rosetta/bin/jsii-rosetta'), 'extract']);
  await Promise.all(LANGUAGES.map(([language]) => tool(`jsii-docgen --language ${language}`, [
    path.join(ROOT, 'node_modules/jsii-docgen/bin/jsii-docgen'), '--language', language, '--output', path.join(outdir, language),
  ])));
  fs.writeFileSync(path.join(outdir, 'README.md'), index());
}

main(path.resolve(process.argv[2] ?? path.join(ROOT, 'docs/api'))).catch((error) => {
  console.error(`docs: ${error.message}`);
  process.exit(1);
});
