// The registry-client method run for real: the synthesized seeder (seed-disk.sh and
// fetch-snapshot.sh out of the chart's ConfigMap, the command and env out of its init container)
// in the emulator image (skopeo, qemu-img), as a non-root user with a read-only root filesystem,
// against a real docker-registry on 127.0.0.1, under busybox sh and dash.
import * as fs from 'fs';
import * as path from 'path';
import { OciLayout } from '../harness/oci-image';
import { runPod, SHELLS, startPod, waitFor } from '../harness/pod-runner';
import { cleanupDirs, makeQcow2, qemuImgCheckPasses, sha256Of, tempDir } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import { DISK, EMULATOR_IMAGE, emulatorImage, failureLine, freshVolume, leftovers, recordOf } from '../scripts/seeding';
import {
  authFileDir, PublishedSnapshot, publishSnapshot, registryClientChart, registryClientPod, ThrottledRelay,
} from './snapshot-fixtures';

jest.setTimeout(60_000);

let layout: OciLayout;
let registry: LocalRegistry;
let snapshot: PublishedSnapshot;
let noBuiltin: string;

beforeAll(async () => {
  layout = OciLayout.create();
  registry = await LocalRegistry.start();
  snapshot = publishSnapshot(registry, layout, 'qemu-snapshots:win98-base');
  noBuiltin = emulatorImage({ withBuiltin: false }).dir;
}, 30_000);

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
  cleanupDirs();
});

/** The fetch failure the seeder reports for the snapshot source, from its one failure line. */
function snapshotReason(line: string): string {
  const match = /Tried: snapshot: (.*)\. What to do: make one of the sources reachable \(registry credentials in the registry client's authSecret,/.exec(line);
  expect(match).not.toBeNull();
  return match![1];
}

describe.each(SHELLS)('under %s', (shell) => {
  test('pulls the snapshot image, extracts its qcow2 onto the volume, verifies and records it', async () => {
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(snapshot.reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(0);
    const disk = path.join(volume, DISK);
    expect(sha256Of(disk)).toBe(snapshot.sha256);
    expect(qemuImgCheckPasses(disk)).toBe(true);
    expect(result.output).toContain(`fetch-snapshot: pulled ${snapshot.reference} (manifest ${snapshot.digest}, 1 layer(s))`);
    expect(result.output).toContain(`seeded /images/win98.qcow2 from snapshot (${snapshot.reference}), verified`);
    expect(recordOf(volume)).toMatchObject({ source: 'snapshot', snapshot_ref: snapshot.reference });
    // Everything temporary lived on the volume and is gone: no layout, no skopeo TMPDIR.
    expect(leftovers(volume)).toEqual([]);
    // One download of the layer.
    await registry.waitForAccessLog((entry) => entry.digest === snapshot.layer.digest);
  });

  test('pulls a snapshot pinned by digest, and checks the expected sha256', async () => {
    const volume = freshVolume();

    const result = await runPod(registryClientPod(
      registryClientChart(snapshot.pinned, { expectedSha256: snapshot.sha256 }), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(0);
    expect(sha256Of(path.join(volume, DISK))).toBe(snapshot.sha256);
    expect(recordOf(volume)).toMatchObject({ snapshot_ref: snapshot.pinned, sha256: snapshot.sha256 });
  });

  test('registry down: exits non-zero, one line saying the registry cannot be reached, nothing on the volume', async () => {
    const down = await LocalRegistry.start();
    const reference = down.reference('qemu-snapshots:win98-base');
    await down.stop();
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    const reason = snapshotReason(failureLine(result));
    expect(reason).toMatch(new RegExp(`^pulling ${escape(reference)} from ${escape(down.host)} with skopeo: the registry cannot be reached \\(.*connection refused\\)`));
    expect(reason).toContain('What to do: check the registry host');
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test('unknown tag: exits non-zero naming the reference and how to list the tags', async () => {
    const reference = registry.reference('qemu-snapshots:no-such-tag');
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    const reason = snapshotReason(failureLine(result));
    expect(reason).toMatch(/the registry has no such image \(unknown repository, tag or digest: .*manifest unknown/);
    expect(reason).toContain(`skopeo list-tags docker://${registry.host}/qemu-snapshots lists the tags`);
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test('an image without the qcow2 file: exits non-zero saying where the file was looked for', async () => {
    const published = publishSnapshot(registry, layout, `not-a-snapshot-${shell}:v1`, {
      layers: [{ files: [{ path: '/README', content: 'no disk here\n' }, { path: '/other/disk.qcow2', content: 'x' }] }],
    });
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(published.reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    expect(snapshotReason(failureLine(result))).toBe(
      `${published.reference}: none of its 1 layer(s) holds /snapshot.qcow2. What to do: check the snapshot image ` +
      '(it must be built with the qcow2 at /snapshot.qcow2, like FROM scratch + COPY snapshot.qcow2 /snapshot.qcow2), ' +
      'or set the snapshot source\'s path to where its qcow2 is');
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test('a published file that is not a sound qcow2 (an HTML page) is fetched but never becomes the disk', async () => {
    const html = path.join(tempDir('html-'), 'snapshot.qcow2');
    fs.writeFileSync(html, `<!DOCTYPE html><html><body>${'Not Found '.repeat(200)}</body></html>\n`);
    const published = publishSnapshot(registry, layout, `html-snapshot-${shell}:v1`, { qcow2: html });
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(published.reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    // The image policy reads the header before qemu-img opens anything: '<!DO' is no qcow2 magic.
    expect(snapshotReason(failureLine(result))).toBe("not a qcow2 image (first bytes '3c21444f', expected 514649fb)");
    expect(fs.readdirSync(volume)).toEqual([]);
  });
});

test('a blob corrupted on the registry\'s disk: skopeo reports the digest mismatch, nothing is kept', async () => {
  const published = publishSnapshot(registry, layout, 'corrupted:v1', { dataBytes: 1 << 20 });
  registry.corruptBlob(published.layer.digest);
  for (const shell of SHELLS) {
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(published.reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    const reason = snapshotReason(failureLine(result));
    expect(reason).toMatch(/the download does not match its digest, so it was refused \(.*Digest did not match, expected sha256:/);
    expect(reason).toContain(published.layer.digest);
    expect(reason).toContain('push the snapshot image again');
    expect(fs.readdirSync(volume)).toEqual([]);
  }
});

describe('a registry that requires authentication', () => {
  let private_: LocalRegistry;
  let published: PublishedSnapshot;
  beforeAll(async () => {
    private_ = await LocalRegistry.start({ users: { puller: 'pa55word' } });
    published = publishSnapshot(private_, layout, 'private/snapshots:win98-base', { dataBytes: 1 << 20 });
  });
  afterAll(() => private_?.stop());

  test.each(SHELLS)('without credentials: exits non-zero saying credentials are needed and how to give them (%s)', async (shell) => {
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(published.reference), shell, volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    const reason = snapshotReason(failureLine(result));
    expect(reason).toMatch(/the registry requires credentials and none were given \(.*unauthorized/);
    expect(reason).toContain(`create a kubernetes.io/dockerconfigjson Secret for ${private_.host} and name it in the registry client's authSecret`);
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test('with wrong credentials mounted: exits non-zero saying the credentials were refused', async () => {
    const volume = freshVolume();
    const wrong = authFileDir(private_);
    fs.writeFileSync(path.join(wrong, 'auth.json'), JSON.stringify({ auths: { [private_.host]: { auth: Buffer.from('puller:wrong').toString('base64') } } }));
    const objects = registryClientChart(published.reference, { authSecret: 'snapshot-pull' });

    const result = await runPod(registryClientPod(objects, 'dash', volume, noBuiltin, { volumes: { 'disk': volume, 'registry-auth': wrong } }));

    expect(result.exitCode).toBe(1);
    expect(snapshotReason(failureLine(result))).toMatch(
      /the registry refused the credentials in \/seed-registry-auth\/auth\.json \(.*unauthorized.*\)\. What to do: check the user, token and registry host in the Secret named by the registry client's authSecret/);
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test.each(SHELLS)('with the docker-config secret mounted: seeds the disk (%s)', async (shell) => {
    const volume = freshVolume();
    const objects = registryClientChart(published.reference, { authSecret: 'snapshot-pull' });

    const result = await runPod(registryClientPod(objects, shell, volume, noBuiltin, {
      volumes: { 'disk': volume, 'registry-auth': authFileDir(private_) },
    }));

    expect(result.exitCode).toBe(0);
    expect(sha256Of(path.join(volume, DISK))).toBe(published.sha256);
    expect(leftovers(volume)).toEqual([]);
  });
});

describe("the failure lines name the registry client's options", () => {
  test('TLS verified (the default) against a plain-HTTP registry: says so and names tlsVerify', async () => {
    const volume = freshVolume();

    const result = await runPod(registryClientPod(registryClientChart(snapshot.reference, { tlsVerify: true }), 'dash', volume, noBuiltin));

    expect(result.exitCode).toBe(1);
    expect(snapshotReason(failureLine(result))).toMatch(new RegExp(
      `^pulling ${snapshot.reference.replace(/[.]/g, '\\.')} from 127\\.0\\.0\\.1:\\d+ with skopeo: the registry speaks plain HTTP \\(.*server gave HTTP response to HTTPS client\\)\\. What to do: serve it over TLS, or, for a registry on a trusted ` +
      "private network, set the registry client's tlsVerify to false$"));
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  test('an authSecret whose Secret has no .dockerconfigjson: the credentials file is missing, and the line names authSecret', async () => {
    const volume = freshVolume();
    const objects = registryClientChart(snapshot.reference, { authSecret: 'snapshot-pull' });

    const result = await runPod(registryClientPod(objects, 'busybox', volume, noBuiltin, { volumes: { 'disk': volume, 'registry-auth': tempDir('empty-secret-') } }));

    expect(result.exitCode).toBe(1);
    expect(snapshotReason(failureLine(result))).toBe(
      'the registry credentials file REGISTRY_AUTH_FILE=/seed-registry-auth/auth.json is missing or unreadable (user 1000). ' +
      "What to do: check that the Secret named by the registry client's authSecret exists in the pod's namespace and has the key .dockerconfigjson");
    expect(fs.readdirSync(volume)).toEqual([]);
  });
});

test('an emulator image without /etc/containers (no signature policy): the fetch supplies the default policy', async () => {
  const volume = freshVolume();

  const result = await runPod(registryClientPod(registryClientChart(snapshot.reference), 'busybox', volume, noBuiltin, {
    images: { [EMULATOR_IMAGE]: { files: { '/opt/builtin-images': noBuiltin }, skopeo: true, containersConfig: false } },
  }));

  expect(result.exitCode).toBe(0);
  expect(sha256Of(path.join(volume, DISK))).toBe(snapshot.sha256);
  expect(leftovers(volume)).toEqual([]);
});

test('mode B order with the registry client: a failed pull falls back to the built-in image', async () => {
  const down = await LocalRegistry.start();
  const reference = down.reference('qemu-snapshots:win98-base');
  await down.stop();
  const image = emulatorImage();
  const volume = freshVolume();

  const result = await runPod(registryClientPod(
    registryClientChart(reference, { builtinFallback: true }), 'dash', volume, image.dir));

  expect(result.exitCode).toBe(0);
  expect(result.output).toMatch(/snapshot: fetch-snapshot: FAILED: pulling .* the registry cannot be reached/);
  expect(result.output).toContain('seeded /images/win98.qcow2 from builtin');
  expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
});

test('the transfer killed midway (kill -9 of the pod) leaves no disk; the restarted seeder fetches it whole', async () => {
  // 12 MiB of random data (incompressible) served at 8 MiB/s through a relay: the kill lands
  // while the layer blob is being served.
  const qcow2 = path.join(layout.workDir, 'big.qcow2');
  makeQcow2(qcow2, 12 << 20);
  const published = publishSnapshot(registry, layout, 'big-snapshot:v1', { qcow2 });
  const relay = await ThrottledRelay.start(registry.port, 8 << 20);
  try {
    const reference = published.reference.replace(registry.host, relay.host);
    const objects = registryClientChart(reference);
    const volume = freshVolume();
    const uid = 'c0ffee00-0000-4000-8000-000000000001';
    const options = registryClientPod(objects, 'busybox', volume, noBuiltin, { pod: { uid } });

    const pod = startPod(options);
    await waitFor(() => relay.bytesRelayed > 2 << 20, 20_000, 'the layer blob to be half served');
    expect(relay.bytesRelayed).toBeLessThan(published.layer.size);
    pod.kill();
    const killed = await pod.done;

    expect(killed.killed).toBe(true);
    expect(killed.exitCode).toBeNull();
    expect(killed.output).toContain('fetch-snapshot: pulling');
    expect(killed.output).not.toContain('fetch-snapshot: pulled');
    expect(fs.existsSync(path.join(volume, DISK))).toBe(false);
    expect(fs.existsSync(path.join(volume, `${DISK}.seed-info`))).toBe(false);
    // What kill -9 leaves: the lock and the half-done download, all under temporary names.
    expect(leftovers(volume)).toEqual(expect.arrayContaining(['.win98.qcow2.lock']));
    expect(leftovers(volume).some((name) => /^\.win98\.qcow2\.seeding\..*\.fetch$/.test(name))).toBe(true);

    // The kubelet restarts the init container in the same pod (same uid): it takes over the dead
    // attempt's lock at once, removes its leftovers and fetches again.
    relay.throttled = false;
    const rerun = await runPod(options);

    expect(rerun.exitCode).toBe(0);
    expect(rerun.output).toContain('held by an earlier attempt of this pod');
    expect(sha256Of(path.join(volume, DISK))).toBe(published.sha256);
    expect(qemuImgCheckPasses(path.join(volume, DISK))).toBe(true);
    expect(leftovers(volume)).toEqual([]);
  } finally {
    await relay.stop();
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
