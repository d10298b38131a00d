// Hostile state on the disk volume (issue 10 §3): a volume that cannot be written (read-only, no
// free bytes, no free inodes) fails within seconds with one line saying so; links on the volume
// are never followed (a link at the disk's or the record's name is moved aside, the disk is a
// regular file on the volume); a file at the disk's name that cannot be a disk (empty, not a
// qcow2, cut short, corrupt) is moved aside to a dated name, never deleted, and the disk seeded;
// a directory someone else left at the staged name does not stop the built-in fallback.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { StorageMode } from '../../lib';
import { mountTmpfs, SHELLS, TmpfsVolume } from '../harness/pod-runner';
import { cleanupDirs, fileState, makeEmptyQcow2, makeQcow2, qemuImgCheckPasses, sha256Of, tempDir } from '../harness/qcow2';
import { QCOW2_CASES } from '../harness/qcow2-cases';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, locoChart, recordOf, seed, seederChart, SNAPSHOT_IMAGE } from './seeding';

jest.setTimeout(60_000);

const plain = seederChart();
const hybrid = locoChart(StorageMode.hybrid());
/** The seeder's user and the pod's fsGroup in the synthesized manifests. */
const FS_GROUP = 1000;
/** A failure must come this fast: no wait on a lock (the manifests wait up to 1800 s). */
const PROMPT_MS = 10_000;
/** The dated name a file is moved aside to. */
const ASIDE = /^win98\.qcow2\.set-aside-\d{8}T\d{6}Z$/;

const mounts: TmpfsVolume[] = [];
afterAll(() => {
  for (const mount of mounts.splice(0)) mount.dispose();
  cleanupDirs();
});

/**
 * A tmpfs volume whose root already belongs to the fsGroup (as the kubelet leaves it after the
 * first start), so that the runner's fsGroup step (OnRootMismatch) changes nothing on it.
 */
function tmpfsVolume(sizeBytes: number, options: { inodes?: number } = {}): string {
  const mount = mountTmpfs(sizeBytes, options);
  mounts.push(mount);
  fs.chownSync(mount.path, 0, FS_GROUP);
  fs.chmodSync(mount.path, 0o2775);
  return mount.path;
}

/** Writes 4 KiB files until the volume refuses (no bytes or no inodes left). */
function fill(volume: string, bytesPerFile: number): void {
  for (let i = 0; ; i++) {
    try {
      fs.writeFileSync(path.join(volume, `filler-${i}`), Buffer.alloc(bytesPerFile, 7));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw error;
    }
  }
}

function runHybrid(volume: string, builtinDir: string, snapshot: string, shell: typeof SHELLS[number]) {
  return seed(hybrid, shell, volume, builtinDir, {
    images: { [SNAPSHOT_IMAGE]: { scratch: true, files: { '/snapshot.qcow2': snapshot } } },
    volumes: { 'disk': volume, 'seed-tools': tempDir('seed-tools-') },
  });
}

/** The one name on the volume a file was moved aside to. */
function asideName(volume: string): string {
  const names = fs.readdirSync(volume).filter((name) => ASIDE.test(name));
  expect(names).toHaveLength(1);
  return names[0];
}

describe.each(SHELLS)('under %s', (shell) => {
  describe('a volume that cannot be written fails at once, saying what is wrong with it', () => {
    const probeFailed = '/images/\\.win98\\.qcow2\\.seeding\\.\\S+\\.probe';

    test('read-only: one line, within seconds, not a wait on a lock nobody holds', async () => {
      const volume = tmpfsVolume(1 << 20);
      execFileSync('mount', ['-o', 'remount,ro', volume]);

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(new RegExp(`^seed-disk: FAILED: the disk volume /images is mounted read-only \\(writing ${probeFailed} failed\\)\\. What to do: mount the disk volume read-write$`));
      expect(result.container('seed-disk').durationMs).toBeLessThan(PROMPT_MS);
    });

    test('read-only under kubelet pull: the stage step fails the same way, before the seeder', async () => {
      const volume = tmpfsVolume(1 << 20);
      execFileSync('mount', ['-o', 'remount,ro', volume]);
      const snapshot = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
      makeQcow2(snapshot, 1 << 20);

      const result = await runHybrid(volume, emulatorImage().dir, snapshot, shell);

      expect(result.containers.map((c) => [c.name, c.exitCode])).toEqual([['seed-tools', 0], ['seed-snapshot', 1]]);
      expect(failureLine(result)).toMatch(/^seed-disk: FAILED: the disk volume \/images is mounted read-only/);
      expect(result.container('seed-snapshot').durationMs).toBeLessThan(PROMPT_MS);
    });

    test('no free bytes: one line naming the volume, within seconds', async () => {
      const volume = tmpfsVolume(256 << 10);
      fill(volume, 4096);

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(new RegExp(`^seed-disk: FAILED: the disk volume /images has no free space \\(writing 4 KiB to ${probeFailed} failed: .*No space left on device.*\\)\\. What to do: free space on the volume or make it larger$`));
      expect(result.container('seed-disk').durationMs).toBeLessThan(PROMPT_MS);
    });

    test('no free inodes: one line naming the volume, within seconds', async () => {
      const volume = tmpfsVolume(4 << 20, { inodes: 16 });
      fill(volume, 1);
      expect(execFileSync('df', ['--output=iavail', volume], { encoding: 'utf8' }).split('\n')[1].trim()).toBe('0');

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(new RegExp(`^seed-disk: FAILED: the disk volume /images has no free inodes \\(creating ${probeFailed} failed\\)\\. What to do: delete files on the volume or make it larger$`));
      expect(result.container('seed-disk').durationMs).toBeLessThan(PROMPT_MS);
    });
  });

  describe('links on the volume are never followed', () => {
    test.each([
      ['/etc/passwd', 'a host file'],
      ['/opt/builtin-images/win98.qcow2.builtin', 'a sound qcow2 outside the volume'],
      ['other.qcow2', 'a qcow2 on the volume'],
    ])('a disk name that is a link to %s (%s) is moved aside, link and all, and a real disk seeded', async (linkTarget) => {
      const volume = freshVolume();
      const image = emulatorImage();
      makeQcow2(path.join(volume, 'other.qcow2'), 1 << 20);
      const other = sha256Of(path.join(volume, 'other.qcow2'));
      fs.symlinkSync(linkTarget, path.join(volume, DISK));

      const result = await seed(plain, shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      const disk = fs.lstatSync(path.join(volume, DISK));
      expect(disk.isFile()).toBe(true);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
      // The link itself went aside, pointing where it pointed; what it pointed to is untouched.
      const aside = asideName(volume);
      expect(fs.readlinkSync(path.join(volume, aside))).toBe(linkTarget);
      expect(sha256Of(path.join(volume, 'other.qcow2'))).toBe(other);
      expect(result.output).toContain(`seed-disk: WARNING: /images/${DISK} cannot be the disk (a symbolic link (to ${linkTarget}), not a disk file on the volume); moved it aside to /images/${aside} (kept, not deleted), seeding a new disk`);
      expect(leftovers(volume).filter((name) => name !== aside)).toEqual(['other.qcow2']);
    });

    test('a record name that is a link to a directory: the record is written on the volume, not through the link', async () => {
      const volume = freshVolume();
      fs.mkdirSync(path.join(volume, 'elsewhere'));
      fs.symlinkSync('elsewhere', path.join(volume, `${DISK}.seed-info`));

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(0);
      expect(fs.lstatSync(path.join(volume, `${DISK}.seed-info`)).isFile()).toBe(true);
      expect(recordOf(volume).source).toBe('builtin');
      expect(fs.readdirSync(path.join(volume, 'elsewhere'))).toEqual([]);
      const aside = fs.readdirSync(volume).filter((name) => /^win98\.qcow2\.seed-info\.set-aside-\d{8}T\d{6}Z$/.test(name));
      expect(aside).toHaveLength(1);
      expect(fs.readlinkSync(path.join(volume, aside[0]))).toBe('elsewhere');
      expect(result.output).toContain(`seed-disk: WARNING: /images/${DISK}.seed-info is not a regular file (a link or a directory); not reading or writing through it: moved it aside to /images/${aside[0]}`);
    });

    test('beside a kept disk, a record that is a link is not read: it goes aside and the disk stays', async () => {
      const volume = freshVolume();
      expect((await seed(plain, shell, volume, emulatorImage().dir)).exitCode).toBe(0);
      const before = sha256Of(path.join(volume, DISK));
      fs.rmSync(path.join(volume, `${DISK}.seed-info`));
      fs.writeFileSync(path.join(volume, 'planted'), 'source=planted\nsha256=planted\n');
      fs.symlinkSync('planted', path.join(volume, `${DISK}.seed-info`));

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(0);
      expect(sha256Of(path.join(volume, DISK))).toBe(before);
      expect(result.output).not.toContain('planted');
      expect(result.output).toContain(`seed-disk: WARNING: /images/${DISK}.seed-info is not a regular file (a link or a directory); not reading or writing through it: moved it aside to`);
      expect(fs.existsSync(path.join(volume, `${DISK}.seed-info`))).toBe(false);
    });
  });

  describe('links at the staged and the lock names are removed, never followed', () => {
    test('a staged name linking to a qcow2 outside the volume: the link goes, the real snapshot is staged and seeded', async () => {
      const volume = freshVolume();
      const image = emulatorImage();
      const outside = sha256Of(image.builtin);
      fs.symlinkSync('/opt/builtin-images/win98.qcow2.builtin', path.join(volume, `.${DISK}.staged`));
      const snapshot = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
      makeQcow2(snapshot, 1 << 20);

      const result = await runHybrid(volume, image.dir, snapshot, shell);

      expect(result.exitCode).toBe(0);
      expect(result.container('seed-snapshot').stdout).toContain(`seed-disk: /images/.${DISK}.staged was a symbolic link, not a staged snapshot (removed, not followed)`);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(snapshot));
      expect(recordOf(volume).source).toBe('staged snapshot');
      expect(sha256Of(image.builtin)).toBe(outside);
      expect(leftovers(volume)).toEqual([]);
    });

    test('a lock name linking to a directory with a live-looking owner: removed at once, not waited on', async () => {
      const volume = freshVolume();
      const elsewhere = path.join(volume, 'elsewhere');
      fs.mkdirSync(elsewhere);
      fs.writeFileSync(path.join(elsewhere, 'owner'), 'pod=other uid=other id=other beat=1\n');
      fs.symlinkSync('elsewhere', path.join(volume, `.${DISK}.lock`));
      const image = emulatorImage();

      const result = await seed(plain, shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      expect(result.output).toContain(`seed-disk: WARNING: /images/.${DISK}.lock is a link or a file, not a lock a seeder made; removing it (links on the volume are never followed)`);
      expect(result.container('seed-disk').durationMs).toBeLessThan(PROMPT_MS);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
      expect(fs.readFileSync(path.join(elsewhere, 'owner'), 'utf8')).toBe('pod=other uid=other id=other beat=1\n');
      expect(leftovers(volume)).toEqual(['elsewhere']);
    });
  });

  describe('a file at the disk name that cannot be a disk is moved aside (never deleted) and the disk seeded', () => {
    const html = `<!DOCTYPE html>\n<html><body>${'Not Found. '.repeat(180)}</body></html>\n`;
    const cases: [string, (file: string) => void, string][] = [
      ['zero bytes', (file) => fs.writeFileSync(file, ''), 'an empty file (0 bytes)'],
      ['an HTML page', (file) => fs.writeFileSync(file, html), "not a qcow2 image (first bytes '3c21444f', expected 514649fb)"],
      ['a qcow2 cut short by clusters', (file) => { makeQcow2(file, 2 << 20); fs.truncateSync(file, 1 << 20); }, 'not a sound qcow2 image (qemu-img check exited 2: ERROR'],
      ['a qcow2 cut inside its last cluster', (file) => { makeQcow2(file, 2 << 20); fs.truncateSync(file, fs.statSync(file).size - 1000); }, 'truncated qcow2 image: its data ends at byte'],
      ['a qcow2 cut inside its header', (file) => { makeQcow2(file, 1 << 20); fs.truncateSync(file, 100); }, 'truncated qcow2 header'],
    ];

    test.each(cases)('%s', async (_name, make, finding) => {
      const volume = freshVolume();
      const image = emulatorImage();
      const file = path.join(volume, DISK);
      make(file);
      const original = sha256Of(file);
      fs.writeFileSync(`${file}.seed-info`, 'source=builtin\nsha256=\n');

      const result = await seed(plain, shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      const aside = asideName(volume);
      expect(sha256Of(path.join(volume, aside))).toBe(original);
      expect(fs.readFileSync(path.join(volume, `${aside}.seed-info`), 'utf8')).toBe('source=builtin\nsha256=\n');
      expect(result.output).toContain(`seed-disk: WARNING: /images/${DISK} cannot be the disk (${finding}`);
      expect(result.output).toContain(`); moved it aside to /images/${aside} (kept, not deleted), seeding a new disk`);
      expect(sha256Of(file)).toBe(sha256Of(image.builtin));
      expect(qemuImgCheckPasses(file)).toBe(true);
      expect(recordOf(volume).source).toBe('builtin');
      expect(leftovers(volume)).toEqual([aside, `${aside}.seed-info`]);
    });

    test('a disk the emulator left dirty (lazy refcounts, killed mid-write) is a saved game: kept as it is', async () => {
      const volume = freshVolume();
      fs.chownSync(volume, 0, FS_GROUP);
      fs.chmodSync(volume, 0o2775);
      const disk = path.join(volume, DISK);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', disk, '4M']);
      // qemu-io's abort: the crash of a writer, with the refcounts not yet written.
      spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 256k', '-c', 'abort', disk], { stdio: 'ignore' });
      expect(spawnSync('qemu-img', ['check', '-q', '-f', 'qcow2', disk]).status).toBe(2);
      const before = fileState(disk);

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(0);
      expect(fileState(disk)).toEqual(before);
      expect(result.output).toContain(`seed-disk: note: /images/${DISK} is marked dirty (lazy refcounts) and qemu-img check reports: not a sound qcow2 image (qemu-img check exited 2`);
      expect(fs.readdirSync(volume)).toEqual([DISK]);
    });

    test('under kubelet pull the stage step (header check, no qemu-img) moves an HTML page aside and stages the snapshot', async () => {
      const volume = freshVolume();
      fs.writeFileSync(path.join(volume, DISK), html);
      const snapshot = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
      makeQcow2(snapshot, 1 << 20);

      const result = await runHybrid(volume, emulatorImage().dir, snapshot, shell);

      expect(result.exitCode).toBe(0);
      expect(result.container('seed-snapshot').stdout).toContain(`seed-disk: WARNING: /images/${DISK} cannot be the disk (not a qcow2 image (first bytes '3c21444f', expected 514649fb)); moved it aside`);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(snapshot));
      expect(recordOf(volume).source).toBe('staged snapshot');
      expect(fs.readFileSync(path.join(volume, asideName(volume)), 'utf8')).toBe(html);
    });
  });

  test('a root-owned directory at the staged name: the built-in fallback still seeds in the same run', async () => {
    const volume = tmpfsVolume(32 << 20);
    const staged = path.join(volume, `.${DISK}.staged`);
    fs.mkdirSync(staged, { mode: 0o755 });
    fs.writeFileSync(path.join(staged, 'something'), 'root owns this');
    const snapshot = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
    makeQcow2(snapshot, 1 << 20);
    const image = emulatorImage();

    const result = await runHybrid(volume, image.dir, snapshot, shell);

    expect(result.containers.map((c) => [c.name, c.exitCode])).toEqual([['seed-tools', 0], ['seed-snapshot', 0], ['seed-disk', 0]]);
    expect(result.container('seed-snapshot').stdout).toContain(`not staged: /images/.${DISK}.staged is not a staged snapshot but a directory owned by uid 0 that cannot be removed here. What to do: remove it by hand`);
    expect(result.container('seed-disk').stderr).toBe('');
    expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
    expect(recordOf(volume).source).toBe('builtin');
    // The directory is not ours to delete: it stays, as it was.
    expect(fs.readFileSync(path.join(staged, 'something'), 'utf8')).toBe('root owns this');
    expect(leftovers(volume)).toEqual([`.${DISK}.staged`]);
  });
});

// The image policy's table (test/harness/qcow2-cases.ts) for a file already at the disk name: a
// self-contained qcow2 (compressed and freshly created ones too) is the player's disk and stays
// exactly as it is; what the policy refuses (backing or external data files, encryption, unknown
// features, sizes) is never handed to the emulator: it is moved aside, and the disk seeded. The
// policy itself runs in both shells in seed-disk.policy.test.ts; here the shells alternate by case.
describe('an existing disk through the image policy', () => {
  test.each(QCOW2_CASES.map((c, i) => [c.name, c, SHELLS[i % SHELLS.length]] as const))('%s (%s)', async (_name, policyCase, shell) => {
    // The volume's root already belongs to the fsGroup: the kubelet's fsGroup step leaves it alone.
    const volume = freshVolume();
    fs.chownSync(volume, 0, FS_GROUP);
    fs.chmodSync(volume, 0o2775);
    const disk = path.join(volume, DISK);
    fs.renameSync(policyCase.build(tempDir('existing-')), disk);
    const before = fileState(disk);
    // A built-in image every case's limits accept (2 GiB virtual, nearly empty).
    const image = emulatorImage({ withBuiltin: false });
    makeEmptyQcow2(image.builtin, '2G');
    fs.chmodSync(image.builtin, 0o644);
    const objects = seederChart(policyCase.minVirtualSize === undefined ? {} : { minVirtualSize: String(policyCase.minVirtualSize) });

    const result = await seed(objects, shell, volume, image.dir);

    expect(result.exitCode).toBe(0);
    if (policyCase.refused === undefined) {
      expect(fileState(disk)).toEqual(before);
      expect(result.output).toContain('disk image already present, keeping it as it is: /images/win98.qcow2');
      expect(fs.readdirSync(volume)).toEqual([DISK]);
    } else {
      const aside = asideName(volume);
      expect(sha256Of(path.join(volume, aside))).toBe(before.sha256);
      const warning = result.output.split('\n').find((line) => line.startsWith(`seed-disk: WARNING: /images/${DISK} cannot be the disk (`));
      expect(warning).toMatch(policyCase.refused);
      expect(sha256Of(disk)).toBe(sha256Of(image.builtin));
      expect(recordOf(volume).source).toBe('builtin');
    }
  });
});
