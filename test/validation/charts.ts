import { Chart, ChartProps, Testing } from 'cdk8s';
import { ImagePullPolicy } from 'cdk8s-plus-28';
import {
  ClaimRetention, CloneSource, ContainerImage, Device, DiskAccessMode, DiskSeeder, DiskVolume, EmptyDirMedium, EmulatorDisk, EmulatorOptions,
  EphemeralModeOptions, HybridModeOptions, LegoLoco, LegoLocoChart, PersistentModeOptions, QemuStatefulSet, SeedSource, SeedVerification,
  SnapshotMethod, StorageMode, StorageModeKind,
} from '../../lib';

/** A synthesized object, as plain JSON. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name?: string; [key: string]: any }; [key: string]: any };

/** A named way of using the library: the option matrix the validity and Pod Security tests share. */
export interface Combination {
  readonly name: string;
  /** The storage mode, for Lego Loco installations; undefined for the constructs used on their own. */
  readonly mode?: StorageModeKind;
  readonly build: () => Chart;
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const emulator: EmulatorOptions = { image: ContainerImage.fromTag('qemu-loco', 'v1.2.0'), replicas: 1 };

/** A LegoLocoChart in the given mode, with the emulator's options on top of the defaults here. */
function chart(name: string, mode: StorageMode, emulatorProps: Partial<EmulatorOptions> = {}, chartProps: ChartProps = {}): Combination {
  return { name, mode: mode.kind, build: () => new LegoLocoChart(Testing.app(), 'loco', { ...chartProps, mode, emulator: { ...emulator, ...emulatorProps } }) };
}

/** The constructs on their own, in a plain chart, as another project would use them. */
function standalone(name: string, build: (scope: Chart) => void, mode?: StorageModeKind): Combination {
  return {
    name,
    mode,
    build: () => {
      const scope = new Chart(Testing.app(), 'standalone', { namespace: 'games' });
      build(scope);
      return scope;
    },
  };
}

const A = (options?: PersistentModeOptions) => StorageMode.persistent(options);
const B = (options?: HybridModeOptions) => StorageMode.hybrid(options);
const C = (options?: EphemeralModeOptions) => StorageMode.ephemeral(options);
const SNAPSHOT = LegoLoco.SNAPSHOT_IMAGE;

export const COMBINATIONS: Combination[] = [
  chart('A: defaults', A()),
  chart('B: defaults', B()),
  chart('C: defaults', C()),
  chart('A: hostPath PersistentVolume, acknowledged', A({ volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true } }) })),
  chart('B: hostPath PersistentVolume at a custom path, in a namespace',
    B({ volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: '/data/loco' }, size: '12Gi' }) }), {}, { namespace: 'loco' }),
  chart('A: existing claim, 9 replicas on one node', A({ volume: DiskVolume.existingClaim('players-disk') }), { replicas: 9, scheduling: { sharedClaimOnOneNode: true } }),
  chart('B: existing ReadWriteMany claim, 3 replicas', B({ volume: DiskVolume.existingClaim('win98-disk', { accessModes: [DiskAccessMode.READ_WRITE_MANY] }) }), { replicas: 3 }),
  chart('A: new ReadWriteMany claim with a storage class, 4 replicas',
    A({ volume: DiskVolume.newClaim({ accessModes: [DiskAccessMode.READ_WRITE_MANY], storageClassName: 'nfs', size: '50Gi', imageSize: '2Gi' }) }), { replicas: 4 }),
  chart('A: a claim per replica, 5 replicas', A({ volume: DiskVolume.claimPerReplica({ size: '12Gi' }) }), { replicas: 5 }),
  chart('B: shared read-only base with per-replica overlays, 9 replicas', B({ volume: DiskVolume.sharedBase({ overlaySize: '1Gi' }) }), { replicas: 9 }),
  chart('A: golden clone of a claim, 3 replicas', A({ volume: DiskVolume.goldenClone(CloneSource.fromClaim('golden')) }), { replicas: 3 }),
  chart('B: golden clone of a VolumeSnapshot', B({ volume: DiskVolume.goldenClone(CloneSource.fromVolumeSnapshot('win98-golden')) })),
  chart('C: emptyDir in memory with a declared image size', C({ emptyDir: { medium: EmptyDirMedium.MEMORY, sizeLimit: '4Gi', imageSize: '2Gi' } })),
  chart('C: seeded from the snapshot by kubelet pull', C({ seeder: {} })),
  chart('C: seeded from the snapshot by the registry client', C({ seeder: { method: SnapshotMethod.registryClient() } })),
  chart('B: seed order built-in first, then snapshot', B({ seeder: { sources: [SeedSource.builtin(), SeedSource.snapshot(SNAPSHOT)] } })),
  chart('B: snapshot only, by the registry client', B({ seeder: { sources: [SeedSource.snapshot(SNAPSHOT, { method: SnapshotMethod.registryClient() })] } })),
  chart('A: built-in only, header check and expected sha256',
    A({ seeder: { sources: [SeedSource.builtin()], verification: SeedVerification.HEADER, expectedSha256: 'ab'.repeat(32) } })),
  chart('B: a private snapshot registry with a pinned snapshot digest', B({
    seeder: { sources: [SeedSource.snapshot(ContainerImage.fromReference(`registry.example.com:5000/loco/snapshots@${DIGEST}`)), SeedSource.builtin()] },
  }), { imagePullSecrets: ['registry-credentials'] }),
  chart('A: probes off', A(), { probes: { startup: { enabled: false }, liveness: { enabled: false }, readiness: { enabled: false } } }),
  chart('C: probes tuned', C(), { probes: { startup: { failureThreshold: 60, periodSeconds: 5 }, liveness: { path: '/health', timeoutSeconds: 2 } } }),
  chart('A: kvm and dri from device plugins', A(), { devices: { kvm: Device.devicePlugin(), dri: Device.devicePlugin('squat.ai/dri') } }),
  chart('B: kvm and dri by hostPath, privileged', B(), { security: { privileged: true }, devices: { kvm: Device.hostPath(), dri: Device.hostPath() } }),
  chart('C: tun and kvm from device plugins', C(), { devices: { tun: Device.devicePlugin(), kvm: Device.devicePlugin() } }),
  chart('C: privileged as the Helm chart', C(), { security: { privileged: true } }),
  chart('A: extra env, scheduling and an extra capability', A(), {
    env: { BRIDGE: 'loco-br', TAP_IF: 'tap0', LOCO_DEBUG: '1' },
    scheduling: { nodeSelector: { 'kubernetes.io/arch': 'amd64' }, tolerations: [{ key: 'emulators', operator: 'Exists', effect: 'NoSchedule' }] },
    security: { extraCapabilities: ['NET_RAW'] },
  }),
  chart('B: digest-pinned emulator image', B(), { image: ContainerImage.fromDigest('qemu-loco', DIGEST) }),
  chart('C: latest tag, allowed, pulled always', C(), { image: ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true }) }),
  chart('A: latest tag loaded by hand, pulled if not present', A(), {
    image: ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true, pullPolicy: ImagePullPolicy.IF_NOT_PRESENT }),
  }),
  chart('A: custom names, ports, resources and grace period', A(), {
    name: 'lego-loco', serviceName: 'loco-lan', ports: { vnc: 5900, health: 9090, lanSocket: 5555, lanMulticast: 5555 },
    resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '4', memory: '3Gi' } }, scheduling: { terminationGracePeriodSeconds: 300 },
  }),
  chart('B: one-shot reset and claim retention', B({ volume: DiskVolume.claimPerReplica() }), {
    replicas: 2, overlays: { resetToken: '2026-11-27' }, claimRetentionPolicy: { whenScaled: ClaimRetention.DELETE },
  }),
  chart('C: read-only disk (no seeder)', C(), { security: { readOnlyDisk: true } }),
  standalone('standalone: disk, seeder and emulator in a namespace', (scope) => {
    const disk = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.newClaim({ claimName: 'dos-disk', size: '2Gi' }) });
    const image = ContainerImage.fromTag('ghcr.io/example/qemu-dos', '3.1');
    const seeder = new DiskSeeder(scope, 'Seeder', { disk, image, imageFileName: 'dos.qcow2' });
    new QemuStatefulSet(scope, 'Emulator', { disk, seeder, image, name: 'dos' });
  }),
  standalone('standalone: emulator on an emptyDir without a seeder', (scope) => {
    const disk = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.emptyDir() });
    new QemuStatefulSet(scope, 'Emulator', { disk, image: ContainerImage.fromTag('qemu-loco', 'v1'), prebuiltSnapshot: SNAPSHOT });
  }),
  standalone('standalone: LegoLoco in a chart with labels, two installations, metadata', (scope) => {
    new LegoLoco(scope, 'lab', { mode: B(), emulator, metadata: { labels: { team: 'retro' }, annotations: { 'example.com/owner': 'games' } } });
    new LegoLoco(scope, 'demo', { mode: C(), emulator: { ...emulator, name: 'demo-emulator' } });
  }, StorageModeKind.HYBRID),
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
