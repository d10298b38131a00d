import { ApiObject, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { DiskSeeder, SeedSource, SeedVerification, SnapshotMethod } from './disk-seeder';
import { EmulatorDisk, EmulatorDiskKind, EmulatorDiskProps } from './emulator-disk';
import { EmulatorOptions, QemuStatefulSet } from './qemu-stateful-set';
import { DEFAULT_SNAPSHOT_IMAGE, parseSnapshotReference } from './snapshot-reference';
import { StorageMode } from './storage-mode';
import { invalidProp } from './validation';

/** Properties of a LegoLocoChart. */
export interface LegoLocoChartProps extends ChartProps {
  /** The storage mode: where the disk lives and how it is filled. */
  readonly mode: StorageMode;

  /** The emulator StatefulSet's settings (image, replicas, probes, devices...). */
  readonly emulator: EmulatorOptions;

  /**
   * The disk. Modes A and B take a claim (new or existing); mode C an emptyDir, whose
   * `sizeLimit` and `medium` may be set here.
   * @default - A and B: a new 10Gi ReadWriteOnce claim `win98-disk`; C: a 20Gi emptyDir
   */
  readonly disk?: EmulatorDiskProps;

  /**
   * The snapshot image (modes B and C).
   * @default 'ghcr.io/mroie/qemu-snapshots:win98-base'
   */
  readonly snapshotImage?: string;

  /**
   * Seeder sources in order (modes A and B; mode C has no seeder).
   * @default - A: [BUILTIN]; B: [SNAPSHOT, BUILTIN] (the built-in image as an offline fallback)
   */
  readonly seedSources?: SeedSource[];

  /**
   * Mode C only: seed the emptyDir from the snapshot image before the emulator starts (kubelet
   * pull, then `qemu-img check`), so the emulator starts from a verified disk and overlays it
   * (`USE_PREBUILT_SNAPSHOT=false`, `DISK` the seeded base) instead of downloading it again. The
   * trade-off is a pod that waits for the multi-GB snapshot pull in Init, and stays there
   * (ImagePullBackOff) while the registry is unreachable, instead of an entrypoint that starts and
   * downloads itself (`USE_PREBUILT_SNAPSHOT=true`, the design document's contract, without it).
   * @default false
   */
  readonly seedEphemeralDisk?: boolean;

  /**
   * How a seeder fetches the snapshot (modes B, and C with `seedEphemeralDisk`).
   * @default SnapshotMethod.KUBELET_PULL
   */
  readonly snapshotMethod?: SnapshotMethod;

  /**
   * For `snapshotMethod` kubelet-pull: the image whose static busybox (`/bin/busybox`) the
   * `seed-tools` init container places for the shell-less snapshot image. Point it at a copy in
   * your own registry when the nodes cannot pull from Docker Hub (air-gapped clusters, mirrors).
   * @default 'busybox:1.35'
   */
  readonly toolsImage?: string;

  /**
   * For `snapshotMethod` registry-client: a Secret of type `kubernetes.io/dockerconfigjson` with
   * the snapshot registry's credentials (kubelet pull uses `emulator.imagePullSecrets` instead).
   * @default - anonymous pulls
   */
  readonly registryAuthSecret?: string;

  /**
   * For `snapshotMethod` registry-client: `false` accepts plain HTTP and unverified TLS, for a
   * registry on a trusted private network only.
   * @default true
   */
  readonly registryTlsVerify?: boolean;

  /**
   * Expected sha256 of the seeded disk image.
   * @default - not checked
   */
  readonly expectedSha256?: string;

  /**
   * How the seeder verifies an image before it becomes the disk.
   * @default SeedVerification.QEMU_IMG
   */
  readonly seedVerification?: SeedVerification;

  /**
   * Smallest virtual size the disk image must have (the seeder's `minVirtualSize`), e.g. `'2Gi'`.
   * @default - no minimum
   */
  readonly minVirtualSize?: string;

  /**
   * Largest virtual size a disk image may declare (the seeder's `maxVirtualSize`).
   * @default '64Gi'
   */
  readonly maxVirtualSize?: string;
}

/**
 * The Lego Loco emulators in one storage mode: the disk, its seeder (modes A and B) and the
 * emulator StatefulSet with its headless Service. See StorageMode for what each mode does.
 */
export class LegoLocoChart extends Chart {
  /** The storage mode. */
  public readonly mode: StorageMode;
  /** The disk. */
  public readonly disk: EmulatorDisk;
  /** The seeder (modes A and B). */
  public readonly seeder?: DiskSeeder;
  /** The emulators. */
  public readonly emulator: QemuStatefulSet;

  constructor(scope: Construct, id: string, props: LegoLocoChartProps) {
    super(scope, id, {
      ...props,
      // The recommended app.kubernetes.io/* labels on every object, so that GitOps tools (Argo CD,
      // Flux) and `kubectl get -l` find everything one installation made. Objects' own labels
      // (the emulator's name and component) take precedence.
      labels: {
        'app.kubernetes.io/name': 'lego-loco-emulator',
        'app.kubernetes.io/part-of': 'lego-loco-cluster',
        'app.kubernetes.io/managed-by': 'cdk8s',
        'app.kubernetes.io/instance': labelValue(id),
        ...props.labels,
      },
    });
    this.mode = props.mode;
    if (!Object.values(StorageMode).includes(this.mode)) {
      throw invalidProp(this, 'mode', this.mode, `must be one of ${Object.values(StorageMode).join(', ')}`);
    }
    const snapshotImage = props.snapshotImage ?? DEFAULT_SNAPSHOT_IMAGE;
    // Checked here, so that the error names the property the user set, whichever mode uses it.
    parseSnapshotReference(this, 'snapshotImage', snapshotImage);
    this.disk = new EmulatorDisk(this, 'Disk', { ...props.disk, kind: this.diskKind(props) });
    this.seeder = this.createSeeder(props, snapshotImage);

    this.emulator = new QemuStatefulSet(this, 'Emulator', {
      ...props.emulator,
      disk: this.disk,
      seeder: this.seeder,
      prebuiltSnapshot: this.mode === StorageMode.PERSISTENT ? undefined : snapshotImage,
    });

    // app.kubernetes.io/component on the disk's and the seeder's objects too, after the construct
    // that made them (the emulator's StatefulSet and Service carry `emulator`).
    for (const [construct, component] of [[this.disk, 'disk'], [this.seeder, 'disk-seeder']] as const) {
      for (const child of construct?.node.findAll() ?? []) {
        if (child instanceof ApiObject) child.metadata.addLabel('app.kubernetes.io/component', component);
      }
    }
  }

  /** The disk kind the mode takes: a claim (new or existing) in modes A and B, an emptyDir in C. */
  private diskKind(props: LegoLocoChartProps): EmulatorDiskKind {
    const ephemeral = this.mode === StorageMode.EPHEMERAL;
    const diskKind = props.disk?.kind ?? (ephemeral ? EmulatorDiskKind.EMPTY_DIR : EmulatorDiskKind.CLAIM);
    if (ephemeral && diskKind !== EmulatorDiskKind.EMPTY_DIR) {
      throw invalidProp(this, 'disk.kind', diskKind,
        'mode ephemeral keeps nothing and takes an emptyDir disk; use mode persistent or hybrid for a claim');
    }
    if (!ephemeral && diskKind === EmulatorDiskKind.EMPTY_DIR) {
      throw invalidProp(this, 'disk.kind', diskKind,
        `mode ${this.mode} keeps the disk on a claim; use mode ephemeral for an emptyDir`);
    }
    return diskKind;
  }

  /**
   * The seeder the mode takes: always in modes A and B (sources by mode), in mode C only with
   * seedEphemeralDisk (the snapshot alone); seeder settings without a seeder are refused.
   */
  private createSeeder(props: LegoLocoChartProps, snapshotImage: string): DiskSeeder | undefined {
    const ephemeral = this.mode === StorageMode.EPHEMERAL;
    if (props.seedEphemeralDisk !== undefined && !ephemeral) {
      throw invalidProp(this, 'seedEphemeralDisk', props.seedEphemeralDisk, `applies only to mode ephemeral; mode ${this.mode} always seeds its claim`);
    }
    if (ephemeral && props.seedSources !== undefined) {
      throw invalidProp(this, 'seedSources', props.seedSources,
        'mode ephemeral has no seeder: the entrypoint downloads the snapshot at start (or set seedEphemeralDisk to seed it from the snapshot)');
    }
    if (ephemeral && !props.seedEphemeralDisk) {
      const seederProps = [['registryAuthSecret', props.registryAuthSecret], ['registryTlsVerify', props.registryTlsVerify],
        ['toolsImage', props.toolsImage], ['minVirtualSize', props.minVirtualSize], ['maxVirtualSize', props.maxVirtualSize]] as const;
      for (const [prop, value] of seederProps) {
        if (value !== undefined) {
          throw invalidProp(this, prop, value, 'is a setting of the seeder, and mode ephemeral has none unless seedEphemeralDisk is set');
        }
      }
      return undefined;
    }
    const sources = ephemeral ? [SeedSource.SNAPSHOT] : props.seedSources
      ?? (this.mode === StorageMode.PERSISTENT ? [SeedSource.BUILTIN] : [SeedSource.SNAPSHOT, SeedSource.BUILTIN]);
    if (this.mode === StorageMode.PERSISTENT && !sources.includes(SeedSource.BUILTIN)) {
      throw invalidProp(this, 'seedSources', sources,
        "mode persistent seeds from the image built into the emulator image and must include 'builtin'; use mode hybrid to seed from the snapshot");
    }
    const snapshot = sources.includes(SeedSource.SNAPSHOT);
    return new DiskSeeder(this, 'Seeder', {
      disk: this.disk,
      image: emulatorImage(props.emulator),
      imagePullPolicy: props.emulator.imagePullPolicy,
      imagePullSecrets: props.emulator.imagePullSecrets,
      sources,
      builtinRequired: ephemeral ? undefined : this.mode === StorageMode.PERSISTENT,
      snapshotImage: snapshot ? snapshotImage : undefined,
      snapshotMethod: snapshot ? props.snapshotMethod : undefined,
      toolsImage: snapshot ? props.toolsImage : undefined,
      registryAuthSecret: props.registryAuthSecret,
      registryTlsVerify: props.registryTlsVerify,
      expectedSha256: props.expectedSha256,
      verification: props.seedVerification,
      minVirtualSize: props.minVirtualSize,
      maxVirtualSize: props.maxVirtualSize,
    });
  }
}

/** A construct id as a label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric. */
function labelValue(id: string): string {
  return id.replace(/[^A-Za-z0-9-_.]/g, '').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

function emulatorImage(emulator: EmulatorOptions): string {
  return emulator.imageDigest ? `${emulator.image}@${emulator.imageDigest}` : `${emulator.image}:${emulator.tag}`;
}
