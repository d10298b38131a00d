/**
 * CPU cost of one seed-disk.sh run (user + system, the script and every process it starts), as the
 * pods run it: the shell under test (dash, busybox sh) with a PATH of busybox applets plus
 * qemu-img, so the script's commands are busybox's (what test/harness/pod-runner.ts does), but
 * without the pod's namespace setup, which is the harness's cost, not the script's.
 *
 * Figures (medians of RUNS runs, each measured by /usr/bin/time):
 *   - `inspect` of a small qcow2 (SEED_VERIFY=qemu-img, the default, and SEED_VERIFY=header);
 *   - a full seed of a small qcow2 onto an empty directory (lock, copy, verify, link, record).
 *
 * Run: `npm run bench -- seed-cpu`, or `node -r ts-node/register/transpile-only bench/seed-cpu.bench.ts`.
 * SEED_CPU_BENCH_RUNS changes the runs (default 15); SEED_CPU_BENCH_MIB the image's data (default 6).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeQcow2 } from '../test/harness/qcow2';

const RUNS = Number(process.env.SEED_CPU_BENCH_RUNS ?? 15);
const MIB = Number(process.env.SEED_CPU_BENCH_MIB ?? 6);
const SCRIPT = path.join(__dirname, '..', 'lib', 'scripts', 'seed-disk.sh');
const SHELLS: Record<string, string[]> = { dash: ['/usr/bin/dash'], busybox: ['/bin/busybox', 'sh'] };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A PATH of busybox applets and qemu-img, like the pods'. */
function podPath(root: string): string {
  const applets = path.join(root, 'bin');
  fs.mkdirSync(applets);
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    fs.symlinkSync('/bin/busybox', path.join(applets, applet));
  }
  const qemu = path.join(root, 'qemu');
  fs.mkdirSync(qemu);
  fs.symlinkSync(execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim(), path.join(qemu, 'qemu-img'));
  return `${applets}:${qemu}`;
}

/** CPU milliseconds (user + system) of one run; throws when the run fails. */
function cpuMs(command: string[], env: NodeJS.ProcessEnv): number {
  const timing = path.join(os.tmpdir(), `seed-cpu-bench-${process.pid}.time`);
  execFileSync('/usr/bin/time', ['-o', timing, '-f', '%U %S', ...command], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const [user, system] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(timing, { force: true });
  return (user + system) * 1000;
}

function main(): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-cpu-bench-'));
  try {
    const PATH = podPath(root);
    const image = path.join(root, 'image.qcow2');
    makeQcow2(image, MIB << 20);
    const volume = path.join(root, 'volume');
    const env = { PATH, SEED_POD_NAME: 'bench', SEED_POD_UID: 'bench-uid' };
    console.log(`seed-disk.sh CPU per run (user+sys, median of ${RUNS}), qcow2 with ${MIB} MiB of data, busybox applets:`);
    for (const [shell, argv] of Object.entries(SHELLS)) {
      const inspect = (verify: string) => median(Array.from({ length: RUNS }, () =>
        cpuMs([...argv, SCRIPT, 'inspect', image], { ...env, SEED_VERIFY: verify })));
      const seed = median(Array.from({ length: RUNS }, () => {
        fs.rmSync(volume, { recursive: true, force: true });
        fs.mkdirSync(volume);
        return cpuMs([...argv, SCRIPT], { ...env, SEED_TARGET: path.join(volume, 'win98.qcow2'), SEED_BUILTIN_PATH: image });
      }));
      console.log(`  ${shell.padEnd(8)} inspect ${inspect('qemu-img').toFixed(0)} ms, inspect (SEED_VERIFY=header) ${inspect('header').toFixed(0)} ms, full seed ${seed.toFixed(0)} ms`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main();
