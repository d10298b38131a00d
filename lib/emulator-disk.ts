import { ApiObjectMetadata, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BASE_MOUNT_PATH, BASE_VOLUME_NAME, DISK_VOLUME_NAME, IMAGES_MOUNT_PATH } from './disk-layout';
import { applyMetadata } from './metadata';
import { addSynthChecks } from './synth-checks';
import { checkAbsolutePath, checkDnsSubdomain, invalidProp, parseStorageQuantity } from './validation';

/** How an EmulatorDisk provides its volume. */
export enum EmulatorDiskKind {
  /** A new PersistentVolumeClaim created with the disk (persists). */
  CLAIM = 'claim',
  /** A PersistentVolumeClaim that already exists in the namespace (persists). */
  EXISTING_CLAIM = 'existing-claim',
  /** An emptyDir on the node (lost when the pod goes). */
  EMPTY_DIR = 'empty-dir',
  /**
   * One claim per replica, from the StatefulSet's `volumeClaimTemplates`, each seeded with its own
   * copy of the base image (persists). Works with ReadWriteOnce storage on any cluster; costs one
   * base copy per replica in time and space.
   */
  CLAIM_PER_REPLICA = 'claim-per-replica',
  /**
   * One shared base claim, seeded once by a Job and mounted read-only by every replica at
   * `/images/base`, plus a small claim per replica at `/images` for the entrypoint's overlays
   * (persists). The base claim must be ReadWriteMany (the Job writes it once, on any node); the
   * overlay claims can be ReadWriteOnce. One base copy in all, whatever the replica count.
   */
  SHARED_BASE = 'shared-base',
  /**
   * One claim per replica, each cloned by the storage driver from an existing claim or a
   * VolumeSnapshot (`dataSourceRef`, CSI cloning), so each disk arrives filled and the seeder
   * finds it and does nothing (persists). Needs a CSI driver that supports cloning or snapshots.
   */
  GOLDEN_CLONE = 'golden-clone',
}

/** What a golden-clone disk is cloned from. */
export enum CloneSourceKind {
  /** An existing PersistentVolumeClaim in the same namespace (CSI volume cloning). */
  PERSISTENT_VOLUME_CLAIM = 'PersistentVolumeClaim',
  /** A VolumeSnapshot in the same namespace (CSI snapshots, `snapshot.storage.k8s.io`). */
  VOLUME_SNAPSHOT = 'VolumeSnapshot',
}

/** What a golden-clone disk is cloned from: an existing claim or a VolumeSnapshot. */
export class CloneSource {
  /** Clone each replica's claim from an existing PersistentVolumeClaim (CSI volume cloning). */
  public static fromClaim(name: string): CloneSource {
    return new CloneSource(CloneSourceKind.PERSISTENT_VOLUME_CLAIM, name);
  }

  /** Restore each replica's claim from a VolumeSnapshot (CSI snapshots). */
  public static fromVolumeSnapshot(name: string): CloneSource {
    return new CloneSource(CloneSourceKind.VOLUME_SNAPSHOT, name);
  }

  /** The kind of the source object. */
  public readonly kind: CloneSourceKind;
  /** Its name, in the StatefulSet's namespace. */
  public readonly name: string;

  private constructor(kind: CloneSourceKind, name: string) {
    this.kind = kind;
    this.name = name;
  }
}

/** Access modes of a PersistentVolumeClaim. */
export enum DiskAccessMode {
  /** Mounted read-write by pods on one node at a time. */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Mounted read-write by pods on many nodes (NFS, CephFS, Longhorn RWX...). */
  READ_WRITE_MANY = 'ReadWriteMany',
  /** Mounted read-only by pods on many nodes. */
  READ_ONLY_MANY = 'ReadOnlyMany',
  /** Mounted read-write by a single pod. */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
}

/** Storage medium of an emptyDir disk. */
export enum EmptyDirMedium {
  /** The node's default storage (its disk). */
  DEFAULT = '',
  /** A tmpfs in the node's memory: fast, and counted against the pod's memory limit. */
  MEMORY = 'Memory',
}

/**
 * A statically provisioned hostPath PersistentVolume, for single-node clusters such as minikube
 * that have no dynamic provisioner, as the Helm chart's `persistent-volume.yaml` does.
 */
export interface HostPathVolumeOptions {
  /**
   * Explicit opt-in: a hostPath volume keeps the disk in a directory of whichever node the pod
   * runs on, and gives the pod that node's filesystem. Set this to `true` to say that this is a
   * single-node cluster (minikube, kind, k3s on one machine) where that is what you want.
   */
  readonly acknowledgeNodeLocal: boolean;

  /**
   * Directory on the node: an absolute path, no '..' (and not '/' itself). Two disks of one app
   * may not share it.
   * @default `/tmp/cdk8s-qemu-loco/<namespace>/<claimName>`
   */
  readonly path?: string;
}

/** What every claim of a disk takes. */
export interface ClaimOptions {
  /**
   * Requested size of the claim (of each replica's claim when there is one per replica; of the
   * base for a shared base).
   * @default '10Gi'
   */
  readonly size?: string;

  /**
   * StorageClass of the claim.
   * @default - the cluster's default StorageClass; with a hostPath volume, no class ('')
   */
  readonly storageClassName?: string;

  /**
   * Access modes of the claim.
   * @default [DiskAccessMode.READ_WRITE_ONCE]; ReadWriteMany for a shared base
   */
  readonly accessModes?: DiskAccessMode[];

  /**
   * Size of the disk image (`win98.qcow2`) the volume must hold, declared so that a claim too
   * small for it is a synth error rather than a seeder failing on a full claim.
   * @default - not checked
   */
  readonly imageSize?: string;
}

/** A new claim shared by every replica. */
export interface NewClaimOptions extends ClaimOptions {
  /**
   * Name of the PersistentVolumeClaim.
   * @default 'win98-disk'
   */
  readonly claimName?: string;

  /**
   * Also create a hostPath PersistentVolume that the claim binds to through `volumeName`.
   * @default - none: the claim is provisioned by the cluster's StorageClass
   */
  readonly hostPathVolume?: HostPathVolumeOptions;
}

/** A shared read-only base claim, plus an overlay claim per replica. */
export interface SharedBaseOptions extends NewClaimOptions {
  /**
   * Size of each replica's overlay claim. Overlays hold only what a guest writes on top of the base.
   * @default '2Gi'
   */
  readonly overlaySize?: string;
}

/** A claim that already exists in the namespace. */
export interface ExistingClaimOptions {
  /**
   * Access modes the claim has (they decide whether several replicas may share it).
   * @default [DiskAccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: DiskAccessMode[];

  /**
   * Size of the disk image the claim must hold (its own size is unknown here, so only the
   * quantity is checked).
   * @default - not checked
   */
  readonly imageSize?: string;
}

/** An emptyDir disk. */
export interface EmptyDirDiskOptions {
  /**
   * Size limit of the emptyDir. The kubelet evicts the pod when the disk grows past it, so it must
   * hold the image plus the per-instance overlays.
   * @default '20Gi'
   */
  readonly sizeLimit?: string;

  /**
   * Medium of the emptyDir.
   * @default EmptyDirMedium.DEFAULT
   */
  readonly medium?: EmptyDirMedium;

  /**
   * Size of the disk image the emptyDir must hold, checked against `sizeLimit`.
   * @default - not checked
   */
  readonly imageSize?: string;
}

/** Everything a disk kind was given, for the construct that binds it. */
interface DiskSpec extends SharedBaseOptions, EmptyDirDiskOptions {
  readonly cloneFrom?: CloneSource;
  readonly accessModes?: DiskAccessMode[];
  readonly imageSize?: string;
}

/**
 * How the disk volume is provided: one of the six disk kinds, each with its own options.
 *
 * @example
 * new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.claimPerReplica({ size: '12Gi' }) });
 */
export class DiskVolume {
  /** A new PersistentVolumeClaim shared by every replica (persists). The default. */
  public static newClaim(options: NewClaimOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.CLAIM, options);
  }

  /** A PersistentVolumeClaim that already exists in the namespace (persists). */
  public static existingClaim(claimName: string, options: ExistingClaimOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.EXISTING_CLAIM, { ...options, claimName });
  }

  /** An emptyDir on the node: lost when the pod goes. */
  public static emptyDir(options: EmptyDirDiskOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.EMPTY_DIR, options);
  }

  /** One claim per replica (`volumeClaimTemplates`), each seeded with its own copy (persists). */
  public static claimPerReplica(options: ClaimOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.CLAIM_PER_REPLICA, options);
  }

  /**
   * One ReadWriteMany base claim seeded once by a Job and mounted read-only by every replica,
   * plus a small overlay claim per replica (persists).
   */
  public static sharedBase(options: SharedBaseOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.SHARED_BASE, options);
  }

  /** One claim per replica, cloned by the CSI driver from a claim or a VolumeSnapshot (persists). */
  public static goldenClone(source: CloneSource, options: ClaimOptions = {}): DiskVolume {
    return new DiskVolume(EmulatorDiskKind.GOLDEN_CLONE, { ...options, cloneFrom: source });
  }

  /** The disk kind. */
  public readonly kind: EmulatorDiskKind;
  /** @internal */
  public readonly _spec: DiskSpec;

  private constructor(kind: EmulatorDiskKind, spec: DiskSpec) {
    this.kind = kind;
    this._spec = spec;
  }
}

/** Properties of an EmulatorDisk. */
export interface EmulatorDiskProps {
  /**
   * Labels and annotations of the objects the disk creates (its claim, its PersistentVolume).
   * @default - none
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * How the disk volume is provided.
   * @default DiskVolume.newClaim()
   */
  readonly volume?: DiskVolume;
}

/** A claim the StatefulSet creates for each replica (`volumeClaimTemplates`). */
export interface PerReplicaClaim {
  /**
   * Template name; each replica's claim is `<name>-<statefulset>-<ordinal>`.
   */
  readonly name: string;
  /** The claim's spec. */
  readonly spec: k8s.PersistentVolumeClaimSpec;
}

const DEFAULT_CLAIM_NAME = 'win98-disk';
const DEFAULT_SIZE = '10Gi';
const DEFAULT_SIZE_LIMIT = '20Gi';
const DEFAULT_OVERLAY_SIZE = '2Gi';
const PER_REPLICA_KINDS = [EmulatorDiskKind.CLAIM_PER_REPLICA, EmulatorDiskKind.SHARED_BASE, EmulatorDiskKind.GOLDEN_CLONE];

/** What binding a disk kind produced. */
interface BoundDisk {
  claimName?: string;
  sizeBytes?: number;
  claim?: k8s.KubePersistentVolumeClaim;
  persistentVolume?: k8s.KubePersistentVolume;
  claimTemplates: PerReplicaClaim[];
  emptyDir?: k8s.EmptyDirVolumeSource;
}

/**
 * Where the emulator's disk image lives, and how replicas share it: a PersistentVolumeClaim shared
 * by all replicas (new or existing, optionally on a hostPath PersistentVolume), a claim per replica
 * (plain, cloned from a golden source, or overlays on a shared read-only base), or an emptyDir.
 * It creates the storage objects it needs (its primary child, `Resource`, is the claim it creates)
 * and hands out the pod volumes, the per-replica claim templates and the mounts for the emulator.
 */
export class EmulatorDisk extends Construct {
  /** How the volume is provided. */
  public readonly kind: EmulatorDiskKind;
  /** Whether the disk survives the pod (a claim) or not (an emptyDir). */
  public readonly persistent: boolean;
  /** Whether each replica gets claims of its own (from `volumeClaimTemplates`). */
  public readonly perReplica: boolean;
  /** The shared claim's name: the disk for a new or existing claim, the base for a shared base. */
  public readonly claimName?: string;
  /** Access modes of the claim (of each replica's claim when there is one per replica, of the base for a shared base). */
  public readonly accessModes: DiskAccessMode[];
  /** Size of the volume holding the image, in bytes: the claim's size or the emptyDir's limit. */
  public readonly sizeBytes?: number;
  /** The shared claim, when this construct creates it. */
  public readonly claim?: k8s.KubePersistentVolumeClaim;
  /** The hostPath PersistentVolume, when asked for. */
  public readonly hostPathPersistentVolume?: k8s.KubePersistentVolume;
  /** The claims the StatefulSet creates for each replica. */
  public readonly claimTemplates: PerReplicaClaim[];
  /** The pod volume that holds the base image, which the seeder fills: `disk`, or `base` for a shared base. */
  public readonly imageVolumeName: string;
  /** Directory of the base image in the emulator: `/images`, or `/images/base` for a shared base. */
  public readonly imageDirectory: string;

  private readonly emptyDir?: k8s.EmptyDirVolumeSource;

  constructor(scope: Construct, id: string, props: EmulatorDiskProps = {}) {
    super(scope, id);
    // A JavaScript caller's null props mean none, as undefined does.
    const volume = props?.volume ?? DiskVolume.newClaim();
    if (!(volume instanceof DiskVolume)) {
      throw invalidProp(this, 'volume', volume, 'must be a DiskVolume (DiskVolume.newClaim(), DiskVolume.emptyDir(), ...)');
    }
    this.kind = volume.kind;
    this.persistent = this.kind !== EmulatorDiskKind.EMPTY_DIR;
    this.perReplica = PER_REPLICA_KINDS.includes(this.kind);
    const sharedBase = this.kind === EmulatorDiskKind.SHARED_BASE;
    this.accessModes = volume._spec.accessModes ?? [sharedBase ? DiskAccessMode.READ_WRITE_MANY : DiskAccessMode.READ_WRITE_ONCE];
    this.imageVolumeName = sharedBase ? BASE_VOLUME_NAME : DISK_VOLUME_NAME;
    this.imageDirectory = sharedBase ? BASE_MOUNT_PATH : IMAGES_MOUNT_PATH;

    const bound = this.bind(volume._spec);
    this.claimName = bound.claimName;
    this.sizeBytes = bound.sizeBytes;
    this.claim = bound.claim;
    this.hostPathPersistentVolume = bound.persistentVolume;
    this.claimTemplates = bound.claimTemplates;
    this.emptyDir = bound.emptyDir;
    applyMetadata(this, props?.metadata);
    addSynthChecks(this, () => this.sharedHostDirectories());
  }

  /** Whether pods on several nodes can write this disk at once. */
  public get sharedAcrossNodes(): boolean {
    return this.accessModes.includes(DiskAccessMode.READ_WRITE_MANY);
  }

  /**
   * Whether one volume is written by every replica (a new or existing claim): the case where
   * several replicas on a ReadWriteOnce claim must run on one node.
   */
  public get sharedByReplicas(): boolean {
    return this.kind === EmulatorDiskKind.CLAIM || this.kind === EmulatorDiskKind.EXISTING_CLAIM;
  }

  /**
   * The pod volume that holds the base image (named by `imageVolumeName`). Per-replica disks have
   * none: their claims come from the StatefulSet's `volumeClaimTemplates`.
   */
  public get volume(): k8s.Volume | undefined {
    if (this.emptyDir) {
      return { name: DISK_VOLUME_NAME, emptyDir: this.emptyDir };
    }
    if (this.claimName === undefined) {
      return undefined;
    }
    return { name: this.imageVolumeName, persistentVolumeClaim: { claimName: this.claimName } };
  }

  /** The pod-level volumes of this disk. */
  public get podVolumes(): k8s.Volume[] {
    return this.volume ? [this.volume] : [];
  }

  /**
   * How the emulator mounts the disk: the disk (or the replica's overlay claim) at `/images`, and
   * for a shared base the base read-only at `/images/base`.
   */
  public emulatorVolumeMounts(readOnly: boolean): k8s.VolumeMount[] {
    const mounts: k8s.VolumeMount[] = [{ name: DISK_VOLUME_NAME, mountPath: IMAGES_MOUNT_PATH, readOnly }];
    if (this.kind === EmulatorDiskKind.SHARED_BASE) {
      mounts.push({ name: BASE_VOLUME_NAME, mountPath: BASE_MOUNT_PATH, readOnly: true });
    }
    return mounts;
  }

  /** Two hostPath PersistentVolumes of one app on the same node directory would write one disk. */
  private sharedHostDirectories(): string[] {
    const path = this.hostPathPersistentVolume?.toJson().spec?.hostPath?.path;
    if (path === undefined) return [];
    const disks = this.node.root.node.findAll().filter((construct): construct is EmulatorDisk => construct instanceof EmulatorDisk);
    return disks.slice(disks.indexOf(this) + 1)
      .filter((other) => other.hostPathPersistentVolume?.toJson().spec?.hostPath?.path === path)
      .map((other) => `${this.node.path} and ${other.node.path} both keep their disk in the node directory ${path} (hostPathVolume.path): ` +
        'the two installations would write one disk; give each its own hostPathVolume.path');
  }

  /** The objects and templates the disk kind needs. */
  private bind(spec: DiskSpec): BoundDisk {
    if (this.kind === EmulatorDiskKind.EMPTY_DIR) return this.bindEmptyDir(spec);
    this.checkAccessModes();
    if (this.kind === EmulatorDiskKind.EXISTING_CLAIM) {
      if (spec.imageSize !== undefined) parseStorageQuantity(this, 'imageSize', spec.imageSize);
      checkDnsSubdomain(this, 'claimName', spec.claimName!);
      return { claimName: spec.claimName, claimTemplates: [] };
    }
    const size = spec.size ?? DEFAULT_SIZE;
    const sizeBytes = parseStorageQuantity(this, 'size', size);
    this.checkImageFits('size', size, sizeBytes, spec.imageSize);
    if (this.kind === EmulatorDiskKind.CLAIM_PER_REPLICA || this.kind === EmulatorDiskKind.GOLDEN_CLONE) {
      return { sizeBytes, claimTemplates: [this.replicaClaim(spec, size)] };
    }
    return { sizeBytes, ...this.bindSharedClaim(spec, size) };
  }

  private bindEmptyDir(spec: DiskSpec): BoundDisk {
    const sizeLimit = spec.sizeLimit ?? DEFAULT_SIZE_LIMIT;
    const sizeBytes = parseStorageQuantity(this, 'sizeLimit', sizeLimit);
    this.checkImageFits('sizeLimit', sizeLimit, sizeBytes, spec.imageSize);
    const medium = spec.medium ?? EmptyDirMedium.DEFAULT;
    if (!Object.values(EmptyDirMedium).includes(medium)) {
      throw invalidProp(this, 'medium', medium, "must be '' (the node's disk) or 'Memory'");
    }
    const emptyDir = { sizeLimit: k8s.Quantity.fromString(sizeLimit), ...(medium ? { medium } : {}) };
    return { sizeBytes, claimTemplates: [], emptyDir };
  }

  /** Each replica's claim: plain, or cloned from the golden source. */
  private replicaClaim(spec: DiskSpec, size: string): PerReplicaClaim {
    const clone = spec.cloneFrom;
    if (this.kind === EmulatorDiskKind.GOLDEN_CLONE) {
      if (!(clone instanceof CloneSource)) {
        throw invalidProp(this, 'cloneFrom', clone, 'must be a CloneSource (CloneSource.fromClaim(name), CloneSource.fromVolumeSnapshot(name))');
      }
      checkDnsSubdomain(this, 'cloneFrom.name', clone.name);
    }
    return {
      name: DISK_VOLUME_NAME,
      spec: {
        accessModes: this.accessModes,
        storageClassName: spec.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(size) } },
        dataSourceRef: clone && {
          apiGroup: clone.kind === CloneSourceKind.VOLUME_SNAPSHOT ? 'snapshot.storage.k8s.io' : undefined,
          kind: clone.kind,
          name: clone.name,
        },
      },
    };
  }

  /** A new claim (the disk, or a shared base), its hostPath PersistentVolume if asked, and a shared base's overlay claims. */
  private bindSharedClaim(spec: DiskSpec, size: string): Omit<BoundDisk, 'sizeBytes'> {
    const claimName = spec.claimName ?? DEFAULT_CLAIM_NAME;
    checkDnsSubdomain(this, 'claimName', claimName);
    const hostPath = spec.hostPathVolume;
    // A claim bound to a static PersistentVolume must name the PV's class; left unset, the
    // DefaultStorageClass admission plugin would give it the default class and it would never bind.
    const storageClassName = spec.storageClassName ?? (hostPath ? '' : undefined);
    const persistentVolume = hostPath && this.hostPathVolume(hostPath, claimName, size, storageClassName!);
    const claim = new k8s.KubePersistentVolumeClaim(this, 'Resource', {
      metadata: { name: claimName },
      spec: {
        accessModes: this.accessModes,
        storageClassName,
        volumeName: persistentVolume?.name,
        resources: { requests: { storage: k8s.Quantity.fromString(size) } },
      },
    });
    const claimTemplates: PerReplicaClaim[] = [];
    if (this.kind === EmulatorDiskKind.SHARED_BASE) {
      const overlaySize = spec.overlaySize ?? DEFAULT_OVERLAY_SIZE;
      parseStorageQuantity(this, 'overlaySize', overlaySize);
      claimTemplates.push({
        name: DISK_VOLUME_NAME,
        spec: {
          accessModes: [DiskAccessMode.READ_WRITE_ONCE],
          storageClassName: spec.storageClassName,
          resources: { requests: { storage: k8s.Quantity.fromString(overlaySize) } },
        },
      });
    }
    return { claimName, claim, persistentVolume, claimTemplates };
  }

  /** The statically provisioned hostPath PersistentVolume, for single-node clusters without a provisioner. */
  private hostPathVolume(hostPath: HostPathVolumeOptions, claimName: string, size: string, storageClassName: string): k8s.KubePersistentVolume {
    if (hostPath.acknowledgeNodeLocal !== true) {
      throw invalidProp(this, 'hostPathVolume.acknowledgeNodeLocal', hostPath.acknowledgeNodeLocal,
        'must be true to create a hostPath PersistentVolume: it keeps the disk on one node and suits single-node clusters only; leave hostPathVolume unset to let the StorageClass provision the claim');
    }
    // PersistentVolumes and node directories are cluster-wide: the chart's `<claim>-pv` and
    // `/tmp/<claim>` collide between two installations, so both include the namespace. A namespace
    // has no '.', so `<namespace>.<claim>-pv` is one name per (namespace, claim); `a-b-disk-pv`
    // could be namespace a with claim b-disk or namespace a-b with claim disk.
    const namespace = Chart.of(this).namespace ?? 'default';
    const path = hostPath.path ?? `/tmp/cdk8s-qemu-loco/${namespace}/${claimName}`;
    checkAbsolutePath(this, 'hostPathVolume.path', path);
    const volumeName = `${namespace}.${claimName}-pv`;
    checkDnsSubdomain(this, 'hostPathVolume (PersistentVolume name)', volumeName);
    return new k8s.KubePersistentVolume(this, 'HostPathVolume', {
      metadata: { name: volumeName },
      spec: {
        capacity: { storage: k8s.Quantity.fromString(size) },
        accessModes: this.accessModes,
        // Retain: deleting the claim must never delete the player's disk.
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName,
        hostPath: { path, type: 'DirectoryOrCreate' },
      },
    });
  }

  /** A volume smaller than the image it must hold fails at run time; say so at synth time. */
  private checkImageFits(property: string, volumeSize: string, volumeBytes: number, imageSize: string | undefined): void {
    if (imageSize === undefined) return;
    const imageBytes = parseStorageQuantity(this, 'imageSize', imageSize);
    if (volumeBytes < imageBytes) {
      throw invalidProp(this, property, volumeSize, this.kind === EmulatorDiskKind.EMPTY_DIR
        ? `must be at least imageSize (${imageSize}), plus room for the overlays: the kubelet evicts the pod once the emptyDir holds more than its sizeLimit`
        : `must be at least imageSize (${imageSize}), plus room for the overlays: the seeder cannot copy the image onto a smaller claim`);
    }
  }

  private checkAccessModes(): void {
    if (!Array.isArray(this.accessModes) || this.accessModes.length === 0) {
      throw invalidProp(this, 'accessModes', this.accessModes, 'must name at least one access mode');
    }
    for (const mode of this.accessModes) {
      if (!Object.values(DiskAccessMode).includes(mode)) {
        throw invalidProp(this, 'accessModes', mode, `must be one of ${Object.values(DiskAccessMode).join(', ')}`);
      }
    }
    if (this.kind === EmulatorDiskKind.SHARED_BASE && !this.sharedAcrossNodes) {
      throw invalidProp(this, 'accessModes', this.accessModes,
        `a shared-base disk's base claim is written once by a seeding Job and read by every replica on any node: it must include ${DiskAccessMode.READ_WRITE_MANY}`);
    }
  }
}
