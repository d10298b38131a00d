import { DiskSeeder, EmulatorDisk, EmulatorDiskKind, SeedSource, SeedVerification, seedScript } from '../lib';
import { envOf, only, synth, testChart } from './helpers/synth';

function seederIn(props: Partial<ConstructorParameters<typeof DiskSeeder>[2]> = {}) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk');
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1', ...props });
  return { chart, disk, seeder };
}

describe('DiskSeeder', () => {
  test('ships the seeding script verbatim in a ConfigMap mounted into the init container', () => {
    const { chart, seeder } = seederIn();
    const configMap = only(synth(chart), 'ConfigMap');
    const [container] = seeder.initContainers;

    expect(configMap.data['seed-disk.sh']).toBe(seedScript());
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
      sources: [SeedSource.SNAPSHOT, SeedSource.BUILTIN],
      snapshotImage: 'ghcr.io/mroie/qemu-snapshots:win98-base',
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
      sources: [SeedSource.SNAPSHOT, SeedSource.BUILTIN], snapshotImage: 'ghcr.io/mroie/qemu-snapshots:win98-base',
      minVirtualSize: '2Gi', maxVirtualSize: '8Gi',
    });
    for (const name of ['seed-snapshot', 'seed-disk']) {
      const env = envOf(seeder.initContainers.find((c) => c.name === name));
      expect([name, env.SEED_MIN_VIRTUAL_SIZE, env.SEED_MAX_VIRTUAL_SIZE]).toEqual([name, String(2 * 1024 ** 3), String(8 * 1024 ** 3)]);
    }
    const chart = testChart();
    const shared = new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.SHARED_BASE });
    const waiting = new DiskSeeder(chart, 'Seeder', { disk: shared, image: 'qemu-loco:v1', minVirtualSize: '1Gi' });
    const wait = envOf(waiting.initContainers.find((c) => c.name === 'wait-for-base'));
    expect([wait.SEED_MIN_VIRTUAL_SIZE, wait.SEED_MAX_VIRTUAL_SIZE]).toEqual([String(1024 ** 3), String(64 * 1024 ** 3)]);
  });

  test('runs in the given image as a non-root user with a read-only root filesystem and no capabilities', () => {
    const { seeder } = seederIn({ imagePullPolicy: 'Never' });
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
    const disk = new EmulatorDisk(chart, 'Disk', { hostPathVolume: { acknowledgeNodeLocal: true } });
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1' });
    const security = seeder.initContainers[0].securityContext!;

    expect(security.runAsUser).toBe(0);
    expect(security.runAsNonRoot).toBe(false);
    expect(security.capabilities).toEqual({ drop: ['ALL'] });
    expect(security.allowPrivilegeEscalation).toBe(false);
  });

  test('the snapshot source without a snapshot image is refused', () => {
    expect(() => seederIn({ sources: [SeedSource.SNAPSHOT] }))
      .toThrow("test/Seeder: invalid snapshotImage (not set): is required when sources include 'snapshot'");
  });
});
