import { spawnSync } from 'child_process';
import { existsSync, statSync } from 'fs';
import { get } from 'http';
import { join } from 'path';
import { createQcow2, OciLayout } from './oci-image';
import { LocalRegistry } from './registry';

// The harness the snapshot-download tests build on: a FROM-scratch image holding /snapshot.qcow2,
// pushed to a registry that requires htpasswd auth, then served, counted and corrupted.
let layout: OciLayout;
let registry: LocalRegistry;
let snapshotLayer: { digest: string; size: number };

beforeAll(async () => {
  layout = OciLayout.create();
  const disk = createQcow2(layout.workDir, 'snapshot.qcow2', { dataMiB: 1 });
  const manifest = layout.build('snapshot', [{ files: [{ path: '/snapshot.qcow2', source: disk }] }]);
  snapshotLayer = manifest.layers[0];
  registry = await LocalRegistry.start({ users: { alice: 's3cret', bob: 'hunter2' } });
}, 30_000);

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
});

function status(url: string, auth?: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).once('error', reject);
  });
}

function pull(user?: string): ReturnType<typeof spawnSync> {
  const destination = join(layout.workDir, `pulled-${Date.now()}`);
  return spawnSync('skopeo', ['copy', '--quiet', ...registry.skopeoArgs('src', user),
    `docker://${registry.reference('qemu-snapshots:win98-base')}`, `oci:${destination}:x`], { encoding: 'utf8', timeout: 60_000 });
}

test('listens on 127.0.0.1 and requires the htpasswd users', async () => {
  expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(await status(`http://${registry.host}/v2/`)).toBe(401);
  expect(await status(`http://${registry.host}/v2/`, 'alice:s3cret')).toBe(200);
  expect(await status(`http://${registry.host}/v2/`, 'bob:hunter2')).toBe(200);
  expect(await status(`http://${registry.host}/v2/`, 'alice:wrong')).toBe(401);
});

test('push returns the reference and manifest digest; pulls are counted in the access log', async () => {
  const pushed = registry.push(layout.reference('snapshot'), 'qemu-snapshots:win98-base');
  expect(pushed.reference).toBe(`${registry.host}/qemu-snapshots:win98-base`);
  expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

  const before = registry.blobBytesServed(snapshotLayer.digest);
  const result = pull('bob');
  expect(result.stderr).toBe('');
  const entries = await registry.waitForAccessLog((entry) => entry.digest === snapshotLayer.digest && entry.method === 'GET');
  expect(registry.blobBytesServed(snapshotLayer.digest) - before).toBe(snapshotLayer.size);
  expect(entries.some((entry) => entry.reference === 'win98-base' && entry.repository === 'qemu-snapshots' && entry.status === 200)).toBe(true);
  expect(entries.some((entry) => entry.status === 401)).toBe(true);
});

test('a corrupted blob on disk keeps its size and is refused by skopeo', () => {
  const blob = registry.blobPath(snapshotLayer.digest);
  expect(statSync(blob).size).toBe(snapshotLayer.size);
  registry.corruptBlob(snapshotLayer.digest);
  expect(statSync(blob).size).toBe(snapshotLayer.size);
  const result = pull();
  expect(result.status).not.toBe(0);
  expect(String(result.stderr)).toMatch(/digest|gzip|invalid/i);
});

test('stop ends the process and removes its directory', async () => {
  const other = await LocalRegistry.start();
  const dir = other.dir;
  expect(existsSync(join(dir, 'storage'))).toBe(false); // nothing pushed yet
  expect(await status(`http://${other.host}/v2/`)).toBe(200);
  await other.stop();
  expect(existsSync(dir)).toBe(false);
  await expect(status(`http://${other.host}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
});
