import { Chart, Testing } from 'cdk8s';
import {
  CloneSource, ContainerImage, Device, DiskAccessMode, DiskSeeder, DiskSeederProps, DiskVolume, EmulatorDisk, EmulatorOptions, EphemeralModeOptions,
  HybridModeOptions, LegoLoco, LegoLocoChart, PersistentModeOptions, QemuStatefulSet, QemuStatefulSetProps, SeedSource, SnapshotMethod, StorageMode,
} from '../../lib';
import { shippedScript } from '../../lib/disk-seeder';

/**
 * Bad inputs and the one error each must produce at synth time: the construct path, the property,
 * the bad value and what is allowed. Each message is asserted whole, so a vaguer message fails.
 * Inputs that the types refuse since API 2.0 are in test/api-types.ts, as compile-time checks.
 */

const emulator: EmulatorOptions = { image: ContainerImage.fromTag('qemu-loco', 'v1') };
const SNAPSHOT = LegoLoco.SNAPSHOT_IMAGE;

function chart(mode: StorageMode, emulatorProps: Partial<EmulatorOptions> = {}): () => void {
  return () => { new LegoLocoChart(Testing.app(), 'loco', { mode, emulator: { ...emulator, ...emulatorProps } }); };
}
const A = (options: PersistentModeOptions = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.persistent(options), emulatorProps);
const B = (options: HybridModeOptions = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.hybrid(options), emulatorProps);
const C = (options: EphemeralModeOptions = {}, emulatorProps: Partial<EmulatorOptions> = {}) => chart(StorageMode.ephemeral(options), emulatorProps);
const disk = (volume: DiskVolume) => A({ volume });
const image = (repository: string, tag = 'v1') => ContainerImage.fromTag(repository, tag);
const snapshot = (reference: string) => SeedSource.snapshot(ContainerImage.fromReference(reference));

/** The constructs on their own, in a chart named `test`. */
function standalone(build: (scope: Chart) => void): () => void {
  return () => build(new Chart(Testing.app(), 'test'));
}
function emulatorWith(props: Partial<QemuStatefulSetProps>): () => void {
  return standalone((scope) => {
    const emptyDisk = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.emptyDir() });
    new QemuStatefulSet(scope, 'Emulator', { disk: emptyDisk, image: image('qemu-loco'), ...props });
  });
}

function seederWith(props: Partial<DiskSeederProps>): () => void {
  return standalone((scope) => {
    new DiskSeeder(scope, 'Seeder', { disk: new EmulatorDisk(scope, 'Disk'), image: image('qemu-loco'), ...props });
  });
}

const ABSOLUTE = "must be an absolute path: '/' then names separated by single '/', none of them empty, '.' or '..', no control characters (NUL, line breaks), at most 4096 characters, not '/' itself";
const FILE_NAME = "must be a plain file name: no '/', not empty, '.' or '..', no control characters (NUL, line breaks), at most 255 characters";
const REPOSITORY = 'must be an image repository [registry/]name in lower case, without tag or digest, e.g. qemu-loco or ghcr.io/mroie/qemu-loco';
const ANY_IMAGE = 'must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository and no spaces, e.g. ghcr.io/mroie/qemu-snapshots:win98-base';
const QUANTITY = "must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)";
const DNS_SUBDOMAIN = "must be a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
/** Where LegoLocoChart `loco` puts its parts: the installation, its disk, its seeder, its emulators. */
const LOCO = 'loco/Resource';
const DISK = `${LOCO}/Disk`;
const SEEDER = `${LOCO}/Seeder`;
const EMULATOR = `${LOCO}/Resource`;

const CASES: [string, () => void, string][] = [
  // names that are not DNS-1123
  ['claim name with upper case and _', disk(DiskVolume.newClaim({ claimName: 'Win98_Disk' })),
    `${DISK}: invalid claimName "Win98_Disk": ${DNS_SUBDOMAIN}`],
  ['emulator name with upper case', A({}, { name: 'Loco' }),
    `${EMULATOR}: invalid name "Loco": must be a DNS-1123 label: at most 52 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['emulator name of 53 characters', A({}, { name: 'l'.repeat(53) }),
    `${EMULATOR}: invalid name "lllllllllllllllllllllllllllllllllllllllllllllllllllll": must be a DNS-1123 label: at most 52 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['service name with a dot', A({}, { serviceName: 'loco.lan' }),
    `${EMULATOR}: invalid serviceName "loco.lan": must be a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit`],
  ['clone source name with a space', disk(DiskVolume.goldenClone(CloneSource.fromClaim('golden disk'))),
    `${DISK}: invalid cloneFrom.name "golden disk": ${DNS_SUBDOMAIN}`],
  ['an existing claim name with upper case', disk(DiskVolume.existingClaim('Players')),
    `${DISK}: invalid claimName "Players": ${DNS_SUBDOMAIN}`],
  // replicas
  ['replicas 0', C({}, { replicas: 0 }),
    `${EMULATOR}: invalid replicas 0: must be a whole number at least 1`],
  ['replicas 2.5', C({}, { replicas: 2.5 }),
    `${EMULATOR}: invalid replicas 2.5: must be a whole number at least 1`],
  // sizes
  ['size 10GB', disk(DiskVolume.newClaim({ size: '10GB' })),
    `${DISK}: invalid size "10GB": ${QUANTITY}`],
  ['size -1Gi', disk(DiskVolume.newClaim({ size: '-1Gi' })),
    `${DISK}: invalid size "-1Gi": ${QUANTITY}`],
  ['sizeLimit 20gb', C({ emptyDir: { sizeLimit: '20gb' } }),
    `${DISK}: invalid sizeLimit "20gb": ${QUANTITY}`],
  ['overlaySize 0', disk(DiskVolume.sharedBase({ overlaySize: '0' })),
    `${DISK}: invalid overlaySize "0": ${QUANTITY}`],
  ['minVirtualSize not a quantity', seederWith({ minVirtualSize: '2GB' }),
    `test/Seeder: invalid minVirtualSize "2GB": ${QUANTITY}`],
  ['maxVirtualSize with a fraction of a byte', A({ seeder: { maxVirtualSize: '1.5' } }),
    `${SEEDER}: invalid maxVirtualSize "1.5": must be a whole number of bytes of at most 9007199254740991`],
  ['minVirtualSize above the default maxVirtualSize', B({ seeder: { minVirtualSize: '100Gi' } }),
    `${SEEDER}: invalid minVirtualSize "100Gi": must not exceed maxVirtualSize (64Gi, the default): no image could pass both`],
  ['minVirtualSize above maxVirtualSize', A({ seeder: { minVirtualSize: '4Gi', maxVirtualSize: '2Gi' } }),
    `${SEEDER}: invalid minVirtualSize "4Gi": must not exceed maxVirtualSize (2Gi): no image could pass both`],
  ['maxVirtualSize not a quantity in the ephemeral seeder', C({ seeder: { maxVirtualSize: '8GB' } }),
    `${SEEDER}: invalid maxVirtualSize "8GB": ${QUANTITY}`],
  ['imageSize not a quantity', C({ emptyDir: { imageSize: 'big' } }),
    `${DISK}: invalid imageSize "big": ${QUANTITY}`],
  // a volume smaller than the declared image
  ['emptyDir sizeLimit smaller than imageSize', C({ emptyDir: { sizeLimit: '4Gi', imageSize: '5Gi' } }),
    `${DISK}: invalid sizeLimit "4Gi": must be at least imageSize (5Gi), plus room for the overlays: the kubelet evicts the pod once the emptyDir holds more than its sizeLimit`],
  ['claim size smaller than imageSize', disk(DiskVolume.newClaim({ size: '1Gi', imageSize: '1500Mi' })),
    `${DISK}: invalid size "1Gi": must be at least imageSize (1500Mi), plus room for the overlays: the seeder cannot copy the image onto a smaller claim`],
  // snapshot references
  ['snapshot without tag or digest', B({ seeder: { sources: [snapshot('ghcr.io/mroie/qemu-snapshots')] } }),
    `${SEEDER}: invalid sources.snapshot.image "ghcr.io/mroie/qemu-snapshots": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)`],
  ['snapshot repository with upper case', B({ seeder: { sources: [snapshot('ghcr.io/MRoie/qemu-snapshots:win98-base')] } }),
    `${SEEDER}: invalid sources.snapshot.image "ghcr.io/MRoie/qemu-snapshots:win98-base": ${ANY_IMAGE}`],
  ['snapshot digest too short', B({ seeder: { sources: [snapshot('ghcr.io/mroie/qemu-snapshots@sha256:abc123')] } }),
    `${SEEDER}: invalid sources.snapshot.image "ghcr.io/mroie/qemu-snapshots@sha256:abc123": ${ANY_IMAGE}`],
  ['snapshot tag starting with -', B({ seeder: { sources: [snapshot('ghcr.io/mroie/qemu-snapshots:-base')] } }),
    `${SEEDER}: invalid sources.snapshot.image "ghcr.io/mroie/qemu-snapshots:-base": ${ANY_IMAGE}`],
  ['snapshot registry given as a URL', C({ snapshotImage: ContainerImage.fromReference('https://ghcr.io/mroie/qemu-snapshots:win98-base') }),
    `${LOCO}: invalid mode.snapshotImage "https://ghcr.io/mroie/qemu-snapshots:win98-base": ${ANY_IMAGE}`],
  // modes
  ['mode A without the built-in source', A({ seeder: { sources: [SeedSource.snapshot(SNAPSHOT)] } }),
    `${LOCO}: invalid mode.seeder.sources ["snapshot"]: mode persistent seeds from the image built into the emulator image and must include SeedSource.builtin(); use StorageMode.hybrid() to seed from the snapshot`],
  ['mode A given an emptyDir', A({ volume: DiskVolume.emptyDir() }),
    `${LOCO}: invalid mode.volume "DiskVolume.emptyDir()": mode persistent keeps the disk on a claim; use StorageMode.ephemeral() for an emptyDir`],
  // read-only disks and seeders
  ['a read-only disk with a seeder', A({}, { security: { readOnlyDisk: true } }),
    `${EMULATOR}: invalid security.readOnlyDisk true: cannot be combined with a seeder, which must write the disk; drop the seeder or mount the disk read-write`],
  ['a ReadOnlyMany claim with a seeder', disk(DiskVolume.newClaim({ accessModes: [DiskAccessMode.READ_ONLY_MANY] })),
    `${SEEDER}: invalid disk "${DISK}": is ReadOnlyMany only, and the seeder must write the image onto it: give the disk a writable access mode (ReadWriteOnce, ReadWriteMany) or drop the seeder`],
  ['a seeder for another disk', standalone((scope) => {
    const seeded = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.newClaim({ claimName: 'seeded' }) });
    const other = new EmulatorDisk(scope, 'OtherDisk', { volume: DiskVolume.newClaim({ claimName: 'other' }) });
    const seeder = new DiskSeeder(scope, 'Seeder', { disk: seeded, image: image('qemu-loco') });
    new QemuStatefulSet(scope, 'Emulator', { disk: other, seeder, image: image('qemu-loco') });
  }),
    'test/Emulator: invalid seeder "test/Seeder": must seed the same disk as the emulator mounts (test/OtherDisk)'],
  ['a seeder running as root on a provisioned claim', seederWith({ runAsUser: 0 }),
    'test/Seeder: invalid runAsUser 0: must be a whole number of at least 1: the seeder needs no root, the pod fsGroup gives it the volume'],
  ['the same seed source twice', B({ seeder: { sources: [SeedSource.snapshot(SNAPSHOT), SeedSource.snapshot(SNAPSHOT)] } }),
    `${SEEDER}: invalid sources ["snapshot","snapshot"]: must name each source at most once`],
  ['a malformed expected sha256', A({ seeder: { expectedSha256: 'ABC' } }),
    `${SEEDER}: invalid expectedSha256 "ABC": must be 64 lower-case hex digits`],
  // hostPath PersistentVolume opt-in
  ['a hostPath PersistentVolume without the acknowledgement', disk(DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: false } })),
    `${DISK}: invalid hostPathVolume.acknowledgeNodeLocal false: must be true to create a hostPath PersistentVolume: it keeps the disk on one node and suits single-node clusters only; leave hostPathVolume unset to let the StorageClass provision the claim`],
  ['a hostPath PersistentVolume at a relative path', disk(DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: 'tmp/win98' } })),
    `${DISK}: invalid hostPathVolume.path "tmp/win98": ${ABSOLUTE}`],
  ['a hostPath PersistentVolume with a .. segment', disk(DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: '/tmp/../etc' } })),
    `${DISK}: invalid hostPathVolume.path "/tmp/../etc": ${ABSOLUTE}`],
  ["a hostPath PersistentVolume at the node's root", disk(DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: '/' } })),
    `${DISK}: invalid hostPathVolume.path "/": ${ABSOLUTE}`],
  // ports
  ['vnc port clashing with the health port', C({}, { ports: { vnc: 8080 } }),
    `${EMULATOR}: invalid ports.health 8080: clashes with ports.vnc (both 8080/TCP); give each port its own number`],
  ['a port above 65535', C({}, { ports: { lanSocket: 70000 } }),
    `${EMULATOR}: invalid ports.lanSocket 70000: must be a whole number from 1 to 65535`],
  // probes
  ['liveness failureThreshold 0', C({}, { probes: { liveness: { failureThreshold: 0 } } }),
    `${EMULATOR}: invalid probes.liveness.failureThreshold 0: must be a whole number at least 1`],
  ['startup periodSeconds 0', C({}, { probes: { startup: { periodSeconds: 0 } } }),
    `${EMULATOR}: invalid probes.startup.periodSeconds 0: must be a whole number at least 1`],
  ['readiness initialDelaySeconds -1', C({}, { probes: { readiness: { initialDelaySeconds: -1 } } }),
    `${EMULATOR}: invalid probes.readiness.initialDelaySeconds -1: must be a whole number at least 0`],
  ['a probe path without /', C({}, { probes: { readiness: { path: 'health' } } }),
    `${EMULATOR}: invalid probes.readiness.path "health": must be an HTTP path starting with '/'`],
  // several replicas on one ReadWriteOnce claim
  ['3 replicas on one ReadWriteOnce claim without the single-node acknowledgement', A({}, { replicas: 3 }),
    `${EMULATOR}: invalid replicas 3: 3 replicas share the ReadWriteOnce claim 'win98-disk': on a multi-node cluster every pod scheduled to another node fails with a Multi-Attach error. Use a claim per replica (DiskVolume.claimPerReplica(), sharedBase() or goldenClone(): volumeClaimTemplates), a ReadWriteMany claim, or set scheduling.sharedClaimOnOneNode: true to keep all replicas on one node`],
  // images
  ['the latest tag without allowLatestTag', C({}, { image: image('qemu-loco', 'latest') }),
    `${LOCO}: invalid emulator.image "qemu-loco:latest": 'latest' runs whatever was pushed last on each node: pin a version tag or a digest, or pass allowLatestTag: true`],
  ['no tag and no digest', C({}, { image: ContainerImage.fromReference('qemu-loco') }),
    `${LOCO}: invalid emulator.image "qemu-loco": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)`],
  ['an empty tag', C({}, { image: image('qemu-loco', '') }),
    `${LOCO}: invalid emulator.image tag "": must be an image tag: letters, digits, _ . -, at most 128 characters, not starting with . or -`],
  ['a digest that is not sha256', C({}, { image: ContainerImage.fromDigest('qemu-loco', 'md5:abc') }),
    `${LOCO}: invalid emulator.image digest "md5:abc": must be sha256:<64 lower-case hex digits>`],
  ['a tag inside the image repository', C({}, { image: image('qemu-loco:v1') }),
    `${LOCO}: invalid emulator.image repository "qemu-loco:v1": ${REPOSITORY}`],
  ['an emulator image in upper case', C({}, { image: image('Qemu-Loco') }),
    `${LOCO}: invalid emulator.image repository "Qemu-Loco": ${REPOSITORY}`],
  ['an emulator image with a space', C({}, { image: image('qemu loco') }),
    `${LOCO}: invalid emulator.image repository "qemu loco": ${REPOSITORY}`],
  ['a seeder image with a space', seederWith({ image: ContainerImage.fromReference('qemu loco:v1') }),
    `test/Seeder: invalid image "qemu loco:v1": ${ANY_IMAGE}`],
  ['a seeder image in upper case', seederWith({ image: ContainerImage.fromReference('QEMU-LOCO:v1') }),
    `test/Seeder: invalid image "QEMU-LOCO:v1": ${ANY_IMAGE}`],
  ['a tools image in upper case', seederWith({
    sources: [SeedSource.snapshot(SNAPSHOT, { method: SnapshotMethod.kubeletPull({ toolsImage: ContainerImage.fromReference('Busybox:1.35') }) })],
  }),
    `test/Seeder: invalid sources.snapshot.method.toolsImage "Busybox:1.35": ${ANY_IMAGE}`],
  // devices and privileges
  ['kvm by hostPath without privileged', C({}, { devices: { kvm: Device.hostPath() } }),
    `${EMULATOR}: invalid devices.kvm "Device.hostPath()": a hostPath device is only usable by a privileged container: set security.privileged: true, or use Device.devicePlugin() with a device plugin's resource (devices.kubevirt.io/kvm)`],
  ['a device plugin resource without a domain', C({}, { devices: { tun: Device.devicePlugin('tun') } }),
    `${EMULATOR}: invalid devices.tun "tun": must be a device plugin's extended resource name, <domain>/<name> outside kubernetes.io, e.g. devices.kubevirt.io/tun`],
  ['a hostPath device outside /dev', C({}, { security: { privileged: true }, devices: { kvm: Device.hostPath('kvm') } }),
    `${EMULATOR}: invalid devices.kvm "kvm": must be an absolute path under /dev on the node, e.g. /dev/kvm`],
  ['a hostPath device that climbs out of /dev', C({}, { security: { privileged: true }, devices: { kvm: Device.hostPath('/dev/../etc/shadow') } }),
    `${EMULATOR}: invalid devices.kvm "/dev/../etc/shadow": ${ABSOLUTE}`],
  ['two hostPath devices at one path', C({}, { security: { privileged: true }, devices: { kvm: Device.hostPath(), dri: Device.hostPath('/dev/kvm') } }),
    `${EMULATOR}: invalid devices.dri "/dev/kvm": clashes with volume dev-kvm mounted at /dev/kvm in the same container: choose a path that is neither it, inside it, nor around it`],
  ['a hostPath device inside /dev/net/tun', C({}, { security: { privileged: true }, devices: { kvm: Device.hostPath('/dev/net/tun/kvm') } }),
    `${EMULATOR}: invalid devices.kvm "/dev/net/tun/kvm": clashes with volume dev-net-tun mounted at /dev/net/tun in the same container: choose a path that is neither it, inside it, nor around it`],
  ['SYS_ADMIN as an extra capability', C({}, { security: { extraCapabilities: ['SYS_ADMIN'] } }),
    `${EMULATOR}: invalid security.extraCapabilities "SYS_ADMIN": is as good as privileged: set security.privileged: true instead, explicitly`],
  ['a capability with the CAP_ prefix', C({}, { security: { extraCapabilities: ['CAP_NET_RAW'] } }),
    `${EMULATOR}: invalid security.extraCapabilities "CAP_NET_RAW": each must be a Linux capability name without the CAP_ prefix, e.g. NET_RAW`],
  ['extra capabilities on a privileged emulator', C({}, { security: { privileged: true, extraCapabilities: ['NET_RAW'] } }),
    `${EMULATOR}: invalid security.extraCapabilities ["NET_RAW"]: does not apply with privileged: true, which already has every capability`],
  // environment, resources, grace period
  ['env setting DISK, which the construct owns', C({}, { env: { DISK: '/images/other.qcow2' } }),
    `${EMULATOR}: invalid env.DISK "/images/other.qcow2": clashes with DISK that the construct sets from the disk (seeder imagePath); set that property instead of env.DISK`],
  ['an env name starting with a digit', C({}, { env: { '1ST': 'x' } }),
    `${EMULATOR}: invalid env "1ST": each name must be letters, digits, '_', '-' and '.', not starting with a digit`],
  ['a resource quantity with a space', C({}, { resources: { limits: { memory: '2 Gi' } } }),
    `${EMULATOR}: invalid resources.limits.memory "2 Gi": must be a Kubernetes quantity such as '500m', '2' or '1Gi'`],
  ['a request above its limit', C({}, { resources: { requests: { cpu: '8' }, limits: { cpu: '4' } } }),
    `${EMULATOR}: invalid resources.requests.cpu "8": must not exceed resources.limits.cpu (4)`],
  ['a seeder snapshot with a malformed digest', seederWith({ sources: [snapshot('ghcr.io/mroie/qemu-snapshots@sha256:XYZ')] }),
    `test/Seeder: invalid sources.snapshot.image "ghcr.io/mroie/qemu-snapshots@sha256:XYZ": ${ANY_IMAGE}`],
  ['a grace period of 5 seconds', C({}, { scheduling: { terminationGracePeriodSeconds: 5 } }),
    `${EMULATOR}: invalid scheduling.terminationGracePeriodSeconds 5: must be a whole number at least 10`],
  // paths
  ['an image file name with a /', seederWith({ imageFileName: 'disks/win98.qcow2' }),
    `test/Seeder: invalid imageFileName "disks/win98.qcow2": ${FILE_NAME}`],
  ['an image file name ..', seederWith({ imageFileName: '..' }),
    `test/Seeder: invalid imageFileName "..": ${FILE_NAME}`],
  ['an image file name with a line break', seederWith({ imageFileName: 'win98\n.qcow2' }),
    `test/Seeder: invalid imageFileName "win98\\n.qcow2": ${FILE_NAME}`],
  ['a relative mountPath', seederWith({ mountPath: 'images' }),
    `test/Seeder: invalid mountPath "images": ${ABSOLUTE}`],
  ['a mountPath with a .. segment', seederWith({ mountPath: '/images/../seed-script' }),
    `test/Seeder: invalid mountPath "/images/../seed-script": ${ABSOLUTE}`],
  ['a mountPath with an empty segment', seederWith({ mountPath: '/images//disk' }),
    `test/Seeder: invalid mountPath "/images//disk": ${ABSOLUTE}`],
  ['a mountPath on the seeding scripts', seederWith({ mountPath: '/seed-script' }),
    'test/Seeder: invalid mountPath "/seed-script": clashes with the seeding scripts mounted at /seed-script in the same container: choose a path that is neither it, inside it, nor around it'],
  ['a mountPath inside the seed tools', seederWith({ mountPath: '/seed-tools/disk' }),
    'test/Seeder: invalid mountPath "/seed-tools/disk": clashes with the seed tools volume mounted at /seed-tools in the same container: choose a path that is neither it, inside it, nor around it'],
  ['a mountPath over the runtime\'s /dev', seederWith({ mountPath: '/dev/disk' }),
    "test/Seeder: invalid mountPath \"/dev/disk\": clashes with the container runtime's own filesystem mounted at /dev in the same container: choose a path that is neither it, inside it, nor around it"],
  ['the built-in image on the disk volume itself', seederWith({ sources: [SeedSource.builtin({ path: '/images/win98.qcow2' })] }),
    'test/Seeder: invalid sources.builtin.path "/images/win98.qcow2": clashes with the disk volume (mountPath) mounted at /images in the same container: choose a path that is neither it, inside it, nor around it'],
  ['a relative built-in image path', seederWith({ sources: [SeedSource.builtin({ path: 'opt/win98.qcow2' })] }),
    `test/Seeder: invalid sources.builtin.path "opt/win98.qcow2": ${ABSOLUTE}`],
  ['a snapshot path with a .. segment', seederWith({ sources: [SeedSource.snapshot(SNAPSHOT, { path: '/a/../snapshot.qcow2' })] }),
    `test/Seeder: invalid sources.snapshot.path "/a/../snapshot.qcow2": ${ABSOLUTE}`],
  ['a kubelet-pulled snapshot path on the disk volume', seederWith({ sources: [SeedSource.snapshot(SNAPSHOT, { path: '/images/snapshot.qcow2' })] }),
    'test/Seeder: invalid sources.snapshot.path "/images/snapshot.qcow2": clashes with the disk volume (mountPath) mounted at /images in the same container: choose a path that is neither it, inside it, nor around it'],
  ['a snapshotDir with a .. segment', emulatorWith({ overlays: { snapshotDir: '/images/../etc' } }),
    `test/Emulator: invalid overlays.snapshotDir "/images/../etc": ${ABSOLUTE}`],
  ['a relative snapshotDir', emulatorWith({ overlays: { snapshotDir: 'snapshots' } }),
    `test/Emulator: invalid overlays.snapshotDir "snapshots": ${ABSOLUTE}`],
  ['a snapshotDir off the disk', emulatorWith({ overlays: { snapshotDir: '/var/snapshots' } }),
    'test/Emulator: invalid overlays.snapshotDir "/var/snapshots": must be /images or a directory inside it, where the disk is mounted: elsewhere the overlays would be lost with the container and the reset would not find them'],
  ['a snapshotDir beside /images with the same prefix', emulatorWith({ overlays: { snapshotDir: '/images-snapshots' } }),
    'test/Emulator: invalid overlays.snapshotDir "/images-snapshots": must be /images or a directory inside it, where the disk is mounted: elsewhere the overlays would be lost with the container and the reset would not find them'],
  ['a snapshotDir on the read-only shared base', standalone((scope) => {
    const base = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.sharedBase() });
    new QemuStatefulSet(scope, 'Emulator', { disk: base, image: image('qemu-loco'), overlays: { snapshotDir: '/images/base/overlays' } });
  }),
    'test/Emulator: invalid overlays.snapshotDir "/images/base/overlays": clashes with the read-only shared base mounted at /images/base in the same container: choose a path that is neither it, inside it, nor around it'],
  ['automountServiceAccountToken not a boolean', emulatorWith({ security: { automountServiceAccountToken: 'yes' as unknown as boolean } }),
    'test/Emulator: invalid security.automountServiceAccountToken "yes": must be true or false'],
];

test('at least 30 bad inputs are covered', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(30);
});

test.each(CASES)('refuses %s', (_, build, expected) => {
  expect(build).toThrow(new Error(expected));
});

/** Values at the edge of each rule that must be accepted, and what the manifest then says. */
describe('accepted values', () => {
  const synth = (build: (scope: Chart) => void) => {
    const scope = new Chart(Testing.app(), 'test');
    build(scope);
    return Testing.synth(scope);
  };
  const podOf = (objects: any[], kind = 'StatefulSet') => objects.find((o) => o.kind === kind).spec.template.spec;

  test('paths with spaces, a file name with spaces, images with a registry port', () => {
    const objects = synth((scope) => {
      const emulatorDisk = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.newClaim({ hostPathVolume: { acknowledgeNodeLocal: true, path: '/var/lib/loco disks' } }) });
      const seeder = new DiskSeeder(scope, 'Seeder', {
        disk: emulatorDisk, image: ContainerImage.fromReference('localhost:5000/qemu-loco:v1'), mountPath: '/data disk', imageFileName: 'win 98.qcow2',
        sources: [
          SeedSource.snapshot(ContainerImage.fromReference('Registry.Example.com:5000/snapshots:win98'), {
            method: SnapshotMethod.kubeletPull({ toolsImage: ContainerImage.fromReference('registry.example.com:5000/busybox:1.35') }),
          }),
          SeedSource.builtin({ path: '/opt/built in/win98.qcow2' }),
        ],
      });
      new QemuStatefulSet(scope, 'Emulator', {
        disk: emulatorDisk, seeder, image: image('localhost:5000/qemu-loco'), overlays: { snapshotDir: '/images/my snapshots' },
      });
    });
    const pod = podOf(objects);
    const seed = pod.initContainers.find((c: any) => c.name === 'seed-disk');
    expect(seed.env).toContainEqual({ name: 'SEED_TARGET', value: '/data disk/win 98.qcow2' });
    expect(seed.env).toContainEqual({ name: 'SEED_BUILTIN_PATH', value: '/opt/built in/win98.qcow2' });
    expect(pod.initContainers.map((c: any) => c.image)).toEqual([
      'registry.example.com:5000/busybox:1.35', 'Registry.Example.com:5000/snapshots:win98', 'localhost:5000/qemu-loco:v1',
    ]);
    expect(pod.containers[0].env).toContainEqual({ name: 'SNAPSHOT_DIR', value: '/images/my snapshots' });
    expect(objects.find((o) => o.kind === 'PersistentVolume').spec.hostPath.path).toBe('/var/lib/loco disks');
  });

  test('snapshotDir may be /images itself', () => {
    expect(emulatorWith({ overlays: { snapshotDir: '/images' } })).not.toThrow();
  });

  test("env values and paths are written so that the kubelet's $(VAR) expansion gives them back as written; the reset script is a file, not expanded", () => {
    const objects = synth((scope) => {
      const emulatorDisk = new EmulatorDisk(scope, 'Disk');
      new QemuStatefulSet(scope, 'Emulator', {
        disk: emulatorDisk, image: image('qemu-loco'), overlays: { resetToken: 'r1', snapshotDir: '/images/$(POD_NAME)' },
        env: { GREETING: 'cost $(PRICE) or $$5, $HOME stays' },
      });
    });
    const pod = podOf(objects);
    expect(pod.containers[0].env).toContainEqual({ name: 'GREETING', value: 'cost $$(PRICE) or $$$$5, $HOME stays' });
    expect(pod.containers[0].env).toContainEqual({ name: 'SNAPSHOT_DIR', value: '/images/$$(POD_NAME)' });
    const reset = pod.initContainers.find((c: any) => c.name === 'reset-overlay');
    expect(reset.env).toContainEqual({ name: 'SNAPSHOT_DIR', value: '/images/$$(POD_NAME)' });
    // The kubelet expands $(VAR) in command and args, not in ConfigMap files: the script ships as it is.
    expect(reset.command).toEqual(['/bin/sh', '/qemu-scripts/reset-overlay.sh']);
    const scripts = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('qemu-emulator-scripts-'));
    expect(scripts.data['reset-overlay.sh']).toBe(shippedScript('reset-overlay.sh'));
    expect(scripts.data['reset-overlay.sh']).toContain('[ "$(cat "$state")" = "$TOKEN" ]');
  });

  test('the emulator pod and the seeding Job mount no service account token, unless asked', () => {
    const objects = synth((scope) => {
      const base = new EmulatorDisk(scope, 'Disk', { volume: DiskVolume.sharedBase() });
      const seeder = new DiskSeeder(scope, 'Seeder', { disk: base, image: image('qemu-loco') });
      new QemuStatefulSet(scope, 'Emulator', { disk: base, seeder, image: image('qemu-loco') });
    });
    expect(podOf(objects).automountServiceAccountToken).toBe(false);
    expect(podOf(objects, 'Job').automountServiceAccountToken).toBe(false);
    const asked = synth((scope) => {
      new QemuStatefulSet(scope, 'Emulator', { disk: new EmulatorDisk(scope, 'Disk'), image: image('qemu-loco'), security: { automountServiceAccountToken: true } });
    });
    expect(podOf(asked).automountServiceAccountToken).toBe(true);
  });
});
