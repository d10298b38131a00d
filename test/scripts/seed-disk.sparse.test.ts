// Sparse sources stay sparse on the volume: a qcow2 followed by a hole (as an image with
// unallocated space at its end, or a preallocated one, has) is copied without filling the hole,
// with and without an expected sha256, under both shells. Busybox cp alone would allocate it all;
// the seeder copies with qemu-img here (GNU cp --sparse=always in an image with coreutils).
// Allocation is asserted, never time. bench/seed.bench.ts prints the 64 MiB + 2 GiB figures.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SHELLS } from '../harness/pod-runner';
import { allocatedFileBytes, cleanupDirs, makeQcow2, tempDir } from '../harness/qcow2';
import { DISK, freshVolume, seed, seederChart } from './seeding';

jest.setTimeout(120_000);
afterAll(cleanupDirs);

const DATA = 8 << 20;
const HOLE = 256 << 20;
let imageDir: string;
let builtin: string;
let digest: string;

beforeAll(() => {
  imageDir = tempDir('sparse-image-');
  builtin = path.join(imageDir, 'win98.qcow2.builtin');
  makeQcow2(builtin, DATA);
  fs.truncateSync(builtin, fs.statSync(builtin).size + HOLE);
  digest = execFileSync('sha256sum', [builtin], { encoding: 'utf8' }).split(' ')[0];
});

test('the source really is sparse: its hole is not allocated', () => {
  expect(allocatedFileBytes(builtin)).toBeLessThan(DATA + (2 << 20));
  expect(fs.statSync(builtin).size).toBeGreaterThan(HOLE);
});

describe.each(SHELLS)('under %s', (shell) => {
  test.each([['without', undefined], ['with', 'digest']] as const)('%s an expected sha256, the seeded disk is byte-identical and keeps the hole', async (_name, withDigest) => {
    const volume = freshVolume();
    const result = await seed(seederChart(withDigest ? { expectedSha256: digest } : {}), shell, volume, imageDir);
    expect(result.output).not.toContain('FAILED');
    expect(result.exitCode).toBe(0);
    const disk = path.join(volume, DISK);
    expect(result.output).toContain('with qemu-img');
    expect(fs.statSync(disk).size).toBe(fs.statSync(builtin).size);
    execFileSync('cmp', [builtin, disk]);
    expect(allocatedFileBytes(disk)).toBeLessThan(DATA + (2 << 20));
  });
});

test('with GNU coreutils on PATH (an emulator image on Debian) the copier is cp --sparse=always, and keeps the hole', () => {
  // The shipped script run directly on this machine, where cp is GNU cp (the pod-runner's PATH
  // has busybox's applets first).
  const volume = freshVolume();
  const run = spawnSync('dash', [path.join(__dirname, '..', '..', 'lib', 'scripts', 'seed-disk.sh')], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, SEED_TARGET: path.join(volume, DISK), SEED_BUILTIN_PATH: builtin, SEED_POD_NAME: 'host-run' },
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('with gnu-cp');
  execFileSync('cmp', [builtin, path.join(volume, DISK)]);
  expect(allocatedFileBytes(path.join(volume, DISK))).toBeLessThan(DATA + (2 << 20));
});
