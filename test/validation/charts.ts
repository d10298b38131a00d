import { Chart, Testing } from 'cdk8s';
import {
  ClaimRetention, CloneSourceKind, DeviceSource, DiskAccessMode, DiskSeeder, EmptyDirMedium, EmulatorDisk, EmulatorDiskKind, EmulatorOptions,
  LegoLocoChart, LegoLocoChartProps, QemuStatefulSet, SeedSource, SeedVerification, SnapshotMethod, StorageMode,
} from '../../lib';

/** A synthesized object, as plain JSON. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name?: string; [key: string]: any }; [key: string]: any };

/** A named way of using the library: the option matrix the validity and Pod Security tests share. */
export interface Combination {
  readonly name: string;
  /** The storage mode, for charts; undefined for constructs used on their own. */
  readonly mode?: StorageMode;
  readonly build: () => Chart;
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const emulator: EmulatorOptions = { image: 'qemu-loco', tag: 'v1.2.0', replicas: 1 };

function chart(mode: StorageMode, props: Partial<LegoLocoChartProps> = {}, emulatorProps: Partial<EmulatorOptions> = {}): () => Chart {
  return () => new LegoLocoChart(Testing.app(), 'loco', { mode, ...props, emulator: { ...emulator, ...emulatorProps } });
}

/** The constructs on their own, in a plain chart, as another project would use them. */
function standalone(build: (scope: Chart) => void): () => Chart {
  return () => {
    const scope = new Chart(Testing.app(), 'standalone', { namespace: 'games' });
    build(scope);
    return scope;
  };
}

const A = StorageMode.PERSISTENT;
const B = StorageMode.HYBRID;
const C = StorageMode.EPHEMERAL;

export const COMBINATIONS: Combination[] = [
  { name: 'A: defaults', mode: A, build: chart(A) },
  { name: 'B: defaults', mode: B, build: chart(B) },
  { name: 'C: defaults', mode: C, build: chart(C) },
  { name: 'A: hostPath PersistentVolume, acknowledged', mode: A, build: chart(A, { disk: { hostPathVolume: { acknowledgeNodeLocal: true } } }) },
  { name: 'B: hostPath PersistentVolume at a custom path, in a namespace', mode: B, build: chart(B, { namespace: 'loco', disk: { hostPathVolume: { acknowledgeNodeLocal: true, path: '/data/loco' }, size: '12Gi' } }) },
  { name: 'A: existing claim, 9 replicas on one node', mode: A, build: chart(A, { disk: { kind: EmulatorDiskKind.EXISTING_CLAIM, claimName: 'players-disk' } }, { replicas: 9, sharedClaimOnOneNode: true }) },
  { name: 'B: existing ReadWriteMany claim, 3 replicas', mode: B, build: chart(B, { disk: { kind: EmulatorDiskKind.EXISTING_CLAIM, accessModes: [DiskAccessMode.READ_WRITE_MANY] } }, { replicas: 3 }) },
  { name: 'A: new ReadWriteMany claim with a storage class, 4 replicas', mode: A, build: chart(A, { disk: { accessModes: [DiskAccessMode.READ_WRITE_MANY], storageClassName: 'nfs', size: '50Gi', imageSize: '2Gi' } }, { replicas: 4 }) },
  { name: 'A: a claim per replica, 5 replicas', mode: A, build: chart(A, { disk: { kind: EmulatorDiskKind.CLAIM_PER_REPLICA, size: '12Gi' } }, { replicas: 5 }) },
  { name: 'B: shared read-only base with per-replica overlays, 9 replicas', mode: B, build: chart(B, { disk: { kind: EmulatorDiskKind.SHARED_BASE, overlaySize: '1Gi' } }, { replicas: 9 }) },
  { name: 'A: golden clone of a claim, 3 replicas', mode: A, build: chart(A, { disk: { kind: EmulatorDiskKind.GOLDEN_CLONE, cloneFrom: { kind: CloneSourceKind.PERSISTENT_VOLUME_CLAIM, name: 'golden' } } }, { replicas: 3 }) },
  { name: 'B: golden clone of a VolumeSnapshot', mode: B, build: chart(B, { disk: { kind: EmulatorDiskKind.GOLDEN_CLONE, cloneFrom: { kind: CloneSourceKind.VOLUME_SNAPSHOT, name: 'win98-golden' } } }) },
  { name: 'C: emptyDir in memory with a declared image size', mode: C, build: chart(C, { disk: { medium: EmptyDirMedium.MEMORY, sizeLimit: '4Gi', imageSize: '2Gi' } }) },
  { name: 'C: seeded from the snapshot by kubelet pull', mode: C, build: chart(C, { seedEphemeralDisk: true }) },
  { name: 'B: seed order built-in first, then snapshot', mode: B, build: chart(B, { seedSources: [SeedSource.BUILTIN, SeedSource.SNAPSHOT] }) },
  { name: 'B: snapshot only, by the registry client', mode: B, build: chart(B, { seedSources: [SeedSource.SNAPSHOT], snapshotMethod: SnapshotMethod.REGISTRY_CLIENT }) },
  { name: 'A: built-in only, header check and expected sha256', mode: A, build: chart(A, { seedSources: [SeedSource.BUILTIN], seedVerification: SeedVerification.HEADER, expectedSha256: 'ab'.repeat(32) }) },
  { name: 'B: a private snapshot registry with a pinned snapshot digest', mode: B, build: chart(B, { snapshotImage: `registry.example.com:5000/loco/snapshots@${DIGEST}` }, { imagePullSecrets: ['registry-credentials'] }) },
  { name: 'A: probes off', mode: A, build: chart(A, {}, { probes: { startup: { enabled: false }, liveness: { enabled: false }, readiness: { enabled: false } } }) },
  { name: 'C: probes tuned', mode: C, build: chart(C, {}, { probes: { startup: { failureThreshold: 60, periodSeconds: 5 }, liveness: { path: '/health', timeoutSeconds: 2 } } }) },
  { name: 'A: kvm and dri from device plugins', mode: A, build: chart(A, {}, { kvm: {}, dri: { resourceName: 'squat.ai/dri' } }) },
  { name: 'B: kvm and dri by hostPath, privileged', mode: B, build: chart(B, {}, { privileged: true, kvm: { source: DeviceSource.HOST_PATH }, dri: { source: DeviceSource.HOST_PATH } }) },
  { name: 'C: tun and kvm from device plugins', mode: C, build: chart(C, {}, { tun: { source: DeviceSource.DEVICE_PLUGIN }, kvm: { source: DeviceSource.DEVICE_PLUGIN } }) },
  { name: 'C: privileged as the Helm chart', mode: C, build: chart(C, {}, { privileged: true }) },
  { name: 'A: extra env, scheduling and an extra capability', mode: A, build: chart(A, {}, {
    env: { BRIDGE: 'loco-br', TAP_IF: 'tap0', LOCO_DEBUG: '1' },
    nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    tolerations: [{ key: 'emulators', operator: 'Exists', effect: 'NoSchedule' }],
    extraCapabilities: ['NET_RAW'],
  }) },
  { name: 'B: digest-pinned emulator image', mode: B, build: chart(B, {}, { tag: undefined, imageDigest: DIGEST }) },
  { name: 'C: latest tag, allowed, pulled always', mode: C, build: chart(C, {}, { tag: 'latest', allowLatestTag: true }) },
  { name: 'A: custom names, ports, resources and grace period', mode: A, build: chart(A, {}, {
    name: 'lego-loco', serviceName: 'loco-lan', ports: { vnc: 5900, health: 9090, lanSocket: 5555, lanMulticast: 5555 },
    resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '4', memory: '3Gi' } }, terminationGracePeriodSeconds: 300,
  }) },
  { name: 'B: one-shot reset and claim retention', mode: B, build: chart(B, { disk: { kind: EmulatorDiskKind.CLAIM_PER_REPLICA } }, {
    replicas: 2, resetToken: '2026-11-27', claimRetentionPolicy: { whenScaled: ClaimRetention.DELETE },
  }) },
  { name: 'C: read-only disk (no seeder)', mode: C, build: chart(C, {}, { readOnlyDisk: true }) },
  { name: 'standalone: disk, seeder and emulator in a namespace', build: standalone((scope) => {
    const disk = new EmulatorDisk(scope, 'Disk', { claimName: 'dos-disk', size: '2Gi' });
    const seeder = new DiskSeeder(scope, 'Seeder', { disk, image: 'ghcr.io/example/qemu-dos:3.1', imageFileName: 'dos.qcow2' });
    new QemuStatefulSet(scope, 'Emulator', { disk, seeder, image: 'ghcr.io/example/qemu-dos', tag: '3.1', name: 'dos' });
  }) },
  { name: 'standalone: emulator on an emptyDir without a seeder', build: standalone((scope) => {
    const disk = new EmulatorDisk(scope, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR });
    new QemuStatefulSet(scope, 'Emulator', { disk, image: 'qemu-loco', tag: 'v1', prebuiltSnapshot: 'ghcr.io/mroie/qemu-snapshots:win98-base' });
  }) },
];

/** The objects a combination synthesizes. */
export function synthesize(combination: Combination): K8sObject[] {
  return Testing.synth(combination.build()) as K8sObject[];
}

/** Where the pod spec sits in the kinds that carry one. */
export function podSpecsOf(objects: K8sObject[]): { owner: string; metadata: any; spec: any }[] {
  const pods: { owner: string; metadata: any; spec: any }[] = [];
  for (const object of objects) {
    if (object.kind === 'StatefulSet' || object.kind === 'Job' || object.kind === 'Deployment') {
      pods.push({ owner: `${object.kind}/${object.metadata.name}`, metadata: object.spec.template.metadata ?? {}, spec: object.spec.template.spec });
    }
  }
  return pods;
}
