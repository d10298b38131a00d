import { Testing } from 'cdk8s';
import { LegoLocoChart, LegoLocoChartProps, SeedSource, StorageMode, preStopScript, seedScript } from '../lib';
import { envOf, K8sObject, ofKind, only, podSpec, synth } from './helpers/synth';

const emulator = { image: 'qemu-loco', tag: 'v1', replicas: 9, sharedClaimOnOneNode: true };

function chartOf(mode: StorageMode, props: Partial<LegoLocoChartProps> = {}) {
  const chart = new LegoLocoChart(Testing.app(), `loco-${mode}`, { mode, emulator, ...props });
  const objects = synth(chart);
  const pod = podSpec(objects);
  return { chart, objects, pod, emulatorContainer: pod.containers[0], seeder: pod.initContainers?.find((c: any) => c.name === 'seed-disk') };
}

/** The objects with the shipped scripts replaced by a marker, after checking they are verbatim. */
function forSnapshot(objects: K8sObject[]): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  for (const configMap of ofKind(copy, 'ConfigMap')) {
    expect(configMap.data['seed-disk.sh']).toBe(seedScript());
    configMap.data['seed-disk.sh'] = '<lib/scripts/seed-disk.sh>';
  }
  for (const container of podSpec(copy).containers) {
    expect(container.lifecycle.preStop.exec.command[2]).toBe(preStopScript());
    container.lifecycle.preStop.exec.command[2] = '<lib/scripts/pre-stop.sh>';
  }
  return copy;
}

describe.each([StorageMode.PERSISTENT, StorageMode.HYBRID, StorageMode.EPHEMERAL])('LegoLocoChart in mode %s', (mode) => {
  test('matches the recorded manifests', () => {
    expect(forSnapshot(chartOf(mode).objects)).toMatchSnapshot();
  });
});

describe('mode A, persistent', () => {
  const { objects, pod, emulatorContainer, seeder } = chartOf(StorageMode.PERSISTENT);

  test('keeps the disk on a claim', () => {
    expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe('win98-disk');
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
    expect(ofKind(objects, 'PersistentVolume')).toHaveLength(0);
  });

  test('seeds it from the built-in image only, which is required', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(envOf(seeder).SEED_SOURCES).toBe('builtin');
    expect(envOf(seeder).SEED_HINT).toContain('check-image');
    expect(seeder.image).toBe('qemu-loco:v1');
  });

  test('tells the entrypoint not to download', () => {
    const env = envOf(emulatorContainer);
    expect(env.USE_PREBUILT_SNAPSHOT).toBe('false');
    expect(env.DISK).toBe('/images/win98.qcow2');
    expect(env).not.toHaveProperty('SNAPSHOT_REGISTRY');
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
  });

  test('refuses a source list without the built-in image', () => {
    expect(() => chartOf(StorageMode.PERSISTENT, { seedSources: [SeedSource.SNAPSHOT] }))
      .toThrow("loco-persistent: invalid seedSources [\"snapshot\"]: mode persistent seeds from the image built into the emulator image and must include 'builtin'");
  });
});

describe('mode B, hybrid', () => {
  const { objects, pod, emulatorContainer, seeder } = chartOf(StorageMode.HYBRID);

  test('keeps the disk on a claim', () => {
    expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe('win98-disk');
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
  });

  test('seeds permissively: the snapshot first, the built-in image as a fallback', () => {
    const env = envOf(seeder);
    expect(env.SEED_SOURCES).toBe('snapshot builtin');
    expect(env.SEED_SNAPSHOT_REF).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(env.SEED_HINT).not.toContain('check-image');
  });

  test('fetches the snapshot by kubelet pull: busybox placed first, then the snapshot image stages its qcow2', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-tools', 'seed-snapshot', 'seed-disk']);
    const [tools, snapshot] = pod.initContainers;
    expect(tools.image).toBe('busybox:1.35');
    expect(snapshot.image).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(snapshot.command).toEqual(['/seed-tools/busybox', 'sh', '/seed-script/seed-disk.sh', 'stage', '/snapshot.qcow2']);
    expect(envOf(snapshot).PATH).toBe('/seed-tools/bin');
    expect(envOf(seeder).SEED_SNAPSHOT_METHOD).toBe('kubelet-pull');
    expect(pod.volumes).toContainEqual({ name: 'seed-tools', emptyDir: { sizeLimit: '16Mi' } });
  });

  test('takes another source order', () => {
    expect(envOf(chartOf(StorageMode.HYBRID, { seedSources: [SeedSource.BUILTIN, SeedSource.SNAPSHOT] }).seeder).SEED_SOURCES)
      .toBe('builtin snapshot');
  });

  test('has the entrypoint overlay the seeded disk, and names the snapshot for information', () => {
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      DISK: '/images/win98.qcow2',
    });
  });
});

describe('mode C, ephemeral', () => {
  const { objects, pod, emulatorContainer } = chartOf(StorageMode.EPHEMERAL);

  test('uses a size-limited emptyDir and creates no claim', () => {
    expect(ofKind(objects, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(pod.volumes).toContainEqual({ name: 'disk', emptyDir: { sizeLimit: '20Gi' } });
  });

  test('has no seeder: the entrypoint downloads the snapshot', () => {
    expect(pod).not.toHaveProperty('initContainers');
    expect(ofKind(objects, 'ConfigMap')).toHaveLength(0);
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'true',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      SNAPSHOT_MODE: 'ephemeral',
    });
  });

  test('needs no single-node acknowledgement for many replicas', () => {
    const chart = new LegoLocoChart(Testing.app(), 'c', { mode: StorageMode.EPHEMERAL, emulator: { image: 'qemu-loco', tag: 'v1', replicas: 9 } });
    expect(only(synth(chart), 'StatefulSet').spec.replicas).toBe(9);
  });

  test('refuses a claim', () => {
    expect(() => chartOf(StorageMode.EPHEMERAL, { disk: { claimName: 'win98-disk' } }))
      .toThrow('loco-ephemeral/Disk: invalid claimName "win98-disk": does not apply to disk kind empty-dir');
    expect(() => chartOf(StorageMode.EPHEMERAL, { disk: { kind: 'claim' as any } }))
      .toThrow('loco-ephemeral: invalid disk.kind "claim": mode ephemeral keeps nothing and takes an emptyDir disk');
  });
});

test('the hostPath PersistentVolume appears only when asked for', () => {
  const withPv = chartOf(StorageMode.PERSISTENT, { disk: { hostPathVolume: { acknowledgeNodeLocal: true } } });
  expect(ofKind(withPv.objects, 'PersistentVolume')).toHaveLength(1);
  for (const mode of [StorageMode.PERSISTENT, StorageMode.HYBRID, StorageMode.EPHEMERAL]) {
    expect(ofKind(chartOf(mode).objects, 'PersistentVolume')).toHaveLength(0);
  }
});

describe('mode C with seedEphemeralDisk', () => {
  const { pod, emulatorContainer, seeder } = chartOf(StorageMode.EPHEMERAL, { seedEphemeralDisk: true });

  test('seeds the emptyDir from the snapshot by kubelet pull before the emulator starts', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-tools', 'seed-snapshot', 'seed-disk']);
    expect(envOf(seeder).SEED_SOURCES).toBe('snapshot');
    expect(pod.volumes).toContainEqual({ name: 'disk', emptyDir: { sizeLimit: '20Gi' } });
  });

  test('has the entrypoint overlay the seeded disk instead of downloading it again', () => {
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false',
      DISK: '/images/win98.qcow2',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
    });
  });

  test('a snapshot pinned by digest alone sets no SNAPSHOT_TAG (never a digest)', () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const env = envOf(chartOf(StorageMode.EPHEMERAL, { seedEphemeralDisk: true, snapshotImage: `ghcr.io/mroie/qemu-snapshots@${digest}` }).emulatorContainer);
    expect(env).toMatchObject({ USE_PREBUILT_SNAPSHOT: 'false', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots' });
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
  });

  test('the tools image of the kubelet-pull method is settable, for air-gapped registries', () => {
    const { pod: mirrored } = chartOf(StorageMode.EPHEMERAL, { seedEphemeralDisk: true, toolsImage: 'registry.example.com/mirror/busybox:1.35' });
    expect(mirrored.initContainers[0]).toMatchObject({ name: 'seed-tools', image: 'registry.example.com/mirror/busybox:1.35' });
    const { pod: hybrid } = chartOf(StorageMode.HYBRID, { toolsImage: 'registry.example.com/mirror/busybox:1.35' });
    expect(hybrid.initContainers[0].image).toBe('registry.example.com/mirror/busybox:1.35');
  });

  test('refuses toolsImage in mode C without a seeder', () => {
    expect(() => chartOf(StorageMode.EPHEMERAL, { toolsImage: 'busybox:1.36' }))
      .toThrow('loco-ephemeral: invalid toolsImage "busybox:1.36": is a setting of the seeder, and mode ephemeral has none unless seedEphemeralDisk is set');
  });

  test('is refused in the persistent modes, which always seed', () => {
    expect(() => chartOf(StorageMode.HYBRID, { seedEphemeralDisk: true }))
      .toThrow('loco-hybrid: invalid seedEphemeralDisk true: applies only to mode ephemeral');
  });
});

test('the seeding Job of a shared base pulls with the emulator image pull secrets', () => {
  const { objects } = chartOf(StorageMode.PERSISTENT, {
    disk: { kind: 'shared-base' as any },
    emulator: { ...emulator, imagePullSecrets: ['ghcr-secret'] },
  });
  expect(only(objects, 'Job').spec.template.spec.imagePullSecrets).toEqual([{ name: 'ghcr-secret' }]);
});
