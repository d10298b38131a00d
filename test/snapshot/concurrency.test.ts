// Four registry-client seeders on one volume (four replicas sharing a claim) started together:
// one of them downloads, the others wait for its disk. Counted where it matters: the blob bytes
// the registry served, from its access log.
import * as fs from 'fs';
import * as path from 'path';
import { OciLayout } from '../harness/oci-image';
import { startPod } from '../harness/pod-runner';
import { cleanupDirs, qemuImgCheckPasses, sha256Of } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import { DISK, emulatorImage, freshVolume, leftovers, recordOf } from '../scripts/seeding';
import { publishSnapshot, registryClientChart, registryClientPod } from './snapshot-fixtures';

jest.setTimeout(60_000);

let layout: OciLayout;
let registry: LocalRegistry;

beforeAll(async () => {
  layout = OciLayout.create();
  registry = await LocalRegistry.start();
});

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
  cleanupDirs();
});

test('four seeders sharing one volume download the snapshot exactly once, and all succeed', async () => {
  const snapshot = publishSnapshot(registry, layout, 'qemu-snapshots:win98-base', { dataBytes: 4 << 20 });
  const servedBefore = registry.blobBytesServed(snapshot.layer.digest);
  expect(servedBefore).toBe(0);
  const objects = registryClientChart(snapshot.reference);
  const volume = freshVolume();
  const builtinDir = emulatorImage({ withBuiltin: false }).dir;

  const pods = ['loco-0', 'loco-1', 'loco-2', 'loco-3'].map((name, i) => startPod(
    registryClientPod(objects, i % 2 === 0 ? 'busybox' : 'dash', volume, builtinDir, { pod: { name } })));
  const results = await Promise.all(pods.map((pod) => pod.done));

  expect(results.map((result) => result.exitCode)).toEqual([0, 0, 0, 0]);
  const downloaders = results.filter((result) => result.output.includes('fetch-snapshot: pulling'));
  expect(downloaders).toHaveLength(1);
  expect(results.filter((result) => /another seeder placed|disk image already present/.test(result.output))).toHaveLength(3);

  await registry.waitForAccessLog((entry) => entry.digest === snapshot.layer.digest && entry.method === 'GET');
  const layerGets = registry.accessLog().filter((entry) => entry.method === 'GET' && entry.digest === snapshot.layer.digest);
  expect(layerGets.map((entry) => entry.status)).toEqual([200]);
  expect(registry.blobBytesServed(snapshot.layer.digest)).toBe(snapshot.layer.size);

  const disk = path.join(volume, DISK);
  expect(sha256Of(disk)).toBe(snapshot.sha256);
  expect(qemuImgCheckPasses(disk)).toBe(true);
  expect(recordOf(volume).source).toBe('snapshot');
  expect(leftovers(volume)).toEqual([]);
  expect(fs.readdirSync(volume).sort()).toEqual([DISK, `${DISK}.seed-info`]);
});
