// The README's Python example is the jsii-rosetta translation of its TypeScript example, which the
// consumer test compiles and runs: so the Python shown is the app that works, in the names and
// keyword arguments the Python binding has (rosetta translates through the .jsii assembly).
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..');

/** The first fenced block of a language after a heading of the README. */
function block(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf(heading));
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(after);
  if (!match || readme.indexOf(heading) < 0) throw new Error(`README.md: no ${language} block after ${heading}`);
  return match[1];
}

test('the Python example is the translation of the TypeScript one', () => {
  const work = mkdtempSync(join(tmpdir(), 'readme-python-'));
  try {
    const source = join(work, 'example.ts');
    writeFileSync(source, block('### Using them in your cdk8s app', 'ts'));
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/jsii-rosetta/bin/jsii-rosetta'), 'snippet', '--language', 'python', source], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
    });
    expect(result.status).toBe(0);
    const translation = result.stdout.split('\n').filter((line) => !line.startsWith('!!')).join('\n').replace(/^\n+|\n+$/g, '') + '\n';
    const python = block('### From Python, Java, Go and .NET', 'python');
    expect(python).toContain('LegoLocoChart(app, "loco",');
    expect(python).toBe(translation);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 90_000);
