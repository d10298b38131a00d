import {
  ClaimRetention, CloneSource, ContainerImage, DiskAccessMode, DiskSeeder, DiskVolume, EmulatorDisk, PodManagementPolicy, QemuStatefulSet,
  QemuStatefulSetProps,
} from '../lib';
import { shippedScript } from '../lib/disk-seeder';
import { envOf, ofKind, only, podSpec, synth, testChart } from './helpers/synth';

const image = ContainerImage.fromTag('qemu-loco', 'v1');

/** One disk of the given kind, seeded from the built-in image, under nine emulators. */
function topology(volume: DiskVolume, emulatorProps: Partial<QemuStatefulSetProps> = {}) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk', { volume });
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image });
  const emulator = new QemuStatefulSet(chart, 'Emulator', { disk, seeder, image, replicas: 9, ...emulatorProps });
  const objects = synth(chart);
  const statefulSet = only(objects, 'StatefulSet');
  const pod = podSpec(objects);
  return { objects, statefulSet, pod, emulator, disk, container: pod.containers[0] };
}

describe('claim per replica', () => {
  const { objects, statefulSet, pod, emulator, container } = topology(DiskVolume.claimPerReplica({ size: '12Gi' }));

  test('each replica gets its own ReadWriteOnce claim from volumeClaimTemplates, with apiVersion and kind', () => {
    expect(statefulSet.spec.volumeClaimTemplates).toEqual([{
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'disk', labels: emulator.selectorLabels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '12Gi' } } },
    }]);
    expect(ofKind(objects, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(pod.volumes.map((volume: any) => volume.name)).not.toContain('disk');
  });

  test('claims carry the names Kubernetes gives them', () => {
    expect([0, 8].map((ordinal) => emulator.claimNameFor('disk', ordinal))).toEqual(['disk-qemu-emulator-0', 'disk-qemu-emulator-8']);
  });

  test('each replica seeds its own claim, mounted at /images, and needs no single-node acknowledgement', () => {
    expect(pod.initContainers[0].volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images' });
    expect(container.volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images', readOnly: false });
    expect(envOf(container).DISK).toBe('/images/win98.qcow2');
    expect(pod).not.toHaveProperty('affinity');
  });
});

describe('shared read-only base with per-replica overlays', () => {
  const { objects, statefulSet, pod, container } = topology(DiskVolume.sharedBase({ size: '10Gi', overlaySize: '1Gi' }));

  test('the base is one ReadWriteMany claim, mounted read-only at /images/base', () => {
    const claim = only(objects, 'PersistentVolumeClaim');
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(pod.volumes).toContainEqual({ name: 'base', persistentVolumeClaim: { claimName: 'win98-disk' } });
    expect(container.volumeMounts).toContainEqual({ name: 'base', mountPath: '/images/base', readOnly: true });
  });

  test('each replica has a small overlay claim at /images, and DISK points at the base', () => {
    expect(statefulSet.spec.volumeClaimTemplates).toHaveLength(1);
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    expect(container.volumeMounts).toContainEqual({ name: 'disk', mountPath: '/images', readOnly: false });
    expect(envOf(container).DISK).toBe('/images/base/win98.qcow2');
    expect(envOf(container).SNAPSHOT_DIR).toBe('/images/snapshots');
  });

  test('a Job seeds the base once; the emulators only wait for it', () => {
    const job = only(objects, 'Job');
    const jobPod = job.spec.template.spec;
    expect(jobPod.containers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(jobPod.containers[0].volumeMounts).toContainEqual({ name: 'base', mountPath: '/images' });
    expect(jobPod.volumes).toContainEqual({ name: 'base', persistentVolumeClaim: { claimName: 'win98-disk' } });
    expect(jobPod.securityContext).toEqual({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(jobPod.restartPolicy).toBe('OnFailure');

    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-base']);
    expect(envOf(pod.initContainers[0])).toEqual({ WAIT_TARGET: '/images/base/win98.qcow2', WAIT_TIMEOUT_SECONDS: '1800', SEED_MAX_VIRTUAL_SIZE: String(64 * 1024 ** 3) });
    expect(pod.initContainers[0].volumeMounts).toContainEqual({ name: 'base', mountPath: '/images/base', readOnly: true });
    const [configMap] = ofKind(objects, 'ConfigMap').filter((object) => object.metadata.name!.startsWith('test-seeder-scripts-'));
    expect(pod.volumes).toContainEqual({ name: 'seed-script', configMap: { name: configMap.metadata.name, defaultMode: 0o555 } });
    expect(configMap.data['wait-for-disk.sh']).toBe(shippedScript('wait-for-disk.sh'));
  });

  test('a ReadWriteOnce base is refused: the Job and the replicas may run on different nodes', () => {
    expect(() => topology(DiskVolume.sharedBase({ accessModes: [DiskAccessMode.READ_WRITE_ONCE] }))).toThrow(new Error(
      'test/Disk: invalid accessModes ["ReadWriteOnce"]: a shared-base disk\'s base claim is written once by a seeding Job and read by every replica on any node: it must include ReadWriteMany'));
  });
});

describe('golden clone', () => {
  test('per-replica claims name an existing claim as their data source', () => {
    const { statefulSet, objects } = topology(DiskVolume.goldenClone(CloneSource.fromClaim('win98-golden'), { size: '10Gi' }));
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.dataSourceRef).toEqual({ kind: 'PersistentVolumeClaim', name: 'win98-golden' });
    expect(ofKind(objects, 'PersistentVolumeClaim')).toHaveLength(0);
  });

  test('or a VolumeSnapshot, with its API group', () => {
    const { statefulSet } = topology(DiskVolume.goldenClone(CloneSource.fromVolumeSnapshot('win98-base-snap')));
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.dataSourceRef)
      .toEqual({ apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'win98-base-snap' });
  });

  test('needs a source: the types require one (test/api-types.ts), and a JavaScript caller without one is told', () => {
    expect(() => topology(DiskVolume.goldenClone(undefined as any))).toThrow(new Error(
      'test/Disk: invalid cloneFrom (not set): must be a CloneSource (CloneSource.fromClaim(name), CloneSource.fromVolumeSnapshot(name))'));
  });
});

describe('claim retention and one-shot reset', () => {
  test('the claim retention policy is settable, Retain where not given', () => {
    const { statefulSet } = topology(DiskVolume.claimPerReplica(), { claimRetentionPolicy: { whenScaled: ClaimRetention.DELETE } });
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Delete' });
    expect(topology(DiskVolume.claimPerReplica()).statefulSet.spec).not.toHaveProperty('persistentVolumeClaimRetentionPolicy');
  });

  test('a reset token adds the reset init container after the seeder, with the token and the overlay directories', () => {
    const { objects, pod } = topology(DiskVolume.claimPerReplica(), { overlays: { resetToken: '2026-11-27' } });
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk', 'reset-overlay']);
    const reset = pod.initContainers[1];
    // The script is a file of the StatefulSet's scripts ConfigMap, as shipped, beside the preStop hook.
    expect(reset.command).toEqual(['/bin/sh', '/qemu-scripts/reset-overlay.sh']);
    expect(reset.volumeMounts).toContainEqual({ name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true });
    const [scripts] = ofKind(objects, 'ConfigMap').filter((object) => object.metadata.name!.startsWith('qemu-emulator-scripts-'));
    expect(scripts.data).toEqual({ 'pre-stop.sh': shippedScript('pre-stop.sh'), 'reset-overlay.sh': shippedScript('reset-overlay.sh') });
    expect(pod.volumes).toContainEqual({ name: 'qemu-scripts', configMap: { name: scripts.metadata.name, defaultMode: 0o555 } });
    expect(envOf(reset)).toEqual({ RESET_TOKEN: '2026-11-27', POD_NAME: 'fieldRef:metadata.name', SNAPSHOT_DIR: '/images/snapshots' });
    expect(reset.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(reset.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  test('a reset token on an emptyDir is refused: there is nothing to reset', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir() });
    expect(() => new QemuStatefulSet(chart, 'Emulator', { disk, image, overlays: { resetToken: 'x1' } })).toThrow(new Error(
      'test/Emulator: invalid overlays.resetToken "x1": has nothing to reset on an emptyDir disk, which starts empty every time'));
  });
});

describe('pod management', () => {
  test('replicas can start in parallel, and follow Kubernetes order by default', () => {
    const { statefulSet } = topology(DiskVolume.sharedBase(), { scheduling: { podManagementPolicy: PodManagementPolicy.PARALLEL } });
    expect(statefulSet.spec.podManagementPolicy).toBe('Parallel');
    expect(topology(DiskVolume.sharedBase()).statefulSet.spec).not.toHaveProperty('podManagementPolicy');
  });
});
