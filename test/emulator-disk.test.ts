import { DiskAccessMode, EmptyDirMedium, EmulatorDisk, EmulatorDiskKind } from '../lib';
import { ofKind, only, synth, testChart } from './helpers/synth';

describe('EmulatorDisk', () => {
  test('by default creates a 10Gi ReadWriteOnce claim named win98-disk, provisioned by the default StorageClass', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk');
    const objects = synth(chart);

    const claim = only(objects, 'PersistentVolumeClaim');
    expect(claim.metadata.name).toBe('win98-disk');
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec.resources.requests.storage).toBe('10Gi');
    expect(claim.spec).not.toHaveProperty('storageClassName');
    expect(claim.spec).not.toHaveProperty('volumeName');
    expect(ofKind(objects, 'PersistentVolume')).toHaveLength(0);
    expect(disk.persistent).toBe(true);
    expect(disk.volume).toEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
  });

  test('passes claim name, size, storage class and access modes to the claim', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', {
      claimName: 'loco-disk', size: '40Gi', storageClassName: 'fast', accessModes: [DiskAccessMode.READ_WRITE_MANY],
    });
    const claim = only(synth(chart), 'PersistentVolumeClaim');

    expect(claim.metadata.name).toBe('loco-disk');
    expect(claim.spec).toMatchObject({ storageClassName: 'fast', accessModes: ['ReadWriteMany'], resources: { requests: { storage: '40Gi' } } });
    expect(disk.sharedAcrossNodes).toBe(true);
    expect(disk.sizeBytes).toBe(40 * 2 ** 30);
  });

  test('an existing claim creates no object and mounts the claim by name', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.EXISTING_CLAIM, claimName: 'saved-games' });

    expect(synth(chart)).toHaveLength(0);
    expect(disk.persistent).toBe(true);
    expect(disk.claim).toBeUndefined();
    expect(disk.volume!.persistentVolumeClaim).toEqual({ claimName: 'saved-games' });
  });

  test('a hostPath volume is a Retain PV at /tmp/<claim>, bound through volumeName with a matching (empty) class', () => {
    const chart = testChart({ namespace: 'loco' });
    new EmulatorDisk(chart, 'Disk', { hostPathVolume: { acknowledgeNodeLocal: true } });
    const objects = synth(chart);

    const pv = only(objects, 'PersistentVolume');
    const claim = only(objects, 'PersistentVolumeClaim');
    expect(pv.spec.hostPath).toEqual({ path: '/tmp/win98-disk', type: 'DirectoryOrCreate' });
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(pv.spec.capacity.storage).toBe('10Gi');
    expect(claim.spec.volumeName).toBe(pv.metadata.name);
    // An unset class on the claim would be defaulted by admission and never match the PV's.
    expect(claim.spec.storageClassName).toBe('');
    expect(pv.spec.storageClassName).toBe('');
  });

  test('the hostPath PV name carries the namespace, so two installations do not collide', () => {
    const names = ['team-a', 'team-b'].map((namespace) => {
      const chart = testChart({ namespace });
      new EmulatorDisk(chart, 'Disk', { hostPathVolume: { acknowledgeNodeLocal: true, path: '/data/loco' } });
      const pv = only(synth(chart), 'PersistentVolume');
      expect(pv.spec.hostPath.path).toBe('/data/loco');
      return pv.metadata.name;
    });
    expect(names[0]).not.toBe(names[1]);
  });

  test('a hostPath volume keeps an explicit storage class on both sides', () => {
    const chart = testChart();
    new EmulatorDisk(chart, 'Disk', { storageClassName: 'manual', hostPathVolume: { acknowledgeNodeLocal: true } });
    const objects = synth(chart);
    expect(only(objects, 'PersistentVolume').spec.storageClassName).toBe('manual');
    expect(only(objects, 'PersistentVolumeClaim').spec.storageClassName).toBe('manual');
  });

  test('an emptyDir disk has a 20Gi size limit by default and creates no object', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR });

    expect(synth(chart)).toHaveLength(0);
    expect(disk.persistent).toBe(false);
    expect(disk.volume).toEqual({ name: 'disk', emptyDir: { sizeLimit: expect.anything() } });
    expect(disk.volume!.emptyDir!.sizeLimit!.value).toBe('20Gi');
  });

  test('an emptyDir disk takes a size limit and the Memory medium', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR, sizeLimit: '4Gi', medium: EmptyDirMedium.MEMORY });
    expect(disk.volume!.emptyDir!.medium).toBe('Memory');
    expect(disk.volume!.emptyDir!.sizeLimit!.value).toBe('4Gi');
    expect(disk.sizeBytes).toBe(4 * 2 ** 30);
  });

  test('a hostPath volume without the explicit opt-in is refused, naming the property', () => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { hostPathVolume: { acknowledgeNodeLocal: false } }))
      .toThrow('test/Disk: invalid hostPathVolume.acknowledgeNodeLocal false: must be true to create a hostPath PersistentVolume');
  });

  test('claim settings on an emptyDir disk are refused rather than ignored', () => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR, claimName: 'win98-disk' }))
      .toThrow('test/Disk: invalid claimName "win98-disk": does not apply to disk kind empty-dir, which takes sizeLimit, medium, imageSize (claimName applies to claim, existing-claim, shared-base)');
  });
});
