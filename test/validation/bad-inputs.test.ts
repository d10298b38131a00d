import { Chart, Testing } from 'cdk8s';
import {
  CloneSourceKind, DeviceSource, DiskAccessMode, DiskSeeder, EmulatorDisk, EmulatorDiskKind, EmulatorDiskProps, EmulatorOptions,
  LegoLocoChart, LegoLocoChartProps, QemuStatefulSet, QemuStatefulSetProps, SeedSource, StorageMode,
} from '../../lib';

/**
 * Bad inputs and the one error each must produce at synth time: the construct path, the property,
 * the bad value and what is allowed. Each message is asserted whole, so a vaguer message fails.
 */

const emulator: EmulatorOptions = { image: 'qemu-loco', tag: 'v1' };

function chart(mode: StorageMode, props: Partial<LegoLocoChartProps> = {}, emulatorProps: Partial<EmulatorOptions> = {}): () => void {
  return () => { new LegoLocoChart(Testing.app(), 'loco', { mode, ...props, emulator: { ...emulator, ...emulatorProps } }); };
}
const A = (props: Partial<LegoLocoChartProps> = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.PERSISTENT, props, emulatorProps);
const B = (props: Partial<LegoLocoChartProps> = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.HYBRID, props, emulatorProps);
const C = (props: Partial<LegoLocoChartProps> = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.EPHEMERAL, props, emulatorProps);
const disk = (props: EmulatorDiskProps) => A({ disk: props });

/** The constructs on their own, in a chart named `test`. */
function standalone(build: (scope: Chart) => void): () => void {
  return () => build(new Chart(Testing.app(), 'test'));
}
function emulatorWith(props: Partial<QemuStatefulSetProps>): () => void {
  return standalone((scope) => {
    const emptyDisk = new EmulatorDisk(scope, 'Disk', { kind: EmulatorDiskKind.EMPTY_DIR });
    new QemuStatefulSet(scope, 'Emulator', { disk: emptyDisk, image: 'qemu-loco', tag: 'v1', ...props });
  });
}

const CASES: [string, () => void, string][] = [
  // names that are not DNS-1123
  ['claim name with upper case and _', disk({ claimName: 'Win98_Disk' }),
    `loco/Disk: invalid claimName "Win98_Disk": must be a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`],
  ['emulator name with upper case', A({}, { name: 'Loco' }),
    `loco/Emulator: invalid name "Loco": must be a DNS-1123 label: at most 52 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['emulator name of 53 characters', A({}, { name: 'l'.repeat(53) }),
    `loco/Emulator: invalid name "lllllllllllllllllllllllllllllllllllllllllllllllllllll": must be a DNS-1123 label: at most 52 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['service name with a dot', A({}, { serviceName: 'loco.lan' }),
    `loco/Emulator: invalid serviceName "loco.lan": must be a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['clone source name with a space', disk({ kind: EmulatorDiskKind.GOLDEN_CLONE, cloneFrom: { kind: CloneSourceKind.PERSISTENT_VOLUME_CLAIM, name: 'golden disk' } }),
    `loco/Disk: invalid cloneFrom.name "golden disk": must be a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`],
  // replicas
  ['replicas 0', C({}, { replicas: 0 }),
    'loco/Emulator: invalid replicas 0: must be a whole number at least 1'],
  ['replicas 2.5', C({}, { replicas: 2.5 }),
    'loco/Emulator: invalid replicas 2.5: must be a whole number at least 1'],
  // sizes
  ['size 10GB', disk({ size: '10GB' }),
    `loco/Disk: invalid size "10GB": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  ['size -1Gi', disk({ size: '-1Gi' }),
    `loco/Disk: invalid size "-1Gi": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  ['sizeLimit 20gb', C({ disk: { sizeLimit: '20gb' } }),
    `loco/Disk: invalid sizeLimit "20gb": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  ['overlaySize 0', disk({ kind: EmulatorDiskKind.SHARED_BASE, overlaySize: '0' }),
    `loco/Disk: invalid overlaySize "0": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  ['minVirtualSize not a quantity', standalone((scope) => new DiskSeeder(scope, 'Seeder', { disk: new EmulatorDisk(scope, 'Disk'), image: 'qemu-loco:v1', minVirtualSize: '2GB' })),
    `test/Seeder: invalid minVirtualSize "2GB": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  ['maxVirtualSize with a fraction of a byte', A({ maxVirtualSize: '1.5' }),
    'loco/Seeder: invalid maxVirtualSize "1.5": must be a whole number of bytes of at most 9007199254740991'],
  ['minVirtualSize above the default maxVirtualSize', B({ minVirtualSize: '100Gi' }),
    'loco/Seeder: invalid minVirtualSize "100Gi": must not exceed maxVirtualSize (64Gi, the default): no image could pass both'],
  ['minVirtualSize above maxVirtualSize', A({ minVirtualSize: '4Gi', maxVirtualSize: '2Gi' }),
    'loco/Seeder: invalid minVirtualSize "4Gi": must not exceed maxVirtualSize (2Gi): no image could pass both'],
  ['maxVirtualSize in mode C without a seeder', C({ maxVirtualSize: '8Gi' }),
    'loco: invalid maxVirtualSize "8Gi": is a setting of the seeder, and mode ephemeral has none unless seedEphemeralDisk is set'],
  ['imageSize not a quantity', C({ disk: { imageSize: 'big' } }),
    `loco/Disk: invalid imageSize "big": must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)`],
  // a volume smaller than the declared image
  ['emptyDir sizeLimit smaller than imageSize', C({ disk: { sizeLimit: '4Gi', imageSize: '5Gi' } }),
    'loco/Disk: invalid sizeLimit "4Gi": must be at least imageSize (5Gi), plus room for the overlays: the kubelet evicts the pod once the emptyDir holds more than its sizeLimit'],
  ['claim size smaller than imageSize', disk({ size: '1Gi', imageSize: '1500Mi' }),
    'loco/Disk: invalid size "1Gi": must be at least imageSize (1500Mi), plus room for the overlays: the seeder cannot copy the image onto a smaller claim'],
  // snapshot references
  ['snapshot without tag or digest', B({ snapshotImage: 'ghcr.io/mroie/qemu-snapshots' }),
    'loco: invalid snapshotImage "ghcr.io/mroie/qemu-snapshots": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  ['snapshot repository with upper case', B({ snapshotImage: 'ghcr.io/MRoie/qemu-snapshots:win98-base' }),
    'loco: invalid snapshotImage "ghcr.io/MRoie/qemu-snapshots:win98-base": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  ['snapshot digest too short', B({ snapshotImage: 'ghcr.io/mroie/qemu-snapshots@sha256:abc123' }),
    'loco: invalid snapshotImage "ghcr.io/mroie/qemu-snapshots@sha256:abc123": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  ['snapshot tag starting with -', B({ snapshotImage: 'ghcr.io/mroie/qemu-snapshots:-base' }),
    'loco: invalid snapshotImage "ghcr.io/mroie/qemu-snapshots:-base": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  ['snapshot registry given as a URL', C({ snapshotImage: 'https://ghcr.io/mroie/qemu-snapshots:win98-base' }),
    'loco: invalid snapshotImage "https://ghcr.io/mroie/qemu-snapshots:win98-base": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  // modes
  ['mode A without the built-in source', A({ seedSources: [SeedSource.SNAPSHOT] }),
    `loco: invalid seedSources ["snapshot"]: mode persistent seeds from the image built into the emulator image and must include 'builtin'; use mode hybrid to seed from the snapshot`],
  ['mode C given a claim', C({ disk: { kind: EmulatorDiskKind.CLAIM } }),
    'loco: invalid disk.kind "claim": mode ephemeral keeps nothing and takes an emptyDir disk; use mode persistent or hybrid for a claim'],
  ['mode C given a claim name', C({ disk: { claimName: 'win98-disk' } }),
    'loco/Disk: invalid claimName "win98-disk": does not apply to disk kind empty-dir, which takes sizeLimit, medium, imageSize (claimName applies to claim, existing-claim, shared-base)'],
  ['mode C given seed sources', C({ seedSources: [SeedSource.SNAPSHOT] }),
    'loco: invalid seedSources ["snapshot"]: mode ephemeral has no seeder: the entrypoint downloads the snapshot at start (or set seedEphemeralDisk to seed it from the snapshot)'],
  ['mode A given an emptyDir', A({ disk: { kind: EmulatorDiskKind.EMPTY_DIR } }),
    'loco: invalid disk.kind "empty-dir": mode persistent keeps the disk on a claim; use mode ephemeral for an emptyDir'],
  // read-only disks and seeders
  ['a read-only disk with a seeder', A({}, { readOnlyDisk: true }),
    'loco/Emulator: invalid readOnlyDisk true: cannot be combined with a seeder, which must write the disk; drop the seeder or mount the disk read-write'],
  ['a ReadOnlyMany claim with a seeder', disk({ accessModes: [DiskAccessMode.READ_ONLY_MANY] }),
    'loco/Seeder: invalid disk "loco/Disk": is ReadOnlyMany only, and the seeder must write the image onto it: give the disk a writable access mode (ReadWriteOnce, ReadWriteMany) or drop the seeder'],
  ['a seeder for another disk', standalone((scope) => {
    const seeded = new EmulatorDisk(scope, 'Disk', { claimName: 'seeded' });
    const other = new EmulatorDisk(scope, 'OtherDisk', { claimName: 'other' });
    const seeder = new DiskSeeder(scope, 'Seeder', { disk: seeded, image: 'qemu-loco:v1' });
    new QemuStatefulSet(scope, 'Emulator', { disk: other, seeder, image: 'qemu-loco', tag: 'v1' });
  }),
    'test/Emulator: invalid seeder "test/Seeder": must seed the same disk as the emulator mounts (test/OtherDisk)'],
  ['a seeder running as root on a provisioned claim', standalone((scope) => {
    new DiskSeeder(scope, 'Seeder', { disk: new EmulatorDisk(scope, 'Disk'), image: 'qemu-loco:v1', runAsUser: 0 });
  }),
    'test/Seeder: invalid runAsUser 0: must be a whole number of at least 1: the seeder needs no root, the pod fsGroup gives it the volume'],
  ['the same seed source twice', B({ seedSources: [SeedSource.SNAPSHOT, SeedSource.SNAPSHOT] }),
    'loco/Seeder: invalid sources ["snapshot","snapshot"]: must name each source at most once'],
  ['a malformed expected sha256', A({ expectedSha256: 'ABC' }),
    'loco/Seeder: invalid expectedSha256 "ABC": must be 64 lower-case hex digits'],
  // hostPath PersistentVolume opt-in
  ['a hostPath PersistentVolume without the acknowledgement', disk({ hostPathVolume: { acknowledgeNodeLocal: false } }),
    'loco/Disk: invalid hostPathVolume.acknowledgeNodeLocal false: must be true to create a hostPath PersistentVolume: it keeps the disk on one node and suits single-node clusters only; leave hostPathVolume unset to let the StorageClass provision the claim'],
  ['a hostPath PersistentVolume at a relative path', disk({ hostPathVolume: { acknowledgeNodeLocal: true, path: 'tmp/win98' } }),
    'loco/Disk: invalid hostPathVolume.path "tmp/win98": must be an absolute path on the node'],
  // ports
  ['vnc port clashing with the health port', C({}, { ports: { vnc: 8080 } }),
    'loco/Emulator: invalid ports.health 8080: clashes with ports.vnc (both 8080/TCP); give each port its own number'],
  ['a port above 65535', C({}, { ports: { lanSocket: 70000 } }),
    'loco/Emulator: invalid ports.lanSocket 70000: must be a whole number from 1 to 65535'],
  // probes
  ['liveness failureThreshold 0', C({}, { probes: { liveness: { failureThreshold: 0 } } }),
    'loco/Emulator: invalid probes.liveness.failureThreshold 0: must be a whole number at least 1'],
  ['startup periodSeconds 0', C({}, { probes: { startup: { periodSeconds: 0 } } }),
    'loco/Emulator: invalid probes.startup.periodSeconds 0: must be a whole number at least 1'],
  ['readiness initialDelaySeconds -1', C({}, { probes: { readiness: { initialDelaySeconds: -1 } } }),
    'loco/Emulator: invalid probes.readiness.initialDelaySeconds -1: must be a whole number at least 0'],
  ['a probe path without /', C({}, { probes: { readiness: { path: 'health' } } }),
    `loco/Emulator: invalid probes.readiness.path "health": must be an HTTP path starting with '/'`],
  // several replicas on one ReadWriteOnce claim
  ['3 replicas on one ReadWriteOnce claim without the single-node acknowledgement', A({}, { replicas: 3 }),
    "loco/Emulator: invalid replicas 3: 3 replicas share the ReadWriteOnce claim 'win98-disk': on a multi-node cluster every pod scheduled to another node fails with a Multi-Attach error. Use a claim per replica (EmulatorDiskKind.CLAIM_PER_REPLICA, SHARED_BASE or GOLDEN_CLONE: volumeClaimTemplates), a ReadWriteMany claim, or set sharedClaimOnOneNode: true to keep all replicas on one node"],
  // images
  ['the latest tag without allowLatestTag', C({}, { tag: 'latest' }),
    `loco/Emulator: invalid tag "latest": 'latest' runs whatever was pushed last on each node: pin a version tag or imageDigest, or set allowLatestTag: true`],
  ['no tag and no digest', C({}, { tag: undefined }),
    'loco/Emulator: invalid tag (not set): must be an image tag (letters, digits, _ . -, at most 128 characters), or give imageDigest'],
  ['a digest that is not sha256', C({}, { imageDigest: 'md5:abc' }),
    'loco/Emulator: invalid imageDigest "md5:abc": must be sha256:<64 lower-case hex digits>'],
  ['a tag inside the image repository', C({}, { image: 'qemu-loco:v1' }),
    'loco/Emulator: invalid image "qemu-loco:v1": must be an image repository without tag or digest, e.g. qemu-loco or ghcr.io/mroie/qemu-loco (give the tag in tag)'],
  ['an unknown pull policy', C({}, { imagePullPolicy: 'Sometimes' }),
    'loco/Emulator: invalid imagePullPolicy "Sometimes": must be one of Always, IfNotPresent, Never'],
  // devices and privileges
  ['kvm by hostPath without privileged', C({}, { kvm: { source: DeviceSource.HOST_PATH } }),
    `loco/Emulator: invalid kvm.source "hostPath": a hostPath device is only usable by a privileged container: set privileged: true, or use DeviceSource.DEVICE_PLUGIN with a device plugin's resource (devices.kubevirt.io/kvm)`],
  ['a device plugin resource without a domain', C({}, { tun: { source: DeviceSource.DEVICE_PLUGIN, resourceName: 'tun' } }),
    "loco/Emulator: invalid tun.resourceName \"tun\": must be a device plugin's extended resource name, <domain>/<name> outside kubernetes.io, e.g. devices.kubevirt.io/tun"],
  ['a hostPath device outside /dev', C({}, { privileged: true, kvm: { source: DeviceSource.HOST_PATH, hostPath: 'kvm' } }),
    "loco/Emulator: invalid kvm.hostPath \"kvm\": must be an absolute path under /dev on the node, e.g. /dev/kvm"],
  ['SYS_ADMIN as an extra capability', C({}, { extraCapabilities: ['SYS_ADMIN'] }),
    'loco/Emulator: invalid extraCapabilities "SYS_ADMIN": is as good as privileged: set privileged: true instead, explicitly'],
  ['a capability with the CAP_ prefix', C({}, { extraCapabilities: ['CAP_NET_RAW'] }),
    'loco/Emulator: invalid extraCapabilities "CAP_NET_RAW": each must be a Linux capability name without the CAP_ prefix, e.g. NET_RAW'],
  ['extra capabilities on a privileged emulator', C({}, { privileged: true, extraCapabilities: ['NET_RAW'] }),
    'loco/Emulator: invalid extraCapabilities ["NET_RAW"]: does not apply with privileged: true, which already has every capability'],
  // environment, resources, grace period
  ['env setting DISK, which the construct owns', C({}, { env: { DISK: '/images/other.qcow2' } }),
    'loco/Emulator: invalid env.DISK "/images/other.qcow2": clashes with DISK that the construct sets from the disk (seeder imagePath); set that property instead of env.DISK'],
  ['an env name starting with a digit', C({}, { env: { '1ST': 'x' } }),
    `loco/Emulator: invalid env "1ST": each name must be letters, digits, '_', '-' and '.', not starting with a digit`],
  ['a resource quantity with a space', C({}, { resources: { limits: { memory: '2 Gi' } } }),
    `loco/Emulator: invalid resources.limits.memory "2 Gi": must be a Kubernetes quantity such as '500m', '2' or '1Gi'`],
  ['a request above its limit', C({}, { resources: { requests: { cpu: '8' }, limits: { cpu: '4' } } }),
    'loco/Emulator: invalid resources.requests.cpu "8": must not exceed resources.limits.cpu (4)'],
  ['a seeder snapshot with a malformed digest', standalone((scope) => {
    new DiskSeeder(scope, 'Seeder', { disk: new EmulatorDisk(scope, 'Disk'), image: 'qemu-loco:v1', sources: [SeedSource.SNAPSHOT], snapshotImage: 'ghcr.io/mroie/qemu-snapshots@sha256:XYZ' });
  }),
    'test/Seeder: invalid snapshotImage "ghcr.io/mroie/qemu-snapshots@sha256:XYZ": must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base'],
  ['a seeder pull policy in lower case', B({}, { imagePullPolicy: 'always' }),
    'loco/Seeder: invalid imagePullPolicy "always": must be one of Always, IfNotPresent, Never'],
  ['a grace period of 5 seconds', C({}, { terminationGracePeriodSeconds: 5 }),
    'loco/Emulator: invalid terminationGracePeriodSeconds 5: must be a whole number at least 10'],
  ['an unknown snapshot mode', emulatorWith({ snapshotMode: 'sometimes' }),
    `test/Emulator: invalid snapshotMode "sometimes": must be 'persistent' or 'ephemeral'`],
];

test('at least 30 bad inputs are covered', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(30);
});

test.each(CASES)('refuses %s', (_, build, expected) => {
  expect(build).toThrow(new Error(expected));
});
