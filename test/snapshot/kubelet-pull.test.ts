// The kubelet-pull method run for real: the snapshot image is pushed to a real docker-registry,
// pulled and unpacked as a kubelet would (skopeo to an OCI layout, umoci unpack), and the
// synthesized init containers run in order: seed-tools in a busybox image (static /bin/busybox),
// seed-snapshot in the unpacked FROM-scratch image (its only files: the rootfs), seed-disk in the
// emulator image (qemu-img). The registry's own faults (unreachable, unknown tag, auth) are the
// kubelet's: the pod stays in ImagePullBackOff before any of this runs. What is ours is that a
// published file that is not a sound qcow2 never becomes the disk, and that mode B then falls back.
import * as fs from 'fs';
import * as path from 'path';
import { OciLayout } from '../harness/oci-image';
import { K8sObject, runPod, SHELLS } from '../harness/pod-runner';
import { cleanupDirs, makeQcow2, qemuImgCheckPasses, sha256Of } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, recordOf } from '../scripts/seeding';
import {
  hybridChart, initContainers, kubeletPullPod, PublishedSnapshot, publishSnapshot, pullAsKubelet, seededEphemeralChart,
} from './snapshot-fixtures';

jest.setTimeout(60_000);

let layout: OciLayout;
let registry: LocalRegistry;
let snapshot: PublishedSnapshot;
let htmlPage: PublishedSnapshot;
let truncated: PublishedSnapshot;

beforeAll(async () => {
  layout = OciLayout.create();
  registry = await LocalRegistry.start();
  snapshot = publishSnapshot(registry, layout, 'qemu-snapshots:win98-base');
  // What the chart's history shipped once: a 2 KB HTML page named snapshot.qcow2.
  const html = path.join(layout.workDir, 'page.html');
  fs.writeFileSync(html, `<!DOCTYPE html>\n<html><head><title>404</title></head><body>${'Not Found. '.repeat(180)}</body></html>\n`);
  htmlPage = publishSnapshot(registry, layout, 'qemu-snapshots:html-page', { qcow2: html });
  // A qcow2 cut short: its header is sound, its data is not all there.
  const whole = path.join(layout.workDir, 'whole.qcow2');
  makeQcow2(whole, 2 << 20);
  const cut = path.join(layout.workDir, 'truncated.qcow2');
  fs.writeFileSync(cut, fs.readFileSync(whole).subarray(0, 1 << 20));
  truncated = publishSnapshot(registry, layout, 'qemu-snapshots:truncated', { qcow2: cut });
}, 30_000);

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
  cleanupDirs();
});

/** The snapshot image as the synthesized seed-snapshot container names it, pulled and unpacked. */
function kubeletPulls(objects: K8sObject[]): { image: string; rootfs: string } {
  const image = initContainers(objects).find((container) => container.name === 'seed-snapshot').image;
  return { image, rootfs: pullAsKubelet(registry, image) };
}

describe.each(SHELLS)('under %s', (shell) => {
  test('mode B: the unpacked snapshot image stages its qcow2 and the seeder verifies and links it', async () => {
    const objects = hybridChart(snapshot.reference);
    const pulled = kubeletPulls(objects);
    expect(pulled.image).toBe(snapshot.reference);
    // FROM scratch: the unpacked image holds the qcow2 and nothing else, no shell.
    expect(fs.readdirSync(pulled.rootfs)).toEqual(['snapshot.qcow2']);
    const volume = freshVolume();

    const result = await runPod(kubeletPullPod(objects, shell, volume, emulatorImage({ withBuiltin: false }).dir, pulled.image, pulled.rootfs));

    expect(result.containers.map((c) => [c.name, c.exitCode])).toEqual([['seed-tools', 0], ['seed-snapshot', 0], ['seed-disk', 0]]);
    const disk = path.join(volume, DISK);
    expect(sha256Of(disk)).toBe(snapshot.sha256);
    expect(qemuImgCheckPasses(disk)).toBe(true);
    expect(recordOf(volume)).toMatchObject({ source: 'staged snapshot', snapshot_ref: snapshot.reference });
    expect(leftovers(volume)).toEqual([]);
  });

  test('a snapshot pinned by digest: IfNotPresent, pulled by digest, seeded', async () => {
    const objects = hybridChart(snapshot.pinned);
    const container = initContainers(objects).find((c) => c.name === 'seed-snapshot');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    const pulled = kubeletPulls(objects);
    expect(pulled.image).toBe(snapshot.pinned);
    const volume = freshVolume();

    const result = await runPod(kubeletPullPod(objects, shell, volume, emulatorImage({ withBuiltin: false }).dir, pulled.image, pulled.rootfs));

    expect(result.exitCode).toBe(0);
    expect(sha256Of(path.join(volume, DISK))).toBe(snapshot.sha256);
  });

  for (const [what, published] of [['an HTML page', () => htmlPage], ['a truncated qcow2', () => truncated]] as const) {
    test(`a published /snapshot.qcow2 that is ${what} never becomes the disk; mode B falls back to the built-in image`, async () => {
      const objects = hybridChart(published().reference);
      const pulled = kubeletPulls(objects);
      const image = emulatorImage();
      const volume = freshVolume();

      const result = await runPod(kubeletPullPod(objects, shell, volume, image.dir, pulled.image, pulled.rootfs));

      expect(result.exitCode).toBe(0);
      expect(result.output).toMatch(what === 'an HTML page'
        ? /not staged: \/snapshot\.qcow2: not a qcow2 image \(first bytes '3c21444f', expected 514649fb\)/
        : /staged snapshot: rejected: (not a sound qcow2 image|truncated qcow2 image)/);
      expect(result.output).toContain('seeded /images/win98.qcow2 from builtin');
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
      expect(leftovers(volume)).toEqual([]);
    });

    test(`a published /snapshot.qcow2 that is ${what}, and no built-in image: non-zero exit, one line, nothing on the volume`, async () => {
      const objects = hybridChart(published().reference);
      const pulled = kubeletPulls(objects);
      const volume = freshVolume();

      const result = await runPod(kubeletPullPod(objects, shell, volume, emulatorImage({ withBuiltin: false }).dir, pulled.image, pulled.rootfs));

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(new RegExp('^seed-disk: FAILED: no source produced /images/win98\\.qcow2\\. Tried: ' +
        (what === 'an HTML page'
          ? "snapshot: the snapshot could not be staged: /snapshot\\.qcow2: not a qcow2 image \\(first bytes '3c21444f', expected 514649fb\\); "
          : 'staged snapshot: (not a sound qcow2 image|truncated qcow2 image).*; ') +
        'builtin: /opt/builtin-images/win98\\.qcow2\\.builtin not found\\. What to do: '));
      expect(fs.readdirSync(volume)).toEqual([]);
    });
  }
});

test('mode C with a seeder: the emptyDir is seeded from the pulled snapshot, verified, before the emulator starts', async () => {
  const objects = seededEphemeralChart(snapshot.reference);
  const spec = objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec;
  expect(spec.volumes.find((v: any) => v.name === 'disk').emptyDir).toBeDefined();
  const pulled = kubeletPulls(objects);
  const volume = freshVolume();

  const result = await runPod(kubeletPullPod(objects, 'dash', volume, emulatorImage({ withBuiltin: false }).dir, pulled.image, pulled.rootfs));

  expect(result.containers.map((c) => [c.name, c.exitCode])).toEqual([['seed-tools', 0], ['seed-snapshot', 0], ['seed-disk', 0]]);
  expect(sha256Of(path.join(volume, DISK))).toBe(snapshot.sha256);
  expect(qemuImgCheckPasses(path.join(volume, DISK))).toBe(true);
});

test('the order of sources holds: with the built-in image first, the staged snapshot is not used (and removed)', async () => {
  const objects = hybridChart(snapshot.reference, { builtinFirst: true });
  const pulled = kubeletPulls(objects);
  const image = emulatorImage();
  const volume = freshVolume();

  const result = await runPod(kubeletPullPod(objects, 'dash', volume, image.dir, pulled.image, pulled.rootfs));

  expect(result.container('seed-snapshot').stdout).toContain('staged /snapshot.qcow2 at /images/.win98.qcow2.staged');
  expect(result.exitCode).toBe(0);
  expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
  expect(recordOf(volume)).toMatchObject({ source: 'builtin' });
  expect(leftovers(volume)).toEqual([]);
});

test('the order of sources holds: with the built-in image first but missing, the staged snapshot is next', async () => {
  const objects = hybridChart(snapshot.reference, { builtinFirst: true });
  const pulled = kubeletPulls(objects);
  const volume = freshVolume();

  const result = await runPod(kubeletPullPod(objects, 'busybox', volume, emulatorImage({ withBuiltin: false }).dir, pulled.image, pulled.rootfs));

  expect(result.exitCode).toBe(0);
  expect(sha256Of(path.join(volume, DISK))).toBe(snapshot.sha256);
  expect(recordOf(volume)).toMatchObject({ source: 'staged snapshot' });
});
