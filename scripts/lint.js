#!/usr/bin/env node
// `npm run lint` (and part of `npm test`, scripts/test.js): ESLint on the TypeScript and JavaScript
// (eslint.config.mjs), and shellcheck on every shell script of the repository, each with the shell
// its first line names (lib/scripts/ are `#!/bin/sh`: they run under busybox sh and dash). The two
// run side by side; the exit status is 1 when either reports an error (ESLint's warnings do not fail).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
/** Folders that hold no script of ours: dependencies, generated or built output. */
const SKIP = new Set(['.git', 'node_modules', 'build', 'dist', 'docs', 'imports', 'coverage', '.jest-cache', '.jsii']);
const SHEBANG = /^#!\s*(?:\/usr\/bin\/env\s+|\/(?:usr\/)?bin\/)(sh|bash|dash|ksh)\b/;

/**
 * Every shell script under ROOT (a `.sh` file, or a file whose first line runs a shell), as
 * { file (relative to ROOT), shell }, sorted. A `.sh` file without a shebang is taken as sh.
 */
function shellScripts(root = ROOT) {
  const scripts = [];
  const visit = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name) && !entry.name.startsWith('.build')) visit(file);
      } else if (entry.isFile()) {
        const shell = shellOf(path.join(root, file));
        if (shell) scripts.push({ file, shell });
      }
    }
  };
  visit('');
  return scripts.sort((a, b) => a.file.localeCompare(b.file));
}

function shellOf(file) {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(64);
  const length = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const shell = SHEBANG.exec(head.subarray(0, length).toString('latin1'));
  if (shell) return shell[1];
  return file.endsWith('.sh') ? 'sh' : undefined;
}

/** Runs a command in ROOT; resolves { code, output } (stdout and stderr together), never rejects. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('error', (error) => resolve({ code: 127, output: `${command}: ${error.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** shellcheck on the given scripts, one run per shell; resolves { code, output }. */
async function shellcheck(scripts) {
  const byShell = new Map();
  for (const { file, shell } of scripts) byShell.set(shell, [...(byShell.get(shell) ?? []), file]);
  const results = await Promise.all([...byShell].map(([shell, files]) => run('shellcheck', ['-s', shell, ...files])));
  const missing = results.find((result) => result.code === 127);
  if (missing) {
    return { code: 1, output: `shellcheck could not run (${missing.output.trim()}): install it with \`sh scripts/install-test-deps.sh\`\n` };
  }
  return { code: results.some((result) => result.code !== 0) ? 1 : 0, output: results.map((result) => result.output).join('') };
}

function eslint() {
  return run(process.execPath, [path.join(ROOT, 'node_modules/eslint/bin/eslint.js'), '.']);
}

/** ESLint and shellcheck side by side; resolves { code, output }, output labelled by tool. */
async function lint() {
  const scripts = shellScripts();
  const [es, sc] = await Promise.all([eslint(), shellcheck(scripts)]);
  const sections = [];
  if (es.output.trim()) sections.push(`eslint:${es.output.trimEnd()}\n`);
  if (sc.output.trim()) sections.push(`shellcheck (${scripts.length} scripts):\n${sc.output.trimEnd()}\n`);
  return { code: es.code !== 0 || sc.code !== 0 ? 1 : 0, output: sections.join('\n') };
}

module.exports = { shellScripts, shellcheck, lint };

if (require.main === module) {
  lint().then(({ code, output }) => {
    process.stdout.write(output);
    process.exitCode = code;
  });
}
