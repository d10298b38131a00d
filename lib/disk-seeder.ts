import { readFileSync } from 'fs';
import { join } from 'path';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
import { parseSnapshotReference, SnapshotReference } from './snapshot-reference';
import { invalidProp } from './validation';

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
   * Pull policy of the seeder image.
   * @default 'IfNotPresent'
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
   * User the seeder runs as. It needs no root: the pod's `fsGroup` gives it the volume.
   * A hostPath PersistentVolume is the exception: the kubelet applies no `fsGroup` to hostPath
   * volumes and creates their directory owned by root, so there the seeder runs as root, still
   * with every capability dropped.
   * @default 1000; 0 on a hostPath PersistentVolume
   */
  readonly runAsUser?: number;
}

/** Name of the init container that seeds the disk. */
export const SEEDER_CONTAINER_NAME = 'seed-disk';
/** Name of the init container that waits for a shared base image. */
export const WAIT_CONTAINER_NAME = 'wait-for-base';
/** File name of the script that waits for a shared base image. */
export const WAIT_SCRIPT_FILE = 'wait-for-disk.sh';
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

  constructor(scope: Construct, id: string, props: DiskSeederProps) {
    super(scope, id);
    this.props = props;
    this.disk = props.disk;
    this.sources = props.sources ?? [SeedSource.BUILTIN];
    this.mountPath = props.mountPath ?? '/images';
    this.imageFileName = props.imageFileName ?? 'win98.qcow2';
    this.imagePath = `${this.mountPath}/${this.imageFileName}`;
    const nodeLocal = props.disk.hostPathPersistentVolume !== undefined;
    this.runAsUser = props.runAsUser ?? (nodeLocal ? 0 : 1000);

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
    if (this.sources.includes(SeedSource.SNAPSHOT)) {
      if (props.snapshotImage === undefined) {
        throw invalidProp(this, 'snapshotImage', undefined, "is required when sources include 'snapshot'");
      }
    }
    if (props.snapshotImage !== undefined) {
      this.snapshot = parseSnapshotReference(this, 'snapshotImage', props.snapshotImage);
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

    const baseWaitSeconds = props.baseWaitSeconds ?? 1800;
    if (!Number.isInteger(baseWaitSeconds) || baseWaitSeconds < 1) {
      throw invalidProp(this, 'baseWaitSeconds', baseWaitSeconds, 'must be a whole number of seconds, at least 1');
    }

    const sharedBase = this.disk.kind === EmulatorDiskKind.SHARED_BASE;
    this.scriptConfigMap = new k8s.KubeConfigMap(this, 'Script', {
      data: {
        [SEED_SCRIPT_FILE]: seedScript(),
        ...(sharedBase ? { [WAIT_SCRIPT_FILE]: shippedScript(WAIT_SCRIPT_FILE) } : {}),
      },
    });

    if (sharedBase) {
      // The base is seeded once for all replicas, by a Job rather than by nine init containers.
      this.seedJob = new k8s.KubeJob(this, 'Job', {
        spec: {
          backoffLimit: 6,
          template: {
            spec: {
              restartPolicy: 'OnFailure',
              imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
              securityContext: this.podSecurityContext,
              containers: [this.seedContainer()],
              volumes: [...this.disk.podVolumes, ...this.volumes],
            },
          },
        },
      });
    }
  }

  /** The pod security context the seeder needs: an fsGroup that gives it the volume. */
  public get podSecurityContext(): k8s.PodSecurityContext | undefined {
    if (this.runAsUser === 0) return undefined;
    // Only a volume whose root does not match yet is re-chowned, not every start.
    return { fsGroup: this.runAsUser, fsGroupChangePolicy: 'OnRootMismatch' };
  }

  /** The volumes the seeder needs besides the disk (its script). */
  public get volumes(): k8s.Volume[] {
    return [{
      name: SEED_SCRIPT_VOLUME_NAME,
      configMap: { name: this.scriptConfigMap.name, defaultMode: 0o555 },
    }];
  }

  /**
   * The init containers to run before the emulator, in order: the seeder, or for a `SHARED_BASE`
   * disk a container that waits until the seeding Job has placed the base image.
   */
  public get initContainers(): k8s.Container[] {
    if (this.seedJob) {
      return [this.waitContainer()];
    }
    return [this.seedContainer()];
  }

  private waitContainer(): k8s.Container {
    return {
      name: WAIT_CONTAINER_NAME,
      image: this.props.image,
      imagePullPolicy: this.props.imagePullPolicy ?? 'IfNotPresent',
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${WAIT_SCRIPT_FILE}`],
      env: [
        { name: 'WAIT_TARGET', value: `${this.disk.imageDirectory}/${this.imageFileName}` },
        { name: 'WAIT_TIMEOUT_SECONDS', value: String(this.props.baseWaitSeconds ?? 1800) },
      ],
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.disk.imageDirectory, readOnly: true },
        { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true },
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    };
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
    if (this.props.expectedSha256) {
      env.push({ name: 'SEED_SHA256', value: this.props.expectedSha256 });
    }
    env.push({
      name: 'SEED_HINT',
      value: builtinRequired
        ? `the emulator image ${this.props.image} must contain the built-in disk image; check it with 'npx cdk8s-qemu-loco check-image ${this.props.image}', or use the hybrid mode to fetch the snapshot instead`
        : 'make one of the sources reachable (registry credentials in imagePullSecrets, a built-in image in the emulator image), or put a disk image on the volume',
    });

    return {
      name: SEEDER_CONTAINER_NAME,
      image: this.props.image,
      imagePullPolicy: this.props.imagePullPolicy ?? 'IfNotPresent',
      command: ['/bin/sh', `${SEED_SCRIPT_MOUNT_PATH}/${SEED_SCRIPT_FILE}`],
      env,
      volumeMounts: [
        { name: this.disk.imageVolumeName, mountPath: this.mountPath },
        { name: SEED_SCRIPT_VOLUME_NAME, mountPath: SEED_SCRIPT_MOUNT_PATH, readOnly: true },
      ],
      resources: this.resources,
      securityContext: this.containerSecurityContext,
    };
  }
}
