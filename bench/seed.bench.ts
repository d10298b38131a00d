/**
 * Seeding cost: the DiskSeeder's init container (seed-disk.sh from the synthesized manifest, run
 * by test/harness/pod-runner under busybox sh) seeding a 1 GiB qcow2 full of random data onto a
 * fresh volume, against a plain `cp` of the same file on the same disk. Median of RUNS runs each,
 * printed as ratios. Goal (issue 3): seeding, verification included, at most 1.3x the plain copy.
 *
 * Seeding includes what a plain cp does not: the pod's setup (namespace, mounts), the lock,
 * `qemu-img check`, the end-of-data check, an fsync of the image and the link into place. So it is
 * compared with `cp` alone and with `cp` followed by an fsync of the copy (`sync FILE`), the
 * like-for-like durable copy. With an expected sha256 the digest is computed in the same pass as
 * the copy (tee); that figure is printed too.
 *
 * Run as root: `npm run bench`, or `node -r ts-node/register/transpile-only bench/seed.bench.ts`.
 * SEED_BENCH_MIB and SEED_BENCH_RUNS change the size (default 1024) and the runs (default 5).
 *
 * Then the space a sparse source costs on the volume (allocated bytes, not time): a 64 MiB qcow2
 * followed by a 2 GiB hole, copied by busybox cp (what the seeder did before), by GNU
 * cp --sparse=always, and seeded. SEED_BENCH_SPARSE_ONLY=1 prints only these figures.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { ContainerImage, DiskSeeder, EmulatorDisk, QemuStatefulSet } from '../lib';
import { K8sObject, runPod } from '../test/harness/pod-runner';
import { allocatedFileBytes, makeQcow2, sha256Of } from '../test/harness/qcow2';

const MIB = Number(process.env.SEED_BENCH_MIB ?? 1024);
const RUNS = Number(process.env.SEED_BENCH_RUNS ?? 5);
const IMAGE = 'qemu-loco:v1';

function chart(expectedSha256?: string): K8sObject[] {
  const scope = new Chart(Testing.app(), 'bench');
  const disk = new EmulatorDisk(scope, 'Disk');
  const seeder = new DiskSeeder(scope, 'Seeder', { disk, image: ContainerImage.fromReference(IMAGE), expectedSha256 });
  new QemuStatefulSet(scope, 'Emulator', { disk, seeder, image: ContainerImage.fromTag('qemu-loco', 'v1') });
  return Testing.synth(scope) as K8sObject[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function freshDir(root: string, name: string): string {
  const dir = path.join(root, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** Allocated bytes on the volume for a 64 MiB qcow2 followed by a 2 GiB hole, by copier. */
async function sparseFigures(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-bench-sparse-'));
  try {
    const imageDir = path.join(root, 'image');
    fs.mkdirSync(imageDir, { mode: 0o755 });
    const builtin = path.join(imageDir, 'win98.qcow2.builtin');
    makeQcow2(builtin, 64 << 20);
    fs.truncateSync(builtin, fs.statSync(builtin).size + 2 ** 31);
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    console.log(`sparse source: ${mib(fs.statSync(builtin).size)} file, ${mib(allocatedFileBytes(builtin))} allocated`);
    const copies: [string, (target: string) => void][] = [
      ['busybox cp (before)', (target) => execFileSync('busybox', ['cp', builtin, target])],
      ['GNU cp --sparse=always', (target) => execFileSync('cp', ['--sparse=always', builtin, target])],
    ];
    for (const [name, copy] of copies) {
      const target = path.join(freshDir(root, 'copy'), 'win98.qcow2');
      copy(target);
      console.log(`  ${name.padEnd(28)} ${mib(allocatedFileBytes(target))} allocated on the volume`);
    }
    const volume = freshDir(root, 'volume');
    const result = await runPod({ objects: chart(), shell: 'busybox', volumes: { disk: volume }, images: { [IMAGE]: { files: { '/opt/builtin-images': imageDir } } }, timeoutMs: 600_000 });
    if (result.exitCode !== 0) throw new Error(`seeding failed: ${result.output}`);
    const copier = /with ([a-z-]+)\) to/.exec(result.output)?.[1] ?? 'unknown';
    console.log(`  ${`seeder (copier: ${copier})`.padEnd(28)} ${mib(allocatedFileBytes(path.join(volume, 'win98.qcow2')))} allocated on the volume`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('seed.bench: skipped, needs root (unshare --mount)');
    return;
  }
  if (process.env.SEED_BENCH_SPARSE_ONLY) {
    await sparseFigures();
    return;
  }
  // Same disk as the volumes: the temporary directory's filesystem.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-bench-'));
  try {
    const imageDir = path.join(root, 'image');
    fs.mkdirSync(imageDir, { mode: 0o755 });
    const builtin = path.join(imageDir, 'win98.qcow2.builtin');
    let started = Date.now();
    makeQcow2(builtin, MIB << 20);
    const size = fs.statSync(builtin).size;
    console.log(`image: ${(size / 2 ** 20).toFixed(0)} MiB qcow2 of random data (made in ${((Date.now() - started) / 1000).toFixed(1)} s), ${RUNS} runs each, on ${execFileSync('df', ['-P', root], { encoding: 'utf8' }).split('\n')[1].split(/\s+/)[0]}`);
    const digest = sha256Of(builtin);
    const plain = chart();
    const withDigest = chart(digest);
    const images = { [IMAGE]: { files: { '/opt/builtin-images': imageDir } } };

    const times: Record<string, number[]> = { 'cp': [], 'cp + sync': [], 'seed': [], 'seed, sha256 checked': [] };
    // Each measurement starts from a settled disk: everything flushed, and a pause for the virtual
    // disk to finish its own writeback (without it, whichever runs right after a 1 GiB write is
    // throttled, and the order of the measurements decides the result).
    const timed = async (name: string, action: () => Promise<void> | void) => {
      execFileSync('sync');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const start = process.hrtime.bigint();
      await action();
      times[name].push(Number(process.hrtime.bigint() - start) / 1e9);
    };
    const measurements: [string, () => Promise<void>][] = [
      ['cp', async () => {
        const copyDir = freshDir(root, 'copy');
        await timed('cp', () => { execFileSync('cp', [builtin, path.join(copyDir, 'win98.qcow2')]); });
      }],
      ['cp + sync', async () => {
        const syncDir = freshDir(root, 'copy-sync');
        await timed('cp + sync', () => {
          execFileSync('cp', [builtin, path.join(syncDir, 'win98.qcow2')]);
          execFileSync('sync', [path.join(syncDir, 'win98.qcow2')]);
        });
      }],
      ...([['seed', plain], ['seed, sha256 checked', withDigest]] as const).map(([name, objects]): [string, () => Promise<void>] => [name, async () => {
        const volume = freshDir(root, 'volume');
        await timed(name, async () => {
          const result = await runPod({ objects, shell: 'busybox', volumes: { disk: volume }, images, timeoutMs: 600_000 });
          if (result.exitCode !== 0) throw new Error(`seeding failed: ${result.output}`);
          if (process.env.SEED_BENCH_DEBUG) console.log(result.containers[0].durationMs, result.output);
        });
      }]),
    ];
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order, so that no measurement always follows the same one.
      for (const [, measure] of run % 2 === 0 ? measurements : [...measurements].reverse()) {
        await measure();
      }
      fs.rmSync(path.join(root, 'copy'), { recursive: true, force: true });
      fs.rmSync(path.join(root, 'copy-sync'), { recursive: true, force: true });
      fs.rmSync(path.join(root, 'volume'), { recursive: true, force: true });
      started = Date.now();
    }

    const medians = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
    for (const [name, values] of Object.entries(times)) {
      console.log(`${name.padEnd(22)} median ${medians[name].toFixed(2)} s  (runs: ${values.map((v) => v.toFixed(2)).join(', ')})`);
    }
    console.log(`ratio seed / cp:                         ${(medians.seed / medians.cp).toFixed(2)}x (goal: at most 1.3x)`);
    console.log(`ratio seed / (cp + sync):                ${(medians.seed / medians['cp + sync']).toFixed(2)}x`);
    console.log(`ratio seed with sha256 / cp:             ${(medians['seed, sha256 checked'] / medians.cp).toFixed(2)}x`);
    console.log(`ratio seed with sha256 / (cp + sync):    ${(medians['seed, sha256 checked'] / medians['cp + sync']).toFixed(2)}x`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  await sparseFigures();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
