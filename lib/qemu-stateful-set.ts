import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DiskSeeder, shippedScript } from './disk-seeder';
import { BASE_MOUNT_PATH, DiskAccessMode, EmulatorDisk, EmulatorDiskKind, IMAGES_MOUNT_PATH } from './emulator-disk';
import { IMAGE_DIGEST, IMAGE_TAG, ImageReferenceForm, parseImageReference, parseSnapshotReference, SnapshotReference } from './snapshot-reference';
import {
  checkAbsolutePath, checkDnsLabel, checkInteger, checkNoMountClash, imagePullPolicyFor, invalidProp, isEnvVarName, isQualifiedName,
  kubeLiteral, literalEnv, pathsOverlap, quantityValue,
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

/** Access to a host device. */
export interface DeviceOptions {
  /**
   * How the device reaches the container.
   * @default DeviceSource.DEVICE_PLUGIN
   */
  readonly source?: DeviceSource;
  /**
   * Device path on the node, for `HOST_PATH`.
   * @default '/dev/kvm' or '/dev/dri'
   */
  readonly hostPath?: string;
  /**
   * Extended resource name, for `DEVICE_PLUGIN`.
   * @default 'devices.kubevirt.io/tun' for TUN, 'devices.kubevirt.io/kvm' for KVM, 'gpu.intel.com/i915' for DRI
   */
  readonly resourceName?: string;
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

/** The emulator StatefulSet's settings: those of a QemuStatefulSet but the disk and its seeding. */
export interface EmulatorOptions {
  /** Emulator image repository, e.g. `qemu-loco` or `ghcr.io/mroie/qemu-loco`. */
  readonly image: string;

  /**
   * Image tag. `latest` is refused unless `allowLatestTag` is set: it makes every node run
   * whatever was pushed last.
   * @default - required unless `imageDigest` is set
   */
  readonly tag?: string;

  /**
   * Image digest (`sha256:<64 hex>`), pinning the exact image; used instead of the tag.
   * @default - the tag is used
   */
  readonly imageDigest?: string;

  /**
   * Accept the `latest` tag.
   * @default false
   */
  readonly allowLatestTag?: boolean;

  /**
   * Image pull policy: `Always`, `IfNotPresent` or `Never`. Images loaded into minikube or kind
   * by hand need `IfNotPresent` or `Never` (there is no registry to pull them from).
   * @default - 'IfNotPresent' with `imageDigest` or a version tag (the image behind them does not
   * change); 'Always' with `latest` (the only way every node runs the current `latest`)
   */
  readonly imagePullPolicy?: string;

  /**
   * Secrets for pulling from private registries (also used for the snapshot image).
   * @default - none
   */
  readonly imagePullSecrets?: string[];

  /**
   * Name of the StatefulSet (at most 52 characters: Kubernetes derives the
   * `controller-revision-hash` pod label from it).
   * @default 'loco-emulator'
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
   * Several replicas on one ReadWriteOnce claim only work when every replica runs on the node
   * that has the volume attached (otherwise: Multi-Attach errors). Setting this acknowledges it
   * and adds a required pod affinity that keeps all replicas on one node, so it works on
   * multi-node clusters too, within one node's capacity.
   * @default false
   */
  readonly sharedClaimOnOneNode?: boolean;

  /**
   * Where the entrypoint keeps per-instance overlays (`SNAPSHOT_DIR`): an absolute path on the
   * disk, i.e. `/images` or a directory inside it (outside `/images/base` for a `SHARED_BASE`
   * disk, which is read-only), so that the overlays persist and the one-shot reset finds them.
   * @default '/images/snapshots'
   */
  readonly snapshotDir?: string;

  /**
   * `SNAPSHOT_MODE` of the entrypoint: `persistent` or `ephemeral`.
   * @default - 'persistent' on a persistent disk, 'ephemeral' on an emptyDir
   */
  readonly snapshotMode?: string;

  /**
   * `SNAPSHOT_RESET`: drop the per-instance overlay at every start while set. For a reset that
   * happens once, use `resetToken`.
   * @default false
   */
  readonly snapshotReset?: boolean;

  /**
   * A one-shot reset: when this token changes, each instance's overlay
   * (`win98_instance_<ordinal>.qcow2` in `/images` and `snapshotDir`) is moved aside to
   * `<overlay>.before-reset` once, at the next start of that instance, and the guest boots from
   * the base again. Later restarts with the same token keep the overlay. Change the token (a date,
   * a counter) to ask again.
   * @default - no reset
   */
  readonly resetToken?: string;

  /**
   * What happens to per-replica claims (`volumeClaimTemplates`) when the StatefulSet is deleted
   * or scaled down. Kubernetes keeps them (Retain) unless told otherwise.
   * @default - Kubernetes' default: Retain in both cases
   */
  readonly claimRetentionPolicy?: ClaimRetentionPolicy;

  /**
   * More environment variables. A name the construct sets from a typed property (DISK,
   * USE_PREBUILT_SNAPSHOT, SNAPSHOT_*, POD_*, EMULATOR_*, SOCKET_MASTER_HOST) is refused here:
   * set the property instead. Values reach the container literally: the kubelet would expand
   * `$(NAME)` in an env value and turn `$$` into `$`, so the manifest writes them escaped
   * (`$(X)` as `$$(X)`, `$$` as `$$$$`); a reference to another variable cannot be made here.
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /** Container ports of the emulator (also the headless Service's ports). @default - see EmulatorPorts */
  readonly ports?: EmulatorPorts;

  /** Startup, liveness and readiness probes on the health port. @default - startup, liveness and readiness probes as the chart */
  readonly probes?: EmulatorProbes;

  /**
   * Mount the disk read-only. The entrypoint then cannot write overlays beside the image, and a
   * seeder cannot fill it.
   * @default false
   */
  readonly readOnlyDisk?: boolean;

  /**
   * How the emulator gets /dev/net/tun, which its TAP networking always needs. The default
   * hostPath mount needs no privileges but puts the pod outside the Pod Security "baseline"
   * level; `{ source: DeviceSource.DEVICE_PLUGIN }` takes it from a device plugin's extended
   * resource instead (KubeVirt's `devices.kubevirt.io/tun` by default), with no hostPath volume.
   * @default - a hostPath mount of /dev/net/tun
   */
  readonly tun?: DeviceOptions;

  /**
   * Give the emulator /dev/kvm for hardware acceleration.
   * @default - no KVM: QEMU uses TCG software emulation
   */
  readonly kvm?: DeviceOptions;

  /**
   * Give the emulator /dev/dri for GPU rendering.
   * @default - no DRI
   */
  readonly dri?: DeviceOptions;

  /**
   * Run the emulator container privileged with NET_ADMIN and SYS_ADMIN, as the Helm chart does:
   * every capability, every host device, no seccomp filter. Needed only for hostPath /dev/kvm or
   * /dev/dri; the TAP networking works without it (see `EMULATOR_CAPABILITIES`).
   * @default false
   */
  readonly privileged?: boolean;

  /**
   * Capabilities to add to the emulator beyond `EMULATOR_CAPABILITIES`, for an image whose
   * entrypoint needs one more (for example `NET_RAW` for a DHCP server on raw sockets). Each is
   * a capability name without the `CAP_` prefix; `SYS_ADMIN` and `ALL` are refused: use
   * `privileged` for those.
   * @default - none
   */
  readonly extraCapabilities?: string[];

  /** Compute resources of the emulator container. @default - requests 1 CPU and 1Gi, limits 4 CPUs and 2Gi (the chart's values) */
  readonly resources?: EmulatorResources;

  /** Node labels the emulator pods must run on. @default - none */
  readonly nodeSelector?: { [label: string]: string };
  /** Taints the emulator pods tolerate. @default - none */
  readonly tolerations?: k8s.Toleration[];
  /** Scheduling affinity of the emulator pods. @default - none (or the one-node affinity of `sharedClaimOnOneNode`) */
  readonly affinity?: k8s.Affinity;

  /**
   * Seconds the pod gets to stop: the preStop hook asks the guest to shut down and waits.
   * @default 120
   */
  readonly terminationGracePeriodSeconds?: number;

  /**
   * How the StatefulSet starts and stops its pods. `OrderedReady` starts replica N+1 only once
   * replica N is Ready (minutes per Windows 98 boot); `Parallel` starts them all at once, so nine
   * emulators come up in about the time of one (instances that connect to the LAN socket master,
   * ordinal 0, retry until it is up). Immutable on an existing StatefulSet.
   * @default PodManagementPolicy.ORDERED_READY (Kubernetes' default)
   */
  readonly podManagementPolicy?: PodManagementPolicy;

  /**
   * Mount the namespace's service account token into the emulator pods. Neither the emulator
   * nor its init containers talk to the Kubernetes API, so by default the token is not there to
   * be stolen from a compromised guest or entrypoint.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
}

/** Properties of a QemuStatefulSet. */
export interface QemuStatefulSetProps extends EmulatorOptions {
  /** The disk mounted at `/images`. */
  readonly disk: EmulatorDisk;

  /**
   * The init container that fills the disk before the emulator starts.
   * @default - none: the emulator's entrypoint finds or downloads its image itself
   */
  readonly seeder?: DiskSeeder;

  /**
   * The snapshot image, given to the entrypoint as `SNAPSHOT_REGISTRY` and `SNAPSHOT_TAG` (the
   * tag only, never a digest; a reference pinned by digest alone sets no `SNAPSHOT_TAG`).
   *
   * Without a `seeder` the entrypoint downloads it into each instance's own file
   * (`USE_PREBUILT_SNAPSHOT=true`), which needs a tag. With a `seeder`, which places the verified
   * disk at `DISK` before the emulator starts, the entrypoint overlays that disk
   * (`USE_PREBUILT_SNAPSHOT=false`) and the reference is for information only.
   * @default - none: `USE_PREBUILT_SNAPSHOT=false`
   */
  readonly prebuiltSnapshot?: string;
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
  SNAPSHOT_DIR: 'snapshotDir',
  SNAPSHOT_MODE: 'snapshotMode',
  SNAPSHOT_RESET: 'snapshotReset',
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
export function resetOverlayScript(): string {
  return shippedScript('reset-overlay.sh');
}

/** The preStop hook: asks the guest to power down through QEMU's QMP socket, then waits. */
export function preStopScript(): string {
  return shippedScript('pre-stop.sh');
}

/**
 * The emulator StatefulSet and its headless Service, at parity with the Lego Loco Helm chart's
 * emulator: stable names `<name>-0..N`, the disk at `/images`, TAP networking through
 * `/dev/net/tun`, VNC and health ports, and the environment its `/entrypoint.sh` reads.
 *
 * Built on the generated Kubernetes 1.28 objects rather than cdk8s-plus's StatefulSet, whose
 * defaults (non-root, read-only root filesystem, `imagePullPolicy: Always`, small fixed
 * resources, a 30 s TCP startup probe) would each break an emulator.
 */
export class QemuStatefulSet extends Construct {
  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless Service. */
  public readonly service: k8s.KubeService;
  /** Name of the StatefulSet (pods are `<name>-<ordinal>`). */
  public readonly name: string;
  /** Name of the headless Service. */
  public readonly serviceName: string;
  /** Number of replicas. */
  public readonly replicas: number;
  /** Labels of the pods, also the selector. */
  public readonly selectorLabels: { [key: string]: string };
  /** The snapshot image, if any (the entrypoint downloads it only when there is no seeder). */
  public readonly prebuiltSnapshot?: SnapshotReference;

  constructor(scope: Construct, id: string, props: QemuStatefulSetProps) {
    super(scope, id);
    this.name = props.name ?? 'loco-emulator';
    checkDnsLabel(this, 'name', this.name, 52);
    this.serviceName = props.serviceName ?? this.name;
    checkDnsLabel(this, 'serviceName', this.serviceName);
    this.replicas = props.replicas ?? 1;
    checkInteger(this, 'replicas', this.replicas, 1);

    const disk = props.disk;
    const image = this.imageReference(props);
    this.checkSharedClaim(props);
    if (props.seeder && props.seeder.disk !== disk) {
      throw invalidProp(this, 'seeder', props.seeder.node.path, `must seed the same disk as the emulator mounts (${disk.node.path})`);
    }
    if (props.seeder && props.readOnlyDisk) {
      throw invalidProp(this, 'readOnlyDisk', true, 'cannot be combined with a seeder, which must write the disk; drop the seeder or mount the disk read-write');
    }
    this.checkSnapshotDir(props);
    if (props.automountServiceAccountToken !== undefined && typeof props.automountServiceAccountToken !== 'boolean') {
      throw invalidProp(this, 'automountServiceAccountToken', props.automountServiceAccountToken, 'must be true or false');
    }
    if (props.prebuiltSnapshot !== undefined) {
      this.prebuiltSnapshot = parseSnapshotReference(this, 'prebuiltSnapshot', props.prebuiltSnapshot);
      if (this.prebuiltSnapshot.tag === undefined && !props.seeder) {
        // The entrypoint downloads "$SNAPSHOT_REGISTRY:$SNAPSHOT_TAG": a digest there is no reference.
        throw invalidProp(this, 'prebuiltSnapshot', props.prebuiltSnapshot,
          "the emulator's entrypoint downloads registry:tag and cannot pull by digest alone: give a tag (repository:tag@sha256:... pins it too), or seed the disk with a DiskSeeder (LegoLocoChart: seedEphemeralDisk) which pulls by digest");
      }
    }
    const privileged = props.privileged ?? false;
    if (privileged && props.extraCapabilities !== undefined) {
      throw invalidProp(this, 'extraCapabilities', props.extraCapabilities, 'does not apply with privileged: true, which already has every capability');
    }
    const ports = this.containerPorts(props.ports ?? {});

    this.selectorLabels = {
      'app': this.name,
      'app.kubernetes.io/component': 'emulator',
      'app.kubernetes.io/part-of': 'lego-loco-cluster',
    };
    const podLabels = { ...this.selectorLabels, 'app.kubernetes.io/name': 'lego-loco-emulator' };

    const volumes: k8s.Volume[] = [
      ...disk.podVolumes,
      ...(props.seeder?.volumes ?? []),
    ];
    const volumeMounts: k8s.VolumeMount[] = [
      ...disk.emulatorVolumeMounts(props.readOnlyDisk ?? false),
    ];
    const resources = this.resources(props);
    for (const [deviceProp, device, defaults] of [
      // /dev/net/tun always: without a `tun` option, by hostPath (no privileges needed for it).
      ['tun', props.tun ?? { source: DeviceSource.HOST_PATH }, { hostPath: '/dev/net/tun', resourceName: 'devices.kubevirt.io/tun' }],
      ['kvm', props.kvm, { hostPath: '/dev/kvm', resourceName: 'devices.kubevirt.io/kvm' }],
      ['dri', props.dri, { hostPath: '/dev/dri', resourceName: 'gpu.intel.com/i915' }],
    ] as const) {
      if (!device) continue;
      const source = device.source ?? DeviceSource.DEVICE_PLUGIN;
      if (source === DeviceSource.HOST_PATH) {
        if (!privileged && deviceProp !== 'tun') {
          throw invalidProp(this, `${deviceProp}.source`, source,
            `a hostPath device is only usable by a privileged container: set privileged: true, or use DeviceSource.DEVICE_PLUGIN with a device plugin's resource (${defaults.resourceName})`);
        }
        const path = device.hostPath ?? defaults.hostPath;
        if (typeof path !== 'string' || !path.startsWith('/dev/')) {
          throw invalidProp(this, `${deviceProp}.hostPath`, path, `must be an absolute path under /dev on the node, e.g. ${defaults.hostPath}`);
        }
        checkAbsolutePath(this, `${deviceProp}.hostPath`, path);
        const volumeName = deviceProp === 'tun' ? TUN_VOLUME_NAME : `dev-${deviceProp}`;
        const mountPath = deviceProp === 'tun' ? '/dev/net/tun' : path;
        checkNoMountClash(this, `${deviceProp}.hostPath`, mountPath, volumeMounts.map((mount) => ({ path: mount.mountPath, what: `volume ${mount.name}` })));
        volumes.push({ name: volumeName, hostPath: { path, type: deviceProp === 'dri' ? 'Directory' : 'CharDevice' } });
        volumeMounts.push({ name: volumeName, mountPath });
      } else if (source === DeviceSource.DEVICE_PLUGIN) {
        const resourceName = device.resourceName ?? defaults.resourceName;
        if (!isQualifiedName(resourceName) || !resourceName.includes('/') || /(^|\.)kubernetes\.io\//.test(resourceName)) {
          throw invalidProp(this, `${deviceProp}.resourceName`, resourceName,
            `must be a device plugin's extended resource name, <domain>/<name> outside kubernetes.io, e.g. ${defaults.resourceName}`);
        }
        resources.limits[resourceName] = k8s.Quantity.fromString('1');
        resources.requests[resourceName] = k8s.Quantity.fromString('1');
      } else {
        throw invalidProp(this, `${deviceProp}.source`, source, `must be one of ${Object.values(DeviceSource).join(', ')}`);
      }
    }

    const probes = props.probes ?? {};
    const terminationGracePeriodSeconds = props.terminationGracePeriodSeconds ?? 120;
    checkInteger(this, 'terminationGracePeriodSeconds', terminationGracePeriodSeconds, 10);

    const imagePullPolicy = imagePullPolicyFor(this, 'imagePullPolicy', image, props.imagePullPolicy);
    const emulator: k8s.Container = {
      name: EMULATOR_CONTAINER_NAME,
      image,
      imagePullPolicy,
      command: ['/entrypoint.sh'],
      env: literalEnv(this.environment(props, disk)),
      ports,
      startupProbe: this.probe('startup', probes.startup, ports),
      livenessProbe: this.probe('liveness', probes.liveness, ports),
      readinessProbe: this.probe('readiness', probes.readiness, ports),
      lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', preStopScript()] } } },
      volumeMounts,
      resources,
      securityContext: privileged
        ? { privileged: true, capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } }
        // The narrowest set the entrypoint's TAP networking needs (see EMULATOR_CAPABILITIES),
        // no setuid escalation, and the runtime's default seccomp filter, under which QEMU, ip
        // and the tun ioctls run as they do under `docker run --cap-add NET_ADMIN`.
        : {
          privileged: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'], add: [...EMULATOR_CAPABILITIES, ...this.extraCapabilities(props)] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
    };

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name: this.serviceName, labels: podLabels },
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

    const initContainers = [...(props.seeder?.initContainers ?? []), ...this.resetContainer(props, image)];
    const claimTemplates = disk.claimTemplates;
    this.statefulSet = new StatefulSetWithTypedClaimTemplates(this, 'StatefulSet', {
      metadata: { name: this.name, labels: podLabels },
      spec: {
        serviceName: this.serviceName,
        replicas: this.replicas,
        selector: { matchLabels: this.selectorLabels },
        updateStrategy: { type: 'RollingUpdate' },
        podManagementPolicy: this.podManagementPolicy(props.podManagementPolicy),
        persistentVolumeClaimRetentionPolicy: this.retentionPolicy(props.claimRetentionPolicy),
        volumeClaimTemplates: claimTemplates.length > 0
          ? claimTemplates.map((template) => ({ metadata: { name: template.name, labels: this.selectorLabels }, spec: template.spec }))
          : undefined,
        template: {
          metadata: { labels: podLabels },
          spec: {
            imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
            terminationGracePeriodSeconds,
            automountServiceAccountToken: props.automountServiceAccountToken ?? false,
            securityContext: props.seeder?.podSecurityContext,
            initContainers: initContainers.length > 0 ? initContainers : undefined,
            containers: [emulator],
            volumes,
            nodeSelector: props.nodeSelector,
            tolerations: props.tolerations,
            affinity: props.affinity ?? this.oneNodeAffinity(props),
          },
        },
      },
    });
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

  private imageReference(props: QemuStatefulSetProps): string {
    parseImageReference(this, 'image', props.image, ImageReferenceForm.REPOSITORY_ONLY);
    if (props.imageDigest !== undefined) {
      if (typeof props.imageDigest !== 'string' || !IMAGE_DIGEST.test(props.imageDigest)) {
        throw invalidProp(this, 'imageDigest', props.imageDigest, 'must be sha256:<64 lower-case hex digits>');
      }
      return `${props.image}@${props.imageDigest}`;
    }
    if (typeof props.tag !== 'string' || !IMAGE_TAG.test(props.tag)) {
      throw invalidProp(this, 'tag', props.tag, 'must be an image tag (letters, digits, _ . -, at most 128 characters), or give imageDigest');
    }
    if (props.tag === 'latest' && !props.allowLatestTag) {
      throw invalidProp(this, 'tag', props.tag,
        "'latest' runs whatever was pushed last on each node: pin a version tag or imageDigest, or set allowLatestTag: true");
    }
    return `${props.image}:${props.tag}`;
  }

  /** The overlays must land on the disk (so that they persist and the reset finds them), not on the read-only base. */
  private checkSnapshotDir(props: QemuStatefulSetProps): void {
    if (props.snapshotDir === undefined) return;
    checkAbsolutePath(this, 'snapshotDir', props.snapshotDir);
    if (!pathsOverlap(props.snapshotDir, IMAGES_MOUNT_PATH) || props.snapshotDir.length < IMAGES_MOUNT_PATH.length) {
      throw invalidProp(this, 'snapshotDir', props.snapshotDir,
        `must be ${IMAGES_MOUNT_PATH} or a directory inside it, where the disk is mounted: elsewhere the overlays would be lost with the container and the reset would not find them`);
    }
    if (props.disk.kind === EmulatorDiskKind.SHARED_BASE) {
      checkNoMountClash(this, 'snapshotDir', props.snapshotDir, [{ path: BASE_MOUNT_PATH, what: 'the read-only shared base' }]);
    }
  }

  private extraCapabilities(props: QemuStatefulSetProps): string[] {
    const extra = props.extraCapabilities ?? [];
    for (const capability of extra) {
      if (typeof capability !== 'string' || !/^[A-Z][A-Z_]*$/.test(capability) || capability.startsWith('CAP_')) {
        throw invalidProp(this, 'extraCapabilities', capability, 'each must be a Linux capability name without the CAP_ prefix, e.g. NET_RAW');
      }
      if (capability === 'SYS_ADMIN' || capability === 'ALL') {
        throw invalidProp(this, 'extraCapabilities', capability, 'is as good as privileged: set privileged: true instead, explicitly');
      }
    }
    return extra.filter((capability) => !EMULATOR_CAPABILITIES.includes(capability));
  }

  private checkSharedClaim(props: QemuStatefulSetProps): void {
    const disk = props.disk;
    if (!disk.sharedByReplicas || this.replicas === 1 || disk.sharedAcrossNodes) return;
    if (!props.sharedClaimOnOneNode) {
      throw invalidProp(this, 'replicas', this.replicas,
        `${this.replicas} replicas share the ${disk.accessModes.join('/')} claim '${disk.claimName}': on a multi-node cluster every pod scheduled to another node fails with a Multi-Attach error. ` +
        `Use a claim per replica (EmulatorDiskKind.CLAIM_PER_REPLICA, SHARED_BASE or GOLDEN_CLONE: volumeClaimTemplates), a ${DiskAccessMode.READ_WRITE_MANY} claim, or set sharedClaimOnOneNode: true to keep all replicas on one node`);
    }
  }

  private oneNodeAffinity(props: QemuStatefulSetProps): k8s.Affinity | undefined {
    if (!props.sharedClaimOnOneNode || this.replicas === 1) return undefined;
    return {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{
          labelSelector: { matchLabels: this.selectorLabels },
          topologyKey: 'kubernetes.io/hostname',
        }],
      },
    };
  }

  private podManagementPolicy(policy: PodManagementPolicy | undefined): string | undefined {
    if (policy !== undefined && !Object.values(PodManagementPolicy).includes(policy)) {
      throw invalidProp(this, 'podManagementPolicy', policy, `must be one of ${Object.values(PodManagementPolicy).join(', ')}`);
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

  private resetContainer(props: QemuStatefulSetProps, image: string): k8s.Container[] {
    if (props.resetToken === undefined) return [];
    if (typeof props.resetToken !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/.test(props.resetToken)) {
      throw invalidProp(this, 'resetToken', props.resetToken, 'must be 1 to 63 letters, digits, and . _ : - (for example a date such as 2026-11-27)');
    }
    if (!props.disk.persistent) {
      throw invalidProp(this, 'resetToken', props.resetToken, 'has nothing to reset on an emptyDir disk, which starts empty every time');
    }
    if (props.readOnlyDisk) {
      throw invalidProp(this, 'resetToken', props.resetToken, 'cannot move overlays aside on a read-only disk');
    }
    return [{
      name: RESET_CONTAINER_NAME,
      image,
      imagePullPolicy: imagePullPolicyFor(this, 'imagePullPolicy', image, props.imagePullPolicy),
      // A container command goes through the kubelet's $(VAR) expansion too (lifecycle hooks do not).
      command: ['/bin/sh', '-c', kubeLiteral(resetOverlayScript())],
      env: literalEnv([
        { name: 'RESET_TOKEN', value: props.resetToken },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'SNAPSHOT_DIR', value: props.snapshotDir ?? `${IMAGES_MOUNT_PATH}/snapshots` },
      ]),
      volumeMounts: props.disk.emulatorVolumeMounts(false),
      resources: {
        requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') },
        limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('64Mi') },
      },
      // Root only because the overlays and their directories belong to the emulator, which runs
      // as root; no capabilities, so it can move its own files and nothing else.
      securityContext: {
        runAsUser: 0,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
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
    if (options?.enabled === false) return undefined;
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

  private resources(props: QemuStatefulSetProps): { requests: { [key: string]: k8s.Quantity }; limits: { [key: string]: k8s.Quantity } } {
    const toQuantities = (property: string, values: { [key: string]: string }) => {
      const result: { [key: string]: k8s.Quantity } = {};
      for (const [key, value] of Object.entries(values)) {
        if (typeof value !== 'string' || !/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(value)) {
          throw invalidProp(this, `${property}.${key}`, value, "must be a Kubernetes quantity such as '500m', '2' or '1Gi'");
        }
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

  private environment(props: QemuStatefulSetProps, disk: EmulatorDisk): k8s.EnvVar[] {
    const snapshot = this.prebuiltSnapshot;
    const typed: k8s.EnvVar[] = [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'EMULATOR_SERVICE_NAME', value: this.serviceName },
      { name: 'EMULATOR_REPLICAS', value: String(this.replicas) },
      { name: 'SOCKET_MASTER_HOST', value: this.podHostname(0) },
      { name: 'DISK', value: `${disk.imageDirectory}/${props.seeder?.imageFileName ?? 'win98.qcow2'}` },
      // A seeder has placed and verified the disk: the entrypoint overlays it rather than
      // downloading the whole snapshot again into every instance's file.
      { name: 'USE_PREBUILT_SNAPSHOT', value: snapshot && !props.seeder ? 'true' : 'false' },
      ...(snapshot ? [{ name: 'SNAPSHOT_REGISTRY', value: snapshot.name }] : []),
      // Never a digest: the entrypoint appends it as ":<tag>". Digest-only (seeder only): none.
      ...(snapshot?.tag !== undefined ? [{ name: 'SNAPSHOT_TAG', value: snapshot.tag }] : []),
      { name: 'SNAPSHOT_DIR', value: props.snapshotDir ?? `${IMAGES_MOUNT_PATH}/snapshots` },
      { name: 'SNAPSHOT_MODE', value: props.snapshotMode ?? (disk.persistent ? 'persistent' : 'ephemeral') },
      { name: 'SNAPSHOT_RESET', value: props.snapshotReset ? 'true' : 'false' },
    ];
    if (props.snapshotMode !== undefined && !['persistent', 'ephemeral'].includes(props.snapshotMode)) {
      throw invalidProp(this, 'snapshotMode', props.snapshotMode, "must be 'persistent' or 'ephemeral'");
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

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A KubeStatefulSet whose `volumeClaimTemplates` entries carry `apiVersion` and `kind`. The
 * generated types have no such fields (and their serializer drops JSON patches that add them), but
 * the API server returns them: without them Argo CD shows the StatefulSet OutOfSync forever.
 */
class StatefulSetWithTypedClaimTemplates extends k8s.KubeStatefulSet {
  public toJson(): any {
    const json = super.toJson();
    const templates = json.spec?.volumeClaimTemplates;
    if (Array.isArray(templates)) {
      json.spec.volumeClaimTemplates = templates.map((template: object) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...template }));
    }
    return json;
  }
}
