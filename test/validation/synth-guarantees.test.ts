import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import {
  ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, EmulatorOptions, LegoLoco, LegoLocoChart, ManifestChecks, QemuStatefulSet,
  QemuStatefulSetProps, SeedSource, SnapshotMethod, StorageMode,
} from '../../lib';

/**
 * What synth guarantees beyond each prop's own check (README "What synth guarantees"): that two
 * installations in one app never collide, and that a prop is applied or refused, never ignored.
 * Every case runs app.synthYaml(), which runs the validations as app.synth() does, and asserts the
 * whole message.
 */

const image = ContainerImage.fromTag('qemu-loco', 'v1');
const emulator: EmulatorOptions = { image };
const onOneNode: EmulatorOptions = { image, replicas: 2, scheduling: { sharedClaimOnOneNode: true } };

/** The validation errors of an app, one per line, as cdk8s reports them at synth. */
function synthErrors(app: App): string[] {
  try {
    app.synthYaml();
  } catch (error) {
    const message = (error as Error).message;
    expect(message.startsWith('Validation failed with the following errors:\n  ')).toBe(true);
    return message.split('\n  ').slice(1);
  }
  return [];
}

const OVERWRITES = 'applied together, one overwrites the other';

describe('two installations in one app never collide', () => {
  test('two LegoLocoCharts in one namespace with the default names: the StatefulSet, the Service, the claim and the scripts', () => {
    const app = Testing.app();
    new LegoLocoChart(app, 'one', { mode: StorageMode.persistent(), emulator });
    new LegoLocoChart(app, 'two', { mode: StorageMode.hybrid(), emulator });
    expect(synthErrors(app)).toEqual([
      `[one/Resource/Disk] one/Resource/Disk/Resource and two/Resource/Disk/Resource both make PersistentVolumeClaim win98-disk in namespace default: ${OVERWRITES}; give one disk another claimName (the DiskVolume's options), or put them in different namespaces`,
      `[one/Resource/Resource] one/Resource/Resource/Scripts and two/Resource/Resource/Scripts both make ConfigMap loco-emulator-scripts-989d61ff85 in namespace default: ${OVERWRITES}; give one of the constructs another id or name, or put them in different namespaces`,
      `[one/Resource/Resource] one/Resource/Resource/Service and two/Resource/Resource/Service both make Service loco-emulator in namespace default: ${OVERWRITES}; give one emulator another serviceName (or name), or put them in different namespaces`,
      `[one/Resource/Resource] one/Resource/Resource/Resource and two/Resource/Resource/Resource both make StatefulSet loco-emulator in namespace default: ${OVERWRITES}; give one emulator another name (the StatefulSet's \`name\`), or put them in different namespaces`,
      '[one/Resource/Resource] one/Resource/Resource and two/Resource/Resource both mount the ReadWriteOnce claim win98-disk in namespace default: their pods can be scheduled to two nodes and fail with Multi-Attach; give each its own disk (claimName), or a ReadWriteMany claim',
    ]);
  });

  test('the same two in two namespaces, or with their own names, synthesize', () => {
    const app = Testing.app();
    new LegoLocoChart(app, 'one', { namespace: 'one', mode: StorageMode.persistent(), emulator });
    new LegoLocoChart(app, 'two', { namespace: 'two', mode: StorageMode.persistent(), emulator });
    new LegoLocoChart(app, 'three', {
      namespace: 'one',
      mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ claimName: 'three-disk' }) }),
      emulator: { ...emulator, name: 'three' },
    });
    expect(synthErrors(app)).toEqual([]);
  });

  test('two StatefulSets in one chart', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'games');
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir() });
    new QemuStatefulSet(chart, 'A', { disk, image });
    new QemuStatefulSet(chart, 'B', { disk, image, serviceName: 'b' });
    expect(synthErrors(app)).toEqual([
      `[games/A] games/A/Scripts and games/B/Scripts both make ConfigMap qemu-emulator-scripts-989d61ff85 in namespace default: ${OVERWRITES}; give one of the constructs another id or name, or put them in different namespaces`,
      `[games/A] games/A/Resource and games/B/Resource both make StatefulSet qemu-emulator in namespace default: ${OVERWRITES}; give one emulator another name (the StatefulSet's \`name\`), or put them in different namespaces`,
    ]);
  });

  test('two claims in one chart', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'games');
    new EmulatorDisk(chart, 'Saves', { volume: DiskVolume.newClaim({ claimName: 'disk' }) });
    new EmulatorDisk(chart, 'Backup', { volume: DiskVolume.newClaim({ claimName: 'disk' }) });
    expect(synthErrors(app)).toEqual([
      `[games/Saves] games/Saves/Resource and games/Backup/Resource both make PersistentVolumeClaim disk in namespace default: ${OVERWRITES}; give one disk another claimName (the DiskVolume's options), or put them in different namespaces`,
    ]);
  });

  test("an object of the user's own app with the name of one of the library's", () => {
    const app = Testing.app();
    const chart = new Chart(app, 'games');
    new k8s.KubeService(chart, 'Mine', { metadata: { name: 'loco-emulator' }, spec: { ports: [{ port: 80 }] } });
    new LegoLoco(chart, 'loco', { mode: StorageMode.ephemeral(), emulator });
    expect(synthErrors(app)).toEqual([
      `[games/loco/Resource] games/loco/Resource/Service and games/Mine both make Service loco-emulator in namespace default: ${OVERWRITES}; give one emulator another serviceName (or name), or put them in different namespaces`,
    ]);
  });

  test('hostPath PersistentVolumes have one name per (namespace, claim): a/b-disk and a-b/disk no longer meet', () => {
    const app = Testing.app();
    const hostPath = { acknowledgeNodeLocal: true };
    new LegoLocoChart(app, 'a', { namespace: 'a', mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ claimName: 'b-disk', hostPathVolume: hostPath }) }), emulator });
    new LegoLocoChart(app, 'ab', { namespace: 'a-b', mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ claimName: 'disk', hostPathVolume: hostPath }) }), emulator });
    expect(synthErrors(app)).toEqual([]);
    const volumes = app.charts.flatMap((chart) => chart.toJson()).filter((object) => object.kind === 'PersistentVolume');
    expect(volumes.map((volume) => [volume.metadata.name, volume.spec.hostPath.path])).toEqual([
      ['a.b-disk-pv', '/tmp/cdk8s-qemu-loco/a/b-disk'],
      ['a-b.disk-pv', '/tmp/cdk8s-qemu-loco/a-b/disk'],
    ]);
  });

  test('two hostPath PersistentVolumes on one node directory', () => {
    const app = Testing.app();
    const hostPath = { acknowledgeNodeLocal: true, path: '/srv/loco' };
    new LegoLocoChart(app, 'one', { namespace: 'one', mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ hostPathVolume: hostPath }) }), emulator });
    new LegoLocoChart(app, 'two', { namespace: 'two', mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ hostPathVolume: hostPath }) }), emulator });
    expect(synthErrors(app)).toEqual([
      '[one/Resource/Disk] one/Resource/Disk and two/Resource/Disk both keep their disk in the node directory /srv/loco (hostPathVolume.path): the two installations would write one disk; give each its own hostPathVolume.path',
    ]);
  });

  test('two StatefulSets of different charts on one ReadWriteOnce claim', () => {
    const app = Testing.app();
    for (const id of ['red', 'blue']) {
      new LegoLocoChart(app, id, {
        namespace: 'games',
        mode: StorageMode.persistent({ volume: DiskVolume.existingClaim('shared-saves') }),
        emulator: { ...onOneNode, name: id },
      });
    }
    expect(synthErrors(app)).toEqual([
      '[red/Resource/Resource] red/Resource/Resource and blue/Resource/Resource both mount the ReadWriteOnce claim shared-saves in namespace games: their pods can be scheduled to two nodes and fail with Multi-Attach; give each its own disk (claimName), or a ReadWriteMany claim',
    ]);
  });
});

describe('a prop is applied or refused, never ignored', () => {
  function statefulSet(props: Partial<QemuStatefulSetProps>, volume = DiskVolume.claimPerReplica()): () => void {
    return () => {
      const chart = new Chart(Testing.app(), 'test');
      new QemuStatefulSet(chart, 'Emulator', { disk: new EmulatorDisk(chart, 'Disk', { volume }), image, ...props });
    };
  }
  function seeder(props: object, volume = DiskVolume.newClaim()): () => void {
    return () => {
      const chart = new Chart(Testing.app(), 'test');
      new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk', { volume }), image, ...props });
    };
  }
  const CASES: [string, () => void, string][] = [
    ['sharedClaimOnOneNode with a claim per replica', statefulSet({ replicas: 3, scheduling: { sharedClaimOnOneNode: true } }),
      'test/Emulator: invalid scheduling.sharedClaimOnOneNode true: applies only to a disk every replica shares (DiskVolume.newClaim(), DiskVolume.existingClaim()); disk kind claim-per-replica gives each replica its own volume, so nothing needs to share a node'],
    ['sharedClaimOnOneNode on an emptyDir (mode C)', () => new LegoLocoChart(Testing.app(), 'loco', { mode: StorageMode.ephemeral(), emulator: onOneNode }),
      'loco/Resource/Resource: invalid scheduling.sharedClaimOnOneNode true: applies only to a disk every replica shares (DiskVolume.newClaim(), DiskVolume.existingClaim()); disk kind empty-dir gives each replica its own volume, so nothing needs to share a node'],
    ['claimRetentionPolicy without claims per replica', statefulSet({ claimRetentionPolicy: {} }, DiskVolume.emptyDir()),
      'test/Emulator: invalid claimRetentionPolicy {}: applies only to claims made per replica (DiskVolume.claimPerReplica(), sharedBase(), goldenClone()); disk kind empty-dir has none'],
    ['a disabled probe given a path', statefulSet({ probes: { liveness: { enabled: false, path: '/alive' } } }),
      'test/Emulator: invalid probes.liveness.path "/alive": does not apply to a disabled probe (probes.liveness.enabled: false); drop it, or enable the probe'],
    ['baseWaitSeconds on a disk the emulator pod seeds', seeder({ baseWaitSeconds: 60 }),
      'test/Seeder: invalid baseWaitSeconds 60: applies only to a shared-base disk (DiskVolume.sharedBase()), seeded by a Job; disk kind claim is seeded in the emulator pod'],
    ['seeder imagePullSecrets without a seeding Job', seeder({ imagePullSecrets: ['ghcr'] }),
      'test/Seeder: invalid imagePullSecrets ["ghcr"]: applies only to a shared-base disk (DiskVolume.sharedBase()), seeded by a Job; disk kind claim is seeded in the emulator pod, whose own imagePullSecrets apply'],
    ['NaN replicas', statefulSet({ replicas: NaN }),
      'test/Emulator: invalid replicas NaN: must be a whole number at least 1'],
    ['Infinity seconds to stop', statefulSet({ scheduling: { terminationGracePeriodSeconds: Infinity } }),
      'test/Emulator: invalid scheduling.terminationGracePeriodSeconds Infinity: must be a whole number at least 10'],
    ['a seeder image tagged latest', seeder({ image: ContainerImage.fromTag('qemu-loco', 'latest') }),
      "test/Seeder: invalid image \"qemu-loco:latest\": 'latest' runs whatever was pushed last on each node: pin a version tag or a digest, or pass allowLatestTag: true"],
    ['an untagged seeder image', seeder({ image: ContainerImage.fromReference('qemu-loco') }),
      'test/Seeder: invalid image "qemu-loco": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)'],
    ['an untagged tools image', seeder({ sources: [SeedSource.snapshot(LegoLoco.SNAPSHOT_IMAGE, { method: SnapshotMethod.kubeletPull({ toolsImage: ContainerImage.fromReference('busybox') }) })] }),
      'test/Seeder: invalid sources.snapshot.method.toolsImage "busybox": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)'],
  ];
  test.each(CASES)('%s', (_, build, message) => {
    expect(build).toThrow(new Error(message));
  });

  test("the user's affinity is kept beside the one-node pod affinity sharedClaimOnOneNode needs", () => {
    const chart = new Chart(Testing.app(), 'test');
    const zone = { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-1a'] };
    const set = new QemuStatefulSet(chart, 'Emulator', {
      disk: new EmulatorDisk(chart, 'Disk'),
      image,
      replicas: 2,
      scheduling: { sharedClaimOnOneNode: true, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [zone] }] } } } },
    });
    const affinity = (set.statefulSet.toJson() as any).spec.template.spec.affinity;
    expect(affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([zone]);
    expect(affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: set.selectorLabels }, topologyKey: 'kubernetes.io/hostname' },
    ]);
  });
});

describe('ManifestChecks.skip, the escape hatch', () => {
  test('turns the checks off for one object, with its reason recorded, and for that object only', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'games');
    const a = new EmulatorDisk(chart, 'A', { volume: DiskVolume.newClaim({ claimName: 'disk' }) });
    new EmulatorDisk(chart, 'B', { volume: DiskVolume.newClaim({ claimName: 'disk' }) });
    expect(synthErrors(app)).toHaveLength(1);
    ManifestChecks.skip(a.claim!, 'B replaces A on purpose during the migration');
    expect(ManifestChecks.isSkipped(a.claim!)).toBe(true);
    expect(a.claim!.node.metadata.map((entry) => entry.data)).toContain('B replaces A on purpose during the migration');
    // B's own check still sees A.
    expect(synthErrors(app)).toEqual([
      `[games/B] games/B/Resource and games/A/Resource both make PersistentVolumeClaim disk in namespace default: ${OVERWRITES}; give one disk another claimName (the DiskVolume's options), or put them in different namespaces`,
    ]);
  });

  test('needs a reason', () => {
    const chart = new Chart(Testing.app(), 'games');
    const disk = new EmulatorDisk(chart, 'A');
    expect(() => ManifestChecks.skip(disk.claim!, ' ')).toThrow(new Error('games/A/Resource: invalid reason " ": must say why the checks do not apply to this object'));
    expect(() => ManifestChecks.skip({} as ApiObject, 'x')).toThrow(new Error("ManifestChecks.skip: invalid object [object Object]: must be an ApiObject made by one of this library's constructs"));
  });
});

describe('the schema code compiled ahead of time (build/lib/manifest-schemas.js), which synth loads instead of ajv', () => {
  // The compiled package, as synth runs it; jest's globalSetup has built it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const built = require('../../build/lib/manifest-validator') as typeof import('../../lib/manifest-validator');
  const bad = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { app: 'x' } }, serviceName: 'x', replicas: '3', bogus: true,
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i:1', resources: { limits: { memory: '2GB' } } }] } },
    },
  };

  test('holds every kind the library emits, and finds what ajv finds on the whole schema', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const code = require('../../build/lib/manifest-schemas.js') as Record<string, unknown>;
    expect(Object.keys(code).sort()).toEqual([...built.EMITTED_KINDS].sort());
    const ahead = built.validateManifest(bad);
    expect(ahead.map(built.formatFailure)).toEqual([
      'StatefulSet/x: spec.bogus: unknown field "bogus"',
      'StatefulSet/x: spec.replicas: must be integer, not string "3"',
      'StatefulSet/x: spec.template.spec.containers[0].resources.limits.memory: "2GB" is not a quantity: use a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, m, k, M, G, T, P, E or an exponent (e.g. 10Gi, 500m, 1e3)',
    ]);
    expect(ahead).toEqual(new built.ManifestValidator().validate(bad));
  });
});
