import {
  ClaimRetention, CloneSourceKind, DiskAccessMode, DiskSeeder, EmulatorDisk, EmulatorDiskKind, PodManagementPolicy, QemuStatefulSet,
  resetOverlayScript, shippedScript,
} from '../lib';
import { envOf, ofKind, only, podSpec, synth, testChart } from './helpers/synth';

/** One disk of the given kind, seeded from the built-in image, under nine emulators. */
function topology(kind: EmulatorDiskKind, diskProps: Record<string, unknown> = {}, emulatorProps: Record<string, unknown> = {}) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk', { kind, ...diskProps });
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1' });
  const emulator = new QemuStatefulSet(chart, 'Emulator', { disk, seeder, image: 'qemu-loco', tag: 'v1', replicas: 9, ...emulatorProps });
  const objects = synth(chart);
  const statefulSet = only(objects, 'StatefulSet');
  const pod = podSpec(objects);
  return { objects, statefulSet, pod, emulator, disk, container: pod.containers[0] };
}

describe('claim per replica', () => {
  const { objects, statefulSet, pod, emulator, container } = topology(EmulatorDiskKind.CLAIM_PER_REPLICA, { size: '12Gi' });

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
    expect([0, 8].map((ordinal) => emulator.claimNameFor('disk', ordinal))).toEqual(['disk-loco-emulator-0', 'disk-loco-emulator-8']);
  });

  test('each replica seeds its own claim, mounted at /images, and needs no single-node acknowledgement', () => {
    expect(pod.initContainers[0].volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images' });
    expect(container.volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images', readOnly: false });
    expect(envOf(container).DISK).toBe('/images/win98.qcow2');
    expect(pod).not.toHaveProperty('affinity');
  });
});

describe('shared read-only base with per-replica overlays', () => {
  const { objects, statefulSet, pod, container } = topology(EmulatorDiskKind.SHARED_BASE, { size: '10Gi', overlaySize: '1Gi' });

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
    const configMap = only(objects, 'ConfigMap');
    expect(configMap.data['wait-for-disk.sh']).toBe(shippedScript('wait-for-disk.sh'));
  });

  test('a ReadWriteOnce base is refused: the Job and the replicas may run on different nodes', () => {
    expect(() => topology(EmulatorDiskKind.SHARED_BASE, { accessModes: [DiskAccessMode.READ_WRITE_ONCE] }))
      .toThrow('test/Disk: invalid accessModes ["ReadWriteOnce"]: a shared-base disk\'s base claim is written once by a seeding Job');
  });
});

describe('golden clone', () => {
  test('per-replica claims name an existing claim as their data source', () => {
    const { statefulSet, objects } = topology(EmulatorDiskKind.GOLDEN_CLONE, {
      size: '10Gi', cloneFrom: { kind: CloneSourceKind.PERSISTENT_VOLUME_CLAIM, name: 'win98-golden' },
    });
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.dataSourceRef).toEqual({ kind: 'PersistentVolumeClaim', name: 'win98-golden' });
    expect(ofKind(objects, 'PersistentVolumeClaim')).toHaveLength(0);
  });

  test('or a VolumeSnapshot, with its API group', () => {
    const { statefulSet } = topology(EmulatorDiskKind.GOLDEN_CLONE, {
      cloneFrom: { kind: CloneSourceKind.VOLUME_SNAPSHOT, name: 'win98-base-snap' },
    });
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.dataSourceRef)
      .toEqual({ apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'win98-base-snap' });
  });

  test('needs a source', () => {
    expect(() => topology(EmulatorDiskKind.GOLDEN_CLONE))
      .toThrow('test/Disk: invalid cloneFrom (not set): is required for a golden-clone disk');
  });
});

describe('claim retention and one-shot reset', () => {
  test('the claim retention policy is settable, Retain where not given', () => {
    const { statefulSet } = topology(EmulatorDiskKind.CLAIM_PER_REPLICA, {}, { claimRetentionPolicy: { whenScaled: ClaimRetention.DELETE } });
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Delete' });
    expect(topology(EmulatorDiskKind.CLAIM_PER_REPLICA).statefulSet.spec).not.toHaveProperty('persistentVolumeClaimRetentionPolicy');
  });

  test('a reset token adds the reset init container after the seeder, with the token and the overlay directories', () => {
    const { pod } = topology(EmulatorDiskKind.CLAIM_PER_REPLICA, {}, { resetToken: '2026-11-27' });
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk', 'reset-overlay']);
    const reset = pod.initContainers[1];
    expect(reset.command).toEqual(['/bin/sh', '-c', resetOverlayScript()]);
    expect(envOf(reset)).toEqual({ RESET_TOKEN: '2026-11-27', POD_NAME: 'fieldRef:metadata.name', SNAPSHOT_DIR: '/images/snapshots' });
    expect(reset.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(reset.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  test('a reset token on an emptyDir is refused: there is nothing to reset', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR });
    expect(() => new QemuStatefulSet(chart, 'Emulator', { disk, image: 'qemu-loco', tag: 'v1', resetToken: 'x1' }))
      .toThrow('test/Emulator: invalid resetToken "x1": has nothing to reset on an emptyDir disk');
  });
});

describe('pod management', () => {
  test('replicas can start in parallel, and follow Kubernetes order by default', () => {
    const { statefulSet } = topology(EmulatorDiskKind.SHARED_BASE, {}, { podManagementPolicy: PodManagementPolicy.PARALLEL });
    expect(statefulSet.spec.podManagementPolicy).toBe('Parallel');
    expect(topology(EmulatorDiskKind.SHARED_BASE).statefulSet.spec).not.toHaveProperty('podManagementPolicy');
  });
});
