import { readFileSync } from 'fs';
import { join } from 'path';
import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ContainerImage, ImageReference, ResolvedImage } from './container-image';
import { DEFAULT_BUILTIN_IMAGE_PATH, DEFAULT_IMAGE_FILE_NAME, DEFAULT_SNAPSHOT_PATH, IMAGES_MOUNT_PATH } from './disk-layout';
import { DiskAccessMode, EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
import { applyMetadata, pathName, scriptConfigMap } from './metadata';
import { addSynthChecks } from './synth-checks';
import { lockedDownSecurityContext } from './security';
import {
  checkAbsolutePath, checkDnsSubdomain, checkFileName, checkNoMountClash, invalidProp, kubeLiteral, literalEnv,
  parseStorageQuantity,
} from './validation';

/** Which place a SeedSource takes the disk image from. */
export enum SeedSourceKind {
  /** The image built into the emulator image. */
  BUILTIN = 'builtin',
  /** The snapshot image published in an OCI registry. */
  SNAPSHOT = 'snapshot',
}

/** Options of the built-in source. */
export interface BuiltinSourceOptions {
  /**
   * Path of the built-in image inside the seeder image.
   * @default '/opt/builtin-images/win98.qcow2.builtin'
   */
  readonly path?: string;

  /**
   * Whether the built-in image must be there: when `true` and it is missing, the failure message
   * points the user at `cdk8s-qemu-loco check-image`, the check that mode A needs.
   * @default - true when it is the only source
   */
  readonly required?: boolean;
}

/** Options of the snapshot source. */
export interface SnapshotSourceOptions {
  /**
   * How the snapshot image reaches the disk.
   * @default SnapshotMethod.kubeletPull()
   */
  readonly method?: SnapshotMethod;

  /**
   * Path of the qcow2 file inside the snapshot image.
   * @default '/snapshot.qcow2'
   */
  readonly path?: string;
}

/** A place the seeder can take the disk image from when the volume has none yet. */
export class SeedSource {
  /**
   * The image built into the emulator image at `/opt/builtin-images/win98.qcow2.builtin`.
   */
  public static builtin(options: BuiltinSourceOptions = {}): SeedSource {
    return new SeedSource(SeedSourceKind.BUILTIN, options, undefined);
  }

  /**
   * The snapshot image published in an OCI registry, a `FROM scratch` image holding the qcow2.
   * @param image the snapshot image, e.g. `ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base')`
   */
  public static snapshot(image: ContainerImage, options: SnapshotSourceOptions = {}): SeedSource {
    return new SeedSource(SeedSourceKind.SNAPSHOT, undefined, { ...options, image });
  }

  /** Which place this is. */
  public readonly kind: SeedSourceKind;
  /** @internal */
  public readonly _builtin?: BuiltinSourceOptions;
  /** @internal */
  public readonly _snapshot?: SnapshotSourceSpec;

  private constructor(kind: SeedSourceKind, builtin: BuiltinSourceOptions | undefined, snapshot: SnapshotSourceSpec | undefined) {
    this.kind = kind;
    this._builtin = builtin;
    this._snapshot = snapshot;
  }
}

/** A snapshot source as given. */
export interface SnapshotSourceSpec extends SnapshotSourceOptions {
  readonly image: ContainerImage;
}

/** How a SnapshotMethod fetches the snapshot. */
export enum SnapshotMethodKind {
  /** The kubelet pulls the snapshot image and runs it as an init container. */
  KUBELET_PULL = 'kubelet-pull',
  /** The seeder pulls the image itself with skopeo and extracts the layer holding the qcow2. */
  REGISTRY_CLIENT = 'registry-client',
}

/** Options of the kubelet-pull method. */
export interface KubeletPullOptions {
  /**
   * The image whose static busybox (`/bin/busybox`) the `seed-tools` init container places for
   * the shell-less snapshot image. Point it at a copy in your own registry when the nodes cannot
   * pull from Docker Hub (air-gapped clusters, mirrors).
   * @default ContainerImage.fromTag('busybox', '1.35')
   */
  readonly toolsImage?: ContainerImage;
}

/** Options of the registry-client method. */
export interface RegistryClientOptions {
  /**
   * A Secret of type `kubernetes.io/dockerconfigjson` with the snapshot registry's credentials.
   * @default - anonymous pulls
   */
  readonly authSecret?: string;

  /**
   * Whether the registry's TLS certificate is verified. `false` also allows plain HTTP: only for a
   * registry on a trusted private network (an in-cluster registry), since anyone on the path could
   * then serve a different image; pin the snapshot by digest or set `expectedSha256` as well.
   * @default true
   */
  readonly tlsVerify?: boolean;
}

/** How the snapshot image reaches the disk. */
export class SnapshotMethod {
  /**
   * The kubelet pulls the snapshot image and runs it as an init container (as KubeVirt does with
   * containerDisks): the pod's imagePullSecrets and the node's image cache apply, and no registry
   * tool is needed in any image. The snapshot image is `FROM scratch`, so an earlier init container
   * places a static busybox in a shared emptyDir for it to copy its qcow2 with. An unreachable
   * registry leaves the pod in ImagePullBackOff before any other source can run.
   */
  public static kubeletPull(options: KubeletPullOptions = {}): SnapshotMethod {
    return new SnapshotMethod(SnapshotMethodKind.KUBELET_PULL, options, undefined);
  }

  /**
   * The seeder (in the emulator image, which ships skopeo) pulls the image itself and extracts the
   * layer holding the qcow2. A failed pull is one failed source: the next source (the built-in
   * image) still runs. Private registries through `authSecret`.
   */
  public static registryClient(options: RegistryClientOptions = {}): SnapshotMethod {
    return new SnapshotMethod(SnapshotMethodKind.REGISTRY_CLIENT, undefined, options);
  }

  /** Which method this is. */
  public readonly kind: SnapshotMethodKind;
  /** @internal */
  public readonly _kubeletPull?: KubeletPullOptions;
  /** @internal */
  public readonly _registryClient?: RegistryClientOptions;

  private constructor(kind: SnapshotMethodKind, kubeletPull: KubeletPullOptions | undefined, registryClient: RegistryClientOptions | undefined) {
    this.kind = kind;
    this._kubeletPull = kubeletPull;
    this._registryClient = registryClient;
  }
}

/** How the seeder checks an image before it becomes the disk. */
export enum SeedVerification {
  /**
   * `qemu-img check` must pass: catches truncated and corrupt images. Needs `qemu-img` in the
   * seeder image, which the emulator image ships.
   */
  QEMU_IMG = 'qemu-img',
  /** Only the qcow2 header and the image policy are checked: for seeder images without `qemu-img`. */
  HEADER = 'header',
}

/** How a seeder checks, places and waits: the same props on DiskSeeder and on the patterns that make one. */
export interface SeedingOptions {
  /**
   * Expected sha256 (64 hex digits) of the seeded image; an image that does not match is never used.
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
   * disk, as a Kubernetes quantity (`'2Gi'`): a wrong, smaller image is refused by every reader
   * (the seeder for each source, the snapshot's stage step, the shared base's wait) with a message,
   * instead of booting.
   * @default - no minimum
   */
  readonly minVirtualSize?: string;

  /**
   * Largest virtual size an image may declare to become the disk, as a Kubernetes quantity. A qcow2
   * file can declare any size in its header; the limit keeps a hostile or mistaken image from
   * handing the guest a disk far larger than the volume.
   * @default '64Gi'
   */
  readonly maxVirtualSize?: string;

  /**
   * Where the disk volume is mounted in the seeder.
   * @default '/images'
   */
  readonly mountPath?: string;

  /**
   * File name of the disk image on the volume.
   * @default 'win98.qcow2'
   */
  readonly imageFileName?: string;

  /**
   * How long emulators of a shared-base disk wait for the seeding Job to place the base image
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
   * User the seeder runs as. It needs no root: the pod's `fsGroup` gives it the volume. A hostPath
   * PersistentVolume is the exception: the kubelet applies no `fsGroup` to hostPath volumes and
   * creates their directory owned by root, so there the seeder runs as root, still with every
   * capability dropped.
   * @default 1000; 0 on a hostPath PersistentVolume
   */
  readonly runAsUser?: number;
}

/** Properties of a DiskSeeder. */
export interface DiskSeederProps extends SeedingOptions {
  /**
   * Labels and annotations of the objects the seeder creates (its scripts ConfigMap, its Job).
   * @default - none
   */
  readonly metadata?: ApiObjectMetadata;

  /** The disk to seed. */
  readonly disk: EmulatorDisk;

  /**
   * Image the seeder runs in. It must have a POSIX shell and, for the built-in source, the
   * built-in disk image; the emulator image has both (and `qemu-img`).
   */
  readonly image: ContainerImage;

  /**
   * Sources to try, in order, when the volume holds no disk image yet. An existing disk is always
   * kept and checked first, whatever this says.
   * @default [SeedSource.builtin()]
   */
  readonly sources?: SeedSource[];

  /**
   * Secrets for pulling the seeder image, for the seeding Job of a shared-base disk (in the
   * emulator pod, the pod's own imagePullSecrets apply).
   * @default - none
   */
  readonly imagePullSecrets?: string[];
}

/** The largest virtual size an image may have to become the disk, unless `maxVirtualSize` says otherwise. */
export const DEFAULT_MAX_VIRTUAL_SIZE = '64Gi';
const DEFAULT_TOOLS_IMAGE = ContainerImage.fromTag('busybox', '1.35');

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

/** Everything the containers are built from, checked. */
interface SeederConfig extends SeedingOptions {
  readonly image: ResolvedImage;
  readonly snapshot?: ResolvedImage;
  readonly snapshotPath?: string;
  readonly toolsImage?: ResolvedImage;
  readonly authSecret?: string;
  readonly tlsVerify?: boolean;
  readonly builtinPath: string;
  readonly builtinRequired: boolean;
}

/**
 * The init container that makes sure the disk image exists before the emulator starts.
 *
 * It runs `seed-disk.sh` (a POSIX sh script carried verbatim in a ConfigMap, with every other
 * script it needs; the ConfigMap's name is a hash of its content, so a script change rolls the
 * pods): an existing image is kept untouched; otherwise each source is tried in order, copied to a
 * temporary name on the volume, verified and linked into place atomically. When no source works it
 * exits non-zero with one line naming every source it tried and why each failed.
 */
export class DiskSeeder extends Construct {
  /** The ConfigMap that carries the scripts (the primary child, `Resource`). */
  public readonly scriptConfigMap: k8s.KubeConfigMap;
  /** The sources tried, in order. */
  public readonly sources: SeedSource[];
  /** The snapshot image, when the snapshot is a source. */
  public readonly snapshot?: ImageReference;
  /** How the snapshot reaches the disk, when the snapshot is a source. */
  public readonly snapshotMethod?: SnapshotMethodKind;
  /** The disk this seeder fills. */
  public readonly disk: EmulatorDisk;
  /** Where the disk volume is mounted. */
  public readonly mountPath: string;
  /** Full path of the disk image, as the seeder sees it. */
  public readonly imagePath: string;
  /** File name of the disk image on the volume. */
  public readonly imageFileName: string;
  /** The Job that seeds a shared-base disk's base claim once; the emulators' init container only waits for it. */
  public readonly seedJob?: k8s.KubeJob;
  /** User the seeder runs as; the pod's fsGroup must give it the volume. */
  public readonly runAsUser: number;

  private readonly config: SeederConfig;
  private readonly virtualSizeLimits: { min?: number; max: number };

  constructor(scope: Construct, id: string, props: DiskSeederProps) {
    super(scope, id);
    if (!props || !(props.disk instanceof EmulatorDisk)) {
      throw invalidProp(this, 'disk', props?.disk, 'is required: the EmulatorDisk to seed');
    }
    this.disk = props.disk;
    this.sources = this.checkSources(props.sources ?? [SeedSource.builtin()]);
    this.mountPath = props.mountPath ?? IMAGES_MOUNT_PATH;
    this.imageFileName = props.imageFileName ?? DEFAULT_IMAGE_FILE_NAME;
    this.imagePath = `${this.mountPath}/${this.imageFileName}`;
    this.runAsUser = props.runAsUser ?? (props.disk.hostPathPersistentVolume !== undefined ? 0 : 1000);
    this.checkWritableDisk();
    this.config = this.resolve(props);
    this.snapshot = this.config.snapshot;
    this.snapshotMethod = this.snapshotSource()?._snapshot?.method?.kind
      ?? (this.config.snapshot ? SnapshotMethodKind.KUBELET_PULL : undefined);
    this.checkPaths();
    this.checkSeedingOptions(props);
    this.virtualSizeLimits = virtualSizeLimits(this, props);

    this.scriptConfigMap = scriptConfigMap(this, 'Resource', pathName(this), this.scripts());
    // The base of a shared-base disk is seeded once for all replicas, by a Job rather than by nine init containers.
    this.seedJob = this.disk.kind === EmulatorDiskKind.SHARED_BASE ? this.seedingJob(props) : undefined;
    applyMetadata(this, props.metadata);
    addSynthChecks(this);
  }

  /** The scripts the containers run, by file name. */
  private scripts(): { [file: string]: string } {
    return {
      [SEED_SCRIPT_FILE]: seedScript(),
      ...(this.disk.kind === EmulatorDiskKind.SHARED_BASE ? { [WAIT_SCRIPT_FILE]: shippedScript(WAIT_SCRIPT_FILE) } : {}),
      ...(this.snapshotMethod === SnapshotMethodKind.KUBELET_PULL ? { [TOOLS_SCRIPT_FILE]: shippedScript(TOOLS_SCRIPT_FILE) } : {}),
      ...(this.snapshotMethod === SnapshotMethodKind.REGISTRY_CLIENT ? { [FETCH_SCRIPT_FILE]: shippedScript(FETCH_SCRIPT_FILE) } : {}),
    };
  }

  private snapshotSource(): SeedSource | undefined {
    return this.sources.find((source) => source.kind === SeedSourceKind.SNAPSHOT);
  }

  /** The sources: at least one, each a SeedSource, each kind once. */
  private checkSources(sources: SeedSource[]): SeedSource[] {
    const kinds = Object.values(SeedSourceKind).join(', ');
    if (!Array.isArray(sources) || sources.length === 0) {
      throw invalidProp(this, 'sources', sources, `must name at least one source (SeedSource.builtin(), SeedSource.snapshot(image)): ${kinds}`);
    }
    for (const source of sources) {
      if (!(source instanceof SeedSource)) {
        throw invalidProp(this, 'sources', source, 'each source must be a SeedSource: SeedSource.builtin() or SeedSource.snapshot(image)');
      }
    }
    if (new Set(sources.map((source) => source.kind)).size !== sources.length) {
      throw invalidProp(this, 'sources', sources.map((source) => source.kind), 'must name each source at most once');
    }
    return sources;
  }

  /** A seeder must write the disk. */
  private checkWritableDisk(): void {
    const modes = this.disk.accessModes;
    if (modes.length > 0 && modes.every((mode) => mode === DiskAccessMode.READ_ONLY_MANY)) {
      throw invalidProp(this, 'disk', this.disk.node.path,
        `is ${DiskAccessMode.READ_ONLY_MANY} only, and the seeder must write the image onto it: give the disk a writable access mode (${DiskAccessMode.READ_WRITE_ONCE}, ${DiskAccessMode.READ_WRITE_MANY}) or drop the seeder`);
    }
  }

  /** The images and the sources' options, checked, in the shape the containers are built from. */
  private resolve(props: DiskSeederProps): SeederConfig {
    const builtin = this.sources.find((source) => source.kind === SeedSourceKind.BUILTIN)?._builtin;
    const snapshot = this.snapshotSource()?._snapshot;
    if (!(props.image instanceof ContainerImage)) {
      throw invalidProp(this, 'image', props.image, 'is required: a ContainerImage (ContainerImage.fromTag(repository, tag)) with a POSIX shell and the built-in image');
    }
    const method = snapshot?.method;
    if (method !== undefined && !(method instanceof SnapshotMethod)) {
      throw invalidProp(this, 'sources.snapshot.method', method, 'must be a SnapshotMethod: SnapshotMethod.kubeletPull() or SnapshotMethod.registryClient()');
    }
    if (snapshot !== undefined && !(snapshot.image instanceof ContainerImage)) {
      throw invalidProp(this, 'sources.snapshot.image', snapshot.image, 'must be a ContainerImage, e.g. ContainerImage.fromReference(\'ghcr.io/mroie/qemu-snapshots:win98-base\')');
    }
    const kubeletPull = snapshot !== undefined && (method === undefined || method.kind === SnapshotMethodKind.KUBELET_PULL);
    const registry = method?._registryClient;
    return {
      ...props,
      image: props.image._resolve(this, 'image'),
      snapshot: snapshot?.image._resolve(this, 'sources.snapshot.image'),
      snapshotPath: snapshot?.path,
      toolsImage: kubeletPull ? (method?._kubeletPull?.toolsImage ?? DEFAULT_TOOLS_IMAGE)._resolve(this, 'sources.snapshot.method.toolsImage') : undefined,
      authSecret: registry?.authSecret,
      tlsVerify: registry?.tlsVerify,
      builtinPath: builtin?.path ?? DEFAULT_BUILTIN_IMAGE_PATH,
      builtinRequired: builtin?.required ?? (this.sources.length === 1 && builtin !== undefined),
    };
  }

  /**
   * The path props: a plain file name, absolute paths, and none of them on another mount of the
   * seeder's containers (the built-in image and the snapshot are read from the images' own files).
   */
  private checkPaths(): void {
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
    const disk = { path: this.mountPath, what: 'the disk volume (mountPath)' };
    const builtinPath = this.sources.find((source) => source.kind === SeedSourceKind.BUILTIN)?._builtin?.path;
    if (builtinPath !== undefined) {
      checkAbsolutePath(this, 'sources.builtin.path', builtinPath);
      checkNoMountClash(this, 'sources.builtin.path', builtinPath, [disk, ...fixedMounts]);
    }
    const snapshotPath = this.config.snapshotPath;
    if (snapshotPath !== undefined) {
      checkAbsolutePath(this, 'sources.snapshot.path', snapshotPath);
      // Read from the snapshot image's own files, in a container that also mounts these.
      if (this.snapshotMethod === SnapshotMethodKind.KUBELET_PULL) checkNoMountClash(this, 'sources.snapshot.path', snapshotPath, [disk, ...fixedMounts]);
    }
  }

  /** The registry-client options, the verification, the user and the timings of the seeding. */
  private checkSeedingOptions(props: DiskSeederProps): void {
    const nodeLocal = this.disk.hostPathPersistentVolume !== undefined;
    // Only a shared-base disk has a seeding Job (whose pull secrets these are) and a wait for it.
    for (const prop of ['baseWaitSeconds', 'imagePullSecrets'] as const) {
      if (props[prop] !== undefined && this.disk.kind !== EmulatorDiskKind.SHARED_BASE) {
        throw invalidProp(this, prop, props[prop],
          `applies only to a shared-base disk (DiskVolume.sharedBase()), seeded by a Job; disk kind ${this.disk.kind} is seeded in the emulator pod${prop === 'imagePullSecrets' ? ', whose own imagePullSecrets apply' : ''}`);
      }
    }
    if (this.config.authSecret !== undefined) checkDnsSubdomain(this, 'sources.snapshot.method.authSecret', this.config.authSecret);
    if (this.config.tlsVerify !== undefined && typeof this.config.tlsVerify !== 'boolean') {
      throw invalidProp(this, 'sources.snapshot.method.tlsVerify', this.config.tlsVerify, 'must be true or false');
    }
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
    const snapshotContainers = this.snapshotContainers();
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
            initContainers: snapshotContainers.length > 0 ? snapshotContainers : undefined,
            containers: [this.seedContainer()],
            volumes: [...this.disk.podVolumes, ...this.volumes],
          },
        },
      },
    });
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
    if (this.snapshotMethod === SnapshotMethodKind.KUBELET_PULL) {
      volumes.push({ name: SEED_TOOLS_VOLUME_NAME, emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } });
    }
    if (this.config.authSecret) {
      volumes.push({
        name: REGISTRY_AUTH_VOLUME_NAME,
        secret: { secretName: this.config.authSecret, items: [{ key: '.dockerconfigjson', path: 'auth.json' }] },
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
    const tools = this.config.toolsImage;
    if (this.snapshotMethod !== SnapshotMethodKind.KUBELET_PULL || !this.config.snapshot || !tools) return [];
    const scriptMount = { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true };
    return [{
      name: TOOLS_CONTAINER_NAME,
      image: tools.image,
      imagePullPolicy: tools.pullPolicy,
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${TOOLS_SCRIPT_FILE}`],
      env: literalEnv([{ name: 'SEED_TOOLS_DIR', value: SEED_TOOLS_MOUNT_PATH }]),
      volumeMounts: [{ name: SEED_TOOLS_VOLUME_NAME, mountPath: SEED_TOOLS_MOUNT_PATH }, scriptMount],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    }, {
      name: SNAPSHOT_CONTAINER_NAME,
      image: this.config.snapshot.image,
      imagePullPolicy: this.config.snapshot.pullPolicy,
      // The image has no shell: run the placed busybox, whose applets PATH finds.
      command: [`${SEED_TOOLS_MOUNT_PATH}/busybox`, 'sh', `${SEED_SCRIPT_MOUNT_PATH}/${SEED_SCRIPT_FILE}`, 'stage', kubeLiteral(this.config.snapshotPath ?? DEFAULT_SNAPSHOT_PATH)],
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
      image: this.config.image.image,
      imagePullPolicy: this.config.image.pullPolicy,
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${WAIT_SCRIPT_FILE}`],
      env: literalEnv([
        { name: 'WAIT_TARGET', value: `${this.disk.imageDirectory}/${this.imageFileName}` },
        { name: 'WAIT_TIMEOUT_SECONDS', value: String(this.config.baseWaitSeconds ?? 1800) },
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
      { name: 'SEED_LOCK_TIMEOUT_SECONDS', value: String(this.config.lockTimeoutSeconds ?? 1800) },
      { name: 'SEED_LOCK_STALE_SECONDS', value: String(this.config.lockStaleSeconds ?? 60) },
      { name: 'SEED_PROGRESS_SECONDS', value: String(this.config.progressIntervalSeconds ?? 10) },
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
    return lockedDownSecurityContext(this.runAsUser);
  }

  private seedContainer(): k8s.Container {
    const builtinRequired = this.config.builtinRequired;
    const env: k8s.EnvVar[] = [
      { name: 'SEED_TARGET', value: this.imagePath },
      { name: 'SEED_SOURCES', value: this.sources.map((source) => source.kind).join(' ') },
      { name: 'SEED_BUILTIN_PATH', value: this.config.builtinPath },
      { name: 'SEED_VERIFY', value: this.config.verification ?? SeedVerification.QEMU_IMG },
    ];
    if (this.config.snapshot) {
      env.push({ name: 'SEED_SNAPSHOT_REF', value: this.config.snapshot.image });
    }
    if (this.snapshotMethod) {
      env.push({ name: 'SEED_SNAPSHOT_METHOD', value: this.snapshotMethod });
    }
    if (this.snapshotMethod === SnapshotMethodKind.REGISTRY_CLIENT && this.config.snapshotPath) {
      env.push({ name: 'SEED_SNAPSHOT_PATH', value: this.config.snapshotPath });
    }
    if (this.config.authSecret) {
      env.push({ name: 'REGISTRY_AUTH_FILE', value: `${REGISTRY_AUTH_MOUNT_PATH}/auth.json` });
    }
    if (this.config.tlsVerify === false) {
      env.push({ name: 'SEED_REGISTRY_TLS_VERIFY', value: 'false' });
    }
    if (this.config.expectedSha256) {
      env.push({ name: 'SEED_SHA256', value: this.config.expectedSha256 });
    }
    env.push({
      name: 'SEED_HINT',
      value: builtinRequired
        ? `the emulator image ${this.config.image.image} must contain the built-in disk image; check it with 'npx cdk8s-qemu-loco check-image ${this.config.image.image}', or use the hybrid mode to fetch the snapshot instead`
        : `make one of the sources reachable (registry credentials in ${this.snapshotMethod === SnapshotMethodKind.REGISTRY_CLIENT ? 'the registry client\'s authSecret' : 'imagePullSecrets'}, a built-in image in the emulator image), or put a disk image on the volume`,
    });
    env.push(...this.lockEnv, ...this.policyEnv);

    return {
      name: SEEDER_CONTAINER_NAME,
      image: this.config.image.image,
      imagePullPolicy: this.config.image.pullPolicy,
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${SEED_SCRIPT_FILE}`],
      env: literalEnv(env),
      // The failure line becomes the termination message `kubectl describe pod` shows.
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.mountPath },
        { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true },
        ...(this.config.authSecret ? [{ name: REGISTRY_AUTH_VOLUME_NAME, mountPath: REGISTRY_AUTH_MOUNT_PATH, readOnly: true }] : []),
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    };
  }
}

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
