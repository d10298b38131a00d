import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
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

/** The source of a golden-clone disk. */
export interface CloneSource {
  /** The kind of the source object. */
  readonly kind: CloneSourceKind;
  /** Its name, in the StatefulSet's namespace. */
  readonly name: string;
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
   * Directory on the node: an absolute path, no '..' (and not '/' itself).
   * @default `/tmp/<claimName>`
   */
  readonly path?: string;
}

/** Properties of an EmulatorDisk. */
export interface EmulatorDiskProps {
  /**
   * How the disk volume is provided.
   * @default EmulatorDiskKind.CLAIM
   */
  readonly kind?: EmulatorDiskKind;

  /**
   * Name of the PersistentVolumeClaim (created, or existing with `EXISTING_CLAIM`).
   * @default 'win98-disk'
   */
  readonly claimName?: string;

  /**
   * Requested size of the claim.
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
   * @default [DiskAccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: DiskAccessMode[];

  /**
   * Also create a hostPath PersistentVolume that the claim binds to through `volumeName`.
   * Only with `kind: CLAIM`.
   * @default - none: the claim is provisioned by the cluster's StorageClass
   */
  readonly hostPathVolume?: HostPathVolumeOptions;

  /**
   * Size limit of an emptyDir disk. The kubelet evicts the pod when the disk grows past it, so
   * it must hold the image plus the per-instance overlays.
   * @default '20Gi'
   */
  readonly sizeLimit?: string;

  /**
   * Medium of an emptyDir disk.
   * @default EmptyDirMedium.DEFAULT
   */
  readonly medium?: EmptyDirMedium;

  /**
   * Size of each replica's overlay claim, with `SHARED_BASE`. Overlays hold only what a guest
   * writes on top of the base.
   * @default '2Gi'
   */
  readonly overlaySize?: string;

  /**
   * What each replica's claim is cloned from. Required with `GOLDEN_CLONE`, refused otherwise.
   * @default - none
   */
  readonly cloneFrom?: CloneSource;

  /**
   * Size of the disk image (`win98.qcow2`) the volume must hold, declared so that a volume too
   * small for it is a synth error rather than a pod evicted (emptyDir past its `sizeLimit`) or a
   * seeder failing on a full claim. Checked against `sizeLimit` for an emptyDir and `size` for
   * a claim this construct creates; an existing claim's size is unknown here.
   * @default - not checked
   */
  readonly imageSize?: string;
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

/** The name of the pod volume an EmulatorDisk provides. */
export const DISK_VOLUME_NAME = 'disk';
/** The name of the shared base volume of a `SHARED_BASE` disk. */
export const BASE_VOLUME_NAME = 'base';
/** Where the disk is mounted in the emulator. */
export const IMAGES_MOUNT_PATH = '/images';
/** Where a `SHARED_BASE` disk's base is mounted in the emulator (read-only). */
export const BASE_MOUNT_PATH = '/images/base';

const DEFAULT_CLAIM_NAME = 'win98-disk';
const DEFAULT_SIZE = '10Gi';
const DEFAULT_SIZE_LIMIT = '20Gi';
const DEFAULT_OVERLAY_SIZE = '2Gi';
const PER_REPLICA_KINDS = [EmulatorDiskKind.CLAIM_PER_REPLICA, EmulatorDiskKind.SHARED_BASE, EmulatorDiskKind.GOLDEN_CLONE];

/**
 * Where the emulator's disk image lives, and how replicas share it: a PersistentVolumeClaim shared
 * by all replicas (new or existing, optionally on a hostPath PersistentVolume), a claim per replica
 * (plain, cloned from a golden source, or overlays on a shared read-only base), or an emptyDir.
 * It creates the storage objects it needs and hands out the pod volumes, the per-replica claim
 * templates and the mounts for the emulator.
 */
export class EmulatorDisk extends Construct {
  /** How the volume is provided. */
  public readonly kind: EmulatorDiskKind;
  /** Whether the disk survives the pod (a claim) or not (an emptyDir). */
  public readonly persistent: boolean;
  /** Whether each replica gets claims of its own (from `volumeClaimTemplates`). */
  public readonly perReplica: boolean;
  /** The shared claim's name: the disk for `CLAIM`/`EXISTING_CLAIM`, the base for `SHARED_BASE`. */
  public readonly claimName?: string;
  /** Access modes of the claim (of each replica's claim for `CLAIM_PER_REPLICA`/`GOLDEN_CLONE`, of the base for `SHARED_BASE`). */
  public readonly accessModes: DiskAccessMode[];
  /** Size of the volume holding the image, in bytes: the claim's size or the emptyDir's limit. */
  public readonly sizeBytes?: number;
  /** The shared claim, when this construct creates it. */
  public readonly claim?: k8s.KubePersistentVolumeClaim;
  /** The hostPath PersistentVolume, when asked for. */
  public readonly hostPathPersistentVolume?: k8s.KubePersistentVolume;
  /** The claims the StatefulSet creates for each replica. */
  public readonly claimTemplates: PerReplicaClaim[];
  /**
   * The pod volume that holds the base image, which the seeder fills: `disk`, or `base` for
   * `SHARED_BASE`.
   */
  public readonly imageVolumeName: string;
  /** Directory of the base image in the emulator: `/images`, or `/images/base` for `SHARED_BASE`. */
  public readonly imageDirectory: string;

  private readonly emptyDir?: k8s.EmptyDirVolumeSource;

  constructor(scope: Construct, id: string, props: EmulatorDiskProps = {}) {
    super(scope, id);
    this.kind = props.kind ?? EmulatorDiskKind.CLAIM;
    if (!Object.values(EmulatorDiskKind).includes(this.kind)) {
      throw invalidProp(this, 'kind', this.kind, `must be one of ${Object.values(EmulatorDiskKind).join(', ')}`);
    }
    this.persistent = this.kind !== EmulatorDiskKind.EMPTY_DIR;
    this.perReplica = PER_REPLICA_KINDS.includes(this.kind);
    const sharedBase = this.kind === EmulatorDiskKind.SHARED_BASE;
    this.accessModes = props.accessModes ?? [sharedBase ? DiskAccessMode.READ_WRITE_MANY : DiskAccessMode.READ_WRITE_ONCE];
    this.imageVolumeName = sharedBase ? BASE_VOLUME_NAME : DISK_VOLUME_NAME;
    this.imageDirectory = sharedBase ? BASE_MOUNT_PATH : IMAGES_MOUNT_PATH;
    this.claimTemplates = [];
    this.refuseProps(props);

    if (this.kind === EmulatorDiskKind.EMPTY_DIR) {
      const sizeLimit = props.sizeLimit ?? DEFAULT_SIZE_LIMIT;
      this.sizeBytes = parseStorageQuantity(this, 'sizeLimit', sizeLimit);
      this.checkImageFits('sizeLimit', sizeLimit, this.sizeBytes, props.imageSize);
      const medium = props.medium ?? EmptyDirMedium.DEFAULT;
      if (!Object.values(EmptyDirMedium).includes(medium)) {
        throw invalidProp(this, 'medium', medium, "must be '' (the node's disk) or 'Memory'");
      }
      this.emptyDir = {
        sizeLimit: k8s.Quantity.fromString(sizeLimit),
        ...(medium ? { medium } : {}),
      };
      return;
    }

    this.checkAccessModes();
    if (this.kind === EmulatorDiskKind.EXISTING_CLAIM) {
      this.claimName = props.claimName ?? DEFAULT_CLAIM_NAME;
      if (props.imageSize !== undefined) parseStorageQuantity(this, 'imageSize', props.imageSize);
      checkDnsSubdomain(this, 'claimName', this.claimName);
      return;
    }

    const size = props.size ?? DEFAULT_SIZE;
    this.sizeBytes = parseStorageQuantity(this, 'size', size);
    this.checkImageFits('size', size, this.sizeBytes, props.imageSize);
    const storage = { requests: { storage: k8s.Quantity.fromString(size) } };

    if (this.kind === EmulatorDiskKind.CLAIM_PER_REPLICA || this.kind === EmulatorDiskKind.GOLDEN_CLONE) {
      const clone = props.cloneFrom;
      if (clone) {
        if (!Object.values(CloneSourceKind).includes(clone.kind)) {
          throw invalidProp(this, 'cloneFrom.kind', clone.kind, `must be one of ${Object.values(CloneSourceKind).join(', ')}`);
        }
        checkDnsSubdomain(this, 'cloneFrom.name', clone.name);
      }
      this.claimTemplates.push({
        name: DISK_VOLUME_NAME,
        spec: {
          accessModes: this.accessModes,
          storageClassName: props.storageClassName,
          resources: storage,
          dataSourceRef: clone && {
            apiGroup: clone.kind === CloneSourceKind.VOLUME_SNAPSHOT ? 'snapshot.storage.k8s.io' : undefined,
            kind: clone.kind,
            name: clone.name,
          },
        },
      });
      return;
    }

    // CLAIM or SHARED_BASE: one claim shared by every replica.
    this.claimName = props.claimName ?? DEFAULT_CLAIM_NAME;
    checkDnsSubdomain(this, 'claimName', this.claimName);
    const hostPath = props.hostPathVolume;
    if (hostPath !== undefined && hostPath.acknowledgeNodeLocal !== true) {
      throw invalidProp(this, 'hostPathVolume.acknowledgeNodeLocal', hostPath.acknowledgeNodeLocal,
        'must be true to create a hostPath PersistentVolume: it keeps the disk on one node and suits single-node clusters only; leave hostPathVolume unset to let the StorageClass provision the claim');
    }
    // A claim bound to a static PersistentVolume must name the PV's class; left unset, the
    // DefaultStorageClass admission plugin would give it the default class and it would never bind.
    const storageClassName = props.storageClassName ?? (hostPath ? '' : undefined);

    let volumeName: string | undefined;
    if (hostPath) {
      const path = hostPath.path ?? `/tmp/${this.claimName}`;
      checkAbsolutePath(this, 'hostPathVolume.path', path);
      // PersistentVolumes are cluster-scoped: the chart's `<claim>-pv` collides between two
      // installations, so the namespace is part of the name.
      const namespace = Chart.of(this).namespace ?? 'default';
      volumeName = `${namespace}-${this.claimName}-pv`;
      checkDnsSubdomain(this, 'hostPathVolume (PersistentVolume name)', volumeName);
      this.hostPathPersistentVolume = new k8s.KubePersistentVolume(this, 'HostPathVolume', {
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

    this.claim = new k8s.KubePersistentVolumeClaim(this, 'Claim', {
      metadata: { name: this.claimName },
      spec: { accessModes: this.accessModes, storageClassName, volumeName, resources: storage },
    });

    if (sharedBase) {
      const overlaySize = props.overlaySize ?? DEFAULT_OVERLAY_SIZE;
      parseStorageQuantity(this, 'overlaySize', overlaySize);
      this.claimTemplates.push({
        name: DISK_VOLUME_NAME,
        spec: {
          accessModes: [DiskAccessMode.READ_WRITE_ONCE],
          storageClassName: props.storageClassName,
          resources: { requests: { storage: k8s.Quantity.fromString(overlaySize) } },
        },
      });
    }
  }

  /** Whether pods on several nodes can write this disk at once. */
  public get sharedAcrossNodes(): boolean {
    return this.accessModes.includes(DiskAccessMode.READ_WRITE_MANY);
  }

  /**
   * Whether one volume is written by every replica (`CLAIM`, `EXISTING_CLAIM`): the case where
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
   * for `SHARED_BASE` the base read-only at `/images/base`.
   */
  public emulatorVolumeMounts(readOnly: boolean): k8s.VolumeMount[] {
    const mounts: k8s.VolumeMount[] = [{ name: DISK_VOLUME_NAME, mountPath: IMAGES_MOUNT_PATH, readOnly }];
    if (this.kind === EmulatorDiskKind.SHARED_BASE) {
      mounts.push({ name: BASE_VOLUME_NAME, mountPath: BASE_MOUNT_PATH, readOnly: true });
    }
    return mounts;
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

  private refuseProps(props: EmulatorDiskProps): void {
    const allowed: { [kind: string]: (keyof EmulatorDiskProps)[] } = {
      [EmulatorDiskKind.CLAIM]: ['claimName', 'size', 'storageClassName', 'accessModes', 'hostPathVolume', 'imageSize'],
      [EmulatorDiskKind.EXISTING_CLAIM]: ['claimName', 'accessModes', 'imageSize'],
      [EmulatorDiskKind.EMPTY_DIR]: ['sizeLimit', 'medium', 'imageSize'],
      [EmulatorDiskKind.CLAIM_PER_REPLICA]: ['size', 'storageClassName', 'accessModes', 'imageSize'],
      [EmulatorDiskKind.SHARED_BASE]: ['claimName', 'size', 'storageClassName', 'accessModes', 'hostPathVolume', 'overlaySize', 'imageSize'],
      [EmulatorDiskKind.GOLDEN_CLONE]: ['size', 'storageClassName', 'accessModes', 'cloneFrom', 'imageSize'],
    };
    for (const [prop, value] of Object.entries(props)) {
      if (prop === 'kind' || value === undefined || allowed[this.kind].includes(prop as keyof EmulatorDiskProps)) continue;
      const takers = Object.entries(allowed).filter(([, props2]) => props2.includes(prop as keyof EmulatorDiskProps)).map(([kind]) => kind);
      throw invalidProp(this, prop, value,
        `does not apply to disk kind ${this.kind}, which takes ${allowed[this.kind].join(', ')} (${prop} applies to ${takers.join(', ') || 'no kind'})`);
    }
    if (this.kind === EmulatorDiskKind.GOLDEN_CLONE && props.cloneFrom === undefined) {
      throw invalidProp(this, 'cloneFrom', undefined, 'is required for a golden-clone disk: name the PersistentVolumeClaim or VolumeSnapshot to clone');
    }
  }

  private checkAccessModes(): void {
    if (this.accessModes.length === 0) {
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
