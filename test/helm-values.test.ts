import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { parseDocument } from 'yaml';
import { DeviceSource, LegoLocoChart, StorageModeKind } from '../lib';
import { HelmValues, HelmValuesError, mergeHelmValues, parseHelmValues, propsFromHelmValues } from '../lib/tools';
import { envOf, K8sObject, only } from './helpers/synth';

// The chart's own value files (copied unchanged from helm/loco-chart of MRoie/lego-loco-cluster).
const FIXTURES = join(__dirname, 'fixtures', 'loco-chart-values');
const text = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');
const parsed = (file: string) => parseHelmValues(text(file), file).values;

/** The migration of a values file, given as Helm reads it. */
const migrate = (file: string) => propsFromHelmValues(text(file), { source: file });

/** The objects the migrated props synthesize to. */
function synthesize(chartProps: ReturnType<typeof migrate>['chartProps']): K8sObject[] {
  return Testing.synth(new LegoLocoChart(Testing.app(), 'migrated', chartProps)) as K8sObject[];
}

function emulatorContainer(objects: K8sObject[]): any {
  return only(objects, 'StatefulSet').spec.template.spec.containers.find((c: any) => c.name === 'emulator');
}

describe('reading values.yaml the way Helm does', () => {
  test('a strict YAML parser refuses the chart\'s values.yaml (it repeats keys)', () => {
    expect(parseDocument(text('values.yaml')).errors[0].message).toMatch(/Map keys must be unique/);
  });

  test('every repeated key path is named once, with its lines and the value that wins', () => {
    const result = parseHelmValues(text('values.yaml'), 'values.yaml');
    expect(result.duplicateKeys).toEqual([
      'emulator.diskPVC', 'emulator.diskReadOnly', 'emulator.usePrebuiltSnapshot', 'emulator.snapshotRegistry',
      'emulator.snapshotTag', 'rbac', 'ingress',
    ]);
    expect(result.warnings).toContain(
      'values.yaml: key emulator.diskPVC appears 2 times (lines 88, 130); as Helm does, the last one wins: "win98-disk"');
    expect(result.warnings.find((w) => w.includes('key ingress'))).toMatch(/lines 56, 261/);
  });

  test('the last occurrence wins, and a repeated mapping replaces the earlier one whole', () => {
    const { values, duplicateKeys } = parseHelmValues('a:\n  x: 1\n  y: 2\nb: first\na:\n  x: 3\nb: second\n');
    expect(values).toEqual({ a: { x: 3 }, b: 'second' });
    expect(duplicateKeys).toEqual(['a', 'b']);
  });

  test('files without repeated keys get no warning', () => {
    for (const file of ['values-minikube.yaml', 'values-kind-benchmark.yaml', 'values-private-registry.yaml']) {
      expect(parseHelmValues(text(file), file).warnings).toEqual([]);
    }
  });

  test('YAML 1.1 scalars, as Helm reads them', () => {
    expect(parseHelmValues('a: yes\nb: off\nc: "yes"\n').values).toEqual({ a: true, b: false, c: 'yes' });
  });

  test('broken YAML is a one-line error naming the file and line', () => {
    expect(() => parseHelmValues('a: [1, 2\nb: c\n', 'broken.yaml')).toThrow(HelmValuesError);
    expect(() => parseHelmValues('a: [1, 2\nb: c\n', 'broken.yaml')).toThrow(/^broken\.yaml:\d+: not valid YAML: /);
    expect(() => parseHelmValues('- a\n- b\n', 'list.yaml')).toThrow('list.yaml: a values file must be a mapping of keys to values, not a list');
  });
});

describe('mergeHelmValues (helm -f base -f overlay)', () => {
  test('mappings merge key by key, lists and scalars replace, null deletes', () => {
    const base = { emulator: { image: 'a', env: { A: '1', B: '2' }, tolerations: [{ key: 'x' }] }, replicas: 2 };
    const overlay = { emulator: { env: { B: '3', C: '4' }, tolerations: [], image: null }, replicas: 9 };
    expect(mergeHelmValues(base, overlay as unknown as HelmValues)).toEqual({
      emulator: { env: { A: '1', B: '3', C: '4' }, tolerations: [] },
      replicas: 9,
    });
    expect(base.emulator.env).toEqual({ A: '1', B: '2' }); // inputs untouched
  });
});

/** What each of the twelve files maps to on its own. */
const EXPECTED: { [file: string]: {
  mode: StorageModeKind; replicas: number; image: string; claim?: string; size?: string; storageClass?: string;
  pullPolicy: string; env: { [name: string]: string }; secrets?: string[];
} } = {
  'values.yaml': {
    mode: StorageModeKind.PERSISTENT, replicas: 2, image: 'qemu-loco-softgpu:v28-qemu3dfx', claim: 'win98-disk', size: '10Gi',
    storageClass: 'standard', pullPolicy: 'Never', env: { CDROM_MODE: 'qemu3dfx', NETWORK_MODE: 'socket', SOCKET_PORT: '4444', QEMU_3DFX_VGA: 'vmware' },
  },
  'values-bootable-clean.yaml': {
    mode: StorageModeKind.PERSISTENT, replicas: 1, image: 'qemu-bootable:latest', claim: 'bootable-disk', pullPolicy: 'Never',
    env: { CREATE_BOOTABLE_DISK: 'true', DISK_SIZE: '2G' },
  },
  'values-bootable.yaml': {
    mode: StorageModeKind.PERSISTENT, replicas: 1, image: 'qemu-bootable:latest', claim: 'bootable-disk', pullPolicy: 'Never',
    env: { CREATE_BOOTABLE_DISK: 'true', DISK_SIZE: '2G' },
  },
  'values-clean.yaml': {
    mode: StorageModeKind.HYBRID, replicas: 1, image: 'ghcr.io/mroie/qemu-loco:latest', claim: 'win98-disk', pullPolicy: 'IfNotPresent', env: {},
  },
  'values-dd-single.yaml': {
    mode: StorageModeKind.EPHEMERAL, replicas: 1, image: 'lego-loco-emulator:lan-test-flat', pullPolicy: 'Never',
    env: { CDROM_MODE: 'softgpu', QEMU_RENDER_BACKEND: 'vmware', WORKGROUP: 'LOCOLAND' },
  },
  'values-kind-benchmark.yaml': {
    mode: StorageModeKind.EPHEMERAL, replicas: 9, image: 'qemu-loco:latest', pullPolicy: 'Never',
    env: { NETWORK_MODE: 'socket', SOCKET_PORT: '4444', MCAST_GROUP: '230.0.0.1', TAP_IF: 'tap0' },
  },
  'values-lan-test.yaml': {
    mode: StorageModeKind.EPHEMERAL, replicas: 2, image: 'lego-loco-emulator:lan-test-flat', pullPolicy: 'Never',
    env: { CDROM_MODE: 'softgpu', QEMU_TCG_OPTS: 'thread=multi,tb-size=1024' },
  },
  'values-minikube-hostpath.yaml': {
    mode: StorageModeKind.PERSISTENT, replicas: 1, image: 'qemu-loco:latest', claim: 'win98-disk', size: '10Gi', storageClass: 'standard',
    pullPolicy: 'Never', env: { BRIDGE: 'loco-br', TAP_IF: 'tap0', DISPLAY_NUM: '99' },
  },
  'values-minikube-hybrid.yaml': {
    mode: StorageModeKind.HYBRID, replicas: 1, image: 'compose-emulator-0:latest', claim: 'win98-disk', size: '10Gi', storageClass: 'standard',
    pullPolicy: 'Never', env: { BRIDGE: 'loco-br', TAP_IF: 'tap0', DISPLAY_NUM: '99' },
  },
  'values-minikube.yaml': {
    mode: StorageModeKind.HYBRID, replicas: 1, image: 'qemu-softgpu:latest', claim: 'win98-disk', size: '10Gi', storageClass: 'standard',
    pullPolicy: 'Never', env: { BRIDGE: 'loco-br', TAP_IF: 'tap0', DISPLAY_NUM: '99' },
  },
  'values-private-registry-kind.yaml': {
    mode: StorageModeKind.EPHEMERAL, replicas: 1, image: 'qemu-loco:latest', pullPolicy: 'Always', secrets: ['ghcr-secret'],
    env: { DISK_SIZE: '2G', DISABLE_TAP: 'true', NETWORK_MODE: 'user' },
  },
  'values-private-registry.yaml': {
    mode: StorageModeKind.EPHEMERAL, replicas: 1, image: 'qemu-loco:latest', pullPolicy: 'Always', secrets: ['ghcr-secret', 'jfrog-secret'],
    env: { DISK_SIZE: '2G' },
  },
};

describe.each(Object.keys(EXPECTED))('%s on its own', (file) => {
  const expected = EXPECTED[file];
  const migration = migrate(file);
  const objects = synthesize(migration.chartProps);
  const statefulSet = only(objects, 'StatefulSet');
  const container = emulatorContainer(objects);
  const env = envOf(container);

  test(`maps to mode ${expected.mode}`, () => {
    expect(migration.mode).toBe(expected.mode);
    expect(migration.chartProps.mode.kind).toBe(expected.mode);
    // Only mode C without a seeder has the entrypoint download; A and B overlay the seeded disk.
    expect(env.USE_PREBUILT_SNAPSHOT).toBe(expected.mode === StorageModeKind.EPHEMERAL ? 'true' : 'false');
    expect(migration.warnings.some((warning) => warning.startsWith('emulator.usePrebuiltSnapshot true with a diskPVC:')))
      .toBe(expected.mode === StorageModeKind.HYBRID);
  });

  test('keeps replicas, image:tag, pull policy and pull secrets', () => {
    expect(statefulSet.spec.replicas).toBe(expected.replicas);
    expect(container.image).toBe(expected.image);
    expect(container.imagePullPolicy).toBe(expected.pullPolicy);
    expect((statefulSet.spec.template.spec.imagePullSecrets ?? []).map((s: any) => s.name)).toEqual(expected.secrets ?? []);
  });

  test('keeps the disk: the claim, its size and class, or an emptyDir', () => {
    const disk = statefulSet.spec.template.spec.volumes.find((v: any) => v.name === 'disk');
    if (expected.claim) {
      expect(disk.persistentVolumeClaim.claimName).toBe(expected.claim);
      const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === expected.claim)!;
      expect(claim.spec.resources.requests.storage).toBe(expected.size ?? '10Gi');
      expect(claim.spec.storageClassName).toBe(expected.storageClass);
    } else {
      expect(disk.emptyDir).toBeDefined();
      expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    }
  });

  test('keeps the free-form env and sets each typed variable once, from the construct', () => {
    expect(env).toMatchObject(expected.env);
    const names = container.env.map((e: any) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(env.DISK).toBe('/images/win98.qcow2');
    expect(env.SOCKET_MASTER_HOST).toMatch(/^loco-emulator-0\.loco-emulator$/);
  });

  test('reports the latest tag, and what it does not migrate', () => {
    expect(migration.chartProps.emulator.image.reference).toBe(expected.image);
    expect(migration.typescript.includes('allowLatestTag: true')).toBe(expected.image.endsWith(':latest'));
    if (expected.image.endsWith(':latest')) {
      expect(migration.warnings.some((w) => w.startsWith("emulator.tag is 'latest'"))).toBe(true);
    }
    const notMigrated = migration.warnings.filter((w) => w.startsWith('not migrated (not part of this library): '));
    expect(notMigrated).toHaveLength(migration.notMigrated.length > 0 ? 1 : 0);
    for (const key of migration.notMigrated) expect(notMigrated[0]).toContain(key);
  });
});

describe('key fields of particular files', () => {
  test('values.yaml: two replicas on one ReadWriteOnce claim are kept on one node, with a warning', () => {
    const migration = migrate('values.yaml');
    expect(migration.chartProps.emulator.scheduling?.sharedClaimOnOneNode).toBe(true);
    expect(migration.warnings).toContainEqual(expect.stringMatching(/^2 replicas share the ReadWriteOnce claim 'win98-disk'.*sharedClaimOnOneNode: true/));
    const affinity = only(synthesize(migration.chartProps), 'StatefulSet').spec.template.spec.affinity;
    expect(affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
  });

  test('values.yaml: probes, resources, ports and snapshot settings', () => {
    const { chartProps } = migrate('values.yaml');
    const container = emulatorContainer(synthesize(chartProps));
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/health', port: 8080 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/' }, initialDelaySeconds: 60, periodSeconds: 15, failureThreshold: 3 });
    expect(container.resources).toEqual({ limits: { cpu: '4', memory: '2Gi' }, requests: { cpu: '1', memory: '1Gi' } });
    expect(envOf(container)).toMatchObject({ SNAPSHOT_DIR: '/images/snapshots', SNAPSHOT_MODE: 'persistent', SNAPSHOT_RESET: 'false' });
    expect(container.ports.map((p: any) => p.containerPort)).toEqual(expect.arrayContaining([5901, 8080]));
  });

  test('values.yaml: the keys it does not know are reported, not dropped silently', () => {
    const migration = migrate('values.yaml');
    expect(migration.unknownKeys).toEqual(['emulator.snapshotBranch', 'emulator.qemuLoadVm']);
    expect(migration.warnings).toContain('not understood, so not migrated: emulator.snapshotBranch, emulator.qemuLoadVm; ' +
      'if they matter, set their equivalent by hand (for example as env entries)');
    // Top-level sections in file order (a repeated key keeps its first place), then the storage keys.
    expect(migration.notMigrated).toEqual(['rbac', 'ingress', 'registryConfig', 'backend', 'frontend', 'git', 'artRes', 'vr', 'vnc',
      'networkPolicy', 'monitoring', 'stunner', 'nfs', 'storage.nfsSize', 'storage.strategy']);
  });

  test('values.yaml: typed env entries are dropped, each with the reason', () => {
    const { warnings, chartProps } = migrate('values.yaml');
    expect(chartProps.emulator.env).not.toHaveProperty('DISK');
    expect(chartProps.emulator.env).not.toHaveProperty('SOCKET_MASTER_HOST');
    expect(chartProps.emulator.env).not.toHaveProperty('USE_PREBUILT_SNAPSHOT');
    expect(warnings).toContain('emulator.env.SOCKET_MASTER_HOST "" dropped: auto-computed: the construct sets ' +
      'SOCKET_MASTER_HOST=loco-emulator-0.loco-emulator, ordinal 0 through the headless Service, which every instance must agree on');
    expect(warnings).toContain('emulator.env.DISK "/images/win98.qcow2" dropped: the disk image\'s path is the seeder\'s; ' +
      'the construct sets DISK=/images/win98.qcow2 (the same value)');
    expect(warnings).toContain('emulator.env.USE_PREBUILT_SNAPSHOT "false" dropped: it follows the storage mode; ' +
      'the construct sets USE_PREBUILT_SNAPSHOT=false (the same value)');
  });

  test('values-minikube-hybrid.yaml: the chart\'s doubled snapshot env is dropped in favour of the typed settings', () => {
    const { warnings, chartProps, typescript } = migrate('values-minikube-hybrid.yaml');
    // The default snapshot, ghcr.io/mroie/qemu-snapshots:win98-base: the mode's default sources.
    expect(typescript).toContain('  mode: StorageMode.hybrid({\n    volume: DiskVolume.newClaim(');
    expect(typescript).not.toContain('SeedSource');
    const env = envOf(emulatorContainer(synthesize(chartProps)));
    expect(env).toMatchObject({ SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots', SNAPSHOT_TAG: 'win98-base' });
    expect(warnings).toContainEqual(expect.stringMatching(/^emulator\.env\.SNAPSHOT_TAG "win98-base" dropped: the chart's own SNAPSHOT_TAG from emulator\.snapshotTag came after it and won/));
  });

  test('values-dd-single.yaml: probes and resources as written', () => {
    const container = emulatorContainer(synthesize(migrate('values-dd-single.yaml').chartProps));
    expect(container.startupProbe).toMatchObject({ timeoutSeconds: 15, failureThreshold: 60 });
    expect(container.livenessProbe).toMatchObject({ periodSeconds: 20, timeoutSeconds: 30, failureThreshold: 10 });
    expect(container.readinessProbe).toMatchObject({ periodSeconds: 15, timeoutSeconds: 15, failureThreshold: 10 });
    expect(container.resources).toEqual({ limits: { cpu: '3', memory: '2Gi' }, requests: { cpu: '0.5', memory: '1Gi' } });
  });

  test('values-kind-benchmark.yaml: ports, /health probes, and the ignored emulator.replicas', () => {
    const migration = migrate('values-kind-benchmark.yaml');
    const container = emulatorContainer(synthesize(migration.chartProps));
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/health' }, initialDelaySeconds: 120, failureThreshold: 5 });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/health' }, initialDelaySeconds: 45 });
    expect(container.resources).toEqual({ limits: { cpu: '800m', memory: '768Mi' }, requests: { cpu: '200m', memory: '384Mi' } });
    expect(migration.warnings).toContain('emulator.replicas (9) is not read by the chart, which takes the top-level replicas (9); ignored');
  });

  test('what the chart ran privileged and without a disk size limit is said as the construct builds it', () => {
    const { warnings } = migrate('values-dd-single.yaml');
    expect(warnings).toContainEqual(expect.stringMatching(
      /^the chart ran the emulator privileged with NET_ADMIN and SYS_ADMIN; here it runs unprivileged with NET_ADMIN[,A-Z_ ]* \(all other capabilities dropped\)/));
    expect(warnings).toContain("the chart's emptyDir disk had no size limit; this one has a 20Gi sizeLimit, past which the kubelet evicts the pod " +
      '(set mode: StorageMode.ephemeral({ emptyDir: { sizeLimit } }) to change it)');
    expect(migrate('values.yaml').warnings.filter((w) => w.includes('emptyDir disk had no size limit'))).toEqual([]);
  });

  test('an emptyDir with usePrebuiltSnapshot false changes meaning: said in a warning', () => {
    expect(migrate('values-lan-test.yaml').warnings).toContainEqual(expect.stringMatching(
      /^emulator\.diskPVC is empty and usePrebuiltSnapshot false: .*Mode ephemeral has the entrypoint download the snapshot/));
  });

  test('values-minikube-hostpath.yaml: a request without memory stays without memory', () => {
    const container = emulatorContainer(synthesize(migrate('values-minikube-hostpath.yaml').chartProps));
    expect(container.resources).toEqual({ limits: { cpu: '1' }, requests: { cpu: '0.25' } });
  });

  test('values-private-registry-kind.yaml: persistence is not a key of the chart: reported', () => {
    const migration = migrate('values-private-registry-kind.yaml');
    expect(migration.unknownKeys).toEqual(['persistence']);
    expect(migration.notMigrated).toEqual(['registryConfig', 'backend', 'frontend']);
    expect(migration.warnings[0]).toMatch(/^emulator\.diskPVC is not set, so the disk is an emptyDir \(mode ephemeral\)\. If this file is an overlay/);
  });
});

describe('overlays merged over values.yaml, as helm -f values.yaml -f overlay.yaml deploys them', () => {
  const base = parsed('values.yaml');
  const MERGED: { [file: string]: { mode: StorageModeKind; replicas: number } } = {
    'values-bootable-clean.yaml': { mode: StorageModeKind.PERSISTENT, replicas: 1 },
    'values-bootable.yaml': { mode: StorageModeKind.PERSISTENT, replicas: 1 },
    'values-clean.yaml': { mode: StorageModeKind.HYBRID, replicas: 1 },
    'values-dd-single.yaml': { mode: StorageModeKind.EPHEMERAL, replicas: 1 },
    'values-kind-benchmark.yaml': { mode: StorageModeKind.EPHEMERAL, replicas: 9 },
    'values-lan-test.yaml': { mode: StorageModeKind.EPHEMERAL, replicas: 2 },
    'values-minikube-hostpath.yaml': { mode: StorageModeKind.PERSISTENT, replicas: 1 },
    'values-minikube-hybrid.yaml': { mode: StorageModeKind.HYBRID, replicas: 1 },
    'values-minikube.yaml': { mode: StorageModeKind.HYBRID, replicas: 1 },
    'values-private-registry-kind.yaml': { mode: StorageModeKind.HYBRID, replicas: 2 },
    'values-private-registry.yaml': { mode: StorageModeKind.HYBRID, replicas: 2 },
  };

  test.each(Object.keys(MERGED))('%s', (file) => {
    const migration = propsFromHelmValues(mergeHelmValues(base, parsed(file)), { source: `values.yaml + ${file}` });
    expect(migration.mode).toBe(MERGED[file].mode);
    const objects = synthesize(migration.chartProps);
    expect(only(objects, 'StatefulSet').spec.replicas).toBe(MERGED[file].replicas);
    // The env maps merge: values.yaml's entries stay unless the overlay overrides them.
    expect(envOf(emulatorContainer(objects)).QEMU_3DFX_VGA).toBe('vmware');
  });
});

describe('mapping choices', () => {
  const minimal = (emulator: HelmValues, top: HelmValues = {}) =>
    propsFromHelmValues({ replicas: 1, ...top, emulator: { image: 'qemu-loco', tag: 'v1', diskPVC: 'win98-disk', ...emulator } });

  test('kvm and dri on hostPath run privileged, with a warning; the device plugin needs no privilege', () => {
    const hostPath = minimal({ kvm: { enabled: true, hostPath: '/dev/kvm' }, dri: { enabled: true, hostPath: '/dev/dri' } });
    expect(hostPath.chartProps.emulator).toMatchObject({ security: { privileged: true }, devices: { kvm: { source: DeviceSource.HOST_PATH, nodePath: '/dev/kvm' } } });
    expect(hostPath.typescript).toContain("devices: { kvm: Device.hostPath('/dev/kvm'), dri: Device.hostPath('/dev/dri') },\n    security: { privileged: true },\n");
    expect(hostPath.warnings).toContainEqual(expect.stringMatching(/^emulator\.kvm\.enabled: mounted from the node \(\/dev\/kvm\) as the chart did, which needs privileged: true/));
    expect(hostPath.warnings).toContain('the chart ran the emulator privileged with NET_ADMIN and SYS_ADMIN; it stays privileged here because a hostPath device (kvm/dri) needs it');
    const container = emulatorContainer(synthesize(hostPath.chartProps));
    expect(container.securityContext.privileged).toBe(true);
    expect(container.volumeMounts.map((m: any) => m.mountPath)).toEqual(expect.arrayContaining(['/dev/kvm', '/dev/dri']));

    const plugin = propsFromHelmValues({ emulator: { image: 'q', tag: 'v1', diskPVC: 'd', kvm: { enabled: true } } }, { deviceSource: DeviceSource.DEVICE_PLUGIN });
    expect(plugin.chartProps.emulator.security).toBeUndefined();
    expect(plugin.typescript).toBe([
      "import { App } from 'cdk8s';",
      "import { ContainerImage, Device, DiskVolume, LegoLocoChart, StorageMode } from 'cdk8s-qemu-loco';",
      '',
      'const app = new App();',
      "new LegoLocoChart(app, 'loco-persistent', {",
      "  mode: StorageMode.persistent({ volume: DiskVolume.newClaim({ claimName: 'd' }) }),",
      "  emulator: { image: ContainerImage.fromTag('q', 'v1'), replicas: 1, devices: { kvm: Device.devicePlugin() } },",
      '});',
      'app.synth();',
      '',
    ].join('\n'));
    expect(emulatorContainer(synthesize(plugin.chartProps)).resources.limits['devices.kubevirt.io/kvm']).toBe('1');
    expect(plugin.warnings).toContainEqual(expect.stringMatching(/requested from a device plugin instead of the chart's hostPath/));
  });

  test('disabled devices stay off, and unknown device keys are reported', () => {
    const migration = minimal({ kvm: { enabled: false, hostPath: '/dev/kvm', mode: 'rw' } });
    expect(migration.chartProps.emulator.devices).toBeUndefined();
    expect(migration.chartProps.emulator.security).toBeUndefined();
    expect(migration.unknownKeys).toEqual(['emulator.kvm.mode']);
  });

  test('an env SNAPSHOT_* entry fills a typed setting the values leave empty', () => {
    const migration = minimal({ usePrebuiltSnapshot: true, env: { SNAPSHOT_REGISTRY: 'registry.example.com/snaps', SNAPSHOT_TAG: 'v2', SNAPSHOT_DIR: '/images/overlays' } });
    expect(migration.typescript).toBe([
      "import { App } from 'cdk8s';",
      "import { ContainerImage, DiskVolume, LegoLocoChart, SeedSource, StorageMode } from 'cdk8s-qemu-loco';",
      '',
      'const app = new App();',
      "new LegoLocoChart(app, 'loco-hybrid', {",
      '  mode: StorageMode.hybrid({',
      "    volume: DiskVolume.newClaim({ claimName: 'win98-disk' }),",
      '    seeder: {',
      '      sources: [',
      "        SeedSource.snapshot(ContainerImage.fromReference('registry.example.com/snaps:v2')),",
      '        SeedSource.builtin(),',
      '      ],',
      '    },',
      '  }),',
      '  emulator: {',
      "    image: ContainerImage.fromTag('qemu-loco', 'v1'),",
      '    replicas: 1,',
      "    overlays: { snapshotDir: '/images/overlays' },",
      '  },',
      '});',
      'app.synth();',
      '',
    ].join('\n'));
    const objects = synthesize(migration.chartProps);
    expect(envOf(emulatorContainer(objects))).toMatchObject({ SNAPSHOT_REGISTRY: 'registry.example.com/snaps', SNAPSHOT_TAG: 'v2', SNAPSHOT_DIR: '/images/overlays' });
    expect(only(objects, 'StatefulSet').spec.template.spec.initContainers.map((c: any) => c.image)).toContain('registry.example.com/snaps:v2');
    expect(migration.chartProps.emulator.overlays?.snapshotDir).toBe('/images/overlays');
    expect(migration.warnings).toContainEqual(expect.stringMatching(/^emulator\.env\.SNAPSHOT_DIR "\/images\/overlays" mapped to the typed setting emulator\.overlays\.snapshotDir/));
  });

  test('mode C with its own snapshot: the mode\'s snapshot image, a latest tag allowed as the chart had it', () => {
    const migration = propsFromHelmValues({ emulator: { image: 'q', tag: 'v1', diskPVC: '', usePrebuiltSnapshot: true, snapshotRegistry: 'r.example/snaps', snapshotTag: 'latest' } });
    expect(migration.typescript).toContain("  mode: StorageMode.ephemeral({\n    snapshotImage: ContainerImage.fromReference('r.example/snaps:latest', { allowLatestTag: true }),\n  }),\n");
    expect(envOf(emulatorContainer(synthesize(migration.chartProps)))).toMatchObject({ SNAPSHOT_REGISTRY: 'r.example/snaps', SNAPSHOT_TAG: 'latest', USE_PREBUILT_SNAPSHOT: 'true' });
  });

  test('a read-only disk cannot be seeded: read-write, with the reason', () => {
    const migration = minimal({ diskReadOnly: true });
    expect(migration.chartProps.emulator.security).toBeUndefined();
    expect(migration.warnings).toContainEqual(expect.stringMatching(/^emulator\.diskReadOnly: true is not kept in mode persistent: the seeder writes/));
  });

  test('the release name keeps the chart\'s object names; imageRepo prefixes the image', () => {
    const migration = propsFromHelmValues({ imageRepo: 'ghcr.io/mroie/', emulator: { image: 'qemu-loco', tag: 'v1', diskPVC: 'd' } }, { releaseName: 'loco' });
    const objects = synthesize(migration.chartProps);
    expect(only(objects, 'StatefulSet').metadata.name).toBe('loco-loco-emulator');
    expect(only(objects, 'Service').metadata.name).toBe('loco-loco-emulator');
    expect(emulatorContainer(objects).image).toBe('ghcr.io/mroie/qemu-loco:v1');
  });

  test('the chart\'s hostPath PersistentVolume only when asked for', () => {
    const values = { storage: { class: 'standard', diskSize: '5Gi' }, emulator: { image: 'q', tag: 'v1', diskPVC: 'win98-disk' } };
    expect(synthesize(propsFromHelmValues(values).chartProps).filter((o) => o.kind === 'PersistentVolume')).toEqual([]);
    const pv = only(synthesize(propsFromHelmValues(values, { hostPathVolume: true }).chartProps), 'PersistentVolume');
    expect(pv.spec).toMatchObject({ hostPath: { path: '/tmp/win98-disk' }, capacity: { storage: '5Gi' }, storageClassName: 'standard' });
  });

  test('unknown probe kinds and fields are reported', () => {
    const migration = minimal({ probes: { startup: { enabled: false, grace: 3 }, warmup: {} } });
    expect(migration.chartProps.emulator.probes).toEqual({ startup: { enabled: false } });
    expect(migration.unknownKeys).toEqual(['emulator.probes.startup.grace', 'emulator.probes.warmup']);
  });
});

describe('values the constructs refuse: a clear one-line error or an adjustment, never a crash', () => {
  const attempt = (values: HelmValues) => () => propsFromHelmValues(values, { source: 'bad.yaml' });

  test('values of the wrong type are named together', () => {
    const call = attempt({ replicas: 'many', emulator: { image: 'q', tag: 'v1', diskReadOnly: 'sometimes', env: ['A=1'] } });
    expect(call).toThrow(HelmValuesError);
    expect(call).toThrow('bad.yaml: cannot migrate: emulator.env must be a mapping, not a list; replicas must be a whole number of ' +
      'at least 1, not "many"; emulator.diskReadOnly must be true or false, not "sometimes"');
  });

  test('a value a construct refuses is reported with the construct\'s reason', () => {
    const call = attempt({ emulator: { image: 'q', tag: 'no spaces allowed', diskPVC: 'd' } });
    // Reported by the installation, which checks the image the seeder and the emulator share.
    expect(call).toThrow(new HelmValuesError('bad.yaml: the migrated values make no valid chart: loco-persistent/Resource: invalid emulator.image tag ' +
      '"no spaces allowed": must be an image tag: letters, digits, _ . -, at most 128 characters, not starting with . or -'));
  });

  test('values the API server would refuse are reported with the synth check that refuses them', () => {
    const call = attempt({ emulator: { image: 'q', tag: 'v1', tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule', tolerationSeconds: 30 }] } });
    expect(call).toThrow(new HelmValuesError('bad.yaml: the migrated values make no valid chart: [loco-ephemeral/Resource/Resource] ' +
      'loco-ephemeral/Resource/Resource/Resource: StatefulSet/loco-emulator: spec.template.spec.tolerations[0].effect: must be NoExecute when tolerationSeconds is set (set by scheduling.tolerations) ' +
      '(Kubernetes would refuse this object; ManifestChecks.skip(object, reason) turns the check off for it)'));
  });

  test('a snapshot mode the entrypoint does not know', () => {
    expect(attempt({ emulator: { image: 'q', tag: 'v1', snapshotMode: 'sometimes' } })).toThrow(new HelmValuesError(
      'bad.yaml: cannot migrate: emulator.snapshotMode "sometimes" must be one of persistent, ephemeral'));
  });

  test('a missing image and an unknown pull policy', () => {
    expect(attempt({ emulator: { imagePullPolicy: 'Sometimes' } })).toThrow(
      'bad.yaml: cannot migrate: emulator.image is not set: name the emulator image (e.g. qemu-loco); emulator.imagePullPolicy "Sometimes" must be one of Always, IfNotPresent, Never');
  });

  test('an invalid env name from the values is refused with the construct\'s message', () => {
    expect(attempt({ emulator: { image: 'q', tag: 'v1', env: { 'BAD NAME': 'x' } } })).toThrow(/invalid env "BAD NAME"/);
  });
});
