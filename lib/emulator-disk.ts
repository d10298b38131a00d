import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkDnsSubdomain, invalidProp, parseStorageQuantity } from './validation';

/** How an EmulatorDisk provides its volume. */
export enum EmulatorDiskKind {
  /** A new PersistentVolumeClaim created with the disk (persists). */
  CLAIM = 'claim',
  /** A PersistentVolumeClaim that already exists in the namespace (persists). */
  EXISTING_CLAIM = 'existing-claim',
  /** An emptyDir on the node (lost when the pod goes). */
  EMPTY_DIR = 'empty-dir',
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
   * Directory on the node.
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
}

/** The name of the pod volume an EmulatorDisk provides. */
export const DISK_VOLUME_NAME = 'disk';

const DEFAULT_CLAIM_NAME = 'win98-disk';
const DEFAULT_SIZE = '10Gi';
const DEFAULT_SIZE_LIMIT = '20Gi';

/**
 * Where the emulator's disk image lives: a PersistentVolumeClaim (new or existing, optionally on a
 * hostPath PersistentVolume) or an emptyDir. It creates the storage objects it needs and hands out
 * the pod volume to mount at `/images`.
 */
export class EmulatorDisk extends Construct {
  /** How the volume is provided. */
  public readonly kind: EmulatorDiskKind;
  /** Whether the disk survives the pod (a claim) or not (an emptyDir). */
  public readonly persistent: boolean;
  /** The claim's name, for claim kinds. */
  public readonly claimName?: string;
  /** Access modes of the claim, for claim kinds (for an existing claim: as declared here). */
  public readonly accessModes: DiskAccessMode[];
  /** Size of the volume in bytes: the claim's size or the emptyDir's limit. */
  public readonly sizeBytes?: number;
  /** The claim, when this construct creates it. */
  public readonly claim?: k8s.KubePersistentVolumeClaim;
  /** The hostPath PersistentVolume, when asked for. */
  public readonly hostPathPersistentVolume?: k8s.KubePersistentVolume;

  private readonly emptyDir?: k8s.EmptyDirVolumeSource;

  constructor(scope: Construct, id: string, props: EmulatorDiskProps = {}) {
    super(scope, id);
    this.kind = props.kind ?? EmulatorDiskKind.CLAIM;
    if (!Object.values(EmulatorDiskKind).includes(this.kind)) {
      throw invalidProp(this, 'kind', this.kind, `must be one of ${Object.values(EmulatorDiskKind).join(', ')}`);
    }
    this.persistent = this.kind !== EmulatorDiskKind.EMPTY_DIR;
    this.accessModes = props.accessModes ?? [DiskAccessMode.READ_WRITE_ONCE];

    if (this.kind === EmulatorDiskKind.EMPTY_DIR) {
      for (const claimProp of ['claimName', 'size', 'storageClassName', 'accessModes', 'hostPathVolume'] as const) {
        if (props[claimProp] !== undefined) {
          throw invalidProp(this, claimProp, props[claimProp], 'applies only to a claim; an emptyDir disk takes sizeLimit and medium');
        }
      }
      const sizeLimit = props.sizeLimit ?? DEFAULT_SIZE_LIMIT;
      this.sizeBytes = parseStorageQuantity(this, 'sizeLimit', sizeLimit);
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

    for (const emptyDirProp of ['sizeLimit', 'medium'] as const) {
      if (props[emptyDirProp] !== undefined) {
        throw invalidProp(this, emptyDirProp, props[emptyDirProp], 'applies only to an emptyDir disk (kind: EMPTY_DIR)');
      }
    }
    this.claimName = props.claimName ?? DEFAULT_CLAIM_NAME;
    checkDnsSubdomain(this, 'claimName', this.claimName);
    if (this.accessModes.length === 0) {
      throw invalidProp(this, 'accessModes', this.accessModes, 'must name at least one access mode');
    }
    for (const mode of this.accessModes) {
      if (!Object.values(DiskAccessMode).includes(mode)) {
        throw invalidProp(this, 'accessModes', mode, `must be one of ${Object.values(DiskAccessMode).join(', ')}`);
      }
    }

    if (this.kind === EmulatorDiskKind.EXISTING_CLAIM) {
      for (const newClaimProp of ['size', 'storageClassName', 'hostPathVolume'] as const) {
        if (props[newClaimProp] !== undefined) {
          throw invalidProp(this, newClaimProp, props[newClaimProp], 'applies only to a claim this construct creates (kind: CLAIM), not to an existing claim');
        }
      }
      return;
    }

    const size = props.size ?? DEFAULT_SIZE;
    this.sizeBytes = parseStorageQuantity(this, 'size', size);
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
      if (!path.startsWith('/')) {
        throw invalidProp(this, 'hostPathVolume.path', path, 'must be an absolute path on the node');
      }
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
      spec: {
        accessModes: this.accessModes,
        storageClassName,
        volumeName,
        resources: { requests: { storage: k8s.Quantity.fromString(size) } },
      },
    });
  }

  /** Whether pods on several nodes can write this disk at once. */
  public get sharedAcrossNodes(): boolean {
    return this.accessModes.includes(DiskAccessMode.READ_WRITE_MANY);
  }

  /** The pod volume, named `disk`, to mount at `/images`. */
  public get volume(): k8s.Volume {
    if (this.emptyDir) {
      return { name: DISK_VOLUME_NAME, emptyDir: this.emptyDir };
    }
    return { name: DISK_VOLUME_NAME, persistentVolumeClaim: { claimName: this.claimName! } };
  }
}
