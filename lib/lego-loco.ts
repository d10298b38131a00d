import { ApiObject, ApiObjectMetadata, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ContainerImage } from './container-image';
import { DiskSeeder, SeedingOptions, SeedSource, SeedSourceKind, SnapshotMethod } from './disk-seeder';
import { DiskVolume, EmptyDirDiskOptions, EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
import { applyMetadata, labelValue } from './metadata';
import { EmulatorOptions, QemuStatefulSet } from './qemu-stateful-set';
import { invalidProp } from './validation';

/** Which of the three storage modes a StorageMode is. */
export enum StorageModeKind {
  /** Option A: a claim seeded from the image built into the emulator image. */
  PERSISTENT = 'persistent',
  /** Option B: a claim seeded from the cloud snapshot, the built-in image as a fallback. */
  HYBRID = 'hybrid',
  /** Option C: an emptyDir; the snapshot is fetched at every start. */
  EPHEMERAL = 'ephemeral',
}

/** The seeder of a persistent or hybrid installation. */
export interface SeederOptions extends SeedingOptions {
  /**
   * Sources to try, in order, when the claim holds no disk image yet.
   * @default - persistent: [SeedSource.builtin()]; hybrid: [SeedSource.snapshot(LegoLoco.SNAPSHOT_IMAGE), SeedSource.builtin()]
   */
  readonly sources?: SeedSource[];
}

/** Options of the persistent mode (option A). */
export interface PersistentModeOptions {
  /**
   * The disk's claim: a new one, an existing one, one per replica, a shared base or a golden clone
   * (EmulatorDisk's `volume`).
   * @default DiskVolume.newClaim(): a 10Gi ReadWriteOnce claim `win98-disk`
   */
  readonly volume?: DiskVolume;

  /**
   * The seeder. Its sources must include the built-in image.
   * @default - the built-in image, required
   */
  readonly seeder?: SeederOptions;
}

/** Options of the hybrid mode (option B). */
export interface HybridModeOptions {
  /**
   * The disk's claim: a new one, an existing one, one per replica, a shared base or a golden clone
   * (EmulatorDisk's `volume`).
   * @default DiskVolume.newClaim(): a 10Gi ReadWriteOnce claim `win98-disk`
   */
  readonly volume?: DiskVolume;

  /**
   * The seeder. Its sources must include a snapshot, which the entrypoint is also told about.
   * @default - the Lego Loco snapshot by kubelet pull, then the built-in image as an offline fallback
   */
  readonly seeder?: SeederOptions;
}

/** The seeder of an ephemeral installation: present, it places the snapshot before the emulator starts. */
export interface EphemeralSeederOptions extends SeedingOptions {
  /**
   * How the snapshot reaches the emptyDir.
   * @default SnapshotMethod.kubeletPull()
   */
  readonly method?: SnapshotMethod;

  /**
   * Path of the qcow2 file inside the snapshot image.
   * @default '/snapshot.qcow2'
   */
  readonly snapshotPath?: string;
}

/** Options of the ephemeral mode (option C). */
export interface EphemeralModeOptions {
  /**
   * The emptyDir.
   * @default - a 20Gi emptyDir on the node's disk
   */
  readonly emptyDir?: EmptyDirDiskOptions;

  /**
   * The snapshot the emulator starts from.
   * @default LegoLoco.SNAPSHOT_IMAGE
   */
  readonly snapshotImage?: ContainerImage;

  /**
   * Seed the emptyDir from the snapshot before the emulator starts (then `qemu-img check`), so the
   * emulator starts from a verified disk and overlays it (`USE_PREBUILT_SNAPSHOT=false`) instead
   * of downloading it again. The trade-off is a pod that waits for the multi-GB snapshot pull in
   * Init, and stays there (ImagePullBackOff) while the registry is unreachable, instead of an
   * entrypoint that starts and downloads itself (`USE_PREBUILT_SNAPSHOT=true`, the design
   * document's contract, without it).
   * @default - no seeder: the entrypoint downloads the snapshot
   */
  readonly seeder?: EphemeralSeederOptions;
}

/**
 * Where the emulator's disk image (`win98.qcow2`) lives and how it gets there: the three modes of
 * the design document "Emulator Storage Strategy & Deployment Options", each with its own options.
 */
export class StorageMode {
  /**
   * Option A, fully persistent. Best for core development where you have the `win98.qcow2` file.
   *
   * The disk lives on a PersistentVolumeClaim and survives pod restarts and rescheduling. An init
   * container copies the image built into the emulator image
   * (`/opt/builtin-images/win98.qcow2.builtin`) onto the claim the first time; later starts keep
   * the disk on the claim as it is. The emulator image MUST contain the built-in image (check it
   * with `cdk8s-qemu-loco check-image`). The emulator runs with `USE_PREBUILT_SNAPSHOT=false`.
   */
  public static persistent(options: PersistentModeOptions = {}): StorageMode {
    return new StorageMode(StorageModeKind.PERSISTENT, options.volume, options.seeder);
  }

  /**
   * Option B, persistent with a cloud snapshot. Best for new developers who do not have the
   * private `win98.qcow2` file.
   *
   * The disk lives on a PersistentVolumeClaim as in option A, but the seeder fetches the snapshot
   * image when the claim is empty, and uses the built-in image only as an offline fallback. The
   * emulator overlays the disk the seeder placed (`USE_PREBUILT_SNAPSHOT=false`);
   * `SNAPSHOT_REGISTRY` and `SNAPSHOT_TAG` name the snapshot for information.
   */
  public static hybrid(options: HybridModeOptions = {}): StorageMode {
    return new StorageMode(StorageModeKind.HYBRID, options.volume, options.seeder);
  }

  /**
   * Option C, ephemeral. Best for CI/CD or a quick verification without persistence.
   *
   * The disk is an emptyDir: nothing persists, all state is lost when the pod goes. Without a
   * `seeder` the emulator's entrypoint downloads the snapshot at start (`USE_PREBUILT_SNAPSHOT=true`);
   * with one, the verified snapshot is placed first and the emulator overlays it.
   */
  public static ephemeral(options: EphemeralModeOptions = {}): StorageMode {
    const seeder = options.seeder;
    return new StorageMode(StorageModeKind.EPHEMERAL, DiskVolume.emptyDir(options.emptyDir), seeder && {
      ...seeder,
      sources: [SeedSource.snapshot(options.snapshotImage ?? LEGO_LOCO_SNAPSHOT, { method: seeder.method, path: seeder.snapshotPath })],
    }, options.snapshotImage ?? LEGO_LOCO_SNAPSHOT);
  }

  /** Which mode this is. */
  public readonly kind: StorageModeKind;
  /** @internal */
  public readonly _disk?: DiskVolume;
  /** @internal */
  public readonly _seeder?: SeederOptions;
  /** @internal */
  public readonly _snapshotImage?: ContainerImage;

  private constructor(kind: StorageModeKind, disk: DiskVolume | undefined, seeder: SeederOptions | undefined, snapshotImage?: ContainerImage) {
    this.kind = kind;
    this._disk = disk;
    this._seeder = seeder;
    this._snapshotImage = snapshotImage;
  }

  /** Whether the disk survives the pod. */
  public get persists(): boolean {
    return this.kind !== StorageModeKind.EPHEMERAL;
  }
}

/** The snapshot the Lego Loco project publishes: a `FROM scratch` image holding `/snapshot.qcow2`. */
const LEGO_LOCO_SNAPSHOT = ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base');

/** Properties of a LegoLoco installation. */
export interface LegoLocoProps {
  /**
   * Labels and annotations of every object the installation makes, on top of its
   * `app.kubernetes.io/*` labels.
   * @default - none
   */
  readonly metadata?: ApiObjectMetadata;

  /** The storage mode: where the disk lives and how it is filled. */
  readonly mode: StorageMode;

  /** The emulator StatefulSet's settings (image, replicas, probes, devices...). */
  readonly emulator: EmulatorOptions;
}

/**
 * The Lego Loco emulators in one storage mode: the disk, its seeder and the emulator StatefulSet
 * with its headless Service. A construct: place it in any chart, whose namespace and labels it
 * takes; `LegoLocoChart` is one in a chart of its own. Every object carries the recommended
 * `app.kubernetes.io/*` labels, `instance` being this construct's id.
 */
export class LegoLoco extends Construct {
  /** The snapshot the Lego Loco project publishes (`ghcr.io/mroie/qemu-snapshots:win98-base`). */
  public static readonly SNAPSHOT_IMAGE: ContainerImage = LEGO_LOCO_SNAPSHOT;

  /** The storage mode. */
  public readonly mode: StorageModeKind;
  /** The disk. */
  public readonly disk: EmulatorDisk;
  /** The seeder, when the mode has one. */
  public readonly seeder?: DiskSeeder;
  /** The emulators (the primary child, `Resource`). */
  public readonly emulator: QemuStatefulSet;

  constructor(scope: Construct, id: string, props: LegoLocoProps) {
    super(scope, id);
    const mode = checkProps(this, props);
    this.mode = mode.kind;
    this.disk = new EmulatorDisk(this, 'Disk', { volume: this.diskVolume(mode) });
    const seeder = this.seederOptions(mode);
    this.seeder = seeder && new DiskSeeder(this, 'Seeder', {
      ...seeder,
      disk: this.disk,
      image: props.emulator.image,
      // The seeding Job of a shared base runs outside the emulator pod, with the same secrets.
      imagePullSecrets: this.disk.kind === EmulatorDiskKind.SHARED_BASE ? props.emulator.imagePullSecrets : undefined,
    });
    this.checkSnapshotImage(mode);
    const snapshot = mode._snapshotImage ?? seeder?.sources?.find((source) => source.kind === SeedSourceKind.SNAPSHOT)?._snapshot?.image;
    this.emulator = new QemuStatefulSet(this, 'Resource', {
      ...props.emulator,
      name: props.emulator.name ?? 'loco-emulator',
      metadata: { labels: { 'app.kubernetes.io/name': 'lego-loco-emulator', 'app.kubernetes.io/part-of': PART_OF } },
      disk: this.disk,
      seeder: this.seeder,
      prebuiltSnapshot: snapshot,
    });
    this.label(props.metadata);
  }

  /** Mode C's snapshot, checked here so that the error names the prop the user set. */
  private checkSnapshotImage(mode: StorageMode): void {
    if (mode._snapshotImage === undefined) return;
    if (!(mode._snapshotImage instanceof ContainerImage)) {
      throw invalidProp(this, 'mode.snapshotImage', mode._snapshotImage, "must be a ContainerImage, e.g. ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base')");
    }
    const snapshot = mode._snapshotImage._resolve(this, 'mode.snapshotImage');
    if (snapshot.tag === undefined && mode._seeder === undefined) {
      // The entrypoint downloads "$SNAPSHOT_REGISTRY:$SNAPSHOT_TAG": a digest there is no reference.
      throw invalidProp(this, 'mode.snapshotImage', snapshot.image,
        "the emulator's entrypoint downloads registry:tag and cannot pull by digest alone: give a tag (repository:tag@sha256:... pins it too), or give the mode a seeder, which pulls by digest");
    }
  }

  /** The disk the mode takes: a claim in modes A and B (new by default), an emptyDir in C. */
  private diskVolume(mode: StorageMode): DiskVolume {
    const volume = mode._disk ?? DiskVolume.newClaim();
    if (!(volume instanceof DiskVolume)) {
      throw invalidProp(this, 'mode.volume', volume, 'must be a DiskVolume: DiskVolume.newClaim(), existingClaim(name), claimPerReplica(), sharedBase() or goldenClone(source)');
    }
    if (mode.kind !== StorageModeKind.EPHEMERAL && volume.kind === EmulatorDiskKind.EMPTY_DIR) {
      throw invalidProp(this, 'mode.volume', 'DiskVolume.emptyDir()', `mode ${mode.kind} keeps the disk on a claim; use StorageMode.ephemeral() for an emptyDir`);
    }
    return volume;
  }

  /** The seeder's options with the mode's sources, checked against what the mode promises. */
  private seederOptions(mode: StorageMode): SeederOptions | undefined {
    if (mode.kind === StorageModeKind.EPHEMERAL) return mode._seeder;
    const sources = mode._seeder?.sources ?? (mode.kind === StorageModeKind.PERSISTENT
      ? [SeedSource.builtin()]
      : [SeedSource.snapshot(LEGO_LOCO_SNAPSHOT), SeedSource.builtin({ required: false })]);
    const kinds = Array.isArray(sources) ? sources.map((source) => source?.kind) : [];
    if (mode.kind === StorageModeKind.PERSISTENT && !kinds.includes(SeedSourceKind.BUILTIN)) {
      throw invalidProp(this, 'mode.seeder.sources', kinds,
        'mode persistent seeds from the image built into the emulator image and must include SeedSource.builtin(); use StorageMode.hybrid() to seed from the snapshot');
    }
    if (mode.kind === StorageModeKind.HYBRID && !kinds.includes(SeedSourceKind.SNAPSHOT)) {
      throw invalidProp(this, 'mode.seeder.sources', kinds,
        'mode hybrid seeds from the cloud snapshot and must include SeedSource.snapshot(image); use StorageMode.persistent() to seed from the built-in image alone');
    }
    const builtinRequired = mode.kind === StorageModeKind.PERSISTENT;
    // Mode A's failure points at check-image; in mode B the built-in image is a fallback.
    const withRequirement = sources.map((source) => source.kind === SeedSourceKind.BUILTIN && source._builtin?.required === undefined
      ? SeedSource.builtin({ ...source._builtin, required: builtinRequired }) : source);
    return { ...mode._seeder, sources: withRequirement };
  }

  /**
   * The recommended app.kubernetes.io/* labels on every object, so that GitOps tools (Argo CD,
   * Flux) and `kubectl get -l` find everything one installation made, with each part's component.
   */
  private label(metadata: ApiObjectMetadata | undefined): void {
    const labels: { [key: string]: string } = {
      'app.kubernetes.io/name': 'lego-loco-emulator',
      'app.kubernetes.io/part-of': PART_OF,
      'app.kubernetes.io/managed-by': 'cdk8s',
      'app.kubernetes.io/instance': labelValue(instanceName(this)),
    };
    for (const [construct, component] of [[this.disk, 'disk'], [this.seeder, 'disk-seeder'], [this.emulator, 'emulator']] as const) {
      for (const child of construct?.node.findAll() ?? []) {
        if (!(child instanceof ApiObject)) continue;
        for (const [key, value] of Object.entries(labels)) child.metadata.addLabel(key, value);
        child.metadata.addLabel('app.kubernetes.io/component', component);
      }
    }
    applyMetadata(this, metadata);
  }
}

const PART_OF = 'lego-loco-cluster';

/** The construct's id, or its chart's when it is the chart's primary child (`Resource`, as in LegoLocoChart). */
function instanceName(construct: Construct): string {
  let scope: Construct | undefined = construct;
  while (scope && (scope.node.id === 'Resource' || scope.node.id === 'Default')) scope = scope.node.scope as Construct | undefined;
  return scope?.node.id ?? construct.node.id;
}

/** The props a JavaScript caller must give, checked before anything reads them. */
function checkProps(scope: Construct, props: LegoLocoProps): StorageMode {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw invalidProp(scope, 'props', props, 'are required: { mode, emulator }');
  }
  if (!(props.mode instanceof StorageMode)) {
    throw invalidProp(scope, 'mode', props.mode, 'is required: StorageMode.persistent(), StorageMode.hybrid() or StorageMode.ephemeral()');
  }
  if (props.emulator === undefined || props.emulator === null || typeof props.emulator !== 'object') {
    throw invalidProp(scope, 'emulator', props.emulator, "is required: the emulator's settings, at least { image: ContainerImage.fromTag(repository, tag) }");
  }
  // The seeder and the emulator share the image: checked once here, so that its error names the
  // prop the user set rather than whichever construct reads it first.
  if (!(props.emulator.image instanceof ContainerImage)) {
    throw invalidProp(scope, 'emulator.image', props.emulator.image, "is required: a ContainerImage, e.g. ContainerImage.fromTag('ghcr.io/mroie/qemu-loco', '1.4.0')");
  }
  props.emulator.image._resolve(scope, 'emulator.image');
  return props.mode;
}

/** Properties of a LegoLocoChart: those of a chart and of the LegoLoco installation it holds. */
export interface LegoLocoChartProps extends ChartProps, LegoLocoProps {}

/** A chart holding one LegoLoco installation, whose id is the chart's. */
export class LegoLocoChart extends Chart {
  /** The installation. */
  public readonly loco: LegoLoco;
  /** The storage mode. */
  public readonly mode: StorageModeKind;
  /** The disk. */
  public readonly disk: EmulatorDisk;
  /** The seeder, when the mode has one. */
  public readonly seeder?: DiskSeeder;
  /** The emulators. */
  public readonly emulator: QemuStatefulSet;

  constructor(scope: Construct, id: string, props: LegoLocoChartProps) {
    // cdk8s's Chart reads props.namespace: null (from JavaScript) must reach LegoLoco's check, not that read.
    super(scope, id, props ?? undefined);
    this.loco = new LegoLoco(this, 'Resource', props && { mode: props.mode, emulator: props.emulator, metadata: props.metadata });
    this.mode = this.loco.mode;
    this.disk = this.loco.disk;
    this.seeder = this.loco.seeder;
    this.emulator = this.loco.emulator;
  }
}
