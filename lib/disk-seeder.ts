import { readFileSync } from 'fs';
import { join } from 'path';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DiskAccessMode, EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
import { ImageReferenceForm, parseImageReference, parseSnapshotReference, SnapshotReference } from './snapshot-reference';
import {
  checkAbsolutePath, checkDnsSubdomain, checkFileName, checkNoMountClash, imagePullPolicyFor, invalidProp, kubeLiteral, literalEnv,
  parseStorageQuantity,
} from './validation';

/** A place the seeder can take the disk image from when the volume has none yet. */
export enum SeedSource {
  /**
   * The image built into the emulator image at `/opt/builtin-images/win98.qcow2.builtin`
   * (path configurable with `builtinImagePath`).
   */
  BUILTIN = 'builtin',
  /** The snapshot image published in an OCI registry (see `snapshotImage`). */
  SNAPSHOT = 'snapshot',
}

/** How the snapshot image reaches the disk. */
export enum SnapshotMethod {
  /**
   * The kubelet pulls the snapshot image and runs it as an init container (as KubeVirt does with
   * containerDisks): the pod's imagePullSecrets and the node's image cache apply, and no registry
   * tool is needed in any image. The snapshot image is `FROM scratch`, so an earlier init container
   * places a static busybox in a shared emptyDir for it to copy its `/snapshot.qcow2` with.
   * An unreachable registry leaves the pod in ImagePullBackOff before any other source can run.
   */
  KUBELET_PULL = 'kubelet-pull',
  /**
   * The seeder (in the emulator image, which ships skopeo) pulls the image itself and extracts the
   * layer holding the qcow2. A failed pull is one failed source: the next source (the built-in
   * image) still runs. Private registries through `registryAuthSecret`.
   */
  REGISTRY_CLIENT = 'registry-client',
}

/** How the seeder checks an image before it becomes the disk. */
export enum SeedVerification {
  /**
   * `qemu-img check` must pass: catches truncated and corrupt images. Needs `qemu-img` in the
   * seeder image, which the emulator image ships.
   */
  QEMU_IMG = 'qemu-img',
  /** Only the qcow2 magic bytes are checked: for seeder images without `qemu-img`. */
  HEADER = 'header',
}

/** Properties of a DiskSeeder. */
export interface DiskSeederProps {
  /** The disk to seed. */
  readonly disk: EmulatorDisk;

  /**
   * Image the seeder runs in. It must have a POSIX shell and, for `SeedSource.BUILTIN`, the
   * built-in disk image; the emulator image has both (and `qemu-img`).
   */
  readonly image: string;

  /**
   * Pull policy of the seeder image: `Always`, `IfNotPresent` or `Never`.
   * @default - 'IfNotPresent' for a digest or a version tag; 'Always' for `latest` or no tag
   */
  readonly imagePullPolicy?: string;

  /**
   * Sources to try, in order, when the volume holds no disk image yet. An existing disk is
   * always kept and checked first, whatever this says.
   * @default [SeedSource.BUILTIN]
   */
  readonly sources?: SeedSource[];

  /**
   * Whether the built-in image must be there: when `true` and it is missing, the failure message
   * points the user at `cdk8s-qemu-loco check-image`, the check that mode A needs.
   * @default - true when `sources` is only `[SeedSource.BUILTIN]`
   */
  readonly builtinRequired?: boolean;

  /**
   * Path of the built-in image inside the seeder image.
   * @default '/opt/builtin-images/win98.qcow2.builtin'
   */
  readonly builtinImagePath?: string;

  /**
   * Snapshot image reference, for `SeedSource.SNAPSHOT`.
   * @default - none; required when `sources` includes `SeedSource.SNAPSHOT`
   */
  readonly snapshotImage?: string;

  /**
   * How the snapshot image reaches the disk.
   * @default SnapshotMethod.KUBELET_PULL
   */
  readonly snapshotMethod?: SnapshotMethod;

  /**
   * Path of the qcow2 file inside the snapshot image.
   * @default '/snapshot.qcow2'
   */
  readonly snapshotPath?: string;

  /**
   * Image whose static busybox (`/bin/busybox`) the kubelet-pull method copies for the
   * shell-less snapshot image.
   * @default 'busybox:1.35'
   */
  readonly toolsImage?: string;

  /**
   * A Secret of type `kubernetes.io/dockerconfigjson` with credentials for the registry-client
   * method (the kubelet-pull method uses the pod's imagePullSecrets instead).
   * @default - anonymous pulls
   */
  readonly registryAuthSecret?: string;

  /**
   * Whether the registry-client method verifies the registry's TLS certificate. `false` also
   * allows plain HTTP: only for a registry on a trusted private network (an in-cluster registry),
   * since anyone on the path could then serve a different image; pin the snapshot by digest or set
   * `expectedSha256` as well. (The kubelet-pull method follows the node's container runtime
   * configuration instead.)
   * @default true
   */
  readonly registryTlsVerify?: boolean;

  /**
   * Expected sha256 (64 hex digits) of the seeded image; an image that does not match is never
   * used.
   * @default - the digest is not checked
   */
  readonly expectedSha256?: string;

  /**
   * How images are checked before they become the disk.
   * @default SeedVerification.QEMU_IMG
   */
  readonly verification?: SeedVerification;

  /**
   * Smallest virtual size (the size of the disk the guest sees) an image must have to become the
   * disk, as a Kubernetes quantity (`'2Gi'`): declares the disk the emulator expects, so that a
   * wrong, smaller image is refused by every reader (the seeder for each source, the snapshot's
   * stage step, the shared base's wait) with a message, instead of booting.
   * @default - no minimum
   */
  readonly minVirtualSize?: string;

  /**
   * Largest virtual size an image may declare to become the disk, as a Kubernetes quantity. A
   * qcow2 file can declare any size in its header; the limit keeps a hostile or mistaken image
   * from handing the guest a disk far larger than the volume.
   * @default '64Gi'
   */
  readonly maxVirtualSize?: string;

  /**
   * Where the disk volume is mounted in the seeder and the emulator.
   * @default '/images'
   */
  readonly mountPath?: string;

  /**
   * File name of the disk image on the volume.
   * @default 'win98.qcow2'
   */
  readonly imageFileName?: string;

  /**
   * Secrets for pulling the seeder image, for the seeding Job of a `SHARED_BASE` disk (in the
   * emulator pod, the pod's own imagePullSecrets apply).
   * @default - none
   */
  readonly imagePullSecrets?: string[];

  /**
   * How long emulators of a `SHARED_BASE` disk wait for the seeding Job to place the base image
   * before their init container fails with a message (the kubelet then retries it).
   * @default 1800
   */
  readonly baseWaitSeconds?: number;

  /**
   * How long a seeder waits for another one (a replica sharing the volume) that is copying,
   * before it fails with a message naming the holder; the kubelet then restarts it.
   * @default 1800
   */
  readonly lockTimeoutSeconds?: number;

  /**
   * How long the lock holder's heartbeat (rewritten every second while it works) may stay
   * unchanged before a waiting seeder takes the lock over as dead. Measured by the waiter's own
   * clock, so it works across nodes on a ReadWriteMany volume; a holder that was an earlier attempt
   * of the same pod is taken over at once. Even a wrongly broken lock cannot replace a disk.
   * @default 60
   */
  readonly lockStaleSeconds?: number;

  /**
   * Seconds between the progress lines (bytes and percent) of a copy in the seeder's log.
   * @default 10
   */
  readonly progressIntervalSeconds?: number;

  /**
   * User the seeder runs as. It needs no root: the pod's `fsGroup` gives it the volume.
   * A hostPath PersistentVolume is the exception: the kubelet applies no `fsGroup` to hostPath
   * volumes and creates their directory owned by root, so there the seeder runs as root, still
   * with every capability dropped.
   * @default 1000; 0 on a hostPath PersistentVolume
   */
  readonly runAsUser?: number;
}

/** The largest virtual size an image may have to become the disk, unless `maxVirtualSize` says otherwise. */
export const DEFAULT_MAX_VIRTUAL_SIZE = '64Gi';

/** The virtual size limits in bytes, checked: whole quantities, at most 1e18 bytes, min <= max. */
function virtualSizeLimits(scope: Construct, props: DiskSeederProps): { min?: number; max: number } {
  const parse = (property: 'minVirtualSize' | 'maxVirtualSize', value: string) => {
    const bytes = parseStorageQuantity(scope, property, value);
    if (!Number.isSafeInteger(bytes)) {
      throw invalidProp(scope, property, value, `must be a whole number of bytes of at most ${Number.MAX_SAFE_INTEGER}`);
    }
    return bytes;
  };
  const max = parse('maxVirtualSize', props.maxVirtualSize ?? DEFAULT_MAX_VIRTUAL_SIZE);
  const min = props.minVirtualSize === undefined ? undefined : parse('minVirtualSize', props.minVirtualSize);
  if (min !== undefined && min > max) {
    throw invalidProp(scope, 'minVirtualSize', props.minVirtualSize,
      `must not exceed maxVirtualSize (${props.maxVirtualSize ?? `${DEFAULT_MAX_VIRTUAL_SIZE}, the default`}): no image could pass both`);
  }
  return { min, max };
}

/** Name of the init container that seeds the disk. */
export const SEEDER_CONTAINER_NAME = 'seed-disk';
/** Name of the init container that waits for a shared base image. */
export const WAIT_CONTAINER_NAME = 'wait-for-base';
/** File name of the script that waits for a shared base image. */
export const WAIT_SCRIPT_FILE = 'wait-for-disk.sh';
/** Name of the init container that places the static busybox for the snapshot image. */
export const TOOLS_CONTAINER_NAME = 'seed-tools';
/** Name of the init container that runs the snapshot image (kubelet-pull method). */
export const SNAPSHOT_CONTAINER_NAME = 'seed-snapshot';
/** Script that installs the static busybox into the shared tools volume. */
export const TOOLS_SCRIPT_FILE = 'install-seed-tools.sh';
/** Registry-client download script, run by the seeding script. */
export const FETCH_SCRIPT_FILE = 'fetch-snapshot.sh';
/** Where the tools volume is mounted. */
export const SEED_TOOLS_MOUNT_PATH = '/seed-tools';
const SEED_TOOLS_VOLUME_NAME = 'seed-tools';
const REGISTRY_AUTH_VOLUME_NAME = 'registry-auth';
const REGISTRY_AUTH_MOUNT_PATH = '/seed-registry-auth';
/** Where the seeding script is mounted in the seeder. */
export const SEED_SCRIPT_MOUNT_PATH = '/seed-script';
/** File name of the seeding script (in the repo's `lib/scripts/` and in the ConfigMap). */
export const SEED_SCRIPT_FILE = 'seed-disk.sh';
const SEED_SCRIPT_VOLUME_NAME = 'seed-script';

/** A script of lib/scripts/ exactly as it ships in the ConfigMap. */
export function shippedScript(file: string): string {
  return readFileSync(join(__dirname, 'scripts', file), 'utf8');
}

/** The seeding script exactly as it ships in the ConfigMap. */
export function seedScript(): string {
  return shippedScript(SEED_SCRIPT_FILE);
}

/**
 * The init container that makes sure the disk image exists before the emulator starts.
 *
 * It runs `seed-disk.sh` (a POSIX sh script carried verbatim in a ConfigMap): an existing image
 * is kept untouched; otherwise each source is tried in order, copied to a temporary name on the
 * volume, verified and linked into place atomically. When no source works it exits non-zero with
 * one line naming every source it tried and why each failed.
 */
export class DiskSeeder extends Construct {
  /** The ConfigMap that carries the seeding script. */
  public readonly scriptConfigMap: k8s.KubeConfigMap;
  /** The sources tried, in order. */
  public readonly sources: SeedSource[];
  /** The parsed snapshot reference, when configured. */
  public readonly snapshot?: SnapshotReference;
  /** How the snapshot reaches the disk, when the snapshot is a source. */
  public readonly snapshotMethod?: SnapshotMethod;
  /** The disk this seeder fills. */
  public readonly disk: EmulatorDisk;
  /** Where the disk volume is mounted. */
  public readonly mountPath: string;
  /** Full path of the disk image, as the seeder sees it. */
  public readonly imagePath: string;
  /** File name of the disk image on the volume. */
  public readonly imageFileName: string;
  /**
   * The Job that seeds a `SHARED_BASE` disk's base claim once; the emulators' init container
   * only waits for it.
   */
  public readonly seedJob?: k8s.KubeJob;
  /** User the seeder runs as; the pod's fsGroup must give it the volume. */
  public readonly runAsUser: number;

  private readonly props: DiskSeederProps;
  private readonly imagePullPolicy: string;
  private readonly virtualSizeLimits: { min?: number; max: number };

  constructor(scope: Construct, id: string, props: DiskSeederProps) {
    super(scope, id);
    this.props = props;
    this.disk = props.disk;
    this.sources = props.sources ?? [SeedSource.BUILTIN];
    this.mountPath = props.mountPath ?? '/images';
    this.imageFileName = props.imageFileName ?? 'win98.qcow2';
    this.checkPaths(props);
    this.imagePath = `${this.mountPath}/${this.imageFileName}`;
    const nodeLocal = props.disk.hostPathPersistentVolume !== undefined;
    this.runAsUser = props.runAsUser ?? (nodeLocal ? 0 : 1000);
    parseImageReference(this, 'image', props.image, ImageReferenceForm.ANY);
    if (props.toolsImage !== undefined) parseImageReference(this, 'toolsImage', props.toolsImage, ImageReferenceForm.ANY);
    this.imagePullPolicy = imagePullPolicyFor(this, 'imagePullPolicy', props.image, props.imagePullPolicy);
    if (props.disk.accessModes.length > 0 && props.disk.accessModes.every((mode) => mode === DiskAccessMode.READ_ONLY_MANY)) {
      throw invalidProp(this, 'disk', props.disk.node.path,
        `is ${DiskAccessMode.READ_ONLY_MANY} only, and the seeder must write the image onto it: give the disk a writable access mode (${DiskAccessMode.READ_WRITE_ONCE}, ${DiskAccessMode.READ_WRITE_MANY}) or drop the seeder`);
    }

    this.checkSources(props);
    if (props.snapshotImage !== undefined) {
      this.snapshot = parseSnapshotReference(this, 'snapshotImage', props.snapshotImage);
    }
    this.snapshotMethod = this.chooseSnapshotMethod(props);
    this.checkSnapshotOptions(props);
    this.checkSeedingOptions(props, nodeLocal);
    this.virtualSizeLimits = virtualSizeLimits(this, props);

    const sharedBase = this.disk.kind === EmulatorDiskKind.SHARED_BASE;
    this.scriptConfigMap = new k8s.KubeConfigMap(this, 'Script', {
      data: {
        [SEED_SCRIPT_FILE]: seedScript(),
        ...(sharedBase ? { [WAIT_SCRIPT_FILE]: shippedScript(WAIT_SCRIPT_FILE) } : {}),
        ...(this.snapshotMethod === SnapshotMethod.KUBELET_PULL ? { [TOOLS_SCRIPT_FILE]: shippedScript(TOOLS_SCRIPT_FILE) } : {}),
        ...(this.snapshotMethod === SnapshotMethod.REGISTRY_CLIENT ? { [FETCH_SCRIPT_FILE]: shippedScript(FETCH_SCRIPT_FILE) } : {}),
      },
    });
    // The base of a shared-base disk is seeded once for all replicas, by a Job rather than by nine init containers.
    this.seedJob = sharedBase ? this.seedingJob(props) : undefined;
  }

  /** The sources: at least one, each known and named once, and a snapshot image for `snapshot`. */
  private checkSources(props: DiskSeederProps): void {
    if (this.sources.length === 0) {
      throw invalidProp(this, 'sources', this.sources, `must name at least one of ${Object.values(SeedSource).join(', ')}`);
    }
    for (const source of this.sources) {
      if (!Object.values(SeedSource).includes(source)) {
        throw invalidProp(this, 'sources', source, `each source must be one of ${Object.values(SeedSource).join(', ')}`);
      }
    }
    if (new Set(this.sources).size !== this.sources.length) {
      throw invalidProp(this, 'sources', this.sources, 'must name each source at most once');
    }
    if (this.sources.includes(SeedSource.SNAPSHOT) && props.snapshotImage === undefined) {
      throw invalidProp(this, 'snapshotImage', undefined, "is required when sources include 'snapshot'");
    }
  }

  /** How the snapshot reaches the disk, when the snapshot is a source (kubelet pull by default). */
  private chooseSnapshotMethod(props: DiskSeederProps): SnapshotMethod | undefined {
    if (props.snapshotMethod !== undefined && !Object.values(SnapshotMethod).includes(props.snapshotMethod)) {
      throw invalidProp(this, 'snapshotMethod', props.snapshotMethod, `must be one of ${Object.values(SnapshotMethod).join(', ')}`);
    }
    return this.sources.includes(SeedSource.SNAPSHOT) ? props.snapshotMethod ?? SnapshotMethod.KUBELET_PULL : undefined;
  }

  /** The snapshot's path in its image, and the registry-client options (only with that method). */
  private checkSnapshotOptions(props: DiskSeederProps): void {
    if (props.snapshotPath !== undefined) {
      checkAbsolutePath(this, 'snapshotPath', props.snapshotPath);
      if (this.snapshotMethod === SnapshotMethod.KUBELET_PULL) {
        // Read from the snapshot image's own files, in a container that also mounts these.
        checkNoMountClash(this, 'snapshotPath', props.snapshotPath, [
          { path: this.mountPath, what: 'the disk volume (mountPath)' },
          { path: SEED_TOOLS_MOUNT_PATH, what: 'the seed tools volume' },
          { path: SEED_SCRIPT_MOUNT_PATH, what: 'the seeding scripts' },
        ]);
      }
    }
    if (props.registryAuthSecret !== undefined) {
      if (this.snapshotMethod !== SnapshotMethod.REGISTRY_CLIENT) {
        throw invalidProp(this, 'registryAuthSecret', props.registryAuthSecret,
          'applies only to snapshotMethod registry-client; with kubelet-pull, give the credentials as the pod\'s imagePullSecrets');
      }
      checkDnsSubdomain(this, 'registryAuthSecret', props.registryAuthSecret);
    }
    if (props.registryTlsVerify !== undefined) {
      if (typeof props.registryTlsVerify !== 'boolean') {
        throw invalidProp(this, 'registryTlsVerify', props.registryTlsVerify, 'must be true or false');
      }
      if (this.snapshotMethod !== SnapshotMethod.REGISTRY_CLIENT) {
        throw invalidProp(this, 'registryTlsVerify', props.registryTlsVerify,
          "applies only to snapshotMethod registry-client; with kubelet-pull, the node's container runtime configuration decides");
      }
    }
  }

  /** The verification, the user and the timings of the seeding. */
  private checkSeedingOptions(props: DiskSeederProps, nodeLocal: boolean): void {
    if (props.expectedSha256 !== undefined && !/^[a-f0-9]{64}$/.test(props.expectedSha256)) {
      throw invalidProp(this, 'expectedSha256', props.expectedSha256, 'must be 64 lower-case hex digits');
    }
    if (props.verification !== undefined && !Object.values(SeedVerification).includes(props.verification)) {
      throw invalidProp(this, 'verification', props.verification, `must be one of ${Object.values(SeedVerification).join(', ')}`);
    }
    if (!Number.isInteger(this.runAsUser) || this.runAsUser < (nodeLocal ? 0 : 1)) {
      throw invalidProp(this, 'runAsUser', this.runAsUser, nodeLocal
        ? 'must be a whole number of at least 0'
        : 'must be a whole number of at least 1: the seeder needs no root, the pod fsGroup gives it the volume');
    }
    for (const [prop, min] of [['lockTimeoutSeconds', 1], ['lockStaleSeconds', 3], ['progressIntervalSeconds', 1], ['baseWaitSeconds', 1]] as const) {
      const value = props[prop];
      if (value !== undefined && (!Number.isInteger(value) || value < min)) {
        throw invalidProp(this, prop, value, `must be a whole number of seconds, at least ${min}`);
      }
    }
  }

  /** The Job that seeds a shared-base disk's base claim once. */
  private seedingJob(props: DiskSeederProps): k8s.KubeJob {
    return new k8s.KubeJob(this, 'Job', {
      spec: {
        backoffLimit: 6,
        template: {
          spec: {
            restartPolicy: 'OnFailure',
            // Seeding never talks to the Kubernetes API.
            automountServiceAccountToken: false,
            imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
            securityContext: this.podSecurityContext,
            initContainers: this.snapshotContainers().length > 0 ? this.snapshotContainers() : undefined,
            containers: [this.seedContainer()],
            volumes: [...this.disk.podVolumes, ...this.volumes],
          },
        },
      },
    });
  }

  /**
   * The path props: a plain file name, absolute paths, and none of them on another mount of the
   * seeder's containers (the built-in image is read from the image's own files).
   */
  private checkPaths(props: DiskSeederProps): void {
    checkFileName(this, 'imageFileName', this.imageFileName);
    checkAbsolutePath(this, 'mountPath', this.mountPath);
    const fixedMounts = [
      { path: SEED_SCRIPT_MOUNT_PATH, what: 'the seeding scripts' },
      { path: SEED_TOOLS_MOUNT_PATH, what: 'the seed tools volume' },
      { path: REGISTRY_AUTH_MOUNT_PATH, what: 'the registry credentials' },
    ];
    checkNoMountClash(this, 'mountPath', this.mountPath, [
      ...fixedMounts,
      // What the container runtime mounts itself: a volume over it would hide the devices.
      ...['/dev', '/proc', '/sys'].map((path) => ({ path, what: "the container runtime's own filesystem" })),
    ]);
    if (props.builtinImagePath !== undefined) {
      checkAbsolutePath(this, 'builtinImagePath', props.builtinImagePath);
      checkNoMountClash(this, 'builtinImagePath', props.builtinImagePath,
        [{ path: this.mountPath, what: 'the disk volume (mountPath)' }, ...fixedMounts]);
    }
  }

  /** The pod security context the seeder needs: an fsGroup that gives it the volume. */
  public get podSecurityContext(): k8s.PodSecurityContext | undefined {
    if (this.runAsUser === 0) return undefined;
    // Only a volume whose root does not match yet is re-chowned, not every start.
    return { fsGroup: this.runAsUser, fsGroupChangePolicy: 'OnRootMismatch' };
  }

  /**
   * The volumes the seeder needs besides the disk: its scripts, and for the kubelet-pull method
   * the small emptyDir that carries busybox to the snapshot container.
   */
  public get volumes(): k8s.Volume[] {
    const volumes: k8s.Volume[] = [{
      name: SEED_SCRIPT_VOLUME_NAME,
      configMap: { name: this.scriptConfigMap.name, defaultMode: 0o555 },
    }];
    if (this.snapshotMethod === SnapshotMethod.KUBELET_PULL) {
      volumes.push({ name: SEED_TOOLS_VOLUME_NAME, emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } });
    }
    if (this.props.registryAuthSecret) {
      volumes.push({
        name: REGISTRY_AUTH_VOLUME_NAME,
        secret: { secretName: this.props.registryAuthSecret, items: [{ key: '.dockerconfigjson', path: 'auth.json' }] },
      });
    }
    return volumes;
  }

  /**
   * The init containers to run before the emulator, in order: the seeder, or for a `SHARED_BASE`
   * disk a container that waits until the seeding Job has placed the base image.
   */
  public get initContainers(): k8s.Container[] {
    if (this.seedJob) {
      return [this.waitContainer()];
    }
    return [...this.snapshotContainers(), this.seedContainer()];
  }

  /**
   * For the kubelet-pull method: the container that places busybox, then the snapshot image
   * itself, which stages its qcow2 on the disk volume for the seeder to verify and link.
   */
  private snapshotContainers(): k8s.Container[] {
    if (this.snapshotMethod !== SnapshotMethod.KUBELET_PULL || !this.snapshot) return [];
    const scriptMount = { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true };
    return [{
      name: TOOLS_CONTAINER_NAME,
      image: this.props.toolsImage ?? 'busybox:1.35',
      imagePullPolicy: imagePullPolicyFor(this, 'toolsImage', this.props.toolsImage ?? 'busybox:1.35'),
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${TOOLS_SCRIPT_FILE}`],
      env: literalEnv([{ name: 'SEED_TOOLS_DIR', value: SEED_TOOLS_MOUNT_PATH }]),
      volumeMounts: [{ name: SEED_TOOLS_VOLUME_NAME, mountPath: SEED_TOOLS_MOUNT_PATH }, scriptMount],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    }, {
      name: SNAPSHOT_CONTAINER_NAME,
      image: this.snapshot.image,
      imagePullPolicy: imagePullPolicyFor(this, 'snapshotImage', this.snapshot.image),
      // The image has no shell: run the placed busybox, whose applets PATH finds.
      command: [`${SEED_TOOLS_MOUNT_PATH}/busybox`, 'sh', `${SEED_SCRIPT_MOUNT_PATH}/${SEED_SCRIPT_FILE}`, 'stage', kubeLiteral(this.props.snapshotPath ?? '/snapshot.qcow2')],
      env: literalEnv([
        { name: 'PATH', value: `${SEED_TOOLS_MOUNT_PATH}/bin` },
        { name: 'SEED_TARGET', value: this.imagePath },
        ...this.lockEnv,
        ...this.policyEnv,
      ]),
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.mountPath },
        { name: SEED_TOOLS_VOLUME_NAME, mountPath: SEED_TOOLS_MOUNT_PATH, readOnly: true },
        scriptMount,
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    }];
  }

  private waitContainer(): k8s.Container {
    return {
      name: WAIT_CONTAINER_NAME,
      image: this.props.image,
      imagePullPolicy: this.imagePullPolicy,
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${WAIT_SCRIPT_FILE}`],
      env: literalEnv([
        { name: 'WAIT_TARGET', value: `${this.disk.imageDirectory}/${this.imageFileName}` },
        { name: 'WAIT_TIMEOUT_SECONDS', value: String(this.props.baseWaitSeconds ?? 1800) },
        ...this.policyEnv,
      ]),
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.disk.imageDirectory, readOnly: true },
        { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true },
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    };
  }

  /**
   * Who holds the seeding lock (the pod, through the downward API) and the lock's timing: the
   * stage container and the seeder share the lock.
   */
  private get lockEnv(): k8s.EnvVar[] {
    return [
      { name: 'SEED_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'SEED_POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'SEED_LOCK_TIMEOUT_SECONDS', value: String(this.props.lockTimeoutSeconds ?? 1800) },
      { name: 'SEED_LOCK_STALE_SECONDS', value: String(this.props.lockStaleSeconds ?? 60) },
      { name: 'SEED_PROGRESS_SECONDS', value: String(this.props.progressIntervalSeconds ?? 10) },
    ];
  }

  /** The image policy's limits, for every container that reads an image (seed-disk.sh reads them). */
  private get policyEnv(): k8s.EnvVar[] {
    const { min, max } = this.virtualSizeLimits;
    return [
      { name: 'SEED_MAX_VIRTUAL_SIZE', value: String(max) },
      ...(min !== undefined ? [{ name: 'SEED_MIN_VIRTUAL_SIZE', value: String(min) }] : []),
    ];
  }

  private get resources(): k8s.ResourceRequirements {
    return {
      requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('64Mi') },
      limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
    };
  }

  // Pod Security Standard "restricted": the seeder only copies files onto the volume, which the
  // pod's fsGroup lets it write.
  private get containerSecurityContext(): k8s.SecurityContext {
    return {
      runAsNonRoot: this.runAsUser !== 0,
      runAsUser: this.runAsUser,
      // Without it the process runs with gid 0 (an image without a user entry); the fsGroup
      // supplementary group is what gives it the volume.
      runAsGroup: this.runAsUser,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
  }

  private seedContainer(): k8s.Container {
    const builtinRequired = this.props.builtinRequired
      ?? (this.sources.length === 1 && this.sources[0] === SeedSource.BUILTIN);
    const env: k8s.EnvVar[] = [
      { name: 'SEED_TARGET', value: this.imagePath },
      { name: 'SEED_SOURCES', value: this.sources.join(' ') },
      { name: 'SEED_BUILTIN_PATH', value: this.props.builtinImagePath ?? '/opt/builtin-images/win98.qcow2.builtin' },
      { name: 'SEED_VERIFY', value: this.props.verification ?? SeedVerification.QEMU_IMG },
    ];
    if (this.snapshot) {
      env.push({ name: 'SEED_SNAPSHOT_REF', value: this.snapshot.image });
    }
    if (this.snapshotMethod) {
      env.push({ name: 'SEED_SNAPSHOT_METHOD', value: this.snapshotMethod });
    }
    if (this.snapshotMethod === SnapshotMethod.REGISTRY_CLIENT && this.props.snapshotPath) {
      env.push({ name: 'SEED_SNAPSHOT_PATH', value: this.props.snapshotPath });
    }
    if (this.props.registryAuthSecret) {
      env.push({ name: 'REGISTRY_AUTH_FILE', value: `${REGISTRY_AUTH_MOUNT_PATH}/auth.json` });
    }
    if (this.props.registryTlsVerify === false) {
      env.push({ name: 'SEED_REGISTRY_TLS_VERIFY', value: 'false' });
    }
    if (this.props.expectedSha256) {
      env.push({ name: 'SEED_SHA256', value: this.props.expectedSha256 });
    }
    env.push({
      name: 'SEED_HINT',
      value: builtinRequired
        ? `the emulator image ${this.props.image} must contain the built-in disk image; check it with 'npx cdk8s-qemu-loco check-image ${this.props.image}', or use the hybrid mode to fetch the snapshot instead`
        : `make one of the sources reachable (registry credentials in ${this.snapshotMethod === SnapshotMethod.REGISTRY_CLIENT ? 'registryAuthSecret' : 'imagePullSecrets'}, a built-in image in the emulator image), or put a disk image on the volume`,
    });
    env.push(...this.lockEnv, ...this.policyEnv);

    return {
      name: SEEDER_CONTAINER_NAME,
      image: this.props.image,
      imagePullPolicy: this.imagePullPolicy,
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${SEED_SCRIPT_FILE}`],
      env: literalEnv(env),
      // The failure line becomes the termination message `kubectl describe pod` shows.
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.mountPath },
        { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true },
        ...(this.props.registryAuthSecret ? [{ name: REGISTRY_AUTH_VOLUME_NAME, mountPath: REGISTRY_AUTH_MOUNT_PATH, readOnly: true }] : []),
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    };
  }
}
