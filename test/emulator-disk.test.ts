import { DiskAccessMode, DiskVolume, EmptyDirMedium, EmulatorDisk } from '../lib';
import { ofKind, only, synth, testChart } from './helpers/synth';

const NOT_TAKEN = "is not taken here: metadata gives labels and annotations; names are the construct's own props, the namespace is the chart's";

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
      volume: DiskVolume.newClaim({ claimName: 'loco-disk', size: '40Gi', storageClassName: 'fast', accessModes: [DiskAccessMode.READ_WRITE_MANY] }),
    });
    const claim = only(synth(chart), 'PersistentVolumeClaim');

    expect(claim.metadata.name).toBe('loco-disk');
    expect(claim.spec).toMatchObject({ storageClassName: 'fast', accessModes: ['ReadWriteMany'], resources: { requests: { storage: '40Gi' } } });
    expect(disk.sharedAcrossNodes).toBe(true);
    expect(disk.sizeBytes).toBe(40 * 2 ** 30);
  });

  test('an existing claim creates no object and mounts the claim by name', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.existingClaim('saved-games') });

    expect(synth(chart)).toHaveLength(0);
    expect(disk.persistent).toBe(true);
    expect(disk.claim).toBeUndefined();
    expect(disk.volume!.persistentVolumeClaim).toEqual({ claimName: 'saved-games' });
  });

  test('a hostPath volume is a Retain PV at /tmp/cdk8s-qemu-loco/<namespace>/<claim>, bound through volumeName with a matching (empty) class', () => {
    const chart = testChart({ namespace: 'loco' });
    new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) });
    const objects = synth(chart);

    const pv = only(objects, 'PersistentVolume');
    const claim = only(objects, 'PersistentVolumeClaim');
    expect(pv.spec.hostPath).toEqual({ path: '/tmp/cdk8s-qemu-loco/loco/win98-disk', type: 'DirectoryOrCreate' });
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
      new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: '/data/loco' } }) });
      const pv = only(synth(chart), 'PersistentVolume');
      expect(pv.spec.hostPath.path).toBe('/data/loco');
      return pv.metadata.name;
    });
    expect(names[0]).not.toBe(names[1]);
  });

  test('a hostPath volume keeps an explicit storage class on both sides', () => {
    const chart = testChart();
    new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ storageClassName: 'manual', hostPathVolume: { acknowledgeNodeLocal: true } }) });
    const objects = synth(chart);
    expect(only(objects, 'PersistentVolume').spec.storageClassName).toBe('manual');
    expect(only(objects, 'PersistentVolumeClaim').spec.storageClassName).toBe('manual');
  });

  test('an emptyDir disk has a 20Gi size limit by default and creates no object', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir() });

    expect(synth(chart)).toHaveLength(0);
    expect(disk.persistent).toBe(false);
    expect(disk.volume).toEqual({ name: 'disk', emptyDir: { sizeLimit: expect.anything() } });
    expect(disk.volume!.emptyDir!.sizeLimit!.value).toBe('20Gi');
  });

  test('an emptyDir disk takes a size limit and the Memory medium', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir({ sizeLimit: '4Gi', medium: EmptyDirMedium.MEMORY }) });
    expect(disk.volume!.emptyDir!.medium).toBe('Memory');
    expect(disk.volume!.emptyDir!.sizeLimit!.value).toBe('4Gi');
    expect(disk.sizeBytes).toBe(4 * 2 ** 30);
  });

  test('a hostPath volume without the explicit opt-in is refused, naming the property', () => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: false } }) }))
      .toThrow('test/Disk: invalid hostPathVolume.acknowledgeNodeLocal false: must be true to create a hostPath PersistentVolume: it keeps the disk on one node and suits single-node clusters only; leave hostPathVolume unset to let the StorageClass provision the claim');
  });

  // Claim settings on an emptyDir disk (the old run-time refusal) no longer type-check: test/api-types.ts.

  test('null props from a JavaScript caller are no props: the default claim, not a TypeError', () => {
    const chart = testChart();
    new EmulatorDisk(chart, 'Disk', null as any);
    expect(only(synth(chart), 'PersistentVolumeClaim').metadata.name).toBe('win98-disk');
  });

  test('a volume that is not a DiskVolume (a JavaScript caller passing the old props) is refused, not read', () => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { volume: { kind: 'empty-dir', sizeLimit: '4Gi' } as any }))
      .toThrow('test/Disk: invalid volume {"kind":"empty-dir","sizeLimit":"4Gi"}: must be a DiskVolume (DiskVolume.newClaim(), DiskVolume.emptyDir(), ...)');
  });
});

describe('EmulatorDisk: its primary object and its metadata', () => {
  test('node.defaultChild is the claim it creates, not its hostPath PersistentVolume', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) });
    expect(disk.node.defaultChild).toBe(disk.claim);
    expect(disk.claim).toBeDefined();
    expect(disk.node.defaultChild).not.toBe(disk.hostPathPersistentVolume);
  });

  test('an emptyDir or an existing claim has no primary object: it creates none', () => {
    const chart = testChart();
    expect(new EmulatorDisk(chart, 'Empty', { volume: DiskVolume.emptyDir() }).node.defaultChild).toBeUndefined();
    expect(new EmulatorDisk(chart, 'Existing', { volume: DiskVolume.existingClaim('saved-games') }).node.defaultChild).toBeUndefined();
  });

  test('metadata labels and annotations land on the claim and on the hostPath PersistentVolume', () => {
    const chart = testChart();
    new EmulatorDisk(chart, 'Disk', {
      metadata: { labels: { 'team': 'arcade', 'example.com/tier': 'gold' }, annotations: { 'backup.example.com/keep': 'forever' } },
      volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }),
    });
    const objects = synth(chart);
    expect(objects.map((object) => object.kind).sort()).toEqual(['PersistentVolume', 'PersistentVolumeClaim']);
    for (const object of objects) {
      expect([object.kind, object.metadata.labels]).toEqual([object.kind, { 'team': 'arcade', 'example.com/tier': 'gold' }]);
      expect([object.kind, object.metadata.annotations]).toEqual([object.kind, { 'backup.example.com/keep': 'forever' }]);
    }
  });

  test.each([
    ['name', { name: 'my-disk' }, '"my-disk"'],
    ['namespace', { namespace: 'games' }, '"games"'],
  ])('metadata.%s is refused: the claim name is a DiskVolume option, the namespace the chart\'s', (field, metadata, shown) => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { metadata }))
      .toThrow(`test/Disk: invalid metadata.${field} ${shown}: ${NOT_TAKEN}`);
  });

  test('a metadata label the API server would refuse is refused here, naming the key', () => {
    const chart = testChart();
    expect(() => new EmulatorDisk(chart, 'Disk', { metadata: { labels: { team: 'arcade games' } } }))
      .toThrow('test/Disk: invalid metadata.labels.team "arcade games": must be at most 63 letters, digits, - _ . starting and ending with a letter or digit (or empty)');
  });

  test("the chart's namespace is on the claim and in the (cluster-scoped) PersistentVolume's name", () => {
    const chart = testChart({ namespace: 'arcade' });
    new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) });
    const objects = synth(chart);
    expect(only(objects, 'PersistentVolumeClaim').metadata.namespace).toBe('arcade');
    expect(only(objects, 'PersistentVolume').metadata.name).toBe('arcade.win98-disk-pv');
  });
});
