/**
 * The lint `npm test` runs (scripts/lint.js): the repository's eslint.config.mjs reports the rules the
 * project enforces, where it enforces them, and shellcheck runs on every shell script with its shell.
 *
 * ESLint runs in a child process: its config is an ES module, which jest's module system cannot
 * import. The fixtures are linted as if they were existing files (the TypeScript project service
 * only knows files on disk; lintText gives it their new text), so the path-specific rules and the
 * type-aware ones apply as they would to a real file there.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..');

/** Runs `script` in a Node child in ROOT with `input` as JSON in argv[1]; returns what it printed, parsed. */
function inNode<T>(script: string, input: unknown): T {
  const output = execFileSync(process.execPath, ['-e', script, JSON.stringify(input)], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(output) as T;
}

const LINT_TEXTS = `
const { ESLint } = require('eslint');
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const reports = [];
  for (const { filePath, code } of JSON.parse(process.argv[1])) {
    const [result] = await eslint.lintText(code, { filePath });
    reports.push(result.messages.map((m) => \`\${m.line} \${m.ruleId} \${m.severity === 2 ? 'error' : 'warning'}\`));
  }
  process.stdout.write(JSON.stringify(reports));
})();`;

/** A function of `lines` lines in all (signature and closing brace included), plus blank lines and comments. */
function functionOf(lines: number): string {
  const steps = Array.from({ length: lines - 4 }, (_, i) => `  total += ${i};\n\n  // step ${i}`);
  return `export function long(): number {\n  let total = 0;\n${steps.join('\n')}\n  return total;\n}\n`;
}

const STYLE_FIXTURE = [
  'export function style(value: any): number {',
  "  if (value == 1) console.log('one');",
  '  Promise.resolve(value);',
  '  return 1;',
  '}',
  '',
].join('\n');

describe('eslint.config.mjs', () => {
  let reports: string[][];
  beforeAll(() => {
    // Paths of files that exist (the project service needs them), none of them being rewritten.
    reports = inNode<string[][]>(LINT_TEXTS, [
      { filePath: 'lib/gitops-app.ts', code: STYLE_FIXTURE },
      { filePath: 'lib/cli/main.ts', code: STYLE_FIXTURE },
      { filePath: 'test/lint.test.ts', code: STYLE_FIXTURE },
      { filePath: 'lib/helm-yaml.ts', code: functionOf(61) },
      { filePath: 'lib/helm-yaml.ts', code: functionOf(60) },
      { filePath: 'test/lint.test.ts', code: functionOf(61) },
      { filePath: 'scripts/lint.js', code: "'use strict';\nconst fs = require('fs');\nconsole.log(fs.existsSync(__dirname) == true, undefinedName);\n" },
      { filePath: 'test/harness/registry.ts', code: STYLE_FIXTURE },
    ]);
  }, 60_000);

  test('in lib/: loose equality, console and any are errors', () => {
    expect(reports[0]).toEqual(['1 @typescript-eslint/no-explicit-any error', '2 eqeqeq error', '2 no-console error']);
  });

  test('in lib/cli/ the console is the command\'s output; in test/ `any` is allowed; a promise nobody awaits is an error where code is asynchronous', () => {
    expect(reports[1]).toEqual(['1 @typescript-eslint/no-explicit-any error', '2 eqeqeq error', '3 @typescript-eslint/no-floating-promises error']);
    expect(reports[2]).toEqual(['2 eqeqeq error', '2 no-console error']);
    expect(reports[7]).toEqual(['2 eqeqeq error', '2 no-console error', '3 @typescript-eslint/no-floating-promises error']);
  });

  test('a function in lib/ has at most 60 lines, not counting blank lines and comments; tests may have longer ones', () => {
    expect(reports[3]).toEqual(['1 max-lines-per-function error']);
    expect(reports[4]).toEqual([]);
    expect(reports[5]).toEqual([]);
  });

  test('CommonJS scripts may require and use Node globals; an undefined name is still an error', () => {
    expect(reports[6]).toEqual(['3 eqeqeq error', '3 no-undef error']);
  });
});

describe('shellcheck in scripts/lint.js', () => {
  test('covers every shipped script with the shell its first line names', () => {
    const scripts = inNode<Array<{ file: string; shell: string }>>(`process.stdout.write(JSON.stringify(require('./scripts/lint').shellScripts()))`, null);
    const shipped = readdirSync(join(ROOT, 'lib/scripts')).filter((name) => name.endsWith('.sh')).map((name) => ({ file: `lib/scripts/${name}`, shell: 'sh' }));
    expect(shipped.length).toBeGreaterThan(0);
    expect(scripts).toEqual(expect.arrayContaining([
      ...shipped,
      { file: '.ci/run', shell: 'bash' },
      { file: 'bench/run.sh', shell: 'sh' },
      { file: 'scripts/install-test-deps.sh', shell: 'sh' },
      { file: 'test/fixtures/entrypoint/fake-skopeo', shell: 'sh' },
    ]));
  });

  test('fails on a bash-ism in an sh script and passes the same test written for bash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-'));
    try {
      const line = '[[ -n "$1" ]] && echo "given"\n';
      writeFileSync(join(dir, 'posix'), `#!/bin/sh\n${line}`);
      writeFileSync(join(dir, 'bash'), `#!/usr/bin/env bash\n${line}`);
      const check = `require('./scripts/lint').shellcheck(JSON.parse(process.argv[1])).then((r) => process.stdout.write(JSON.stringify(r)))`;
      const posix = inNode<{ code: number; output: string }>(check, [{ file: join(dir, 'posix'), shell: 'sh' }]);
      expect(posix.code).toBe(1);
      expect(posix.output).toContain('SC3010');
      expect(inNode(check, [{ file: join(dir, 'bash'), shell: 'bash' }])).toEqual({ code: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
