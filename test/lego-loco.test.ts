import { App, Chart, Testing, Yaml } from 'cdk8s';
import {
  ContainerImage, EmulatorDiskKind, DiskVolume, EmulatorOptions, LegoLoco, LegoLocoChart, LegoLocoChartProps, SeedSource, SnapshotMethod, StorageMode,
  StorageModeKind,
} from '../lib';
import { FETCH_SCRIPT_FILE, seedScript, shippedScript } from '../lib/disk-seeder';
import { PRE_STOP_SCRIPT_FILE } from '../lib/qemu-stateful-set';
import { envOf, K8sObject, ofKind, only, podSpec, synth } from './helpers/synth';

const emulator: EmulatorOptions = { image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: 9, scheduling: { sharedClaimOnOneNode: true } };
const SNAPSHOT = LegoLoco.SNAPSHOT_IMAGE;
const MODES: [StorageModeKind, () => StorageMode][] = [
  [StorageModeKind.PERSISTENT, () => StorageMode.persistent()],
  [StorageModeKind.HYBRID, () => StorageMode.hybrid()],
  [StorageModeKind.EPHEMERAL, () => StorageMode.ephemeral()],
];

/**
 * The emulator options for a mode: sharedClaimOnOneNode only where the replicas share one claim
 * (an emptyDir or per-replica claims share nothing, and there it is refused).
 */
function emulatorFor(mode: StorageMode): EmulatorOptions {
  const kind = mode._disk?.kind ?? EmulatorDiskKind.CLAIM;
  return [EmulatorDiskKind.CLAIM, EmulatorDiskKind.EXISTING_CLAIM].includes(kind) ? emulator : { ...emulator, scheduling: undefined };
}

/** The objects of a chart and the parts of its emulator pod. */
function parts(chart: Chart) {
  const objects = synth(chart);
  const pod = podSpec(objects);
  return { chart, objects, pod, emulatorContainer: pod.containers[0], seeder: pod.initContainers?.find((c: any) => c.name === 'seed-disk') };
}

/** A LegoLocoChart `loco-<mode>` in a fresh app. */
function chartOf(mode: StorageMode, emulatorProps: Partial<EmulatorOptions> = {}, props: Partial<LegoLocoChartProps> = {}) {
  return parts(new LegoLocoChart(Testing.app(), `loco-${mode.kind}`, { ...props, mode, emulator: { ...emulatorFor(mode), ...emulatorProps } }));
}

/** The emulator's own scripts ConfigMap (pre-stop.sh) and the seeder's (seed-disk.sh and its helpers). */
function scriptConfigMaps(objects: K8sObject[]) {
  const configMaps = ofKind(objects, 'ConfigMap');
  return {
    emulator: configMaps.filter((configMap) => configMap.metadata.name!.startsWith('loco-emulator-scripts-')),
    seeder: configMaps.filter((configMap) => 'seed-disk.sh' in configMap.data),
  };
}

/** The objects with the shipped scripts replaced by a marker, after checking they are verbatim. */
function forSnapshot(objects: K8sObject[]): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  for (const configMap of ofKind(copy, 'ConfigMap')) {
    for (const [file, script] of [['seed-disk.sh', seedScript()], [PRE_STOP_SCRIPT_FILE, shippedScript(PRE_STOP_SCRIPT_FILE)]]) {
      if (!(file in configMap.data)) continue;
      expect(configMap.data[file]).toBe(script);
      configMap.data[file] = `<lib/scripts/${file}>`;
    }
  }
  return copy;
}

describe.each(MODES)('LegoLocoChart in mode %s', (_, mode) => {
  test('matches the recorded manifests', () => {
    expect(forSnapshot(chartOf(mode()).objects)).toMatchSnapshot();
  });

  test('runs the preStop hook from its scripts ConfigMap, mounted read-only at /qemu-scripts', () => {
    const { objects, pod, emulatorContainer } = chartOf(mode());
    const [configMap] = scriptConfigMaps(objects).emulator;
    expect(Object.keys(configMap.data)).toEqual([PRE_STOP_SCRIPT_FILE]);
    expect(emulatorContainer.lifecycle.preStop.exec.command).toEqual(['/bin/sh', '/qemu-scripts/pre-stop.sh']);
    expect(pod.volumes).toContainEqual({ name: 'qemu-scripts', configMap: { name: configMap.metadata.name, defaultMode: 0o555 } });
    expect(emulatorContainer.volumeMounts).toContainEqual({ name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true });
  });
});

describe('mode A, persistent', () => {
  const { objects, pod, emulatorContainer, seeder } = chartOf(StorageMode.persistent());

  test('keeps the disk on a claim', () => {
    expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe('win98-disk');
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
    expect(ofKind(objects, 'PersistentVolume')).toHaveLength(0);
  });

  test('seeds it from the built-in image only, which is required: the failure hint names check-image', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(envOf(seeder).SEED_SOURCES).toBe('builtin');
    expect(envOf(seeder).SEED_HINT).toContain("check it with 'npx cdk8s-qemu-loco check-image qemu-loco:v1'");
    expect(seeder.image).toBe('qemu-loco:v1');
  });

  test('tells the entrypoint not to download', () => {
    const env = envOf(emulatorContainer);
    expect(env.USE_PREBUILT_SNAPSHOT).toBe('false');
    expect(env.DISK).toBe('/images/win98.qcow2');
    expect(env).not.toHaveProperty('SNAPSHOT_REGISTRY');
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
  });

  test('a built-in source given without `required` is still required; one given required: false is not', () => {
    const given = chartOf(StorageMode.persistent({ seeder: { sources: [SeedSource.builtin({ path: '/opt/win98.qcow2' })] } })).seeder;
    expect(envOf(given)).toMatchObject({ SEED_BUILTIN_PATH: '/opt/win98.qcow2', SEED_HINT: expect.stringContaining('check-image') });
    const optional = chartOf(StorageMode.persistent({ seeder: { sources: [SeedSource.builtin({ required: false })] } })).seeder;
    expect(envOf(optional).SEED_HINT).not.toContain('check-image');
  });

  test('refuses a source list without the built-in image', () => {
    expect(() => chartOf(StorageMode.persistent({ seeder: { sources: [SeedSource.snapshot(SNAPSHOT)] } }))).toThrow(new Error(
      'loco-persistent/Resource: invalid mode.seeder.sources ["snapshot"]: mode persistent seeds from the image built into the emulator image and must include SeedSource.builtin(); use StorageMode.hybrid() to seed from the snapshot'));
  });
});

describe('mode B, hybrid', () => {
  const { objects, pod, emulatorContainer, seeder } = chartOf(StorageMode.hybrid());

  test('keeps the disk on a claim', () => {
    expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe('win98-disk');
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
  });

  test('seeds permissively: the snapshot first, the built-in image as a fallback that is not required', () => {
    const env = envOf(seeder);
    expect(env.SEED_SOURCES).toBe('snapshot builtin');
    expect(env.SEED_SNAPSHOT_REF).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(env.SEED_HINT).not.toContain('check-image');
    expect(env.SEED_HINT).toContain('imagePullSecrets');
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
    const { seeder: reordered } = chartOf(StorageMode.hybrid({ seeder: { sources: [SeedSource.builtin(), SeedSource.snapshot(SNAPSHOT)] } }));
    expect(envOf(reordered).SEED_SOURCES).toBe('builtin snapshot');
  });

  test('has the entrypoint overlay the seeded disk, and names the snapshot for information', () => {
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      DISK: '/images/win98.qcow2',
    });
  });

  test('names the snapshot of its own sources to the entrypoint', () => {
    const own = ContainerImage.fromReference('registry.example.com/loco/snapshots:v2');
    const { emulatorContainer: container } = chartOf(StorageMode.hybrid({ seeder: { sources: [SeedSource.snapshot(own)] } }));
    expect(envOf(container)).toMatchObject({ SNAPSHOT_REGISTRY: 'registry.example.com/loco/snapshots', SNAPSHOT_TAG: 'v2' });
  });

  test('refuses a source list without the snapshot', () => {
    expect(() => chartOf(StorageMode.hybrid({ seeder: { sources: [SeedSource.builtin()] } }))).toThrow(new Error(
      'loco-hybrid/Resource: invalid mode.seeder.sources ["builtin"]: mode hybrid seeds from the cloud snapshot and must include SeedSource.snapshot(image); use StorageMode.persistent() to seed from the built-in image alone'));
  });
});

describe('mode C, ephemeral', () => {
  const { objects, pod, emulatorContainer } = chartOf(StorageMode.ephemeral());

  test('uses a size-limited emptyDir and creates no claim', () => {
    expect(ofKind(objects, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(pod.volumes).toContainEqual({ name: 'disk', emptyDir: { sizeLimit: '20Gi' } });
  });

  test('has no seeder: the entrypoint downloads the snapshot', () => {
    expect(pod).not.toHaveProperty('initContainers');
    expect(scriptConfigMaps(objects).seeder).toHaveLength(0);
    expect(ofKind(objects, 'ConfigMap')).toEqual(scriptConfigMaps(objects).emulator);
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'true',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      SNAPSHOT_MODE: 'ephemeral',
    });
  });

  test('needs no single-node acknowledgement for many replicas', () => {
    const chart = new LegoLocoChart(Testing.app(), 'c', { mode: StorageMode.ephemeral(), emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: 9 } });
    expect(only(synth(chart), 'StatefulSet').spec.replicas).toBe(9);
  });

  test('takes its emptyDir options', () => {
    const { pod: tuned } = chartOf(StorageMode.ephemeral({ emptyDir: { sizeLimit: '6Gi' } }));
    expect(tuned.volumes).toContainEqual({ name: 'disk', emptyDir: { sizeLimit: '6Gi' } });
  });

  test('refuses a snapshot pinned by digest alone without a seeder: the entrypoint downloads registry:tag', () => {
    const digestOnly = ContainerImage.fromDigest('ghcr.io/mroie/qemu-snapshots', `sha256:${'d'.repeat(64)}`);
    expect(() => chartOf(StorageMode.ephemeral({ snapshotImage: digestOnly }))).toThrow(new Error(
      `loco-ephemeral/Resource: invalid mode.snapshotImage "ghcr.io/mroie/qemu-snapshots@sha256:${'d'.repeat(64)}": the emulator's entrypoint downloads registry:tag and cannot pull by digest alone: give a tag (repository:tag@sha256:... pins it too), or give the mode a seeder, which pulls by digest`));
  });
});

test('the hostPath PersistentVolume appears only when asked for', () => {
  const withPv = chartOf(StorageMode.persistent({ volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) }));
  expect(ofKind(withPv.objects, 'PersistentVolume')).toHaveLength(1);
  for (const [, mode] of MODES) {
    expect(ofKind(chartOf(mode()).objects, 'PersistentVolume')).toHaveLength(0);
  }
});

describe('mode C with a seeder', () => {
  const { objects, pod, emulatorContainer, seeder } = chartOf(StorageMode.ephemeral({ seeder: {} }));

  test('seeds the emptyDir from the snapshot by kubelet pull before the emulator starts', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-tools', 'seed-snapshot', 'seed-disk']);
    expect(envOf(seeder).SEED_SOURCES).toBe('snapshot');
    expect(envOf(seeder).SEED_SNAPSHOT_METHOD).toBe('kubelet-pull');
    expect(pod.initContainers[1].image).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(pod.volumes).toContainEqual({ name: 'disk', emptyDir: { sizeLimit: '20Gi' } });
    expect(scriptConfigMaps(objects).seeder).toHaveLength(1);
  });

  test('has the entrypoint overlay the seeded disk instead of downloading it again', () => {
    expect(envOf(emulatorContainer)).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false',
      DISK: '/images/win98.qcow2',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
    });
  });

  test('by the registry client: the seeder pulls the snapshot itself, in one init container', () => {
    const registry = chartOf(StorageMode.ephemeral({ seeder: { method: SnapshotMethod.registryClient() } }));
    expect(registry.pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(envOf(registry.seeder)).toMatchObject({
      SEED_SOURCES: 'snapshot',
      SEED_SNAPSHOT_METHOD: 'registry-client',
      SEED_SNAPSHOT_REF: 'ghcr.io/mroie/qemu-snapshots:win98-base',
    });
    const [configMap] = scriptConfigMaps(registry.objects).seeder;
    expect(configMap.data[FETCH_SCRIPT_FILE]).toBe(shippedScript(FETCH_SCRIPT_FILE));
    expect(registry.pod.volumes.map((volume: any) => volume.name)).not.toContain('seed-tools');
    expect(envOf(registry.emulatorContainer).USE_PREBUILT_SNAPSHOT).toBe('false');
  });

  test('takes its own snapshot path and seeding options', () => {
    const tuned = chartOf(StorageMode.ephemeral({ seeder: { snapshotPath: '/disk/win98.qcow2', expectedSha256: 'ab'.repeat(32) } }));
    expect(tuned.pod.initContainers[1].command.slice(-1)).toEqual(['/disk/win98.qcow2']);
    expect(envOf(tuned.seeder).SEED_SHA256).toBe('ab'.repeat(32));
  });

  test('a snapshot pinned by digest alone sets no SNAPSHOT_TAG (never a digest)', () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const { emulatorContainer: container, seeder: digestSeeder } = chartOf(StorageMode.ephemeral({
      snapshotImage: ContainerImage.fromDigest('ghcr.io/mroie/qemu-snapshots', digest), seeder: {},
    }));
    const env = envOf(container);
    expect(env).toMatchObject({ USE_PREBUILT_SNAPSHOT: 'false', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots' });
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
    expect(envOf(digestSeeder).SEED_SNAPSHOT_REF).toBe(`ghcr.io/mroie/qemu-snapshots@${digest}`);
  });

  test('the tools image of the kubelet-pull method is settable, for air-gapped registries', () => {
    const toolsImage = ContainerImage.fromReference('registry.example.com/mirror/busybox:1.35');
    const { pod: mirrored } = chartOf(StorageMode.ephemeral({ seeder: { method: SnapshotMethod.kubeletPull({ toolsImage }) } }));
    expect(mirrored.initContainers[0]).toMatchObject({ name: 'seed-tools', image: 'registry.example.com/mirror/busybox:1.35' });
    const { pod: hybrid } = chartOf(StorageMode.hybrid({
      seeder: { sources: [SeedSource.snapshot(SNAPSHOT, { method: SnapshotMethod.kubeletPull({ toolsImage }) }), SeedSource.builtin()] },
    }));
    expect(hybrid.initContainers[0].image).toBe('registry.example.com/mirror/busybox:1.35');
  });
});

test('the seeding Job of a shared base pulls with the emulator image pull secrets', () => {
  const { objects } = chartOf(StorageMode.persistent({ volume: DiskVolume.sharedBase() }), { imagePullSecrets: ['ghcr-secret'] });
  expect(only(objects, 'Job').spec.template.spec.imagePullSecrets).toEqual([{ name: 'ghcr-secret' }]);
});

describe('LegoLoco in a chart of your own', () => {
  /** A user's chart with a namespace and labels, holding the installation. */
  function userChart(app: App, id: string, namespace: string, build: (chart: Chart) => void) {
    const chart = new Chart(app, id, { namespace, labels: { 'team': 'retro', 'example.com/cost-center': 'games' } });
    build(chart);
    return synth(chart);
  }

  test.each(MODES)('in mode %s, every object takes the chart\'s namespace and labels, and the app.kubernetes.io labels with the construct\'s id', (_, mode) => {
    const objects = userChart(Testing.app(), 'platform', 'games', (chart) => new LegoLoco(chart, 'lab', { mode: mode(), emulator: emulatorFor(mode()) }));
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const object of objects) {
      expect({ object: `${object.kind}/${object.metadata.name}`, namespace: object.metadata.namespace, labels: object.metadata.labels }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        namespace: 'games',
        labels: expect.objectContaining({
          'team': 'retro',
          'example.com/cost-center': 'games',
          'app.kubernetes.io/name': 'lego-loco-emulator',
          'app.kubernetes.io/part-of': 'lego-loco-cluster',
          'app.kubernetes.io/managed-by': 'cdk8s',
          'app.kubernetes.io/instance': 'lab',
          'app.kubernetes.io/component': expect.stringMatching(/^(emulator|disk|disk-seeder)$/),
        }),
      });
    }
  });

  test('two installations with different names in two charts keep to their own chart, namespace and instance', () => {
    const app = Testing.app();
    const lab = userChart(app, 'lab-chart', 'games', (chart) => new LegoLoco(chart, 'lab', { mode: StorageMode.hybrid(), emulator: { ...emulator, name: 'lab' } }));
    const demo = userChart(app, 'demo-chart', 'arcade', (chart) => new LegoLoco(chart, 'demo', {
      mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ claimName: 'demo-disk' }) }), emulator: { ...emulator, name: 'demo' },
    }));
    for (const [objects, namespace, instance, name] of [[lab, 'games', 'lab', 'lab'], [demo, 'arcade', 'demo', 'demo']] as const) {
      expect(new Set(objects.map((object) => object.metadata.namespace))).toEqual(new Set([namespace]));
      expect(new Set(objects.map((object) => object.metadata.labels['app.kubernetes.io/instance']))).toEqual(new Set([instance]));
      expect(only(objects, 'StatefulSet').metadata.name).toBe(name);
      expect(only(objects, 'StatefulSet').spec.selector.matchLabels.app).toBe(name);
    }
    const names = (objects: K8sObject[]) => objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(names(lab).filter((name) => names(demo).includes(name))).toEqual([]);
    expect(only(demo, 'PersistentVolumeClaim').metadata.name).toBe('demo-disk');
    expect(envOf(podSpec(lab).containers[0]).SOCKET_MASTER_HOST).toBe('lab-0.lab');
  });

  test.each(MODES)('in mode %s, LegoLocoChart writes the same YAML as a chart holding LegoLoco with id Resource', (_, mode) => {
    const chart = new LegoLocoChart(Testing.app(), 'loco', { mode: mode(), emulator: emulatorFor(mode()), namespace: 'games', labels: { team: 'retro' } });
    const plain = new Chart(Testing.app(), 'loco', { namespace: 'games', labels: { team: 'retro' } });
    new LegoLoco(plain, 'Resource', { mode: mode(), emulator: emulatorFor(mode()) });
    expect(Yaml.stringify(...synth(chart))).toBe(Yaml.stringify(...synth(plain)));
    expect(only(synth(chart), 'StatefulSet').metadata.labels['app.kubernetes.io/instance']).toBe('loco');
  });
});

describe('metadata', () => {
  const metadata = { labels: { 'team': 'retro', 'example.com/tier': 'play' }, annotations: { 'example.com/owner': 'games@example.com' } };
  const hasMetadata = (objects: K8sObject[]) => {
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const object of objects) {
      expect({ object: `${object.kind}/${object.metadata.name}`, labels: object.metadata.labels, annotations: object.metadata.annotations }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        labels: expect.objectContaining({ ...metadata.labels, 'app.kubernetes.io/instance': expect.any(String) }),
        annotations: expect.objectContaining(metadata.annotations),
      });
    }
  };

  test.each(MODES)('on LegoLoco in mode %s lands on every object', (_, mode) => {
    const chart = new Chart(Testing.app(), 'platform');
    new LegoLoco(chart, 'lab', { mode: mode(), emulator: emulatorFor(mode()), metadata });
    hasMetadata(synth(chart));
  });

  test.each(MODES)('on LegoLocoChart in mode %s lands on every object, a shared base\'s seeding Job and hostPath volume too', (_, mode) => {
    hasMetadata(chartOf(mode(), {}, { metadata }).objects);
    const disk = mode().kind === StorageModeKind.EPHEMERAL ? undefined : DiskVolume.sharedBase({ hostPathVolume: { acknowledgeNodeLocal: true } });
    if (disk === undefined) return;
    const { objects } = chartOf(mode().kind === StorageModeKind.PERSISTENT ? StorageMode.persistent({ volume: disk }) : StorageMode.hybrid({ volume: disk }), {}, { metadata });
    expect(ofKind(objects, 'Job')).toHaveLength(1);
    expect(ofKind(objects, 'PersistentVolume')).toHaveLength(1);
    hasMetadata(objects);
  });

  test('refuses a name or a namespace, which are the constructs\' and the chart\'s', () => {
    expect(() => chartOf(StorageMode.ephemeral(), {}, { metadata: { namespace: 'other' } })).toThrow(new Error(
      'loco-ephemeral/Resource: invalid metadata.namespace "other": is not taken here: metadata gives labels and annotations; names are the construct\'s own props, the namespace is the chart\'s'));
  });
});

describe('from JavaScript, without the types', () => {
  const app = () => Testing.app();
  const MODE_REQUIRED = 'is required: StorageMode.persistent(), StorageMode.hybrid() or StorageMode.ephemeral()';
  const EMULATOR_REQUIRED = "is required: the emulator's settings, at least { image: ContainerImage.fromTag(repository, tag) }";

  test.each([
    ['LegoLocoChart without props', () => new LegoLocoChart(app(), 'loco', undefined as any), 'loco/Resource: invalid props (not set): are required: { mode, emulator }'],
    ['LegoLocoChart with props {}', () => new LegoLocoChart(app(), 'loco', {} as any), `loco/Resource: invalid mode (not set): ${MODE_REQUIRED}`],
    ['LegoLocoChart with props null', () => new LegoLocoChart(app(), 'loco', null as any), 'loco/Resource: invalid props null: are required: { mode, emulator }'],
    ['LegoLocoChart with mode null', () => new LegoLocoChart(app(), 'loco', { mode: null, emulator } as any), `loco/Resource: invalid mode null: ${MODE_REQUIRED}`],
    ['LegoLocoChart with a mode name', () => new LegoLocoChart(app(), 'loco', { mode: 'hybrid', emulator } as any), `loco/Resource: invalid mode "hybrid": ${MODE_REQUIRED}`],
    ['LegoLocoChart without emulator', () => new LegoLocoChart(app(), 'loco', { mode: StorageMode.hybrid() } as any), `loco/Resource: invalid emulator (not set): ${EMULATOR_REQUIRED}`],
    ['LegoLocoChart with emulator null', () => new LegoLocoChart(app(), 'loco', { mode: StorageMode.hybrid(), emulator: null } as any), `loco/Resource: invalid emulator null: ${EMULATOR_REQUIRED}`],
    ['LegoLoco with props {}', () => new LegoLoco(new Chart(app(), 'platform'), 'lab', {} as any), `platform/lab: invalid mode (not set): ${MODE_REQUIRED}`],
    ['LegoLoco with props null', () => new LegoLoco(new Chart(app(), 'platform'), 'lab', null as any), 'platform/lab: invalid props null: are required: { mode, emulator }'],
    ['LegoLoco with emulator null', () => new LegoLoco(new Chart(app(), 'platform'), 'lab', { mode: StorageMode.ephemeral(), emulator: null } as any),
      `platform/lab: invalid emulator null: ${EMULATOR_REQUIRED}`],
    ['a disk that is not a DiskVolume', () => chartOf(StorageMode.persistent({ volume: { claimName: 'win98-disk' } as any })),
      'loco-persistent/Resource: invalid mode.volume {"claimName":"win98-disk"}: must be a DiskVolume: DiskVolume.newClaim(), existingClaim(name), claimPerReplica(), sharedBase() or goldenClone(source)'],
    ['an image pull policy in lower case', () => chartOf(StorageMode.hybrid(), { image: ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: 'always' as any }) }),
      'loco-hybrid/Resource: invalid emulator.image pullPolicy "always": must be one of Always, IfNotPresent, Never'],
    ['an unknown snapshot mode', () => chartOf(StorageMode.ephemeral(), { overlays: { snapshotMode: 'sometimes' as any } }),
      "loco-ephemeral/Resource/Resource: invalid overlays.snapshotMode \"sometimes\": must be 'persistent' or 'ephemeral'"],
  ] as [string, () => void, string][])('%s: the invalidProp message, not a TypeError', (_, build, expected) => {
    expect(build).toThrow(new Error(expected));
  });
});
