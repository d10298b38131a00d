// How fast synth and the tests are, as ratios measured in this one run (so the machine's speed
// cancels out). Prints figures; asserts nothing. Run with `npm run bench`.
//
// Synth: the README's command (`npm run synth`) against the cdk8s CLI's own floor (the same CLI
// running an app that synthesizes nothing), the app alone against loading cdk8s-plus-28, and
// requiring the package against requiring cdk8s-plus-28. Goals: 1.3x, 2x and 1.1x. Tests: unit and snapshot tests (in-process) against the whole suite.
// BENCH_RUNS (default 7) sets the runs per synth command; BENCH_TEST_RUNS (default 3) the runs of
// each test timing; BENCH_SKIP_TESTS=1 skips the test timing.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, relative, resolve } from 'path';
import { performance } from 'perf_hooks';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TEST_RUNS = Number(process.env.BENCH_TEST_RUNS ?? 3);
const CDK8S = join(ROOT, 'node_modules/.bin/cdk8s');
const EMPTY_APP = `node -e "new (require('cdk8s').App)().synth()"`;
const out = mkdtempSync(join(tmpdir(), 'loco-bench-'));
const env: NodeJS.ProcessEnv = { ...process.env, CDK8S_CHECK_UPGRADE: 'false' };
delete env.CDK8S_OUTDIR; // a cdk8s CLI running this must not redirect the apps below

interface Command { label: string; command: string; args: string[]; env?: NodeJS.ProcessEnv }

/** Wall time of one run; a failed synth stops the bench, a failed test run is only noted. */
function time(command: Command, mayFail = false): { seconds: number; note: string } {
  const start = performance.now();
  const result = spawnSync(command.command, command.args, { cwd: ROOT, env: { ...env, ...command.env }, stdio: 'pipe', encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (result.status !== 0 && !mayFail) {
    throw new Error(`${command.label} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
  const output = `${result.stdout}${result.stderr}`;
  const summary = output.match(/^Tests: .*$/m)?.[0];
  // A failed run names its failing tests, so that a flaky one can be told from a slow one.
  const failing = [...new Set(output.match(/^ {2}● (?!Console).*$/gm) ?? [])].map((line) => line.trim());
  return { seconds, note: [result.status === 0 ? '' : `FAILED, exit ${result.status}`, summary ?? '', ...failing].filter(Boolean).join('; ') };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const s = (seconds: number): string => `${seconds.toFixed(3)} s`;
const x = (ratio: number): string => `${ratio.toFixed(2)}x`;

const synth: Record<string, Command> = {
  readme: { label: 'npm run synth (the README command)', command: 'npm', args: ['run', 'synth', '--', '--output', join(out, 'readme')] },
  floor: { label: 'cdk8s CLI floor: cdk8s synth of an empty app', command: CDK8S, args: ['synth', '--no-check-upgrade', '--app', EMPTY_APP, '--output', join(out, 'floor')] },
  floorNpm: { label: 'the same floor through npm run synth', command: 'npm', args: ['run', 'synth', '--', '--app', EMPTY_APP, '--output', join(out, 'floor-npm')] },
  cli: { label: 'cdk8s synth of this app (no npm)', command: CDK8S, args: ['synth', '--no-check-upgrade', '--output', join(out, 'cli')] },
  app: { label: 'the app alone: node scripts/synth-app.js', command: process.execPath, args: ['scripts/synth-app.js'], env: { CDK8S_OUTDIR: join(out, 'app') } },
  load: { label: "module-load floor: node -e \"require('cdk8s-plus-28')\"", command: process.execPath, args: ['-e', "require('cdk8s-plus-28')"] },
  // The package's entry point as an app requires it (package.json main: build/lib/index.js).
  pkg: { label: "the package: node -e \"require('./build/lib')\"", command: process.execPath, args: ['-e', "require('./build/lib')"] },
  tsNode: { label: 'for comparison: main.ts through ts-node transpile-only', command: process.execPath, args: ['-r', 'ts-node/register/transpile-only', 'main.ts'], env: { CDK8S_OUTDIR: join(out, 'ts-node') } },
};

/** Test files that run in-process (unit and snapshot tests): neither they nor a local module they import start processes. */
function unitTestFiles(): string[] {
  const startsProcesses = (file: string, seen = new Set<string>()): boolean => {
    if (seen.has(file) || !existsSync(file)) return false;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    if (/child_process/.test(source)) return true;
    return [...source.matchAll(/from '(\.{1,2}\/[^']+)'/g)]
      .some(([, local]) => startsProcesses(`${resolve(dirname(file), local)}.ts`, seen));
  };
  const all = (readdirSync(join(ROOT, 'test'), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.test.ts')).map((file) => join(ROOT, 'test', file)).sort();
  return all.filter((file) => !startsProcesses(file));
}

function main(): void {
  // A fresh build first, so that no synth below includes a compile.
  time({ label: 'build', command: process.execPath, args: ['scripts/build.js'] });
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(synth).map((key) => [key, []]));
  for (let run = 0; run <= RUNS; run++) {
    for (const [key, command] of Object.entries(synth)) {
      const { seconds } = time(command);
      if (run > 0) samples[key].push(seconds); // run 0 warms the file cache
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)]));

  console.log(`synth: medians of ${RUNS} runs each, interleaved, after one warm-up round`);
  for (const [key, command] of Object.entries(synth)) {
    console.log(`  ${command.label.padEnd(62)} ${s(m[key])}  (min ${s(Math.min(...samples[key]))})`);
  }
  console.log('ratios');
  console.log(`  README synth / CLI floor                        ${x(m.readme / m.floor)}  goal <= 1.3x`);
  console.log(`  README synth / CLI floor, both through npm run  ${x(m.readme / m.floorNpm)}  (npm run itself adds ${s(m.floorNpm - m.floor)})`);
  console.log(`  cdk8s synth of this app / CLI floor             ${x(m.cli / m.floor)}`);
  console.log(`  app alone / module-load floor                   ${x(m.app / m.load)}  goal <= 2x`);
  console.log(`  require of the package / of cdk8s-plus-28       ${x(m.pkg / m.load)}  goal <= 1.1x`);
  console.log(`  ts-node transpile-only app / compiled app       ${x(m.tsNode / m.app)}`);

  if (process.env.BENCH_SKIP_TESTS === '1') return;
  const units = unitTestFiles();
  const jest = join(ROOT, 'node_modules/jest/bin/jest.js');
  const timings = { unit: [] as number[], whole: [] as number[] };
  const notes = { unit: new Set<string>(), whole: new Set<string>() };
  // Interleaved, so that a slower spell of the machine weighs on both alike.
  for (let run = 0; run < TEST_RUNS; run++) {
    const unit = time({ label: 'unit tests', command: process.execPath, args: [jest, ...units.map((file) => relative(ROOT, file))] }, true);
    const whole = time({ label: 'npm test', command: 'npm', args: ['test'] }, true);
    timings.unit.push(unit.seconds);
    timings.whole.push(whole.seconds);
    notes.unit.add(unit.note);
    notes.whole.add(whole.note);
  }
  const spread = (values: number[]): string => `median ${s(median(values))}  (runs: ${values.map((value) => value.toFixed(1)).join(', ')} s)`;
  console.log(`tests: ${TEST_RUNS} runs each, interleaved, jest cache warm`);
  console.log(`  unit and snapshot tests (${units.length} files, jest)        ${spread(timings.unit)}  goal < 10 s   ${[...notes.unit].join(' | ')}`);
  console.log(`  whole suite (npm test: type check beside jest)    ${spread(timings.whole)}  goal < 120 s  ${[...notes.whole].join(' | ')}`);
}

try {
  main();
} finally {
  rmSync(out, { recursive: true, force: true });
}
