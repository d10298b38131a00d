import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import {
  ContainerImage, Device, DiskAccessMode, DiskSeeder, DiskVolume, EmulatorDisk, QemuStatefulSet, QemuStatefulSetProps, SeedSource,
  SnapshotMethod,
} from '../lib';
import { K8sObject, envOf, ofKind, only, podSpec, synth, testChart } from './helpers/synth';

type Options = Partial<QemuStatefulSetProps> & { volume?: DiskVolume };

const IMAGE = ContainerImage.fromTag('qemu-loco', 'v1');
const SNAPSHOT = 'ghcr.io/mroie/qemu-snapshots:win98-base';
const NOT_TAKEN = "is not taken here: metadata gives labels and annotations; names are the construct's own props, the namespace is the chart's";
/** lib/scripts/pre-stop.sh as it is in the repository, read here rather than through the library. */
const PRE_STOP_FILE = fs.readFileSync(path.join(__dirname, '..', 'lib', 'scripts', 'pre-stop.sh'), 'utf8');

function emulatorIn(options: Options = {}, chart: Chart = testChart()) {
  const { volume, ...props } = options;
  const disk = props.disk ?? new EmulatorDisk(chart, 'Disk', { volume });
  const emulator = new QemuStatefulSet(chart, 'Emulator', { image: IMAGE, ...props, disk });
  const objects = synth(chart);
  const pod = podSpec(objects);
  const container = pod.containers.find((c: any) => c.name === 'emulator');
  return { chart, emulator, objects, pod, container, statefulSet: only(objects, 'StatefulSet'), service: only(objects, 'Service') };
}

/** A disk, its seeder and an emulator in one chart. */
function seededIn(options: Options = {}, seederSources?: SeedSource[]) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk');
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: IMAGE, sources: seederSources });
  return { seeder, ...emulatorIn({ ...options, disk, seeder }, chart) };
}

/** The ConfigMap a pod volume takes its files from, found by the name the volume gives. */
function configMapOf(objects: K8sObject[], pod: any, volumeName: string): K8sObject {
  const volume = pod.volumes.find((v: any) => v.name === volumeName);
  const matching = ofKind(objects, 'ConfigMap').filter((configMap) => configMap.metadata.name === volume.configMap.name);
  expect([volumeName, matching.length]).toEqual([volumeName, 1]);
  return matching[0];
}

describe('QemuStatefulSet: the StatefulSet', () => {
  test('selects its pods by labels from its own name, rolls updates and names its headless service', () => {
    const { statefulSet, emulator } = emulatorIn();
    const selector = {
      'app': 'qemu-emulator',
      'app.kubernetes.io/component': 'emulator',
      'app.kubernetes.io/part-of': 'qemu-emulator',
    };
    expect(statefulSet.metadata.name).toBe('qemu-emulator');
    expect(statefulSet.spec.serviceName).toBe('qemu-emulator');
    expect(statefulSet.spec.replicas).toBe(1);
    expect(statefulSet.spec.selector.matchLabels).toEqual(selector);
    expect(statefulSet.spec.template.metadata.labels).toEqual({ ...selector, 'app.kubernetes.io/name': 'qemu-emulator' });
    expect(statefulSet.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
    expect(emulator.podHostname(3)).toBe('qemu-emulator-3.qemu-emulator');
  });

  test('runs /entrypoint.sh from the tagged image, pulled only when not present', () => {
    const { container } = emulatorIn({ imagePullSecrets: ['ghcr-secret'] });
    expect(container.image).toBe('qemu-loco:v1');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.command).toEqual(['/entrypoint.sh']);
  });

  test('pins the image by digest when given one', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const { container } = emulatorIn({ image: ContainerImage.fromDigest('qemu-loco', digest) });
    expect(container.image).toBe(`qemu-loco@${digest}`);
  });

  test('passes image pull secrets, node selector, tolerations and affinity to the pod', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kvm', operator: 'Exists' }] }] } } };
    const tolerations = [{ key: 'emulators', operator: 'Exists', effect: 'NoSchedule' }];
    const { pod } = emulatorIn({ imagePullSecrets: ['ghcr-secret'], scheduling: { nodeSelector: { 'loco.dev/kvm': 'true' }, tolerations, affinity } });
    expect(pod.imagePullSecrets).toEqual([{ name: 'ghcr-secret' }]);
    expect(pod.nodeSelector).toEqual({ 'loco.dev/kvm': 'true' });
    expect(pod.tolerations).toEqual(tolerations);
    expect(pod.affinity).toEqual(affinity);
  });

  test('exposes VNC 5901, health 8080, LAN socket 4444/TCP and LAN multicast 1234/UDP', () => {
    const { container } = emulatorIn();
    expect(container.ports).toEqual([
      { name: 'vnc', containerPort: 5901, protocol: 'TCP' },
      { name: 'health', containerPort: 8080, protocol: 'TCP' },
      { name: 'lan-socket', containerPort: 4444, protocol: 'TCP' },
      { name: 'lan-mcast', containerPort: 1234, protocol: 'UDP' },
    ]);
  });

  test('mounts the disk at /images, its scripts read-only at /qemu-scripts and /dev/net/tun from the host', () => {
    const { container, pod } = emulatorIn();
    expect(container.volumeMounts).toEqual([
      { name: 'disk', mountPath: '/images', readOnly: false },
      { name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true },
      { name: 'dev-net-tun', mountPath: '/dev/net/tun' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'dev-net-tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } });
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
  });

  test('mounts the disk read-only when asked', () => {
    const { container } = emulatorIn({ security: { readOnlyDisk: true } });
    expect(container.volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images', readOnly: true });
  });

  test('sets the chart resources by default and takes others', () => {
    expect(emulatorIn().container.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '4', memory: '2Gi' } });
    expect(emulatorIn({ resources: { requests: { cpu: '2' }, limits: { memory: '4Gi' } } }).container.resources)
      .toEqual({ requests: { cpu: '2' }, limits: { memory: '4Gi' } });
  });

  test('gives the guest time to shut down: a QMP power-down preStop hook and a 120 s grace period', () => {
    const { container, pod, objects } = emulatorIn();
    expect(container.lifecycle.preStop.exec.command).toEqual(['/bin/sh', '/qemu-scripts/pre-stop.sh']);
    expect(configMapOf(objects, pod, 'qemu-scripts').data['pre-stop.sh']).toContain('system_powerdown');
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(emulatorIn({ scheduling: { terminationGracePeriodSeconds: 300 } }).pod.terminationGracePeriodSeconds).toBe(300);
  });
});

describe('QemuStatefulSet: probes', () => {
  test('startup, liveness and readiness probes hit the health port with the chart defaults', () => {
    const { container } = emulatorIn();
    expect(container.startupProbe).toEqual({ httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 });
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 60, periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 3 });
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
  });

  test('each probe can be disabled on its own', () => {
    const { container } = emulatorIn({ probes: { liveness: { enabled: false } } });
    expect(container).not.toHaveProperty('livenessProbe');
    expect(container.startupProbe).toBeDefined();
    expect(container.readinessProbe).toBeDefined();
  });

  test('probe settings and a moved health port are honoured', () => {
    const { container } = emulatorIn({ ports: { health: 9090 }, probes: { startup: { failureThreshold: 90, path: '/ready' } } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/ready', port: 9090 }, failureThreshold: 90, periodSeconds: 10 });
    expect(container.livenessProbe.httpGet.port).toBe(9090);
  });
});

describe('QemuStatefulSet: environment', () => {
  test('sets what the entrypoint reads, each name once', () => {
    const { container } = emulatorIn({ replicas: 3, volume: DiskVolume.emptyDir(), env: { QEMU_MEMORY: '512', BRIDGE: 'loco-br' } });
    const names = container.env.map((entry: any) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    expect(envOf(container)).toEqual({
      POD_NAME: 'fieldRef:metadata.name',
      POD_IP: 'fieldRef:status.podIP',
      POD_NAMESPACE: 'fieldRef:metadata.namespace',
      EMULATOR_SERVICE_NAME: 'qemu-emulator',
      EMULATOR_REPLICAS: '3',
      SOCKET_MASTER_HOST: 'qemu-emulator-0.qemu-emulator',
      DISK: '/images/win98.qcow2',
      USE_PREBUILT_SNAPSHOT: 'false',
      SNAPSHOT_DIR: '/images/snapshots',
      SNAPSHOT_MODE: 'ephemeral',
      SNAPSHOT_RESET: 'false',
      BRIDGE: 'loco-br',
      QEMU_MEMORY: '512',
    });
  });

  test('a prebuilt snapshot turns on the entrypoint download with registry and tag', () => {
    const env = envOf(emulatorIn({ prebuiltSnapshot: ContainerImage.fromReference(SNAPSHOT), overlays: { snapshotReset: true } }).container);
    expect(env).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'true',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      SNAPSHOT_MODE: 'persistent',
      SNAPSHOT_RESET: 'true',
    });
  });

  test('with a seeder the entrypoint overlays the seeded disk: no download, the snapshot named for information', () => {
    const env = envOf(seededIn({ prebuiltSnapshot: ContainerImage.fromReference(SNAPSHOT) }).container);
    expect(env).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false', DISK: '/images/win98.qcow2', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots', SNAPSHOT_TAG: 'win98-base',
    });
  });

  test('an env entry that clashes with a typed setting is refused, naming both', () => {
    expect(() => emulatorIn({ env: { USE_PREBUILT_SNAPSHOT: 'false' } }))
      .toThrow('test/Emulator: invalid env.USE_PREBUILT_SNAPSHOT "false": clashes with USE_PREBUILT_SNAPSHOT that the construct sets from prebuiltSnapshot; set that property instead of env.USE_PREBUILT_SNAPSHOT');
  });

  test('extra env is sorted by name, so reordering the map changes nothing', () => {
    const a = emulatorIn({ env: { B: '2', A: '1' } }).container.env;
    const b = emulatorIn({ env: { A: '1', B: '2' } }).container.env;
    expect(a).toEqual(b);
  });
});

describe('QemuStatefulSet: devices and privileges', () => {
  test('by default drops every capability but the narrow set its TAP networking needs, and is not privileged', () => {
    const { container } = emulatorIn();
    expect(container.securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('privileged is an explicit setting', () => {
    const { container } = emulatorIn({ security: { privileged: true } });
    expect(container.securityContext).toEqual({ privileged: true, capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } });
  });

  test('kvm and dri from a device plugin are extended resources, with no hostPath', () => {
    const { container, pod } = emulatorIn({ devices: { kvm: Device.devicePlugin(), dri: Device.devicePlugin('gpu.intel.com/i915') } });
    expect(container.resources.limits).toMatchObject({ 'devices.kubevirt.io/kvm': '1', 'gpu.intel.com/i915': '1' });
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['disk', 'qemu-scripts', 'dev-net-tun']);
  });

  test('kvm and dri from hostPath are mounted in a privileged container', () => {
    const { container, pod } = emulatorIn({ security: { privileged: true }, devices: { kvm: Device.hostPath(), dri: Device.hostPath() } });
    expect(pod.volumes).toContainEqual({ name: 'dev-kvm', hostPath: { path: '/dev/kvm', type: 'CharDevice' } });
    expect(pod.volumes).toContainEqual({ name: 'dev-dri', hostPath: { path: '/dev/dri', type: 'Directory' } });
    expect(container.volumeMounts).toContainEqual({ name: 'dev-kvm', mountPath: '/dev/kvm' });
    expect(container.volumeMounts).toContainEqual({ name: 'dev-dri', mountPath: '/dev/dri' });
  });

  test('a hostPath device without privileged is refused with the alternatives', () => {
    expect(() => emulatorIn({ devices: { kvm: Device.hostPath() } }))
      .toThrow("test/Emulator: invalid devices.kvm \"Device.hostPath()\": a hostPath device is only usable by a privileged container: set security.privileged: true, or use Device.devicePlugin() with a device plugin's resource (devices.kubevirt.io/kvm)");
  });
});

describe('QemuStatefulSet: replicas and the disk', () => {
  test('several replicas on one ReadWriteOnce claim need the single-node acknowledgement', () => {
    expect(() => emulatorIn({ replicas: 9 })).toThrow(
      "test/Emulator: invalid replicas 9: 9 replicas share the ReadWriteOnce claim 'win98-disk': on a multi-node cluster every pod scheduled to another node fails with a Multi-Attach error. " +
      'Use a claim per replica (DiskVolume.claimPerReplica(), sharedBase() or goldenClone(): volumeClaimTemplates), a ReadWriteMany claim, or set scheduling.sharedClaimOnOneNode: true to keep all replicas on one node');
  });

  test('the acknowledgement keeps all replicas on one node with a required pod affinity', () => {
    const { pod, emulator } = emulatorIn({ replicas: 9, scheduling: { sharedClaimOnOneNode: true } });
    expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: emulator.selectorLabels }, topologyKey: 'kubernetes.io/hostname' },
    ]);
  });

  test('a ReadWriteMany claim or an emptyDir needs no acknowledgement and no affinity', () => {
    expect(emulatorIn({ replicas: 9, volume: DiskVolume.newClaim({ accessModes: [DiskAccessMode.READ_WRITE_MANY] }) }).pod).not.toHaveProperty('affinity');
    expect(emulatorIn({ replicas: 9, volume: DiskVolume.emptyDir() }).pod).not.toHaveProperty('affinity');
  });

  test('a seeder runs first and the pod fsGroup gives it the volume', () => {
    const { pod } = seededIn();
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(pod.securityContext).toEqual({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(pod.volumes.map((v: any) => v.name)).toContain('seed-script');
  });

  test('without a seeder there are no init containers and no pod security context', () => {
    const { pod } = emulatorIn();
    expect(pod).not.toHaveProperty('initContainers');
    expect(pod).not.toHaveProperty('securityContext');
  });
});

describe('QemuStatefulSet: the headless Service', () => {
  test('is headless, selects the emulator pods and publishes every port', () => {
    const { service, emulator } = emulatorIn();
    expect(service.metadata.name).toBe('qemu-emulator');
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual(emulator.selectorLabels);
    expect(service.spec.ports).toEqual([
      { name: 'vnc', port: 5901, targetPort: 5901, protocol: 'TCP' },
      { name: 'health', port: 8080, targetPort: 8080, protocol: 'TCP' },
      { name: 'lan-socket', port: 4444, targetPort: 4444, protocol: 'TCP' },
      { name: 'lan-mcast', port: 1234, targetPort: 1234, protocol: 'UDP' },
    ]);
  });

  test('takes its own name, which the StatefulSet and SOCKET_MASTER_HOST follow', () => {
    const { service, statefulSet, container } = emulatorIn({ name: 'emu', serviceName: 'emu-lan' });
    expect(service.metadata.name).toBe('emu-lan');
    expect(statefulSet.spec.serviceName).toBe('emu-lan');
    expect(envOf(container).SOCKET_MASTER_HOST).toBe('emu-0.emu-lan');
  });
});

describe('QemuStatefulSet: refused input', () => {
  test('a StatefulSet name over 52 characters', () => {
    expect(() => emulatorIn({ name: 'a'.repeat(53) })).toThrow(
      `test/Emulator: invalid name "${'a'.repeat(53)}": must be a DNS-1123 label: at most 52 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`);
  });

  test('the latest tag unless allowed', () => {
    expect(() => emulatorIn({ image: ContainerImage.fromTag('qemu-loco', 'latest') })).toThrow(
      "test/Emulator: invalid image \"qemu-loco:latest\": 'latest' runs whatever was pushed last on each node: pin a version tag or a digest, or pass allowLatestTag: true");
    expect(emulatorIn({ image: ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true }) }).container.image).toBe('qemu-loco:latest');
  });
});

describe('QemuStatefulSet: JavaScript callers leaving out required props', () => {
  const chartWithDisk = () => {
    const chart = testChart();
    return { chart, disk: new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir() }) };
  };
  const DISK = 'is required: the EmulatorDisk the emulator mounts at /images';
  const IMAGE_RULE = "is required: a ContainerImage, e.g. ContainerImage.fromTag('ghcr.io/mroie/qemu-loco', '1.4.0')";

  test.each([
    ['no props at all', () => new QemuStatefulSet(testChart(), 'x', undefined as any),
      'test/x: invalid props (not set): are required: { disk, image, ... }'],
    ['empty props', () => new QemuStatefulSet(testChart(), 'x', {} as any), `test/x: invalid disk (not set): ${DISK}`],
    ['disk: undefined', () => new QemuStatefulSet(testChart(), 'x', { image: IMAGE, disk: undefined as any }), `test/x: invalid disk (not set): ${DISK}`],
    ['the old disk props instead of a disk', () => new QemuStatefulSet(testChart(), 'x', { image: IMAGE, disk: { kind: 'empty-dir' } as any }),
      `test/x: invalid disk {"kind":"empty-dir"}: ${DISK}`],
    ['no image', () => { const { chart, disk } = chartWithDisk(); new QemuStatefulSet(chart, 'x', { disk } as any); },
      `test/x: invalid image (not set): ${IMAGE_RULE}`],
    ['the image as a string (the old prop)', () => { const { chart, disk } = chartWithDisk(); new QemuStatefulSet(chart, 'x', { disk, image: 'qemu-loco:1' as any }); },
      `test/x: invalid image "qemu-loco:1": ${IMAGE_RULE}`],
    ['a device as the old options object', () => { const { chart, disk } = chartWithDisk(); new QemuStatefulSet(chart, 'x', { disk, image: IMAGE, devices: { kvm: {} as any } }); },
      'test/x: invalid devices.kvm {}: must be a Device: Device.hostPath() or Device.devicePlugin()'],
    ['a prebuilt snapshot as a string', () => { const { chart, disk } = chartWithDisk(); new QemuStatefulSet(chart, 'x', { disk, image: IMAGE, prebuiltSnapshot: SNAPSHOT as any }); },
      `test/x: invalid prebuiltSnapshot "${SNAPSHOT}": must be a ContainerImage, e.g. ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base')`],
  ])('%s gives the invalidProp message, not a TypeError', (_what, build, message) => {
    expect(build).toThrow(message);
    expect(build).not.toThrow(TypeError);
  });
});

describe('QemuStatefulSet: snapshot pinned by digest', () => {
  const digest = `sha256:${'c'.repeat(64)}`;

  test('without a tag and without a seeder is refused: the entrypoint cannot pull by digest', () => {
    expect(() => emulatorIn({ prebuiltSnapshot: ContainerImage.fromReference(`ghcr.io/mroie/qemu-snapshots@${digest}`) })).toThrow(
      `test/Emulator: invalid prebuiltSnapshot "ghcr.io/mroie/qemu-snapshots@${digest}": the emulator's entrypoint downloads registry:tag and cannot pull by digest alone: ` +
      'give a tag (repository:tag@sha256:... pins it too), or seed the disk with a DiskSeeder, which pulls by digest');
  });

  test('with a seeder, a digest-only reference is accepted and sets no SNAPSHOT_TAG', () => {
    const env = envOf(seededIn({ prebuiltSnapshot: ContainerImage.fromDigest('ghcr.io/mroie/qemu-snapshots', digest) }).container);
    expect(env).toMatchObject({ USE_PREBUILT_SNAPSHOT: 'false', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots', DISK: '/images/win98.qcow2' });
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
  });

  test('with a tag as well, the entrypoint gets the tag, not the digest', () => {
    const env = envOf(emulatorIn({ prebuiltSnapshot: ContainerImage.fromReference(`ghcr.io/mroie/qemu-snapshots:win98-base@${digest}`) }).container);
    expect(env.SNAPSHOT_TAG).toBe('win98-base');
    expect(env.SNAPSHOT_REGISTRY).toBe('ghcr.io/mroie/qemu-snapshots');
  });
});

describe('QemuStatefulSet: its primary object and its metadata', () => {
  test('node.defaultChild is the StatefulSet', () => {
    const { emulator } = emulatorIn();
    expect(emulator.node.defaultChild).toBe(emulator.statefulSet);
  });

  test('metadata labels land on the StatefulSet, the Service, the pod template and the scripts ConfigMap; annotations on each object', () => {
    const { objects, statefulSet, emulator } = emulatorIn({
      metadata: { labels: { 'team': 'arcade', 'example.com/tier': 'gold' }, annotations: { 'example.com/owner': 'ops' } },
    });
    const made = objects.filter((object) => object.kind !== 'PersistentVolumeClaim');
    expect(made.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Service', 'StatefulSet']);
    for (const object of [...made, { kind: 'pod template', metadata: statefulSet.spec.template.metadata }]) {
      expect([object.kind, object.metadata.labels]).toEqual([object.kind, expect.objectContaining({ 'team': 'arcade', 'example.com/tier': 'gold' })]);
    }
    for (const object of made) {
      expect([object.kind, object.metadata.annotations]).toEqual([object.kind, { 'example.com/owner': 'ops' }]);
    }
    // A label of metadata does not widen the selector (it would orphan the pods of a running StatefulSet).
    expect(statefulSet.spec.selector.matchLabels).toEqual(emulator.selectorLabels);
    expect(emulator.selectorLabels).not.toHaveProperty('team');
  });

  test('metadata cannot replace the selector labels: the pods stay selected', () => {
    const { statefulSet } = emulatorIn({ metadata: { labels: { 'app': 'other', 'app.kubernetes.io/component': 'other' } } });
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(statefulSet.spec.selector.matchLabels);
    expect(statefulSet.spec.selector.matchLabels.app).toBe('qemu-emulator');
  });

  test.each([
    ['name', { name: 'my-emulator' }, '"my-emulator"'],
    ['namespace', { namespace: 'games' }, '"games"'],
  ])("metadata.%s is refused: the name is the construct's name prop, the namespace the chart's", (field, metadata, shown) => {
    expect(() => emulatorIn({ metadata })).toThrow(`test/Emulator: invalid metadata.${field} ${shown}: ${NOT_TAKEN}`);
  });
});

describe('QemuStatefulSet: the scripts ConfigMap', () => {
  test('the preStop hook runs pre-stop.sh of the ConfigMap the pod mounts, byte for byte lib/scripts/pre-stop.sh', () => {
    const { container, pod, objects } = emulatorIn();
    const [shell, script] = container.lifecycle.preStop.exec.command;
    const mount = container.volumeMounts.find((m: any) => script.startsWith(`${m.mountPath}/`));
    expect([shell, mount]).toEqual(['/bin/sh', { name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true }]);
    const configMap = configMapOf(objects, pod, mount.name);
    expect(configMap.data[path.basename(script)]).toBe(PRE_STOP_FILE);
    expect(Object.keys(configMap.data)).toEqual(['pre-stop.sh']);
    expect(configMap.metadata.name).toMatch(/^qemu-emulator-scripts-[0-9a-f]{10}$/);
  });

  test('a reset token adds reset-overlay.sh, which the reset container runs from the same ConfigMap, and so renames it', () => {
    const plain = emulatorIn();
    const reset = emulatorIn({ overlays: { resetToken: '2026-12-01' } });
    const resetContainer = reset.pod.initContainers.find((c: any) => c.name === 'reset-overlay');
    expect(resetContainer.command).toEqual(['/bin/sh', '/qemu-scripts/reset-overlay.sh']);
    expect(resetContainer.volumeMounts).toContainEqual({ name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true });
    const configMap = configMapOf(reset.objects, reset.pod, 'qemu-scripts');
    expect(configMap.data['reset-overlay.sh']).toBe(fs.readFileSync(path.join(__dirname, '..', 'lib', 'scripts', 'reset-overlay.sh'), 'utf8'));
    expect(configMap.metadata.name).not.toBe(configMapOf(plain.objects, plain.pod, 'qemu-scripts').metadata.name);
  });

  test('the name stays when only settings change (the same scripts), so the pods do not roll for it', () => {
    const a = emulatorIn();
    const b = emulatorIn({ replicas: 1, env: { QEMU_MEMORY: '512' }, overlays: { snapshotReset: true }, image: ContainerImage.fromTag('qemu-loco', 'v2') });
    expect(configMapOf(b.objects, b.pod, 'qemu-scripts').metadata.name).toBe(configMapOf(a.objects, a.pod, 'qemu-scripts').metadata.name);
  });

  test("the pod mounts the seeder's ConfigMap and its own, each by its actual name, and the seeder's changes with its scripts", () => {
    const kubelet = seededIn({}, [SeedSource.snapshot(ContainerImage.fromReference(SNAPSHOT), { method: SnapshotMethod.kubeletPull() }), SeedSource.builtin()]);
    const registry = seededIn({}, [SeedSource.snapshot(ContainerImage.fromReference(SNAPSHOT), { method: SnapshotMethod.registryClient() }), SeedSource.builtin()]);
    const names = [kubelet, registry].map(({ objects, pod }) => {
      const seederScripts = configMapOf(objects, pod, 'seed-script');
      const ownScripts = configMapOf(objects, pod, 'qemu-scripts');
      expect(ofKind(objects, 'ConfigMap')).toHaveLength(2);
      expect(seederScripts.metadata.name).not.toBe(ownScripts.metadata.name);
      expect(seederScripts.data).toHaveProperty(['seed-disk.sh']);
      expect(ownScripts.data).toHaveProperty(['pre-stop.sh']);
      return { seeder: seederScripts.metadata.name, own: ownScripts.metadata.name };
    });
    expect(names[0].seeder).not.toBe(names[1].seeder);
    expect(names[0].own).toBe(names[1].own);
  });
});

describe('QemuStatefulSet: on its own in a plain cdk8s Chart', () => {
  function arcade() {
    const app = new App();
    const chart = new Chart(app, 'arcade', { namespace: 'games' });
    const image = ContainerImage.fromTag('registry.example.com/dosbox', '0.74');
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ claimName: 'dos-disk' }) });
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image });
    new QemuStatefulSet(chart, 'Emulator', { disk, seeder, image, name: 'dosbox' });
    return { yaml: app.synthYaml(), objects: synth(chart) };
  }

  test('labels come from its own name', () => {
    const { objects } = arcade();
    const labels = { 'app': 'dosbox', 'app.kubernetes.io/component': 'emulator', 'app.kubernetes.io/part-of': 'dosbox', 'app.kubernetes.io/name': 'dosbox' };
    const statefulSet = only(objects, 'StatefulSet');
    expect(statefulSet.metadata.labels).toEqual(labels);
    expect(statefulSet.spec.template.metadata.labels).toEqual(labels);
    expect(only(objects, 'Service').metadata.labels).toEqual(labels);
  });

  test("no Lego Loco word anywhere in the output (but the command-line tool's own name)", () => {
    const { yaml } = arcade();
    // The package's CLI (`npx cdk8s-qemu-loco check-image`) is named in the seeder's failure hint and a script comment.
    expect(yaml).toContain('cdk8s-qemu-loco check-image');
    const lines = yaml.replace(/cdk8s-qemu-loco/g, '').split('\n').filter((line) => /lego|loco/i.test(line));
    expect(lines).toEqual([]);
  });

  test("the chart's namespace is on every object", () => {
    const { objects } = arcade();
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'PersistentVolumeClaim', 'Service', 'StatefulSet']);
    expect(objects.map((object) => [object.kind, object.metadata.namespace])).toEqual(objects.map((object) => [object.kind, 'games']));
  });
});
