// `seed-disk.sh stage FILE`, the snapshot image's half (busybox only, header check, atomic
// rename to the staged name), and the seeder's handling of the staged file: verified like any
// other source, removed afterwards whatever the outcome. Run from the mode B manifest's
// seed-tools, seed-snapshot and seed-disk init containers.
import * as fs from 'fs';
import * as path from 'path';
import { StorageMode } from '../../lib';
import { cleanupDirs, makeQcow2, sha256Of, tempDir } from '../harness/qcow2';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, locoChart, recordOf, seed, SNAPSHOT_IMAGE } from './seeding';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const hybrid = locoChart(StorageMode.hybrid());

function snapshotImage(content?: (file: string) => void): { dir: string; file: string } {
  const dir = tempDir('snapshot-image-');
  const file = path.join(dir, 'snapshot.qcow2');
  if (content) content(file);
  return { dir, file };
}

function runHybrid(volume: string, builtinDir: string, snapshot: string | undefined, only?: string[]) {
  return seed(hybrid, 'dash', volume, builtinDir, {
    images: { [SNAPSHOT_IMAGE]: { scratch: true, files: snapshot ? { '/snapshot.qcow2': snapshot } : {} } },
    volumes: { 'disk': volume, 'seed-tools': tempDir('seed-tools-') },
    initContainers: only,
  });
}

test('stage runs without qemu-img and leaves only the staged file, under its well-known name', async () => {
  const snapshot = snapshotImage((file) => makeQcow2(file, 2 << 20));
  const volume = freshVolume();

  const result = await runHybrid(volume, emulatorImage().dir, snapshot.file, ['seed-tools', 'seed-snapshot']);

  expect(result.exitCode).toBe(0);
  expect(fs.readdirSync(volume)).toEqual([`.${DISK}.staged`]);
  expect(sha256Of(path.join(volume, `.${DISK}.staged`))).toBe(sha256Of(snapshot.file));
});

test('a file that is not qcow2 is not staged: the reason reaches the seeder, which goes on to the built-in image', async () => {
  const snapshot = snapshotImage((file) => fs.writeFileSync(file, Buffer.alloc(1 << 20, 1)));
  const image = emulatorImage();
  const volume = freshVolume();

  const result = await runHybrid(volume, image.dir, snapshot.file);

  expect(result.container('seed-snapshot').exitCode).toBe(0);
  expect(result.container('seed-snapshot').stdout).toContain("not staged: /snapshot.qcow2: not a qcow2 image (first bytes '01010101', expected 514649fb)");
  expect(result.exitCode).toBe(0);
  expect(recordOf(volume).source).toBe('builtin');
  expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
  expect(leftovers(volume)).toEqual([]);
});

test('a staged file that passes the header check but is truncated is rejected by the seeder and removed', async () => {
  const snapshot = snapshotImage((file) => {
    makeQcow2(file, 2 << 20);
    fs.truncateSync(file, 300_000);
  });
  const volume = freshVolume();

  const result = await runHybrid(volume, emulatorImage({ withBuiltin: false }).dir, snapshot.file);

  expect(result.container('seed-snapshot').stdout).toContain('staged /snapshot.qcow2');
  expect(result.exitCode).toBe(1);
  expect(failureLine(result)).toMatch(/Tried: staged snapshot: not a sound qcow2 image \(qemu-img check exited 2: .*\); (snapshot: tried above as the staged snapshot; )?builtin: \/opt\/builtin-images\/win98\.qcow2\.builtin not found\./);
  expect(fs.readdirSync(volume)).toEqual([]);
});

test('with the disk in place, stage copies nothing', async () => {
  const snapshot = snapshotImage((file) => makeQcow2(file, 2 << 20));
  const volume = freshVolume();
  makeQcow2(path.join(volume, DISK), 1 << 20);

  const result = await runHybrid(volume, emulatorImage().dir, snapshot.file, ['seed-tools', 'seed-snapshot']);

  expect(result.exitCode).toBe(0);
  expect(result.output).toContain('disk image already present (/images/win98.qcow2): nothing to stage');
  expect(fs.readdirSync(volume)).toEqual([DISK]);
});

test('a second stage finds the snapshot already staged and copies nothing', async () => {
  const snapshot = snapshotImage((file) => makeQcow2(file, 2 << 20));
  const volume = freshVolume();
  await runHybrid(volume, emulatorImage().dir, snapshot.file, ['seed-tools', 'seed-snapshot']);
  const staged = fs.statSync(path.join(volume, `.${DISK}.staged`));

  const result = await runHybrid(volume, emulatorImage().dir, snapshot.file, ['seed-tools', 'seed-snapshot']);

  expect(result.output).toContain('a snapshot is already staged at /images/.win98.qcow2.staged');
  expect(fs.statSync(path.join(volume, `.${DISK}.staged`)).ino).toBe(staged.ino);
});
