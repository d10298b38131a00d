// Issue 3's invariants of the seeding script, one behaviour per test, run for real from the
// synthesized manifest (pod-runner) on real qcow2 images. Concurrency and kill -9 have their own
// files.
import * as fs from 'fs';
import * as path from 'path';
import { K8sObject, mountTmpfs, SHELLS } from '../harness/pod-runner';
import { cleanupDirs, fileState, makeQcow2, qemuImgCheckPasses, sha256Of, tempDir, writeGameState } from '../harness/qcow2';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, recordOf, seed, seederChart } from './seeding';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const plain = seederChart();

/** A registry-client fetch script (the contract: `sh script REF STAGING_FILE`) that copies a file. */
function fetchImage(snapshot: string | undefined, exitCode = 0): { dir: string; env: Record<string, string> } {
  const dir = tempDir('fetch-');
  fs.writeFileSync(path.join(dir, 'fetch.sh'), [
    'echo "fetch: $1 -> $2"',
    snapshot ? 'cat /opt/fetch/snapshot.qcow2 > "$2"' : ':',
    `exit ${exitCode}`,
  ].join('\n') + '\n', { mode: 0o644 });
  if (snapshot) fs.copyFileSync(snapshot, path.join(dir, 'snapshot.qcow2'));
  return {
    dir,
    env: {
      SEED_SOURCES: 'builtin snapshot',
      SEED_SNAPSHOT_METHOD: 'registry-client',
      SEED_SNAPSHOT_REF: 'registry.example/qemu-snapshots:win98-base',
      SEED_FETCH_SCRIPT: '/opt/fetch/fetch.sh',
    },
  };
}

describe.each(SHELLS)('under %s', (shell) => {
  describe('1. an existing disk is never modified', () => {
    test('byte-identical, same mtime, ctime, inode, owner and mode, whatever the sources and options say', async () => {
      const volume = freshVolume();
      const disk = path.join(volume, DISK);
      expect((await seed(plain, shell, volume, emulatorImage().dir)).exitCode).toBe(0);
      writeGameState(disk);
      const before = fileState(disk);
      // Everything that could tempt a seeder: a staged snapshot, a leftover, a different
      // expected digest, another built-in image, more sources.
      makeQcow2(path.join(volume, `.${DISK}.staged`), 1 << 20);
      fs.writeFileSync(path.join(volume, `.${DISK}.seeding.old`), 'partial');
      const tempting = seederChart({ expectedSha256: 'b'.repeat(64) });

      const result = await seed(tempting, shell, volume, emulatorImage().dir, fetchImage(undefined));

      expect(result.exitCode).toBe(0);
      expect(fileState(disk)).toEqual(before);
      expect(qemuImgCheckPasses(disk)).toBe(true);
      // What an earlier attempt left is cleared away; only the disk and its record stay.
      expect(leftovers(volume)).toEqual([]);
    });

    test('a path that is not a regular file is left alone, with a clear error', async () => {
      const volume = freshVolume();
      fs.mkdirSync(path.join(volume, DISK));

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toContain('/images/win98.qcow2 exists but is not a regular file');
      expect(fs.statSync(path.join(volume, DISK)).isDirectory()).toBe(true);
    });
  });

  describe('2. the target is absent or a complete, verified image', () => {
    test('fresh volume: copied under a temporary name, verified, linked; the record and nothing else remain', async () => {
      const image = emulatorImage();
      const volume = freshVolume();
      const seen = new Set<string>();
      const watcher = fs.watch(volume, (_event, name) => { if (name) seen.add(String(name)); });

      const result = await seed(plain, shell, volume, image.dir);
      watcher.close();

      expect(result.exitCode).toBe(0);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
      expect(qemuImgCheckPasses(path.join(volume, DISK))).toBe(true);
      expect(fs.readdirSync(volume).sort()).toEqual([DISK, `${DISK}.seed-info`]);
      // The image was written under a temporary name on the volume, never at the target.
      expect([...seen].some((name) => name.startsWith(`.${DISK}.seeding.`))).toBe(true);
      expect(result.output).toMatch(/verified; record in \/images\/win98\.qcow2\.seed-info/);
    });
  });

  describe('3. verification rejects what is not a sound qcow2, and tries the next source', () => {
    const corruptions: [string, (file: string) => void, RegExp][] = [
      ['wrong magic (raw data)', (file) => fs.writeFileSync(file, Buffer.alloc(1 << 20, 7)),
        /builtin: \/opt\/builtin-images\/win98\.qcow2\.builtin: not a qcow2 image \(first bytes '07070707', expected 514649fb\)/],
      ['truncated by clusters', (file) => fs.truncateSync(file, fs.statSync(file).size - 3 * 65536),
        /builtin: not a sound qcow2 image \(qemu-img check exited 2: ERROR: counting reference for region exceeding the end of the file/],
      ['truncated inside its last cluster (qemu-img check alone passes)', (file) => fs.truncateSync(file, fs.statSync(file).size - 1000),
        /builtin: truncated qcow2 image: its data ends at byte \d+ but the file has \d+ bytes/],
    ];

    test.each(corruptions)('%s: rejected, nothing at the target path', async (_name, corrupt, reason) => {
      const image = emulatorImage();
      corrupt(image.builtin);
      const volume = freshVolume();

      const result = await seed(plain, shell, volume, image.dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(reason);
      expect(fs.readdirSync(volume)).toEqual([]);
    });

    test('the truncated-in-last-cluster case really passes qemu-img check on its own', () => {
      const image = emulatorImage();
      fs.truncateSync(image.builtin, fs.statSync(image.builtin).size - 1000);
      expect(qemuImgCheckPasses(image.builtin)).toBe(true);
    });

    test('digest mismatch: rejected, nothing at the target path', async () => {
      const image = emulatorImage();
      const volume = freshVolume();

      const result = await seed(seederChart({ expectedSha256: 'c'.repeat(64) }), shell, volume, image.dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toContain(`builtin: sha256 ${sha256Of(image.builtin)} does not match the expected ${'c'.repeat(64)}`);
      expect(fs.readdirSync(volume)).toEqual([]);
    });

    test('digest match: seeded, and the digest is recorded', async () => {
      const image = emulatorImage();
      const volume = freshVolume();
      const digest = sha256Of(image.builtin);

      const result = await seed(seederChart({ expectedSha256: digest }), shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      expect(recordOf(volume)).toMatchObject({ source: 'builtin', sha256: digest, sha256_note: 'verified against the expected sha256' });
    });

    test('a rejected source deletes its temporary file and the next source is tried', async () => {
      const image = emulatorImage();
      fs.truncateSync(image.builtin, 100_000);
      const snapshot = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
      makeQcow2(snapshot, 1 << 20);
      const fetch = fetchImage(snapshot);
      const volume = freshVolume();

      const result = await seed(plain, shell, volume, image.dir, { env: fetch.env, images: { 'qemu-loco:v1': { files: { '/opt/builtin-images': image.dir, '/opt/fetch': fetch.dir } } } });

      expect(result.exitCode).toBe(0);
      expect(result.output).toContain('builtin: rejected: not a sound qcow2 image');
      expect(result.output).toContain('fetch: registry.example/qemu-snapshots:win98-base -> /images/.win98.qcow2.seeding.');
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(snapshot));
      expect(recordOf(volume)).toMatchObject({ source: 'snapshot', location: 'registry.example/qemu-snapshots:win98-base' });
      expect(leftovers(volume)).toEqual([]);
    });

    test('registry-client without its fetch script: the source fails with the reason', async () => {
      const volume = freshVolume();
      const fetch = fetchImage(undefined);

      const result = await seed(plain, shell, volume, emulatorImage({ withBuiltin: false }).dir, {
        env: { ...fetch.env, SEED_FETCH_SCRIPT: '/opt/fetch/missing.sh' },
      });

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toContain('snapshot: the registry-client fetch script /opt/fetch/missing.sh is not there');
    });
  });

  describe('4. leftovers of an interrupted run', () => {
    test('are recognised, removed and never used; a fresh copy is made', async () => {
      const image = emulatorImage();
      const volume = freshVolume();
      // A half-written image from a killed seeder and the lock it broke: complete-looking
      // (valid qcow2 magic) but truncated.
      const leftover = path.join(volume, `.${DISK}.seeding.loco-emulator-0.1.deadbeef`);
      fs.writeFileSync(leftover, fs.readFileSync(image.builtin).subarray(0, 200_000));
      fs.mkdirSync(path.join(volume, `.${DISK}.lock.broken.other`));

      const result = await seed(plain, shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      expect(result.output).toContain(`removing leftover of an interrupted earlier run: /images/.${DISK}.seeding.loco-emulator-0.1.deadbeef`);
      expect(result.output).toContain(`removing leftover of an interrupted earlier run: /images/.${DISK}.lock.broken.other`);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
      expect(leftovers(volume)).toEqual([]);
    });
  });

  describe('6. free space', () => {
    test('a volume too small gives a clear error before copying, and nothing at the target path', async () => {
      const image = emulatorImage({ bytes: 6 << 20 });
      const small = mountTmpfs(3 << 20);
      try {
        const result = await seed(plain, shell, small.path, image.dir);

        expect(result.exitCode).toBe(1);
        expect(failureLine(result)).toMatch(/builtin: not enough space on the volume: 6 MiB needed, 2 MiB free in \/images \(make the disk volume larger, or free space on it\)/);
        expect(fs.readdirSync(small.path)).toEqual([]);
      } finally {
        small.dispose();
      }
    });
  });

  describe('8. the record of what was seeded', () => {
    test('names the source, its location, size and time', async () => {
      const image = emulatorImage();
      const volume = freshVolume();

      await seed(plain, shell, volume, image.dir);

      const record = recordOf(volume);
      expect(record).toMatchObject({
        source: 'builtin',
        location: '/opt/builtin-images/win98.qcow2.builtin',
        sha256: '',
        sha256_note: 'not computed (no expected sha256 configured)',
        size: String(fs.statSync(image.builtin).size),
        seeded_by: 'qemu-emulator-0',
      });
      expect(Math.abs(Date.parse(record.seeded_at) - Date.now())).toBeLessThan(60_000);
    });

    test('a changed source digest is reported at the next start and the disk is kept', async () => {
      const image = emulatorImage();
      const volume = freshVolume();
      const disk = path.join(volume, DISK);
      await seed(seederChart({ expectedSha256: sha256Of(image.builtin) }), shell, volume, image.dir);
      const before = fileState(disk);
      const newer = emulatorImage();

      const result = await seed(seederChart({ expectedSha256: sha256Of(newer.builtin) }), shell, volume, newer.dir);

      expect(result.exitCode).toBe(0);
      expect(result.output).toContain(`WARNING: the configured source (sha256 ${sha256Of(newer.builtin)}) differs from the base this disk was seeded from (sha256 ${sha256Of(image.builtin)}). The disk is kept`);
      expect(result.output).toContain('To re-seed on purpose, stop the emulators, delete /images/win98.qcow2, /images/win98.qcow2.seed-info and the overlays made on the disk');
      expect(fileState(disk)).toEqual(before);
    });

    test('the same digest at the next start gives no warning', async () => {
      const image = emulatorImage();
      const volume = freshVolume();
      const chart = seederChart({ expectedSha256: sha256Of(image.builtin) });
      await seed(chart, shell, volume, image.dir);

      const result = await seed(chart, shell, volume, image.dir);

      expect(result.exitCode).toBe(0);
      expect(result.output).not.toContain('WARNING');
      expect(result.output).toContain(`it was seeded from builtin (/opt/builtin-images/win98.qcow2.builtin) at `);
    });

    test('deleting the disk is the explicit way to re-seed', async () => {
      const volume = freshVolume();
      await seed(plain, shell, volume, emulatorImage().dir);
      fs.rmSync(path.join(volume, DISK));
      const newer = emulatorImage();

      const result = await seed(plain, shell, volume, newer.dir);

      expect(result.exitCode).toBe(0);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(newer.builtin));
    });
  });

  describe('9. no root needed', () => {
    test('seeds as user 1000 with a read-only root filesystem; the fsGroup gives it the volume', async () => {
      const volume = freshVolume();

      const result = await seed(plain, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(0);
      const disk = fs.statSync(path.join(volume, DISK));
      expect([disk.uid, disk.gid]).toEqual([1000, 1000]);
    });

    test('without an fsGroup the volume is not writable, and the error says what to do', async () => {
      const objects = JSON.parse(JSON.stringify(plain)) as K8sObject[];
      delete objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec.securityContext;
      const volume = freshVolume();

      const result = await seed(objects, shell, volume, emulatorImage().dir);

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(/^seed-disk: FAILED: \/images is not a writable directory \(user 1000, groups 1000\)\. What to do: mount the disk volume there read-write, and give the pod an fsGroup that owns it$/);
    });
  });
});

describe('9. the manifest asks for no privileges', () => {
  const pod = plain.find((o) => o.kind === 'StatefulSet')!.spec.template.spec;
  const seeder = pod.initContainers.find((c: any) => c.name === 'seed-disk');

  test('non-root, read-only root filesystem, no capabilities, no privilege escalation', () => {
    expect(seeder.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('the pod gives the volume through fsGroup, re-owned only when its root does not match', () => {
    expect(pod.securityContext).toEqual({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
  });
});
