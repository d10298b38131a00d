import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ContainerImage, ImageReference, ResolvedImage } from './container-image';
import { DEFAULT_IMAGE_FILE_NAME, DEFAULT_SNAPSHOT_DIR, BASE_MOUNT_PATH, IMAGES_MOUNT_PATH } from './disk-layout';
import { DiskSeeder, shippedScript } from './disk-seeder';
import { DiskAccessMode, EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
import { applyMetadata, checkLabels, scriptConfigMap } from './metadata';
import { addSynthChecks } from './synth-checks';
import { lockedDownSecurityContext } from './security';
import {
  checkAbsolutePath, checkDnsLabel, checkInteger, checkResourceQuantity, checkNoMountClash, invalidProp, isEnvVarName, isQualifiedName,
  literalEnv, pathsOverlap, quantityValue, stripUndefined,
} from './validation';

/** An HTTP probe on the emulator's health port. */
export interface HealthProbeOptions {
  /**
   * Whether the probe is set at all.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * HTTP path on the health port.
   * @default '/health' for the startup probe, '/' for liveness and readiness (as the chart)
   */
  readonly path?: string;
  /**
   * Seconds after the container starts before the first probe.
   * @default 30 for startup and readiness, 60 for liveness
   */
  readonly initialDelaySeconds?: number;
  /**
   * Seconds between probes.
   * @default 10 for startup and readiness, 15 for liveness
   */
  readonly periodSeconds?: number;
  /**
   * Seconds before a probe times out.
   * @default 5 for startup and readiness, 10 for liveness
   */
  readonly timeoutSeconds?: number;
  /**
   * Failed probes in a row before the container counts as failed.
   * @default 30 for startup (5 minutes to boot Windows 98), 3 for liveness and readiness
   */
  readonly failureThreshold?: number;
}

/** The emulator's startup, liveness and readiness probes. */
export interface EmulatorProbes {
  /**
   * Probe that holds back liveness and readiness until the guest has booted.
   * @default - enabled, GET /health, 30 failures 10 s apart
   */
  readonly startup?: HealthProbeOptions;
  /**
   * Probe whose failures restart the emulator container.
   * @default - enabled, GET / every 15 s after 60 s
   */
  readonly liveness?: HealthProbeOptions;
  /**
   * Probe that takes the emulator out of the Service's ready endpoints while it fails.
   * @default - enabled, GET / every 10 s after 30 s
   */
  readonly readiness?: HealthProbeOptions;
}

/** How a host device (/dev/net/tun, /dev/kvm, /dev/dri) reaches the emulator. */
export enum DeviceSource {
  /**
   * A hostPath volume of the device node. Container runtimes only allow access to such a device
   * in a privileged container, so for /dev/kvm and /dev/dri this requires `privileged: true`;
   * /dev/net/tun is in the runtimes' default device allow-list and needs no privileges. Any
   * hostPath volume puts the pod outside the Pod Security "baseline" level.
   */
  HOST_PATH = 'hostPath',
  /**
   * An extended resource of a device plugin (for example KubeVirt's `devices.kubevirt.io/kvm`):
   * the plugin grants the device without privileges.
   */
  DEVICE_PLUGIN = 'devicePlugin',
}

/** Compute resources of the emulator container. */
export interface EmulatorResources {
  /**
   * What the scheduler reserves for each emulator (resource name to quantity).
   * @default { cpu: '1', memory: '1Gi' }
   */
  readonly requests?: { [resource: string]: string };
  /**
   * The most each emulator may use (resource name to quantity).
   * @default { cpu: '4', memory: '2Gi' }
   */
  readonly limits?: { [resource: string]: string };
}

/** Container ports of the emulator. */
export interface EmulatorPorts {
  /** VNC display of the guest (TCP). @default 5901 */
  readonly vnc?: number;
  /** HTTP health endpoint the probes query (TCP). @default 8080 */
  readonly health?: number;
  /** QEMU socket networking between instances (TCP). @default 4444 */
  readonly lanSocket?: number;
  /** QEMU multicast LAN (UDP). @default 1234 */
  readonly lanMulticast?: number;
}

/** `podManagementPolicy` of the StatefulSet. */
export enum PodManagementPolicy {
  /** One pod after the other, each waiting for the previous one to be Ready. */
  ORDERED_READY = 'OrderedReady',
  /** All pods at once. */
  PARALLEL = 'Parallel',
}

/** What happens to a claim from `volumeClaimTemplates`. */
export enum ClaimRetention {
  /** The claim, and the player's disk on it, stays. */
  RETAIN = 'Retain',
  /** The claim is deleted: the disk is gone. */
  DELETE = 'Delete',
}

/** `persistentVolumeClaimRetentionPolicy` of the StatefulSet. */
export interface ClaimRetentionPolicy {
  /** What happens to the claims when the StatefulSet is deleted. @default ClaimRetention.RETAIN */
  readonly whenDeleted?: ClaimRetention;
  /** What happens to a replica's claim when the StatefulSet is scaled down past it. @default ClaimRetention.RETAIN */
  readonly whenScaled?: ClaimRetention;
}

/** A host device (/dev/net/tun, /dev/kvm, /dev/dri) for the emulator, and how it reaches it. */
export class Device {
  /**
   * A hostPath volume of the device node. Container runtimes only allow access to such a device in
   * a privileged container, so for /dev/kvm and /dev/dri this requires `security.privileged`;
   * /dev/net/tun is in the runtimes' default device allow-list and needs no privileges. Any
   * hostPath volume puts the pod outside the Pod Security "baseline" level.
   * @param path the device path on the node (default: /dev/net/tun, /dev/kvm or /dev/dri)
   */
  public static hostPath(path?: string): Device {
    return new Device(DeviceSource.HOST_PATH, path, undefined);
  }

  /**
   * An extended resource of a device plugin (for example KubeVirt's `devices.kubevirt.io/kvm`):
   * the plugin grants the device without privileges.
   * @param resourceName the resource (default: devices.kubevirt.io/tun, devices.kubevirt.io/kvm, gpu.intel.com/i915)
   */
  public static devicePlugin(resourceName?: string): Device {
    return new Device(DeviceSource.DEVICE_PLUGIN, undefined, resourceName);
  }

  /** How the device reaches the container. */
  public readonly source: DeviceSource;
  /** The device path on the node, for a hostPath device given one. */
  public readonly nodePath?: string;
  /** The extended resource, for a device plugin given one. */
  public readonly resourceName?: string;

  private constructor(source: DeviceSource, nodePath: string | undefined, resourceName: string | undefined) {
    this.source = source;
    this.nodePath = nodePath;
    this.resourceName = resourceName;
  }
}

/** The host devices of the emulator. */
export interface EmulatorDevices {
  /**
   * How the emulator gets /dev/net/tun, which its TAP networking always needs. The hostPath mount
   * needs no privileges but puts the pod outside the Pod Security "baseline" level;
   * `Device.devicePlugin()` takes it from a device plugin's extended resource instead (KubeVirt's
   * `devices.kubevirt.io/tun` by default), with no hostPath volume.
   * @default Device.hostPath()
   */
  readonly tun?: Device;

  /**
   * Give the emulator /dev/kvm for hardware acceleration.
   * @default - no KVM: QEMU uses TCG software emulation
   */
  readonly kvm?: Device;

  /**
   * Give the emulator /dev/dri for GPU rendering.
   * @default - no DRI
   */
  readonly dri?: Device;
}

/** What the emulator may do. */
export interface EmulatorSecurity {
  /**
   * Run the emulator container privileged with NET_ADMIN and SYS_ADMIN, as the Helm chart does:
   * every capability, every host device, no seccomp filter. Needed only for hostPath /dev/kvm or
   * /dev/dri; the TAP networking works without it (see `QemuStatefulSet.CAPABILITIES`).
   * @default false
   */
  readonly privileged?: boolean;

  /**
   * Capabilities to add beyond `QemuStatefulSet.CAPABILITIES`, for an image whose entrypoint needs
   * one more (for example `NET_RAW` for a DHCP server on raw sockets). Each is a capability name
   * without the `CAP_` prefix; `SYS_ADMIN` and `ALL` are refused: use `privileged` for those.
   * @default - none
   */
  readonly extraCapabilities?: string[];

  /**
   * Mount the namespace's service account token into the emulator pods. Neither the emulator nor
   * its init containers talk to the Kubernetes API, so by default the token is not there to be
   * stolen from a compromised guest or entrypoint.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;

  /**
   * Mount the disk read-only. The entrypoint then cannot write overlays beside the image, and a
   * seeder cannot fill it.
   * @default false
   */
  readonly readOnlyDisk?: boolean;
}

/** Where the emulator pods run, and how they start and stop. */
export interface EmulatorScheduling {
  /** Node labels the emulator pods must run on. @default - none */
  readonly nodeSelector?: { [label: string]: string };
  /** Taints the emulator pods tolerate. @default - none */
  readonly tolerations?: k8s.Toleration[];
  /** Scheduling affinity of the emulator pods. @default - none (or the one-node affinity of `sharedClaimOnOneNode`) */
  readonly affinity?: k8s.Affinity;

  /**
   * Several replicas on one ReadWriteOnce claim only work when every replica runs on the node that
   * has the volume attached (otherwise: Multi-Attach errors). Setting this acknowledges it and adds
   * a required pod affinity that keeps all replicas on one node, so it works on multi-node clusters
   * too, within one node's capacity.
   * @default false
   */
  readonly sharedClaimOnOneNode?: boolean;

  /**
   * How the StatefulSet starts and stops its pods. `OrderedReady` starts replica N+1 only once
   * replica N is Ready (minutes per Windows 98 boot); `Parallel` starts them all at once (instances
   * that connect to the LAN socket master, ordinal 0, retry until it is up). Immutable on an
   * existing StatefulSet.
   * @default PodManagementPolicy.ORDERED_READY (Kubernetes' default)
   */
  readonly podManagementPolicy?: PodManagementPolicy;

  /**
   * Seconds the pod gets to stop: the preStop hook asks the guest to shut down and waits.
   * @default 120
   */
  readonly terminationGracePeriodSeconds?: number;
}

/** `SNAPSHOT_MODE` of the entrypoint. */
export enum SnapshotMode {
  /** Overlays are kept across restarts. */
  PERSISTENT = 'persistent',
  /** Overlays are dropped. */
  EPHEMERAL = 'ephemeral',
}

/** The entrypoint's per-instance overlays on top of the base disk. */
export interface OverlayOptions {
  /**
   * Where the entrypoint keeps per-instance overlays (`SNAPSHOT_DIR`): `/images` or a directory
   * inside it (outside `/images/base` for a shared-base disk, which is read-only), so that the
   * overlays persist and the one-shot reset finds them.
   * @default '/images/snapshots'
   */
  readonly snapshotDir?: string;

  /**
   * `SNAPSHOT_MODE` of the entrypoint.
   * @default - PERSISTENT on a persistent disk, EPHEMERAL on an emptyDir
   */
  readonly snapshotMode?: SnapshotMode;

  /**
   * `SNAPSHOT_RESET`: drop the per-instance overlay at every start while set. For a reset that
   * happens once, use `resetToken`.
   * @default false
   */
  readonly snapshotReset?: boolean;

  /**
   * A one-shot reset: when this token changes, each instance's overlay
   * (`win98_instance_<ordinal>.qcow2` in `/images` and `snapshotDir`) is moved aside to
   * `<overlay>.before-reset` once, at the next start of that instance, and the guest boots from the
   * base again. Later restarts with the same token keep the overlay. Change the token (a date, a
   * counter) to ask again.
   * @default - no reset
   */
  readonly resetToken?: string;
}

/** The emulator's settings: everything of a QemuStatefulSet but its disk and seeding. */
export interface EmulatorOptions {
  /** The emulator image, e.g. `ContainerImage.fromTag('ghcr.io/mroie/qemu-loco', '1.4.0')`. */
  readonly image: ContainerImage;

  /**
   * Secrets for pulling from private registries (also used for the snapshot image).
   * @default - none
   */
  readonly imagePullSecrets?: string[];

  /**
   * Name of the StatefulSet (at most 52 characters: Kubernetes derives the
   * `controller-revision-hash` pod label from it). Its `app.kubernetes.io/name` label too.
   * @default 'qemu-emulator'
   */
  readonly name?: string;

  /**
   * Name of the headless Service that gives each emulator its DNS name.
   * @default - the StatefulSet's name
   */
  readonly serviceName?: string;

  /**
   * Number of emulators.
   * @default 1
   */
  readonly replicas?: number;

  /**
   * More environment variables. A name the construct sets from a typed property (DISK,
   * USE_PREBUILT_SNAPSHOT, SNAPSHOT_*, POD_*, EMULATOR_*, SOCKET_MASTER_HOST) is refused here: set
   * the property instead. Values reach the container literally: the kubelet would expand `$(NAME)`
   * in an env value and turn `$$` into `$`, so the manifest writes them escaped (`$(X)` as
   * `$$(X)`, `$$` as `$$$$`); a reference to another variable cannot be made here.
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /** Container ports of the emulator (also the headless Service's ports). @default - see EmulatorPorts */
  readonly ports?: EmulatorPorts;

  /** Startup, liveness and readiness probes on the health port. @default - startup, liveness and readiness probes as the chart */
  readonly probes?: EmulatorProbes;

  /** Compute resources of the emulator container. @default - requests 1 CPU and 1Gi, limits 4 CPUs and 2Gi (the chart's values) */
  readonly resources?: EmulatorResources;

  /** Host devices. @default - /dev/net/tun by hostPath, no KVM, no DRI */
  readonly devices?: EmulatorDevices;

  /** What the emulator may do. @default - the capabilities TAP networking needs, no token, a writable disk */
  readonly security?: EmulatorSecurity;

  /** Where the pods run, and how they start and stop. @default - anywhere, OrderedReady, 120 s to stop */
  readonly scheduling?: EmulatorScheduling;

  /** The entrypoint's per-instance overlays. @default - in /images/snapshots, kept, no reset */
  readonly overlays?: OverlayOptions;

  /**
   * What happens to per-replica claims (`volumeClaimTemplates`) when the StatefulSet is deleted or
   * scaled down. Kubernetes keeps them (Retain) unless told otherwise.
   * @default - Kubernetes' default: Retain in both cases
   */
  readonly claimRetentionPolicy?: ClaimRetentionPolicy;
}

/** Properties of a QemuStatefulSet. */
export interface QemuStatefulSetProps extends EmulatorOptions {
  /**
   * Labels and annotations of the StatefulSet, its Service and its pods. An
   * `app.kubernetes.io/part-of` label here also joins the selector.
   * @default - none
   */
  readonly metadata?: ApiObjectMetadata;

  /** The disk mounted at `/images`. */
  readonly disk: EmulatorDisk;

  /**
   * The init containers that fill the disk before the emulator starts.
   * @default - none: the emulator's entrypoint finds or downloads its image itself
   */
  readonly seeder?: DiskSeeder;

  /**
   * The snapshot image, given to the entrypoint as `SNAPSHOT_REGISTRY` and `SNAPSHOT_TAG` (the tag
   * only, never a digest; a reference pinned by digest alone sets no `SNAPSHOT_TAG`).
   *
   * Without a `seeder` the entrypoint downloads it into each instance's own file
   * (`USE_PREBUILT_SNAPSHOT=true`), which needs a tag. With a `seeder`, which places the verified
   * disk at `DISK` before the emulator starts, the entrypoint overlays that disk
   * (`USE_PREBUILT_SNAPSHOT=false`) and the reference is for information only.
   * @default - none: `USE_PREBUILT_SNAPSHOT=false`
   */
  readonly prebuiltSnapshot?: ContainerImage;
}

/** Name of the emulator container. */
export const EMULATOR_CONTAINER_NAME = 'emulator';
/** Name of the init container that performs a one-shot overlay reset. */
export const RESET_CONTAINER_NAME = 'reset-overlay';
const TUN_VOLUME_NAME = 'dev-net-tun';

/**
 * The capabilities the emulator runs with unless `privileged`: every other capability is dropped.
 * Its entrypoint runs as root and creates a bridge and a TAP device in the pod's network namespace
 * (NET_ADMIN, with /dev/net/tun), and manages its own files and processes (Xvfb, PulseAudio, QEMU,
 * GStreamer): CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE, the
 * set CRI-O grants by default. Left out of the runtimes' defaults: MKNOD (device nodes come from
 * the runtime or a device plugin, never mknod), NET_RAW (no raw or packet sockets: TAP traffic
 * goes through /dev/net/tun; NET_RAW would allow ARP and ICMP spoofing on the pod network),
 * SYS_CHROOT, AUDIT_WRITE, SETFCAP, SETPCAP (unused).
 */
export const EMULATOR_CAPABILITIES: readonly string[] = [
  'NET_ADMIN', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE',
];

/**
 * Env names the construct owns, each with the property it comes from; the free-form env map may
 * not set them (the Helm values migration drops or maps them by this list).
 */
// No prototype: a user's env name such as `__proto__` or `constructor` is not one of these.
export const TYPED_ENV: { readonly [name: string]: string } = Object.assign(Object.create(null), {
  DISK: 'the disk (seeder imagePath)',
  USE_PREBUILT_SNAPSHOT: 'prebuiltSnapshot',
  SNAPSHOT_REGISTRY: 'prebuiltSnapshot',
  SNAPSHOT_TAG: 'prebuiltSnapshot',
  SNAPSHOT_DIR: 'overlays.snapshotDir',
  SNAPSHOT_MODE: 'overlays.snapshotMode',
  SNAPSHOT_RESET: 'overlays.snapshotReset',
  POD_NAME: '(downward API)',
  POD_IP: '(downward API)',
  POD_NAMESPACE: '(downward API)',
  EMULATOR_SERVICE_NAME: 'serviceName',
  EMULATOR_REPLICAS: 'replicas',
  SOCKET_MASTER_HOST: '(ordinal 0 through serviceName)',
});

const PROBE_DEFAULTS = {
  startup: { path: '/health', initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 },
  liveness: { path: '/', initialDelaySeconds: 60, periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 3 },
  readiness: { path: '/', initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
};

/** The one-shot overlay reset run by the `reset-overlay` init container. */
export const RESET_SCRIPT_FILE = 'reset-overlay.sh';
/** The preStop hook: asks the guest to power down through QEMU's QMP socket, then waits. */
export const PRE_STOP_SCRIPT_FILE = 'pre-stop.sh';
/** Where the emulator's scripts ConfigMap is mounted in its containers. */
export const SCRIPTS_MOUNT_PATH = '/qemu-scripts';
const SCRIPTS_VOLUME_NAME = 'qemu-scripts';
const DEFAULT_NAME = 'qemu-emulator';

const DEVICE_DEFAULTS = {
  tun: { hostPath: '/dev/net/tun', resourceName: 'devices.kubevirt.io/tun' },
  kvm: { hostPath: '/dev/kvm', resourceName: 'devices.kubevirt.io/kvm' },
  dri: { hostPath: '/dev/dri', resourceName: 'gpu.intel.com/i915' },
};

type Resources = { requests: { [key: string]: k8s.Quantity }; limits: { [key: string]: k8s.Quantity } };

/** The props a JavaScript caller must give, checked before anything reads them. */
function checkRequired(scope: Construct, props: QemuStatefulSetProps): QemuStatefulSetProps {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw invalidProp(scope, 'props', props, 'are required: { disk, image, ... }');
  }
  if (!(props.disk instanceof EmulatorDisk)) {
    throw invalidProp(scope, 'disk', props.disk, 'is required: the EmulatorDisk the emulator mounts at /images');
  }
  if (!(props.image instanceof ContainerImage)) {
    throw invalidProp(scope, 'image', props.image, "is required: a ContainerImage, e.g. ContainerImage.fromTag('ghcr.io/mroie/qemu-loco', '1.4.0')");
  }
  return props;
}

/**
 * The emulator StatefulSet and its headless Service, at parity with the Lego Loco Helm chart's
 * emulator: stable names `<name>-0..N`, the disk at `/images`, TAP networking through
 * `/dev/net/tun`, VNC and health ports, and the environment its `/entrypoint.sh` reads. Its
 * primary child (`Resource`) is the StatefulSet; its scripts (the preStop hook, the one-shot reset)
 * ship in a ConfigMap named by a hash of their content.
 *
 * Built on the generated Kubernetes 1.28 objects rather than cdk8s-plus's StatefulSet, whose
 * defaults (non-root, read-only root filesystem, `imagePullPolicy: Always`, small fixed
 * resources, a 30 s TCP startup probe) would each break an emulator.
 */
export class QemuStatefulSet extends Construct {
  /**
   * The capabilities the emulator runs with unless privileged: every other capability is dropped.
   * Its entrypoint runs as root and creates a bridge and a TAP device in the pod's network
   * namespace (NET_ADMIN, with /dev/net/tun), and manages its own files and processes (Xvfb,
   * PulseAudio, QEMU, GStreamer): CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
   * NET_BIND_SERVICE, the set CRI-O grants by default. Left out of the runtimes' defaults: MKNOD
   * (device nodes come from the runtime or a device plugin, never mknod), NET_RAW (no raw or packet
   * sockets: TAP traffic goes through /dev/net/tun; NET_RAW would allow ARP and ICMP spoofing on the
   * pod network), SYS_CHROOT, AUDIT_WRITE, SETFCAP, SETPCAP (unused).
   */
  public static readonly CAPABILITIES: string[] = [...EMULATOR_CAPABILITIES];

  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless Service. */
  public readonly service: k8s.KubeService;
  /** The ConfigMap of the emulator's scripts (preStop hook, one-shot reset). */
  public readonly scriptConfigMap: k8s.KubeConfigMap;
  /** Name of the StatefulSet (pods are `<name>-<ordinal>`). */
  public readonly name: string;
  /** Name of the headless Service. */
  public readonly serviceName: string;
  /** Number of replicas. */
  public readonly replicas: number;
  /** Labels of the pods, also the selector. */
  public readonly selectorLabels: { [key: string]: string };
  /** The snapshot image, if any (the entrypoint downloads it only when there is no seeder). */
  public readonly prebuiltSnapshot?: ImageReference;

  private readonly props: QemuStatefulSetProps;
  private readonly image: ResolvedImage;

  constructor(scope: Construct, id: string, props: QemuStatefulSetProps) {
    super(scope, id);
    this.props = checkRequired(this, props);
    this.name = props.name ?? DEFAULT_NAME;
    checkDnsLabel(this, 'name', this.name, 52);
    this.serviceName = props.serviceName ?? this.name;
    checkDnsLabel(this, 'serviceName', this.serviceName);
    this.replicas = props.replicas ?? 1;
    checkInteger(this, 'replicas', this.replicas, 1);
    this.image = props.image._resolve(this, 'image');
    this.prebuiltSnapshot = this.resolvePrebuiltSnapshot();
    this.checkCombinations();
    checkLabels(this, 'metadata.labels', props.metadata?.labels ?? {});
    this.selectorLabels = {
      'app': this.name,
      'app.kubernetes.io/component': 'emulator',
      'app.kubernetes.io/part-of': props.metadata?.labels?.['app.kubernetes.io/part-of'] ?? this.name,
    };
    const podLabels = { 'app.kubernetes.io/name': this.name, ...props.metadata?.labels, ...this.selectorLabels };

    this.scriptConfigMap = scriptConfigMap(this, 'Scripts', this.name, this.scripts());
    const ports = this.containerPorts(props.ports ?? {});
    this.service = this.headlessService(ports, podLabels);
    this.statefulSet = new StatefulSetWithTypedClaimTemplates(this, 'Resource', {
      metadata: { name: this.name, labels: podLabels },
      spec: {
        serviceName: this.serviceName,
        replicas: this.replicas,
        selector: { matchLabels: this.selectorLabels },
        updateStrategy: { type: 'RollingUpdate' },
        podManagementPolicy: this.podManagementPolicy(props.scheduling?.podManagementPolicy),
        persistentVolumeClaimRetentionPolicy: this.retentionPolicy(props.claimRetentionPolicy),
        volumeClaimTemplates: props.disk.claimTemplates.length > 0
          ? props.disk.claimTemplates.map((template) => ({ metadata: { name: template.name, labels: this.selectorLabels }, spec: template.spec }))
          : undefined,
        template: { metadata: { labels: podLabels }, spec: this.podSpec(ports) },
      },
    });
    // The labels are in podLabels already, under the selector's; the rest (annotations, the
    // refused name and namespace) goes through applyMetadata, and the labels to the ConfigMap.
    applyMetadata(this, props.metadata && { ...props.metadata, labels: undefined });
    addSynthChecks(this, () => this.sharedClaimAcrossStatefulSets());
    for (const [key, value] of Object.entries(props.metadata?.labels ?? {})) this.scriptConfigMap.metadata.addLabel(key, value);
  }

  /**
   * Two StatefulSets mounting one ReadWriteOnce claim: each one's one-node affinity selects only
   * its own pods, so the two can land on two nodes and fail with Multi-Attach.
   */
  private sharedClaimAcrossStatefulSets(): string[] {
    const disk = this.props.disk;
    if (!disk.sharedByReplicas || disk.sharedAcrossNodes) return [];
    const key = (set: QemuStatefulSet) => `${set.statefulSet.metadata.namespace ?? 'default'}/${set.props.disk.claimName}`;
    const sets = this.node.root.node.findAll().filter((construct): construct is QemuStatefulSet => construct instanceof QemuStatefulSet);
    return sets.slice(sets.indexOf(this) + 1)
      .filter((other) => other.props.disk.sharedByReplicas && !other.props.disk.sharedAcrossNodes && key(other) === key(this))
      .map((other) => `${this.node.path} and ${other.node.path} both mount the ${disk.accessModes.join('/')} claim ${disk.claimName} in namespace ${this.statefulSet.metadata.namespace ?? 'default'}: ` +
        'their pods can be scheduled to two nodes and fail with Multi-Attach; give each its own disk (claimName), or a ReadWriteMany claim');
  }

  /** The scripts the emulator pod runs, by file name. */
  private scripts(): { [file: string]: string } {
    return {
      [PRE_STOP_SCRIPT_FILE]: shippedScript(PRE_STOP_SCRIPT_FILE),
      ...(this.props.overlays?.resetToken !== undefined ? { [RESET_SCRIPT_FILE]: shippedScript(RESET_SCRIPT_FILE) } : {}),
    };
  }

  /** Props that contradict each other. */
  private checkCombinations(): void {
    const props = this.props;
    this.checkSharedClaim();
    this.checkDiskOptions();
    if (props.seeder && props.seeder.disk !== props.disk) {
      throw invalidProp(this, 'seeder', props.seeder.node.path, `must seed the same disk as the emulator mounts (${props.disk.node.path})`);
    }
    if (props.seeder && props.security?.readOnlyDisk) {
      throw invalidProp(this, 'security.readOnlyDisk', true, 'cannot be combined with a seeder, which must write the disk; drop the seeder or mount the disk read-write');
    }
    this.checkSnapshotDir();
    const automount = props.security?.automountServiceAccountToken;
    if (automount !== undefined && typeof automount !== 'boolean') {
      throw invalidProp(this, 'security.automountServiceAccountToken', automount, 'must be true or false');
    }
    if (props.security?.privileged && props.security.extraCapabilities !== undefined) {
      throw invalidProp(this, 'security.extraCapabilities', props.security.extraCapabilities, 'does not apply with privileged: true, which already has every capability');
    }
  }

  private resolvePrebuiltSnapshot(): ImageReference | undefined {
    const snapshot = this.props.prebuiltSnapshot;
    if (snapshot === undefined) return undefined;
    if (!(snapshot instanceof ContainerImage)) {
      throw invalidProp(this, 'prebuiltSnapshot', snapshot, 'must be a ContainerImage, e.g. ContainerImage.fromReference(\'ghcr.io/mroie/qemu-snapshots:win98-base\')');
    }
    const reference = snapshot._resolve(this, 'prebuiltSnapshot');
    if (reference.tag === undefined && !this.props.seeder) {
      // The entrypoint downloads "$SNAPSHOT_REGISTRY:$SNAPSHOT_TAG": a digest there is no reference.
      throw invalidProp(this, 'prebuiltSnapshot', reference.image,
        "the emulator's entrypoint downloads registry:tag and cannot pull by digest alone: give a tag (repository:tag@sha256:... pins it too), or seed the disk with a DiskSeeder, which pulls by digest");
    }
    return reference;
  }

  /** The headless Service that gives each emulator its DNS name. */
  private headlessService(ports: k8s.ContainerPort[], labels: { [key: string]: string }): k8s.KubeService {
    return new k8s.KubeService(this, 'Service', {
      metadata: { name: this.serviceName, labels },
      spec: {
        clusterIp: 'None',
        // Instances find ordinal 0 (the LAN socket master) before it is ready.
        publishNotReadyAddresses: true,
        selector: this.selectorLabels,
        ports: ports.map((port) => ({
          name: port.name,
          port: port.containerPort,
          targetPort: k8s.IntOrString.fromNumber(port.containerPort),
          protocol: port.protocol,
        })),
      },
    });
  }

  /** The emulator pod: the seeder's init containers, the reset, the emulator, their volumes. */
  private podSpec(ports: k8s.ContainerPort[]): k8s.PodSpec {
    const props = this.props;
    const scheduling = props.scheduling ?? {};
    const terminationGracePeriodSeconds = scheduling.terminationGracePeriodSeconds ?? 120;
    checkInteger(this, 'scheduling.terminationGracePeriodSeconds', terminationGracePeriodSeconds, 10);
    const volumes: k8s.Volume[] = [
      ...props.disk.podVolumes,
      ...(props.seeder?.volumes ?? []),
      { name: SCRIPTS_VOLUME_NAME, configMap: { name: this.scriptConfigMap.name, defaultMode: 0o555 } },
    ];
    const volumeMounts: k8s.VolumeMount[] = [
      ...props.disk.emulatorVolumeMounts(props.security?.readOnlyDisk ?? false),
      { name: SCRIPTS_VOLUME_NAME, mountPath: SCRIPTS_MOUNT_PATH, readOnly: true },
    ];
    const resources = this.resources();
    this.addDevices(volumes, volumeMounts, resources);
    const initContainers = [...(props.seeder?.initContainers ?? []), ...this.resetContainer()];
    return {
      imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
      terminationGracePeriodSeconds,
      automountServiceAccountToken: props.security?.automountServiceAccountToken ?? false,
      securityContext: props.seeder?.podSecurityContext,
      initContainers: initContainers.length > 0 ? initContainers : undefined,
      containers: [this.emulatorContainer(ports, volumeMounts, resources)],
      volumes,
      nodeSelector: scheduling.nodeSelector,
      tolerations: scheduling.tolerations,
      affinity: this.affinity(),
    };
  }

  private emulatorContainer(ports: k8s.ContainerPort[], volumeMounts: k8s.VolumeMount[], resources: Resources): k8s.Container {
    const probes = this.props.probes ?? {};
    return {
      name: EMULATOR_CONTAINER_NAME,
      image: this.image.image,
      imagePullPolicy: this.image.pullPolicy,
      command: ['/entrypoint.sh'],
      env: literalEnv(this.environment()),
      ports,
      startupProbe: this.probe('startup', probes.startup, ports),
      livenessProbe: this.probe('liveness', probes.liveness, ports),
      readinessProbe: this.probe('readiness', probes.readiness, ports),
      // Hooks get no $(VAR) expansion, and the script is a file of the ConfigMap.
      lifecycle: { preStop: { exec: { command: ['/bin/sh', `${SCRIPTS_MOUNT_PATH}/${PRE_STOP_SCRIPT_FILE}`] } } },
      volumeMounts,
      resources,
      securityContext: this.props.security?.privileged
        ? { privileged: true, capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } }
        // The narrowest set the entrypoint's TAP networking needs (see CAPABILITIES), no setuid
        // escalation, and the runtime's default seccomp filter, under which QEMU, ip and the tun
        // ioctls run as they do under `docker run --cap-add NET_ADMIN`.
        : {
          privileged: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'], add: [...EMULATOR_CAPABILITIES, ...this.extraCapabilities()] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
    };
  }

  /** /dev/net/tun always (by hostPath unless told otherwise), /dev/kvm and /dev/dri when asked. */
  private addDevices(volumes: k8s.Volume[], volumeMounts: k8s.VolumeMount[], resources: Resources): void {
    const devices = this.props.devices ?? {};
    for (const [deviceProp, device] of [['tun', devices.tun ?? Device.hostPath()], ['kvm', devices.kvm], ['dri', devices.dri]] as const) {
      if (device === undefined) continue;
      const defaults = DEVICE_DEFAULTS[deviceProp];
      const property = `devices.${deviceProp}`;
      if (!(device instanceof Device)) {
        throw invalidProp(this, property, device, 'must be a Device: Device.hostPath() or Device.devicePlugin()');
      }
      if (device.source === DeviceSource.HOST_PATH) {
        const volume = this.hostPathDevice(deviceProp, device, volumeMounts);
        volumes.push(volume);
        volumeMounts.push({ name: volume.name, mountPath: deviceProp === 'tun' ? defaults.hostPath : volume.hostPath!.path });
      } else {
        const resourceName = device.resourceName ?? defaults.resourceName;
        if (!isQualifiedName(resourceName) || !resourceName.includes('/') || /(^|\.)kubernetes\.io\//.test(resourceName)) {
          throw invalidProp(this, property, resourceName,
            `must be a device plugin's extended resource name, <domain>/<name> outside kubernetes.io, e.g. ${defaults.resourceName}`);
        }
        resources.limits[resourceName] = k8s.Quantity.fromString('1');
        resources.requests[resourceName] = k8s.Quantity.fromString('1');
      }
    }
  }

  private hostPathDevice(deviceProp: 'tun' | 'kvm' | 'dri', device: Device, volumeMounts: k8s.VolumeMount[]): k8s.Volume {
    const defaults = DEVICE_DEFAULTS[deviceProp];
    const property = `devices.${deviceProp}`;
    if (!this.props.security?.privileged && deviceProp !== 'tun') {
      throw invalidProp(this, property, 'Device.hostPath()',
        `a hostPath device is only usable by a privileged container: set security.privileged: true, or use Device.devicePlugin() with a device plugin's resource (${defaults.resourceName})`);
    }
    const path = device.nodePath ?? defaults.hostPath;
    if (typeof path !== 'string' || !path.startsWith('/dev/')) {
      throw invalidProp(this, property, path, `must be an absolute path under /dev on the node, e.g. ${defaults.hostPath}`);
    }
    checkAbsolutePath(this, property, path);
    const mountPath = deviceProp === 'tun' ? defaults.hostPath : path;
    checkNoMountClash(this, property, mountPath, volumeMounts.map((mount) => ({ path: mount.mountPath, what: `volume ${mount.name}` })));
    return { name: deviceProp === 'tun' ? TUN_VOLUME_NAME : `dev-${deviceProp}`, hostPath: { path, type: deviceProp === 'dri' ? 'Directory' : 'CharDevice' } };
  }

  /**
   * The name Kubernetes gives the claim made from a `volumeClaimTemplates` entry for the replica
   * with the given ordinal.
   */
  public claimNameFor(template: string, ordinal: number): string {
    return `${template}-${this.name}-${ordinal}`;
  }

  /** DNS name of the emulator with the given ordinal, inside the namespace. */
  public podHostname(ordinal: number): string {
    return `${this.name}-${ordinal}.${this.serviceName}`;
  }

  /** The overlays must land on the disk (so that they persist and the reset finds them), not on the read-only base. */
  private checkSnapshotDir(): void {
    const snapshotDir = this.props.overlays?.snapshotDir;
    if (snapshotDir === undefined) return;
    checkAbsolutePath(this, 'overlays.snapshotDir', snapshotDir);
    if (!pathsOverlap(snapshotDir, IMAGES_MOUNT_PATH) || snapshotDir.length < IMAGES_MOUNT_PATH.length) {
      throw invalidProp(this, 'overlays.snapshotDir', snapshotDir,
        `must be ${IMAGES_MOUNT_PATH} or a directory inside it, where the disk is mounted: elsewhere the overlays would be lost with the container and the reset would not find them`);
    }
    if (this.props.disk.kind === EmulatorDiskKind.SHARED_BASE) {
      checkNoMountClash(this, 'overlays.snapshotDir', snapshotDir, [{ path: BASE_MOUNT_PATH, what: 'the read-only shared base' }]);
    }
  }

  private extraCapabilities(): string[] {
    const extra = this.props.security?.extraCapabilities ?? [];
    for (const capability of extra) {
      if (typeof capability !== 'string' || !/^[A-Z][A-Z_]*$/.test(capability) || capability.startsWith('CAP_')) {
        throw invalidProp(this, 'security.extraCapabilities', capability, 'each must be a Linux capability name without the CAP_ prefix, e.g. NET_RAW');
      }
      if (capability === 'SYS_ADMIN' || capability === 'ALL') {
        throw invalidProp(this, 'security.extraCapabilities', capability, 'is as good as privileged: set security.privileged: true instead, explicitly');
      }
    }
    return extra.filter((capability) => !EMULATOR_CAPABILITIES.includes(capability));
  }

  private checkSharedClaim(): void {
    const disk = this.props.disk;
    if (!disk.sharedByReplicas || this.replicas === 1 || disk.sharedAcrossNodes) return;
    if (!this.props.scheduling?.sharedClaimOnOneNode) {
      throw invalidProp(this, 'replicas', this.replicas,
        `${this.replicas} replicas share the ${disk.accessModes.join('/')} claim '${disk.claimName}': on a multi-node cluster every pod scheduled to another node fails with a Multi-Attach error. ` +
        `Use a claim per replica (DiskVolume.claimPerReplica(), sharedBase() or goldenClone(): volumeClaimTemplates), a ${DiskAccessMode.READ_WRITE_MANY} claim, or set scheduling.sharedClaimOnOneNode: true to keep all replicas on one node`);
    }
  }

  /**
   * The user's affinity, with the required one-node pod affinity of sharedClaimOnOneNode added to
   * it (not replacing it, and not replaced by it).
   */
  private affinity(): k8s.Affinity | undefined {
    const user = this.props.scheduling?.affinity;
    if (!this.props.scheduling?.sharedClaimOnOneNode || this.replicas === 1) return user;
    const oneNode: k8s.PodAffinityTerm = { labelSelector: { matchLabels: this.selectorLabels }, topologyKey: 'kubernetes.io/hostname' };
    return {
      ...user,
      podAffinity: {
        ...user?.podAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: [...user?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [], oneNode],
      },
    };
  }

  /** sharedClaimOnOneNode and claimRetentionPolicy apply to some disks only: elsewhere they are refused, not ignored. */
  private checkDiskOptions(): void {
    const { disk, scheduling, claimRetentionPolicy } = this.props;
    if (scheduling?.sharedClaimOnOneNode !== undefined && !disk.sharedByReplicas) {
      throw invalidProp(this, 'scheduling.sharedClaimOnOneNode', scheduling.sharedClaimOnOneNode,
        `applies only to a disk every replica shares (DiskVolume.newClaim(), DiskVolume.existingClaim()); disk kind ${disk.kind} gives each replica its own volume, so nothing needs to share a node`);
    }
    if (claimRetentionPolicy !== undefined && disk.claimTemplates.length === 0) {
      throw invalidProp(this, 'claimRetentionPolicy', claimRetentionPolicy,
        `applies only to claims made per replica (DiskVolume.claimPerReplica(), sharedBase(), goldenClone()); disk kind ${disk.kind} has none`);
    }
  }

  private podManagementPolicy(policy: PodManagementPolicy | undefined): string | undefined {
    if (policy !== undefined && !Object.values(PodManagementPolicy).includes(policy)) {
      throw invalidProp(this, 'scheduling.podManagementPolicy', policy, `must be one of ${Object.values(PodManagementPolicy).join(', ')}`);
    }
    return policy;
  }

  private retentionPolicy(policy: ClaimRetentionPolicy | undefined): k8s.StatefulSetPersistentVolumeClaimRetentionPolicy | undefined {
    if (policy === undefined) return undefined;
    for (const [field, value] of Object.entries(policy)) {
      if (value !== undefined && !Object.values(ClaimRetention).includes(value)) {
        throw invalidProp(this, `claimRetentionPolicy.${field}`, value, `must be one of ${Object.values(ClaimRetention).join(', ')}`);
      }
    }
    return { whenDeleted: policy.whenDeleted ?? ClaimRetention.RETAIN, whenScaled: policy.whenScaled ?? ClaimRetention.RETAIN };
  }

  private resetContainer(): k8s.Container[] {
    const props = this.props;
    const resetToken = props.overlays?.resetToken;
    if (resetToken === undefined) return [];
    if (typeof resetToken !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/.test(resetToken)) {
      throw invalidProp(this, 'overlays.resetToken', resetToken, 'must be 1 to 63 letters, digits, and . _ : - (for example a date such as 2026-11-27)');
    }
    if (!props.disk.persistent) {
      throw invalidProp(this, 'overlays.resetToken', resetToken, 'has nothing to reset on an emptyDir disk, which starts empty every time');
    }
    if (props.security?.readOnlyDisk) {
      throw invalidProp(this, 'overlays.resetToken', resetToken, 'cannot move overlays aside on a read-only disk');
    }
    return [{
      name: RESET_CONTAINER_NAME,
      image: this.image.image,
      imagePullPolicy: this.image.pullPolicy,
      command: ['/bin/sh', `${SCRIPTS_MOUNT_PATH}/${RESET_SCRIPT_FILE}`],
      env: literalEnv([
        { name: 'RESET_TOKEN', value: resetToken },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'SNAPSHOT_DIR', value: props.overlays?.snapshotDir ?? DEFAULT_SNAPSHOT_DIR },
      ]),
      volumeMounts: [...props.disk.emulatorVolumeMounts(false), { name: SCRIPTS_VOLUME_NAME, mountPath: SCRIPTS_MOUNT_PATH, readOnly: true }],
      resources: {
        requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') },
        limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('64Mi') },
      },
      // Root only because the overlays and their directories belong to the emulator, which runs
      // as root; no capabilities, so it can move its own files and nothing else.
      securityContext: lockedDownSecurityContext(0),
    }];
  }

  private containerPorts(ports: EmulatorPorts): k8s.ContainerPort[] {
    const list: k8s.ContainerPort[] = [
      { name: 'vnc', containerPort: ports.vnc ?? 5901, protocol: 'TCP' },
      { name: 'health', containerPort: ports.health ?? 8080, protocol: 'TCP' },
      { name: 'lan-socket', containerPort: ports.lanSocket ?? 4444, protocol: 'TCP' },
      { name: 'lan-mcast', containerPort: ports.lanMulticast ?? 1234, protocol: 'UDP' },
    ];
    const propName: { [name: string]: string } = { 'vnc': 'vnc', 'health': 'health', 'lan-socket': 'lanSocket', 'lan-mcast': 'lanMulticast' };
    const seen = new Map<string, string>();
    for (const port of list) {
      checkInteger(this, `ports.${propName[port.name!]}`, port.containerPort, 1, 65535);
      const key = `${port.containerPort}/${port.protocol}`;
      if (seen.has(key)) {
        throw invalidProp(this, `ports.${propName[port.name!]}`, port.containerPort,
          `clashes with ports.${seen.get(key)} (both ${key}); give each port its own number`);
      }
      seen.set(key, propName[port.name!]);
    }
    return list;
  }

  private probe(kind: keyof typeof PROBE_DEFAULTS, options: HealthProbeOptions | undefined, ports: k8s.ContainerPort[]): k8s.Probe | undefined {
    if (options?.enabled === false) {
      const set = Object.entries(options).filter(([field, value]) => field !== 'enabled' && value !== undefined).map(([field]) => field);
      if (set.length > 0) {
        throw invalidProp(this, `probes.${kind}.${set[0]}`, options[set[0] as keyof HealthProbeOptions],
          `does not apply to a disabled probe (probes.${kind}.enabled: false); drop it, or enable the probe`);
      }
      return undefined;
    }
    const merged = { ...PROBE_DEFAULTS[kind], ...stripUndefined(options ?? {}) };
    for (const field of ['periodSeconds', 'timeoutSeconds', 'failureThreshold'] as const) {
      checkInteger(this, `probes.${kind}.${field}`, merged[field], 1);
    }
    checkInteger(this, `probes.${kind}.initialDelaySeconds`, merged.initialDelaySeconds, 0);
    if (typeof merged.path !== 'string' || !merged.path.startsWith('/')) {
      throw invalidProp(this, `probes.${kind}.path`, merged.path, "must be an HTTP path starting with '/'");
    }
    const healthPort = ports.find((port) => port.name === 'health')!.containerPort;
    return {
      httpGet: { path: merged.path, port: k8s.IntOrString.fromNumber(healthPort) },
      initialDelaySeconds: merged.initialDelaySeconds,
      periodSeconds: merged.periodSeconds,
      timeoutSeconds: merged.timeoutSeconds,
      failureThreshold: merged.failureThreshold,
    };
  }

  private resources(): Resources {
    const props = this.props;
    const toQuantities = (property: string, values: { [key: string]: string }) => {
      const result: { [key: string]: k8s.Quantity } = {};
      for (const [key, value] of Object.entries(values)) {
        checkResourceQuantity(this, `${property}.${key}`, value);
        result[key] = k8s.Quantity.fromString(value);
      }
      return result;
    };
    const requests = props.resources?.requests ?? { cpu: '1', memory: '1Gi' };
    const limits = props.resources?.limits ?? { cpu: '4', memory: '2Gi' };
    const result = { requests: toQuantities('resources.requests', requests), limits: toQuantities('resources.limits', limits) };
    // The API server refuses a request above its limit; say so here rather than at apply time.
    for (const [key, request] of Object.entries(requests)) {
      if (limits[key] !== undefined && quantityValue(request)! > quantityValue(limits[key])!) {
        throw invalidProp(this, `resources.requests.${key}`, request, `must not exceed resources.limits.${key} (${limits[key]})`);
      }
    }
    return result;
  }

  private environment(): k8s.EnvVar[] {
    const { props, prebuiltSnapshot: snapshot } = this;
    const { disk, overlays = {} } = props;
    const typed: k8s.EnvVar[] = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'EMULATOR_SERVICE_NAME', value: this.serviceName },
      { name: 'EMULATOR_REPLICAS', value: String(this.replicas) },
      { name: 'SOCKET_MASTER_HOST', value: this.podHostname(0) },
      { name: 'DISK', value: `${disk.imageDirectory}/${props.seeder?.imageFileName ?? DEFAULT_IMAGE_FILE_NAME}` },
      // A seeder has placed and verified the disk: the entrypoint overlays it rather than
      // downloading the whole snapshot again into every instance's file.
      { name: 'USE_PREBUILT_SNAPSHOT', value: snapshot && !props.seeder ? 'true' : 'false' },
      ...(snapshot ? [{ name: 'SNAPSHOT_REGISTRY', value: snapshot.name }] : []),
      // Never a digest: the entrypoint appends it as ":<tag>". Digest-only (seeder only): none.
      ...(snapshot?.tag !== undefined ? [{ name: 'SNAPSHOT_TAG', value: snapshot.tag }] : []),
      { name: 'SNAPSHOT_DIR', value: overlays.snapshotDir ?? DEFAULT_SNAPSHOT_DIR },
      { name: 'SNAPSHOT_MODE', value: overlays.snapshotMode ?? (disk.persistent ? SnapshotMode.PERSISTENT : SnapshotMode.EPHEMERAL) },
      { name: 'SNAPSHOT_RESET', value: overlays.snapshotReset ? 'true' : 'false' },
    ];
    if (overlays.snapshotMode !== undefined && !Object.values(SnapshotMode).includes(overlays.snapshotMode)) {
      throw invalidProp(this, 'overlays.snapshotMode', overlays.snapshotMode, "must be 'persistent' or 'ephemeral'");
    }
    const extra: k8s.EnvVar[] = [];
    for (const [name, value] of Object.entries(props.env ?? {})) {
      if (TYPED_ENV[name] !== undefined) {
        throw invalidProp(this, `env.${name}`, value,
          `clashes with ${name} that the construct sets from ${TYPED_ENV[name]}; set that property instead of env.${name}`);
      }
      if (!isEnvVarName(name)) {
        throw invalidProp(this, 'env', name, "each name must be letters, digits, '_', '-' and '.', not starting with a digit");
      }
      extra.push({ name, value: String(value) });
    }
    // Sorted so that reordering a map in the source does not show as a diff in dist/.
    extra.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [...typed, ...extra];
  }
}

/**
 * A KubeStatefulSet whose `volumeClaimTemplates` entries carry `apiVersion` and `kind`. The
 * generated types have no such fields (and their serializer drops JSON patches that add them), but
 * the API server returns them: without them Argo CD shows the StatefulSet OutOfSync forever.
 */
class StatefulSetWithTypedClaimTemplates extends k8s.KubeStatefulSet {
  public toJson(): { [key: string]: unknown } {
    const json: { spec?: { volumeClaimTemplates?: unknown } } = super.toJson();
    const templates = json.spec?.volumeClaimTemplates;
    if (json.spec && Array.isArray(templates)) {
      json.spec.volumeClaimTemplates = templates.map((template: object) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...template }));
    }
    return json;
  }
}
