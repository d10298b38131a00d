// The seeding script's three basic paths, run for real from the synthesized LegoLocoChart
// manifests (the script comes out of the chart's ConfigMap, the command out of its init
// container) under busybox sh and dash.
import * as fs from 'fs';
import * as path from 'path';
import { StorageMode } from '../../lib';
import { SHELLS } from '../harness/pod-runner';
import { cleanupDirs, fileState, makeQcow2, qemuImgCheckPasses, sha256Of, tempDir, writeGameState } from '../harness/qcow2';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, locoChart, seed, SNAPSHOT_IMAGE } from './seeding';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const persistent = locoChart(StorageMode.persistent());
const hybrid = locoChart(StorageMode.hybrid());

describe.each(SHELLS)('under %s', (shell) => {
  test('mode A: copies the built-in image onto a fresh volume, verified', async () => {
    const image = emulatorImage();
    const volume = freshVolume();

    const result = await seed(persistent, shell, volume, image.dir);

    expect(result.exitCode).toBe(0);
    expect(result.output).toContain('seeded /images/win98.qcow2 from builtin');
    expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
    expect(qemuImgCheckPasses(path.join(volume, DISK))).toBe(true);
    expect(leftovers(volume)).toEqual([]);
  });

  test('mode A: keeps an existing disk byte-identical, whatever the built-in image holds', async () => {
    const volume = freshVolume();
    const disk = path.join(volume, DISK);
    expect((await seed(persistent, shell, volume, emulatorImage().dir)).exitCode).toBe(0);
    writeGameState(disk);
    const before = fileState(disk);
    const image = emulatorImage();

    const result = await seed(persistent, shell, volume, image.dir);

    expect(result.exitCode).toBe(0);
    expect(result.output).toContain('disk image already present, keeping it as it is');
    expect(fileState(disk)).toEqual(before);
    expect(sha256Of(disk)).not.toBe(sha256Of(image.builtin));
  });

  test('mode A: with no built-in image, exits non-zero with one line naming the source and check-image', async () => {
    const image = emulatorImage({ withBuiltin: false });
    const volume = freshVolume();

    const result = await seed(persistent, shell, volume, image.dir);

    expect(result.exitCode).toBe(1);
    const line = failureLine(result);
    expect(line).toMatch(/^seed-disk: FAILED: no source produced \/images\/win98\.qcow2\. Tried: builtin: \/opt\/builtin-images\/win98\.qcow2\.builtin not found\. What to do: /);
    expect(line).toContain("check it with 'npx cdk8s-qemu-loco check-image qemu-loco:v1'");
    expect(fs.existsSync(path.join(volume, DISK))).toBe(false);
    expect(leftovers(volume)).toEqual([]);
  });

  test('mode B: stages the snapshot from the snapshot image and seeds it (kubelet-pull, all init containers)', async () => {
    const image = emulatorImage({ withBuiltin: false });
    const snapshotDir = tempDir('snapshot-image-');
    const snapshot = path.join(snapshotDir, 'snapshot.qcow2');
    makeQcow2(snapshot, 2 << 20);
    const volume = freshVolume();

    const result = await seed(hybrid, shell, volume, image.dir, {
      images: { [SNAPSHOT_IMAGE]: { scratch: true, files: { '/snapshot.qcow2': snapshot } } },
      volumes: { 'disk': volume, 'seed-tools': tempDir('seed-tools-') },
    });

    expect(result.containers.map((c) => [c.name, c.exitCode])).toEqual([['seed-tools', 0], ['seed-snapshot', 0], ['seed-disk', 0]]);
    expect(result.container('seed-snapshot').stdout).toContain('staged /snapshot.qcow2 at /images/.win98.qcow2.staged');
    expect(result.container('seed-disk').stdout).toContain('seeded /images/win98.qcow2 from staged snapshot');
    expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(snapshot));
    expect(leftovers(volume)).toEqual([]);
  });

  test('mode B: with neither the snapshot nor a built-in image, names both sources and why', async () => {
    const image = emulatorImage({ withBuiltin: false });
    const volume = freshVolume();

    const result = await seed(hybrid, shell, volume, image.dir, {
      images: { [SNAPSHOT_IMAGE]: { scratch: true } },
      volumes: { 'disk': volume, 'seed-tools': tempDir('seed-tools-') },
    });

    expect(result.container('seed-snapshot').exitCode).toBe(0);
    expect(result.exitCode).toBe(1);
    expect(failureLine(result)).toMatch(new RegExp(
      '^seed-disk: FAILED: no source produced /images/win98\\.qcow2\\. Tried: ' +
      'snapshot: the snapshot could not be staged: the snapshot file /snapshot\\.qcow2 is not in the snapshot image; ' +
      'builtin: /opt/builtin-images/win98\\.qcow2\\.builtin not found\\. What to do: make one of the sources reachable'));
    expect(fs.readdirSync(volume)).toEqual([]);
  });
});
