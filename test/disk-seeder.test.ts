import * as fs from 'fs';
import * as path from 'path';
import { ImagePullPolicy } from 'cdk8s-plus-28';
import { ContainerImage, DiskSeeder, DiskSeederProps, DiskVolume, EmulatorDisk, SeedSource, SeedVerification, SnapshotMethod } from '../lib';
import { seedScript } from '../lib/disk-seeder';
import { K8sObject, envOf, ofKind, only, synth, testChart } from './helpers/synth';

const IMAGE = ContainerImage.fromTag('qemu-loco', 'v1');
const SNAPSHOT = ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base');
const NOT_TAKEN = "is not taken here: metadata gives labels and annotations; names are the construct's own props, the namespace is the chart's";

function seederIn(props: Partial<DiskSeederProps> = {}) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk');
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: IMAGE, ...props });
  return { chart, disk, seeder };
}

/** The synthesized scripts ConfigMap of a seeder built with these props. */
function scriptsOf(props: Partial<DiskSeederProps> = {}): K8sObject {
  return only(synth(seederIn(props).chart), 'ConfigMap');
}

describe('DiskSeeder', () => {
  test('ships the seeding script verbatim in a ConfigMap mounted into the init container', () => {
    const { chart, seeder } = seederIn();
    const configMap = only(synth(chart), 'ConfigMap');
    const [container] = seeder.initContainers;

    expect(configMap.data['seed-disk.sh']).toBe(seedScript());
    expect(configMap.data['seed-disk.sh']).toBe(fs.readFileSync(path.join(__dirname, '..', 'lib', 'scripts', 'seed-disk.sh'), 'utf8'));
    expect(seeder.volumes).toEqual([{ name: 'seed-script', configMap: { name: configMap.metadata.name, defaultMode: 0o555 } }]);
    expect(container.command).toEqual(['/bin/sh', '/seed-script/seed-disk.sh']);
    expect(container.volumeMounts).toEqual([
      { name: 'disk', mountPath: '/images' },
      { name: 'seed-script', mountPath: '/seed-script', readOnly: true },
    ]);
  });

  test('by default tries the built-in image only, verified with qemu-img, and points at check-image when it fails', () => {
    const { seeder } = seederIn();
    const env = envOf(seeder.initContainers[0]);

    expect(env.SEED_TARGET).toBe('/images/win98.qcow2');
    expect(env.SEED_SOURCES).toBe('builtin');
    expect(env.SEED_BUILTIN_PATH).toBe('/opt/builtin-images/win98.qcow2.builtin');
    expect(env.SEED_VERIFY).toBe('qemu-img');
    expect(env.SEED_HINT).toContain('check-image qemu-loco:v1');
    expect(env).not.toHaveProperty('SEED_SNAPSHOT_REF');
  });

  test('passes the source order, the snapshot reference and the expected digest to the script', () => {
    const sha = 'a'.repeat(64);
    const { seeder } = seederIn({
      sources: [SeedSource.snapshot(SNAPSHOT), SeedSource.builtin()],
      expectedSha256: sha,
      verification: SeedVerification.HEADER,
    });
    const env = envOf(seeder.initContainers.find((c) => c.name === 'seed-disk'));

    expect(env.SEED_SOURCES).toBe('snapshot builtin');
    expect(env.SEED_SNAPSHOT_REF).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(env.SEED_SHA256).toBe(sha);
    expect(env.SEED_VERIFY).toBe('header');
    // Not mode A: a missing built-in image is one reason among others, not the advice.
    expect(env.SEED_HINT).not.toContain('check-image');
  });

  test('gives the image policy its virtual size limits: 64 GiB at most by default, no minimum', () => {
    const env = envOf(seederIn().seeder.initContainers[0]);
    expect(env.SEED_MAX_VIRTUAL_SIZE).toBe(String(64 * 1024 ** 3));
    expect(env).not.toHaveProperty('SEED_MIN_VIRTUAL_SIZE');
  });

  test('every container that reads an image gets the declared limits: seeder, stage step, wait-for-base', () => {
    const { seeder } = seederIn({
      sources: [SeedSource.snapshot(SNAPSHOT), SeedSource.builtin()],
      minVirtualSize: '2Gi', maxVirtualSize: '8Gi',
    });
    for (const name of ['seed-snapshot', 'seed-disk']) {
      const env = envOf(seeder.initContainers.find((c) => c.name === name));
      expect([name, env.SEED_MIN_VIRTUAL_SIZE, env.SEED_MAX_VIRTUAL_SIZE]).toEqual([name, String(2 * 1024 ** 3), String(8 * 1024 ** 3)]);
    }
    const chart = testChart();
    const shared = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.sharedBase() });
    const waiting = new DiskSeeder(chart, 'Seeder', { disk: shared, image: IMAGE, minVirtualSize: '1Gi' });
    const wait = envOf(waiting.initContainers.find((c) => c.name === 'wait-for-base'));
    expect([wait.SEED_MIN_VIRTUAL_SIZE, wait.SEED_MAX_VIRTUAL_SIZE]).toEqual([String(1024 ** 3), String(64 * 1024 ** 3)]);
  });

  test('runs in the given image as a non-root user with a read-only root filesystem and no capabilities', () => {
    const { seeder } = seederIn({ image: ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: ImagePullPolicy.NEVER }) });
    const [container] = seeder.initContainers;

    expect(container.image).toBe('qemu-loco:v1');
    expect(container.imagePullPolicy).toBe('Never');
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources!.limits).toBeDefined();
    expect(container.resources!.requests).toBeDefined();
  });

  test('on a hostPath PersistentVolume (no fsGroup support) runs as root, still without capabilities', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) });
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: IMAGE });
    const security = seeder.initContainers[0].securityContext!;

    expect(security.runAsUser).toBe(0);
    expect(security.runAsNonRoot).toBe(false);
    expect(security.capabilities).toEqual({ drop: ['ALL'] });
    expect(security.allowPrivilegeEscalation).toBe(false);
  });

  // SeedSource.snapshot() without an image no longer type-checks (test/api-types.ts); a JavaScript
  // caller can still leave it out, and gets the message rather than a TypeError.
  test('the snapshot source without a snapshot image is refused', () => {
    expect(() => seederIn({ sources: [SeedSource.snapshot(undefined as any)] }))
      .toThrow("test/Seeder: invalid sources.snapshot.image (not set): must be a ContainerImage, e.g. ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base')");
  });
});

describe('DiskSeeder: JavaScript callers leaving out required props', () => {
  test.each([
    ['no props at all', () => new DiskSeeder(testChart(), 'Seeder', undefined as any),
      'test/Seeder: invalid disk (not set): is required: the EmulatorDisk to seed'],
    ['no disk', () => new DiskSeeder(testChart(), 'Seeder', { image: IMAGE } as any),
      'test/Seeder: invalid disk (not set): is required: the EmulatorDisk to seed'],
    ['no image', () => { const chart = testChart(); new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk') } as any); },
      'test/Seeder: invalid image (not set): is required: a ContainerImage (ContainerImage.fromTag(repository, tag)) with a POSIX shell and the built-in image'],
    ['the image as a string (the old prop)', () => { const chart = testChart(); new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk'), image: 'qemu-loco:v1' as any }); },
      'test/Seeder: invalid image "qemu-loco:v1": is required: a ContainerImage (ContainerImage.fromTag(repository, tag)) with a POSIX shell and the built-in image'],
    ['a source kind string (the old enum)', () => seederIn({ sources: ['snapshot' as any] }),
      'test/Seeder: invalid sources "snapshot": each source must be a SeedSource: SeedSource.builtin() or SeedSource.snapshot(image)'],
  ])('%s gives the invalidProp message, not a TypeError', (_what, build, message) => {
    expect(build).toThrow(message);
    expect(build).not.toThrow(TypeError);
  });
});

describe('DiskSeeder: its primary object and its metadata', () => {
  test('node.defaultChild is the scripts ConfigMap', () => {
    const { seeder } = seederIn();
    expect(seeder.node.defaultChild).toBe(seeder.scriptConfigMap);
  });

  test('metadata labels and annotations land on the ConfigMap and on the seeding Job of a shared base', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.sharedBase() });
    new DiskSeeder(chart, 'Seeder', {
      disk, image: IMAGE, metadata: { labels: { team: 'arcade' }, annotations: { 'example.com/owner': 'ops' } },
    });
    const objects = synth(chart).filter((object) => object.kind !== 'PersistentVolumeClaim');
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Job']);
    for (const object of objects) {
      expect([object.kind, object.metadata.labels]).toEqual([object.kind, { team: 'arcade' }]);
      expect([object.kind, object.metadata.annotations]).toEqual([object.kind, { 'example.com/owner': 'ops' }]);
    }
    // The disk's own objects are the disk's: the seeder's metadata does not reach them.
    expect(only(synth(chart), 'PersistentVolumeClaim').metadata).not.toHaveProperty('labels');
  });

  test.each([
    ['name', { name: 'my-seeder' }, '"my-seeder"'],
    ['namespace', { namespace: 'games' }, '"games"'],
  ])('metadata.%s is refused', (field, metadata, shown) => {
    expect(() => seederIn({ metadata })).toThrow(`test/Seeder: invalid metadata.${field} ${shown}: ${NOT_TAKEN}`);
  });

  test("the chart's namespace is on the ConfigMap and the Job", () => {
    const chart = testChart({ namespace: 'arcade' });
    new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.sharedBase() }), image: IMAGE });
    const objects = synth(chart);
    expect(objects.map((object) => [object.kind, object.metadata.namespace]).sort())
      .toEqual([['ConfigMap', 'arcade'], ['Job', 'arcade'], ['PersistentVolumeClaim', 'arcade']]);
  });
});

describe('DiskSeeder: the scripts ConfigMap is named by its content', () => {
  const registryClient = () => ({ sources: [SeedSource.snapshot(SNAPSHOT, { method: SnapshotMethod.registryClient() }), SeedSource.builtin()] });
  const kubeletPull = () => ({ sources: [SeedSource.snapshot(SNAPSHOT, { method: SnapshotMethod.kubeletPull() }), SeedSource.builtin()] });

  test('is <path>-scripts-<10 hex>, and the same seeder built twice gets the same name', () => {
    const first = scriptsOf(registryClient());
    expect(first.metadata.name).toMatch(/^test-seeder-scripts-[0-9a-f]{10}$/);
    expect(scriptsOf(registryClient()).metadata.name).toBe(first.metadata.name);
  });

  test('seeders that ship different scripts get different names', () => {
    const registry = scriptsOf(registryClient());
    const kubelet = scriptsOf(kubeletPull());
    const builtin = scriptsOf();
    // What differs is the scripts: fetch-snapshot.sh for the registry client, install-seed-tools.sh for kubelet-pull.
    expect(Object.keys(registry.data).sort()).toEqual(['fetch-snapshot.sh', 'seed-disk.sh']);
    expect(Object.keys(kubelet.data).sort()).toEqual(['install-seed-tools.sh', 'seed-disk.sh']);
    expect(Object.keys(builtin.data)).toEqual(['seed-disk.sh']);
    expect(new Set([registry.metadata.name, kubelet.metadata.name, builtin.metadata.name]).size).toBe(3);
  });

  test('settings that reach the containers but not the scripts leave the name alone', () => {
    const name = scriptsOf(registryClient()).metadata.name;
    expect(scriptsOf({
      sources: [SeedSource.builtin(), SeedSource.snapshot(ContainerImage.fromReference('registry.example.com/snap:v2'), {
        method: SnapshotMethod.registryClient({ tlsVerify: false, authSecret: 'pull' }),
      })],
      expectedSha256: 'b'.repeat(64), maxVirtualSize: '8Gi', image: ContainerImage.fromTag('other-emulator', 'v9'),
    }).metadata.name).toBe(name);
  });

  test('the seeding Job of a shared base mounts the ConfigMap by its actual name', () => {
    const chart = testChart();
    new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.sharedBase() }), image: IMAGE });
    const objects = synth(chart);
    const volumes = only(objects, 'Job').spec.template.spec.volumes;
    expect(volumes).toContainEqual({ name: 'seed-script', configMap: { name: only(objects, 'ConfigMap').metadata.name, defaultMode: 0o555 } });
    expect(ofKind(objects, 'ConfigMap')).toHaveLength(1);
  });
});
