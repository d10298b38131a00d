import { Chart } from 'cdk8s';
import {
  DeviceSource, DiskAccessMode, DiskSeeder, EmulatorDisk, EmulatorDiskKind, QemuStatefulSet, QemuStatefulSetProps, preStopScript,
} from '../lib';
import { envOf, only, podSpec, synth, testChart } from './helpers/synth';

type Options = Partial<QemuStatefulSetProps> & { diskKind?: EmulatorDiskKind; accessModes?: DiskAccessMode[] };

function emulatorIn(options: Options = {}, chart: Chart = testChart()) {
  const { diskKind, accessModes, ...props } = options;
  const disk = props.disk ?? new EmulatorDisk(chart, 'Disk', { kind: diskKind, accessModes });
  const emulator = new QemuStatefulSet(chart, 'Emulator', { image: 'qemu-loco', tag: 'v1', ...props, disk });
  const objects = synth(chart);
  const pod = podSpec(objects);
  const container = pod.containers.find((c: any) => c.name === 'emulator');
  return { chart, emulator, objects, pod, container, statefulSet: only(objects, 'StatefulSet'), service: only(objects, 'Service') };
}

describe('QemuStatefulSet: the StatefulSet', () => {
  test('selects its pods by the chart labels, rolls updates and names its headless service', () => {
    const { statefulSet, emulator } = emulatorIn();
    const selector = {
      'app': 'loco-emulator',
      'app.kubernetes.io/component': 'emulator',
      'app.kubernetes.io/part-of': 'lego-loco-cluster',
    };
    expect(statefulSet.metadata.name).toBe('loco-emulator');
    expect(statefulSet.spec.serviceName).toBe('loco-emulator');
    expect(statefulSet.spec.replicas).toBe(1);
    expect(statefulSet.spec.selector.matchLabels).toEqual(selector);
    expect(statefulSet.spec.template.metadata.labels).toEqual({ ...selector, 'app.kubernetes.io/name': 'lego-loco-emulator' });
    expect(statefulSet.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
    expect(emulator.podHostname(3)).toBe('loco-emulator-3.loco-emulator');
  });

  test('runs /entrypoint.sh from the tagged image, pulled only when not present', () => {
    const { container } = emulatorIn({ imagePullSecrets: ['ghcr-secret'] });
    expect(container.image).toBe('qemu-loco:v1');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.command).toEqual(['/entrypoint.sh']);
  });

  test('pins the image by digest when given one', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const { container } = emulatorIn({ tag: undefined, imageDigest: digest });
    expect(container.image).toBe(`qemu-loco@${digest}`);
  });

  test('passes image pull secrets, node selector, tolerations and affinity to the pod', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kvm', operator: 'Exists' }] }] } } };
    const tolerations = [{ key: 'emulators', operator: 'Exists', effect: 'NoSchedule' }];
    const { pod } = emulatorIn({ imagePullSecrets: ['ghcr-secret'], nodeSelector: { 'loco.dev/kvm': 'true' }, tolerations, affinity });
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

  test('mounts the disk at /images and /dev/net/tun from the host', () => {
    const { container, pod } = emulatorIn();
    expect(container.volumeMounts).toEqual([
      { name: 'disk', mountPath: '/images', readOnly: false },
      { name: 'dev-net-tun', mountPath: '/dev/net/tun' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'dev-net-tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } });
    expect(pod.volumes).toContainEqual({ name: 'disk', persistentVolumeClaim: { claimName: 'win98-disk' } });
  });

  test('mounts the disk read-only when asked', () => {
    const { container } = emulatorIn({ readOnlyDisk: true });
    expect(container.volumeMounts[0]).toEqual({ name: 'disk', mountPath: '/images', readOnly: true });
  });

  test('sets the chart resources by default and takes others', () => {
    expect(emulatorIn().container.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '4', memory: '2Gi' } });
    expect(emulatorIn({ resources: { requests: { cpu: '2' }, limits: { memory: '4Gi' } } }).container.resources)
      .toEqual({ requests: { cpu: '2' }, limits: { memory: '4Gi' } });
  });

  test('gives the guest time to shut down: a QMP power-down preStop hook and a 120 s grace period', () => {
    const { container, pod } = emulatorIn();
    expect(container.lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', preStopScript()]);
    expect(preStopScript()).toContain('system_powerdown');
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(emulatorIn({ terminationGracePeriodSeconds: 300 }).pod.terminationGracePeriodSeconds).toBe(300);
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
    const { container } = emulatorIn({ replicas: 3, diskKind: EmulatorDiskKind.EMPTY_DIR, env: { QEMU_MEMORY: '512', BRIDGE: 'loco-br' } });
    const names = container.env.map((entry: any) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    expect(envOf(container)).toEqual({
      POD_NAME: 'fieldRef:metadata.name',
      POD_IP: 'fieldRef:status.podIP',
      POD_NAMESPACE: 'fieldRef:metadata.namespace',
      EMULATOR_SERVICE_NAME: 'loco-emulator',
      EMULATOR_REPLICAS: '3',
      SOCKET_MASTER_HOST: 'loco-emulator-0.loco-emulator',
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
    const env = envOf(emulatorIn({ prebuiltSnapshot: 'ghcr.io/mroie/qemu-snapshots:win98-base', snapshotReset: true }).container);
    expect(env).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'true',
      SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots',
      SNAPSHOT_TAG: 'win98-base',
      SNAPSHOT_MODE: 'persistent',
      SNAPSHOT_RESET: 'true',
    });
  });

  test('with a seeder the entrypoint overlays the seeded disk: no download, the snapshot named for information', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', {});
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1' });
    const env = envOf(emulatorIn({ disk, seeder, prebuiltSnapshot: 'ghcr.io/mroie/qemu-snapshots:win98-base' }, chart).container);
    expect(env).toMatchObject({
      USE_PREBUILT_SNAPSHOT: 'false', DISK: '/images/win98.qcow2', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots', SNAPSHOT_TAG: 'win98-base',
    });
  });

  test('an env entry that clashes with a typed setting is refused, naming both', () => {
    expect(() => emulatorIn({ env: { USE_PREBUILT_SNAPSHOT: 'false' } }))
      .toThrow('test/Emulator: invalid env.USE_PREBUILT_SNAPSHOT "false": clashes with USE_PREBUILT_SNAPSHOT that the construct sets from prebuiltSnapshot');
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
    const { container } = emulatorIn({ privileged: true });
    expect(container.securityContext).toEqual({ privileged: true, capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } });
  });

  test('kvm and dri from a device plugin are extended resources, with no hostPath', () => {
    const { container, pod } = emulatorIn({ kvm: {}, dri: { resourceName: 'gpu.intel.com/i915' } });
    expect(container.resources.limits).toMatchObject({ 'devices.kubevirt.io/kvm': '1', 'gpu.intel.com/i915': '1' });
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['disk', 'dev-net-tun']);
  });

  test('kvm and dri from hostPath are mounted in a privileged container', () => {
    const { container, pod } = emulatorIn({ privileged: true, kvm: { source: DeviceSource.HOST_PATH }, dri: { source: DeviceSource.HOST_PATH } });
    expect(pod.volumes).toContainEqual({ name: 'dev-kvm', hostPath: { path: '/dev/kvm', type: 'CharDevice' } });
    expect(pod.volumes).toContainEqual({ name: 'dev-dri', hostPath: { path: '/dev/dri', type: 'Directory' } });
    expect(container.volumeMounts).toContainEqual({ name: 'dev-kvm', mountPath: '/dev/kvm' });
    expect(container.volumeMounts).toContainEqual({ name: 'dev-dri', mountPath: '/dev/dri' });
  });

  test('a hostPath device without privileged is refused with the alternatives', () => {
    expect(() => emulatorIn({ kvm: { source: DeviceSource.HOST_PATH } }))
      .toThrow('test/Emulator: invalid kvm.source "hostPath": a hostPath device is only usable by a privileged container');
  });
});

describe('QemuStatefulSet: replicas and the disk', () => {
  test('several replicas on one ReadWriteOnce claim need the single-node acknowledgement', () => {
    expect(() => emulatorIn({ replicas: 9 })).toThrow(/invalid replicas 9: 9 replicas share the ReadWriteOnce claim 'win98-disk'.*Multi-Attach/);
  });

  test('the acknowledgement keeps all replicas on one node with a required pod affinity', () => {
    const { pod, emulator } = emulatorIn({ replicas: 9, sharedClaimOnOneNode: true });
    expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: emulator.selectorLabels }, topologyKey: 'kubernetes.io/hostname' },
    ]);
  });

  test('a ReadWriteMany claim or an emptyDir needs no acknowledgement and no affinity', () => {
    expect(emulatorIn({ replicas: 9, accessModes: [DiskAccessMode.READ_WRITE_MANY] }).pod).not.toHaveProperty('affinity');
    expect(emulatorIn({ replicas: 9, diskKind: EmulatorDiskKind.EMPTY_DIR }).pod).not.toHaveProperty('affinity');
  });

  test('a seeder runs first and the pod fsGroup gives it the volume', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk');
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1' });
    const { pod } = emulatorIn({ disk, seeder }, chart);
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
    expect(service.metadata.name).toBe('loco-emulator');
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
    expect(() => emulatorIn({ name: 'a'.repeat(53) })).toThrow(/invalid name "a{53}": must be a DNS-1123 label: at most 52 characters/);
  });

  test('the latest tag unless allowed', () => {
    expect(() => emulatorIn({ tag: 'latest' })).toThrow("test/Emulator: invalid tag \"latest\": 'latest' runs whatever was pushed last");
    expect(emulatorIn({ tag: 'latest', allowLatestTag: true }).container.image).toBe('qemu-loco:latest');
  });
});

describe('QemuStatefulSet: snapshot pinned by digest', () => {
  const digest = `sha256:${'c'.repeat(64)}`;

  test('without a tag and without a seeder is refused: the entrypoint cannot pull by digest', () => {
    expect(() => emulatorIn({ prebuiltSnapshot: `ghcr.io/mroie/qemu-snapshots@${digest}` }))
      .toThrow("invalid prebuiltSnapshot \"ghcr.io/mroie/qemu-snapshots@sha256:cccc");
  });

  test('with a seeder, a digest-only reference is accepted and sets no SNAPSHOT_TAG', () => {
    const chart = testChart();
    const disk = new EmulatorDisk(chart, 'Disk', {});
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: 'qemu-loco:v1' });
    const env = envOf(emulatorIn({ disk, seeder, prebuiltSnapshot: `ghcr.io/mroie/qemu-snapshots@${digest}` }, chart).container);
    expect(env).toMatchObject({ USE_PREBUILT_SNAPSHOT: 'false', SNAPSHOT_REGISTRY: 'ghcr.io/mroie/qemu-snapshots', DISK: '/images/win98.qcow2' });
    expect(env).not.toHaveProperty('SNAPSHOT_TAG');
  });

  test('with a tag as well, the entrypoint gets the tag, not the digest', () => {
    const env = envOf(emulatorIn({ prebuiltSnapshot: `ghcr.io/mroie/qemu-snapshots:win98-base@${digest}` }).container);
    expect(env.SNAPSHOT_TAG).toBe('win98-base');
    expect(env.SNAPSHOT_REGISTRY).toBe('ghcr.io/mroie/qemu-snapshots');
  });
});
