import { tmpdir } from 'os';
import { App } from 'cdk8s';
import { ImagePullPolicy } from 'cdk8s-plus-28';
import { ContainerImage } from './container-image';
import { SeedSource } from './disk-seeder';
import { DiskVolume } from './emulator-disk';
import { call, Code, CodeObject, constant, evaluateCode, importsOf, printCode } from './helm-code';
import { decodeHelmYaml, goFormatFloat, HelmYamlError, setOwn } from './helm-yaml';
import { LegoLoco, LegoLocoChart, LegoLocoChartProps, StorageMode, StorageModeKind } from './lego-loco';
import { Device, DeviceSource, EmulatorProbes, HealthProbeOptions, SnapshotMode, TYPED_ENV } from './qemu-stateful-set';
import { describeType, stripUndefined, summarize } from './validation';

/**
 * Migration from the Lego Loco Helm chart (`helm/loco-chart` of MRoie/lego-loco-cluster): its
 * `values.yaml` in, this library's LegoLocoChart props out, with a warning for everything that
 * changes meaning and a list of every key that is not migrated.
 */

/** Parsed Helm values: the YAML document as plain data. */
export type HelmValues = { [key: string]: unknown };

/** A values file parsed the way Helm reads it. */
export interface ParsedHelmValues {
  /** The values; for a repeated key, its last occurrence. */
  readonly values: HelmValues;
  /** Key paths that occur more than once in one mapping, e.g. `emulator.diskPVC`. */
  readonly duplicateKeys: string[];
  /** One warning per duplicated key path, naming the lines and the value that wins. */
  readonly warnings: string[];
}

/** Options of propsFromHelmValues. */
export interface HelmMigrationOptions {
  /**
   * The Helm release name. The chart named the emulator StatefulSet and its Service
   * `<release>-loco-emulator`; giving the release keeps those names (other workloads, such as the
   * chart's backend, find the emulators by them).
   * @default - the library's default name, `loco-emulator`
   */
  readonly releaseName?: string;

  /**
   * Also create the hostPath PersistentVolume the chart creates for the claim (`/tmp/<claim>` on
   * the node), for single-node clusters without a storage provisioner (minikube, kind). It keeps
   * the disk on one node's filesystem, so it is an explicit choice here.
   * @default false - the claim is provisioned by its StorageClass
   */
  readonly hostPathVolume?: boolean;

  /**
   * How `emulator.kvm` / `emulator.dri` with `enabled: true` reach the emulator. The chart mounts
   * the host's device node, which only a privileged container may use: `HOST_PATH` keeps that
   * (and so sets `privileged: true`); `DEVICE_PLUGIN` requests a device plugin's resource instead
   * and needs no privileges, but needs the plugin (e.g. KubeVirt's) on the nodes.
   * @default DeviceSource.HOST_PATH - what the chart did, so the pods still schedule where they did
   */
  readonly deviceSource?: DeviceSource;

  /**
   * A name for the values in messages (a file name).
   * @default 'values'
   */
  readonly source?: string;
}

/** The result of a migration. */
export interface HelmMigration {
  /** The storage mode the values describe. */
  readonly mode: StorageModeKind;
  /** The chart's id: the release name when given (Helm's instance label), else `loco-<mode>`. */
  readonly chartId: string;
  /** Props for a LegoLocoChart (`new LegoLocoChart(app, chartId, chartProps)`). */
  readonly chartProps: LegoLocoChartProps;
  /**
   * A cdk8s app in TypeScript that builds the same chart (`new LegoLocoChart(app, chartId, {...})`
   * with the package's API and its imports): the props above, printed.
   */
  readonly typescript: string;
  /**
   * Everything that changed meaning or was dropped, one sentence each, saying why and what to do.
   * Includes the duplicate-key warnings when the values were given as YAML text.
   */
  readonly warnings: string[];
  /** Key paths the migration does not understand (not read by the chart's emulator either). */
  readonly unknownKeys: string[];
  /** Key paths of the chart that configure things outside this library (backend, ingress...). */
  readonly notMigrated: string[];
}

/** Values that cannot be migrated; the message is one line naming every key at fault. */
export class HelmValuesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelmValuesError';
  }
}

/** The chart's name: Helm names its objects `<release>-<chart>-<component>`. */
const HELM_CHART_NAME = 'loco';
/** The chart's tag when `emulator.tag` is empty (its `loco.image` helper). */
const HELM_DEFAULT_TAG = 'latest';
const DEFAULT_SNAPSHOT_IMAGE = LegoLoco.SNAPSHOT_IMAGE.reference;
const DEFAULT_SNAPSHOT_REGISTRY = DEFAULT_SNAPSHOT_IMAGE.slice(0, DEFAULT_SNAPSHOT_IMAGE.lastIndexOf(':'));
const DEFAULT_SNAPSHOT_TAG = DEFAULT_SNAPSHOT_IMAGE.slice(DEFAULT_SNAPSHOT_IMAGE.lastIndexOf(':') + 1);

/** Top-level sections of the chart that configure its other workloads, not the emulator. */
const OTHER_SECTIONS = [
  'backend', 'frontend', 'vr', 'ingress', 'rbac', 'monitoring', 'nfs', 'networkPolicy',
  'registryConfig', 'git', 'artRes', 'vnc', 'stunner',
];
const TOP_LEVEL_KEYS = ['replicas', 'namespace', 'imageRepo', 'imagePullSecrets', 'emulator', 'storage'];
const EMULATOR_KEYS = [
  'image', 'tag', 'imagePullPolicy', 'diskPVC', 'diskReadOnly', 'usePrebuiltSnapshot', 'snapshotRegistry',
  'snapshotTag', 'snapshotDir', 'snapshotMode', 'snapshotReset', 'env', 'resources', 'probes', 'kvm', 'dri',
  'nodeSelector', 'tolerations', 'affinity', 'servicePort', 'healthPort', 'serviceType', 'replicas',
];
/** Keys of `storage` that size the art-resources volume at /nfs, which this library does not make. */
const STORAGE_OTHER_KEYS = ['nfsSize', 'strategy'];
const PROBE_KINDS = ['startup', 'liveness', 'readiness'] as const;
const PROBE_FIELDS = ['enabled', 'path', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
/** The ImagePullPolicy member of each pull policy, as the printed code names it. */
const PULL_POLICY_MEMBERS: { [policy: string]: keyof typeof ImagePullPolicy } = { Always: 'ALWAYS', IfNotPresent: 'IF_NOT_PRESENT', Never: 'NEVER' };
const SNAPSHOT_MODE_MEMBERS: { [mode: string]: keyof typeof SnapshotMode } = { persistent: 'PERSISTENT', ephemeral: 'EPHEMERAL' };
/** The chart's emulator keys that the entrypoint's SNAPSHOT_* variables come from. */
const SNAPSHOT_ENV_KEYS: { [name: string]: string } = { SNAPSHOT_DIR: 'snapshotDir', SNAPSHOT_MODE: 'snapshotMode', SNAPSHOT_RESET: 'snapshotReset' };

/**
 * Parses a values file as Helm does: YAML 1.1, and a key repeated in one mapping is not an error,
 * its last occurrence wins (a repeated mapping replaces the earlier one whole, it is not merged).
 * Each repeated key path gets a warning.
 */
export function parseHelmValues(text: string, source = 'values'): ParsedHelmValues {
  let decoded;
  try {
    decoded = decodeHelmYaml(text, source);
  } catch (error) {
    if (error instanceof HelmYamlError) throw new HelmValuesError(error.message);
    throw error;
  }
  const values = decoded.value ?? {};
  if (!isPlainObject(values)) {
    throw new HelmValuesError(`${source}: a values file must be a mapping of keys to values, not ${describeType(values, 'yaml')}`);
  }
  const duplicateKeys = decoded.repeated.map((repeated) => repeated.path);
  const warnings = decoded.repeated.map((repeated) => `${source}: key ${repeated.path} appears ${repeated.lines.length} times ` +
    `(lines ${repeated.lines.join(', ')}); as Helm does, the last one wins: ${summarize(repeated.value)}`);
  return { values, duplicateKeys, warnings };
}

/**
 * Merges values files as `helm install -f base.yaml -f overlay.yaml` does: mappings merge key by
 * key, the overlay winning; any other value (list, string, number) replaces the base's whole; a
 * `null` in the overlay deletes the key.
 */
export function mergeHelmValues(base: HelmValues, overlay: HelmValues): HelmValues {
  const merged: HelmValues = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) {
      delete merged[key];
    } else if (isPlainObject(value) && isPlainObject(merged[key])) {
      setOwn(merged, key, mergeHelmValues(merged[key] as HelmValues, value));
    } else {
      setOwn(merged, key, value);
    }
  }
  return merged;
}

/**
 * Maps the Helm chart's values onto LegoLocoChart props.
 *
 * The storage mode follows the chart's two switches: `emulator.diskPVC` set and
 * `usePrebuiltSnapshot: false` is mode A (persistent), `diskPVC` set and `usePrebuiltSnapshot: true`
 * is mode B (hybrid), an empty `diskPVC` is mode C (ephemeral). Everything the chart's emulator
 * reads is mapped (replicas, image, tag, pull policy and secrets, the claim and its size and class,
 * the snapshot settings, env, resources, probes, KVM and DRI, scheduling); anything whose meaning
 * changes gets a warning, keys the chart's emulator does not read are listed in `unknownKeys`, and
 * the chart's other workloads (backend, frontend, ingress...) in `notMigrated`.
 *
 * Env entries the constructs set themselves (DISK, USE_PREBUILT_SNAPSHOT, SNAPSHOT_*,
 * SOCKET_MASTER_HOST...) are mapped to the typed setting or dropped, each with a warning.
 *
 * The props are checked by building the chart once: values the constructs refuse, and values of
 * the wrong type, throw a HelmValuesError whose one-line message names every key at fault.
 *
 * @param values the parsed values, or the YAML text of a values file (then parsed as Helm does,
 *   with a warning per repeated key)
 */
export function propsFromHelmValues(values: HelmValues | string, options: HelmMigrationOptions = {}): HelmMigration {
  const source = options.source ?? 'values';
  if (typeof values === 'string') {
    const parsed = parseHelmValues(values, source);
    const migration = new Migration(parsed.values, options).run();
    return { ...migration, warnings: [...parsed.warnings, ...migration.warnings] };
  }
  if (!isPlainObject(values)) {
    throw new HelmValuesError(`${source}: the values must be a mapping of keys to values, not ${describeType(values, 'yaml')}`);
  }
  return new Migration(values, options).run();
}

/**
 * One migration of parsed values (`new Migration(values, options).run()`, what propsFromHelmValues
 * does for parsed values): collects warnings, unknown keys and problems while it maps, so each
 * instance runs once.
 */
export class Migration {
  private readonly warnings: string[] = [];
  private readonly unknownKeys: string[] = [];
  private readonly notMigrated: string[] = [];
  private readonly problems: string[] = [];
  private readonly source: string;
  private ran = false;

  constructor(private readonly values: HelmValues, private readonly options: HelmMigrationOptions = {}) {
    this.source = options.source ?? 'values';
  }

  public run(): HelmMigration {
    if (this.ran) throw new Error('a Migration runs once (its warnings would repeat): make a new one');
    this.ran = true;
    const values = this.values;
    this.sortKeys(values);
    const emulator = this.mapping('emulator', values.emulator);
    const storage = this.mapping('storage', values.storage);
    const { mode, diskPVC, env, usePrebuiltSnapshot } = this.storageMode(emulator);
    const image = this.image(values, emulator);
    const { replicas, name } = this.replicasAndName(values, emulator);
    const { disk, readOnlyDisk } = this.disk(mode, diskPVC, emulator, storage);
    const typedEnv: { [name: string]: string | undefined } = env.typed;
    const snapshotImage = this.snapshotImage(mode, usePrebuiltSnapshot, emulator, typedEnv);
    const overlays = this.overlays(emulator, typedEnv);
    const devices = this.devices(emulator);
    const scheduling = this.scheduling(mode, replicas, diskPVC, emulator);
    const ports = this.ports(emulator);
    const namespace = this.namespace(values);
    const props: CodeObject = {
      namespace,
      mode: modeCode(mode, disk, snapshotImage),
      emulator: this.emulatorCode(values, emulator, { image, name, replicas, env: env.free, ports, devices, readOnlyDisk, scheduling, overlays }),
    };
    if (this.problems.length > 0) {
      throw new HelmValuesError(`${this.source}: cannot migrate: ${this.problems.join('; ')}`);
    }
    const { chartProps, pod } = this.tryChart(props, mode);
    this.explainChart(pod, devices.privileged, typedEnv, emulator, usePrebuiltSnapshot, mode);
    this.reportKeys();
    const chartId = this.options.releaseName ?? `loco-${mode}`;
    return {
      mode, chartId, chartProps, typescript: typescriptApp(chartId, props),
      warnings: this.warnings, unknownKeys: this.unknownKeys, notMigrated: this.notMigrated,
    };
  }

  /** Values → storage mode: the chart's two switches, `emulator.diskPVC` and `usePrebuiltSnapshot`. */
  private storageMode(emulator: HelmValues) {
    const diskPVC = this.string('emulator.diskPVC', emulator.diskPVC) ?? '';
    // Read here, before usePrebuiltSnapshot, so that problems are listed in the order of the values.
    const env = this.env(emulator.env);
    const usePrebuiltSnapshot = this.boolean('emulator.usePrebuiltSnapshot', emulator.usePrebuiltSnapshot) ?? false;
    const mode = diskPVC === '' ? StorageModeKind.EPHEMERAL : usePrebuiltSnapshot ? StorageModeKind.HYBRID : StorageModeKind.PERSISTENT;
    if (emulator.diskPVC === undefined) {
      this.warn('emulator.diskPVC is not set, so the disk is an emptyDir (mode ephemeral). If this file is an overlay of the chart\'s ' +
        'values.yaml (which sets diskPVC: win98-disk), give values.yaml first so that they merge as Helm merges them');
    }
    if (mode === StorageModeKind.HYBRID) {
      this.warn('emulator.usePrebuiltSnapshot true with a diskPVC: the chart had the entrypoint download the snapshot at every start ' +
        '(USE_PREBUILT_SNAPSHOT=true). Mode hybrid seeds the claim once from the snapshot and the emulator overlays that disk ' +
        '(USE_PREBUILT_SNAPSHOT=false); SNAPSHOT_REGISTRY and SNAPSHOT_TAG still name it');
    }
    if (mode === StorageModeKind.EPHEMERAL && !usePrebuiltSnapshot) {
      this.warn('emulator.diskPVC is empty and usePrebuiltSnapshot false: the chart ran an emptyDir with USE_PREBUILT_SNAPSHOT=false ' +
        '(the entrypoint used a disk built into the image). Mode ephemeral has the entrypoint download the snapshot at every start ' +
        '(USE_PREBUILT_SNAPSHOT=true); to keep the built-in disk, set emulator.diskPVC (mode persistent)');
    }
    return { mode, diskPVC, env, usePrebuiltSnapshot };
  }

  /** Values → the emulator image: repository (with imageRepo), tag (the chart's `latest` when empty), pull policy. */
  private image(values: HelmValues, emulator: HelmValues): Code {
    const imageRepo = this.string('imageRepo', values.imageRepo) ?? '';
    const imageName = this.string('emulator.image', emulator.image);
    if (imageName === undefined || imageName === '') {
      this.problems.push('emulator.image is not set: name the emulator image (e.g. qemu-loco)');
    }
    const image = imageRepo ? `${imageRepo.replace(/\/+$/, '')}/${imageName}` : imageName ?? '';
    let tag = this.string('emulator.tag', emulator.tag) ?? '';
    if (tag === '') tag = HELM_DEFAULT_TAG;
    const pullPolicy = this.string('emulator.imagePullPolicy', emulator.imagePullPolicy);
    if (pullPolicy !== undefined && pullPolicy !== '' && !PULL_POLICIES.includes(pullPolicy)) {
      this.problems.push(`emulator.imagePullPolicy ${JSON.stringify(pullPolicy)} must be one of ${PULL_POLICIES.join(', ')}`);
    }
    if (tag === HELM_DEFAULT_TAG) {
      this.warn(`emulator.tag is 'latest' (as the chart's files have it): mapped with allowLatestTag: true. Each node then runs ` +
        'whatever was pushed or loaded last; pin a version tag or a digest for anything shared');
    }
    const options = {
      allowLatestTag: tag === HELM_DEFAULT_TAG ? true : undefined,
      pullPolicy: PULL_POLICIES.includes(pullPolicy ?? '') ? constant(`ImagePullPolicy.${PULL_POLICY_MEMBERS[pullPolicy!]}`) : undefined,
    };
    return call('ContainerImage.fromTag', image, tag, definedCount(options) > 0 ? options : undefined);
  }

  /** Values → replicas (the top-level key, as the chart reads it) and the StatefulSet's name (from the release). */
  private replicasAndName(values: HelmValues, emulator: HelmValues): { replicas: number; name?: string } {
    const replicas = values.replicas === undefined || values.replicas === null ? 1 : this.integer('replicas', values.replicas, 1);
    if (emulator.replicas !== undefined) {
      const other = emulator.replicas;
      this.warn(`emulator.replicas (${summarize(other)}) is not read by the chart, which takes the top-level replicas (${replicas}); ignored`);
    }
    const releaseName = this.options.releaseName;
    if (releaseName !== undefined) {
      return { replicas, name: `${`${releaseName}-${HELM_CHART_NAME}`.slice(0, 63).replace(/-+$/, '')}-emulator` };
    }
    this.warn('the chart named the emulator StatefulSet and Service \'<release>-loco-emulator\'; these are \'loco-emulator\'. ' +
      'Give the release name (releaseName, --release) to keep the chart\'s names, which the chart\'s backend looks the emulators up by');
    return { replicas };
  }

  /** Values → disk: the chart's claim (modes A and B) or nothing (an emptyDir, mode C); whether it stays read-only. */
  private disk(mode: StorageModeKind, diskPVC: string, emulator: HelmValues, storage: HelmValues): { disk?: Code; readOnlyDisk: boolean } {
    const storageClass = this.string('storage.class', storage.class) ?? '';
    const diskSize = this.string('storage.diskSize', storage.diskSize);
    const readOnlyDisk = this.boolean('emulator.diskReadOnly', emulator.diskReadOnly) ?? false;
    if (mode === StorageModeKind.EPHEMERAL) {
      const ignored = [storage.class !== undefined && 'storage.class', storage.diskSize !== undefined && 'storage.diskSize'].filter(Boolean);
      if (ignored.length > 0) {
        this.warn(`${ignored.join(' and ')} configure the chart's claim; mode ephemeral has no claim: ignored`);
      }
      if (readOnlyDisk) {
        this.warn('emulator.diskReadOnly: true on an emptyDir: the entrypoint cannot download the snapshot onto a read-only disk');
      }
      return { readOnlyDisk };
    }
    const disk = call('DiskVolume.newClaim', {
      claimName: diskPVC,
      size: nonEmpty(diskSize),
      storageClassName: nonEmpty(storageClass),
      hostPathVolume: this.options.hostPathVolume ? { acknowledgeNodeLocal: true, path: `/tmp/${diskPVC}` } : undefined,
    });
    if (this.options.hostPathVolume) {
      this.warn(`the hostPath PersistentVolume the chart made for claim '${diskPVC}' (node directory /tmp/${diskPVC}) is kept, as asked; ` +
        `it is named '<namespace>-${diskPVC}-pv' instead of '${diskPVC}-pv', since PersistentVolumes are cluster-wide`);
    } else {
      this.warn(`the chart also created a hostPath PersistentVolume '${diskPVC}-pv' (/tmp/${diskPVC} on the node) for claim '${diskPVC}'; ` +
        `not created here: the claim is provisioned by ${storageClass ? `StorageClass '${storageClass}'` : 'the cluster\'s default StorageClass'}. ` +
        'On a single-node cluster without a provisioner, ask for it (hostPathVolume, --host-path-volume)');
    }
    if (readOnlyDisk) {
      this.warn(`emulator.diskReadOnly: true is not kept in mode ${mode}: the seeder writes the disk image onto the claim before the ` +
        'emulator starts, and the entrypoint writes its overlays beside it; the disk is mounted read-write');
    }
    return { disk, readOnlyDisk: false };
  }

  /**
   * Values → the seeder's snapshot (modes B and C): the reference from snapshotRegistry/snapshotTag
   * or their env entries, whichever reached the chart's pod; undefined in mode A.
   */
  private snapshotImage(mode: StorageModeKind, usePrebuiltSnapshot: boolean, emulator: HelmValues,
    typedEnv: { [name: string]: string | undefined }): string | undefined {
    let snapshotRegistry = this.string('emulator.snapshotRegistry', emulator.snapshotRegistry);
    let snapshotTag = this.string('emulator.snapshotTag', emulator.snapshotTag);
    if (usePrebuiltSnapshot) {
      // The chart put its own SNAPSHOT_* entries after the env map's: those won in the pod.
      snapshotRegistry = nonEmpty(snapshotRegistry) ?? typedEnv.SNAPSHOT_REGISTRY;
      snapshotTag = nonEmpty(snapshotTag) ?? typedEnv.SNAPSHOT_TAG;
    } else {
      // Only the env map's entries reached the pod.
      snapshotRegistry = nonEmpty(typedEnv.SNAPSHOT_REGISTRY) ?? snapshotRegistry;
      snapshotTag = nonEmpty(typedEnv.SNAPSHOT_TAG) ?? snapshotTag;
    }
    if (mode === StorageModeKind.PERSISTENT) {
      if (nonEmpty(snapshotRegistry) || nonEmpty(snapshotTag)) {
        this.warn('emulator.snapshotRegistry and snapshotTag are not used in mode persistent (usePrebuiltSnapshot: false): the disk comes ' +
          'from the image built into the emulator image; check that it has one with \'cdk8s-qemu-loco check-image\'');
      }
      return undefined;
    }
    const registry = nonEmpty(snapshotRegistry) ?? DEFAULT_SNAPSHOT_REGISTRY;
    const snapshotTagOrDefault = nonEmpty(snapshotTag) ?? DEFAULT_SNAPSHOT_TAG;
    if (!nonEmpty(snapshotRegistry) || !nonEmpty(snapshotTag)) {
      this.warn(`emulator.snapshotRegistry/snapshotTag not both set: the snapshot is ${registry}:${snapshotTagOrDefault} ` +
        '(the chart\'s defaults)');
    }
    return `${registry}:${snapshotTagOrDefault}`;
  }

  /** Values → the entrypoint's overlay settings: the emulator keys, else their env entries. */
  private overlays(emulator: HelmValues, typedEnv: { [name: string]: string | undefined }): CodeObject | undefined {
    const snapshotDir = nonEmpty(this.string('emulator.snapshotDir', emulator.snapshotDir)) ?? typedEnv.SNAPSHOT_DIR;
    const snapshotMode = nonEmpty(this.string('emulator.snapshotMode', emulator.snapshotMode)) ?? typedEnv.SNAPSHOT_MODE;
    const snapshotReset = this.boolean('emulator.snapshotReset', emulator.snapshotReset)
      ?? (typedEnv.SNAPSHOT_RESET === undefined ? undefined : this.boolean('emulator.env.SNAPSHOT_RESET', typedEnv.SNAPSHOT_RESET));
    if (snapshotMode !== undefined && SNAPSHOT_MODE_MEMBERS[snapshotMode] === undefined) {
      this.problems.push(`emulator.snapshotMode ${JSON.stringify(snapshotMode)} must be one of ${Object.keys(SNAPSHOT_MODE_MEMBERS).join(', ')}`);
    }
    const overlays = {
      snapshotDir,
      snapshotMode: snapshotMode && SNAPSHOT_MODE_MEMBERS[snapshotMode] ? constant(`SnapshotMode.${SNAPSHOT_MODE_MEMBERS[snapshotMode]}`) : undefined,
      snapshotReset,
    };
    return definedCount(overlays) > 0 ? overlays : undefined;
  }

  /** Values → scheduling: replicas sharing the chart's one claim are kept on one node; affinity as written. */
  private scheduling(mode: StorageModeKind, replicas: number, diskPVC: string, emulator: HelmValues) {
    const affinity = this.passThrough('emulator.affinity', emulator.affinity, 'object');
    let sharedClaimOnOneNode: boolean | undefined;
    if (mode !== StorageModeKind.EPHEMERAL && replicas > 1) {
      sharedClaimOnOneNode = true;
      this.warn(`${replicas} replicas share the ReadWriteOnce claim '${diskPVC}', as in the chart, where that only worked with every pod on one ` +
        'node: mapped with sharedClaimOnOneNode: true, which keeps them on one node by a required pod affinity' +
        (affinity ? ' (here replaced by emulator.affinity, which must then keep them together itself)' : ''));
    }
    return { affinity, sharedClaimOnOneNode };
  }

  /** The emulator's options, from what was mapped above and the keys only they read (read in this order, for the order of problems). */
  private emulatorCode(values: HelmValues, emulator: HelmValues, mapped: {
    image: Code; name?: string; replicas: number; env: { [name: string]: string }; ports?: CodeObject;
    devices: { kvm?: Code; dri?: Code; privileged: boolean }; readOnlyDisk: boolean;
    scheduling: { affinity?: Code; sharedClaimOnOneNode?: boolean }; overlays?: CodeObject;
  }): CodeObject {
    const { devices, readOnlyDisk } = mapped;
    return {
      image: mapped.image,
      imagePullSecrets: this.pullSecrets(values.imagePullSecrets),
      name: mapped.name,
      replicas: mapped.replicas,
      env: Object.keys(mapped.env).length > 0 ? mapped.env : undefined,
      ports: mapped.ports,
      probes: this.probes(emulator.probes) as CodeObject | undefined,
      resources: this.resources(emulator.resources),
      devices: devices.kvm || devices.dri ? { kvm: devices.kvm, dri: devices.dri } : undefined,
      security: devices.privileged || readOnlyDisk ? { privileged: devices.privileged || undefined, readOnlyDisk: readOnlyDisk || undefined } : undefined,
      scheduling: this.schedulingCode(emulator, mapped.scheduling),
      overlays: mapped.overlays,
    };
  }

  /** The emulator's scheduling: the shared claim's node, then the chart's nodeSelector, tolerations and affinity. */
  private schedulingCode(emulator: HelmValues, scheduling: { affinity?: Code; sharedClaimOnOneNode?: boolean }): CodeObject | undefined {
    const code = {
      sharedClaimOnOneNode: scheduling.sharedClaimOnOneNode,
      nodeSelector: this.stringMap('emulator.nodeSelector', emulator.nodeSelector),
      tolerations: this.passThrough('emulator.tolerations', emulator.tolerations, 'list'),
      affinity: scheduling.affinity,
    };
    return definedCount(code) > 0 ? code : undefined;
  }

  /** Values → ports; the chart's Service type and its other mounts are not migrated, said once. */
  private ports(emulator: HelmValues): { vnc?: number; health?: number } | undefined {
    const ports = {
      ...(emulator.servicePort !== undefined ? { vnc: this.integer('emulator.servicePort', emulator.servicePort, 1) } : {}),
      ...(emulator.healthPort !== undefined ? { health: this.integer('emulator.healthPort', emulator.healthPort, 1) } : {}),
    };
    if (emulator.serviceType !== undefined) {
      this.warn(`emulator.serviceType ${summarize(emulator.serviceType)} not migrated: the emulators get a headless Service ` +
        '(clusterIP: None) for their stable DNS names; add a Service of your own to expose VNC');
    }
    this.warn('the chart also mounted the art-resources volume at /nfs and set ART_RES_ROOT, GIT_USER_NAME/GIT_USER_EMAIL, ' +
      'VIDEO_DEST_*/AUDIO_DEST_* (the backend) and the health-monitor script in the emulator; those belong to the chart\'s other ' +
      'workloads and are not part of this library (add env entries if your image needs them)');
    return Object.keys(ports).length > 0 ? ports : undefined;
  }

  private namespace(values: HelmValues): string | undefined {
    const namespace = nonEmpty(this.string('namespace', values.namespace));
    if (namespace !== undefined) {
      this.warn(`namespace '${namespace}' is set on every object (the chart used the release namespace, helm -n, before values.namespace)`);
    }
    return namespace;
  }

  /** The keys sorted out by sortKeys, one warning per list. */
  private reportKeys(): void {
    if (this.notMigrated.length > 0) {
      this.warn(`not migrated (not part of this library): ${this.notMigrated.join(', ')}`);
    }
    if (this.unknownKeys.length > 0) {
      this.warn(`not understood, so not migrated: ${this.unknownKeys.join(', ')}; if they matter, set their equivalent by hand (for example as env entries)`);
    }
  }

  /** Sorts the keys of the sections it reads into mapped, not migrated and unknown. */
  private sortKeys(values: HelmValues): void {
    for (const key of Object.keys(values)) {
      if (TOP_LEVEL_KEYS.includes(key)) continue;
      (OTHER_SECTIONS.includes(key) ? this.notMigrated : this.unknownKeys).push(key);
    }
    if (isPlainObject(values.emulator)) {
      for (const key of Object.keys(values.emulator)) {
        if (!EMULATOR_KEYS.includes(key)) this.unknownKeys.push(`emulator.${key}`);
      }
    }
    if (isPlainObject(values.storage)) {
      for (const key of Object.keys(values.storage)) {
        if (key === 'class' || key === 'diskSize') continue;
        (STORAGE_OTHER_KEYS.includes(key) ? this.notMigrated : this.unknownKeys).push(`storage.${key}`);
      }
    }
  }

  /** Splits emulator.env into the free-form entries and those the constructs set themselves. */
  private env(value: unknown): { free: { [name: string]: string }; typed: { [name: string]: string } } {
    const free: { [name: string]: string } = {};
    const typed: { [name: string]: string } = {};
    for (const [name, raw] of Object.entries(this.mapping('emulator.env', value))) {
      // Helm's `quote` renders null as "" and numbers and booleans as their text.
      const text = raw === null || raw === undefined ? '' : this.string(`emulator.env.${name}`, raw) ?? '';
      setOwn(Object.prototype.hasOwnProperty.call(TYPED_ENV, name) ? typed : free, name, text);
    }
    return { free, typed };
  }

  /** One warning per env entry the constructs set themselves, saying what happened to it. */
  private explainDroppedEnv(typed: { [name: string]: string | undefined }, emulator: HelmValues,
    container: { [name: string]: string }, usePrebuiltSnapshot: boolean, mode: StorageModeKind): void {
    for (const [name, value] of Object.entries(typed)) {
      if (value === undefined) continue;
      const constructValue = container[name];
      const sets = constructValue === undefined
        ? `the construct sets no ${name} in mode ${mode}`
        : `the construct sets ${name}=${constructValue}${constructValue === value ? ' (the same value)' : ''}`;
      let why: string;
      switch (name) {
        case 'SOCKET_MASTER_HOST':
          why = `dropped: ${value === '' ? 'auto-computed: ' : ''}${sets}, ordinal 0 through the headless Service, which every instance must agree on`;
          break;
        case 'USE_PREBUILT_SNAPSHOT':
          why = `dropped: it follows the storage mode; ${sets}` +
            (constructValue === value ? '' : ' (emulator.diskPVC and usePrebuiltSnapshot choose the mode)');
          break;
        case 'SNAPSHOT_REGISTRY':
        case 'SNAPSHOT_TAG': {
          const key = name === 'SNAPSHOT_TAG' ? 'snapshotTag' : 'snapshotRegistry';
          if (mode === StorageModeKind.PERSISTENT) {
            why = `dropped: mode persistent downloads no snapshot; ${sets}`;
          } else if (usePrebuiltSnapshot && nonEmpty(this.string(`emulator.${key}`, emulator[key])) !== undefined) {
            why = `dropped: the chart's own ${name} from emulator.${key} came after it and won; ${sets}`;
          } else {
            why = `mapped to the snapshot reference; ${sets}`;
          }
          break;
        }
        case 'SNAPSHOT_DIR':
        case 'SNAPSHOT_MODE':
        case 'SNAPSHOT_RESET': {
          const key = SNAPSHOT_ENV_KEYS[name];
          why = emulator[key] !== undefined && emulator[key] !== ''
            ? `dropped: emulator.${key} is set and wins; ${sets}`
            : `mapped to the typed setting emulator.overlays.${key}; ${sets}`;
          break;
        }
        case 'DISK':
          why = `dropped: the disk image's path is the seeder's; ${sets}`;
          break;
        default:
          why = `dropped: ${sets} (from ${TYPED_ENV[name]})`;
      }
      this.warn(`emulator.env.${name} ${JSON.stringify(value)} ${why}`);
    }
  }

  /** Evaluates the props and builds the chart once, so that values the constructs refuse fail here with the key named. */
  private tryChart(props: CodeObject, mode: StorageModeKind): { chartProps: LegoLocoChartProps; pod: BuiltPod } {
    const app = new App({ outdir: tmpdir() });
    try {
      const chartProps = evaluateCode(props, LIBRARY) as LegoLocoChartProps;
      const chart = new LegoLocoChart(app, `loco-${mode}`, chartProps);
      const statefulSet = (chart.toJson() as { kind: string; spec?: { template?: { spec?: BuiltPod } } }[]).find((object) => object.kind === 'StatefulSet');
      return { chartProps, pod: statefulSet?.spec?.template?.spec ?? {} };
    } catch (error) {
      // cdk8s reports the synth checks as a heading and one indented line per failure.
      const lines = (error as Error).message.split('\n').map((line) => line.trim()).filter(Boolean);
      const reason = lines[0].startsWith('Validation failed') ? lines.slice(1).join('; ') : lines[0];
      throw new HelmValuesError(`${this.source}: the migrated values make no valid chart: ${reason}`);
    }
  }

  /** Says, from the pod the constructs built, what became of the chart's privileges, its emptyDir and the env entries the constructs set. */
  private explainChart(pod: BuiltPod, privileged: boolean, typedEnv: { [name: string]: string | undefined }, emulator: HelmValues,
    usePrebuiltSnapshot: boolean, mode: StorageModeKind): void {
    const container: BuiltContainer = pod.containers?.find((c) => c.name === 'emulator') ?? { name: 'emulator' };
    this.explainSecurity(container, privileged);
    const emptyDir = pod.volumes?.find((volume) => volume.name === 'disk')?.emptyDir;
    if (emptyDir) {
      this.warn(`the chart's emptyDir disk had no size limit; this one has ${emptyDir.sizeLimit ? `a ${emptyDir.sizeLimit} sizeLimit, past which the kubelet evicts the pod` : 'none either'} ` +
        '(set mode: StorageMode.ephemeral({ emptyDir: { sizeLimit } }) to change it)');
    }
    const constructEnv: { [name: string]: string } = {};
    for (const entry of container.env ?? []) {
      if (entry.value !== undefined) constructEnv[entry.name] = entry.value;
    }
    this.explainDroppedEnv(typedEnv, emulator, constructEnv, usePrebuiltSnapshot, mode);
  }

  /** What became of the chart's privileged emulator, as the construct built it. */
  private explainSecurity(container: BuiltContainer, privileged: boolean): void {
    const context = container.securityContext ?? {};
    const added: string[] = context.capabilities?.add ?? [];
    this.warn('the chart ran the emulator privileged with NET_ADMIN and SYS_ADMIN; ' + (context.privileged
      ? `it stays privileged here${privileged ? ' because a hostPath device (kvm/dri) needs it' : ''}`
      : `here it runs unprivileged${added.length > 0 ? ` with ${added.join(', ')}` : ''}${context.capabilities?.drop?.includes('ALL') ? ' (all other capabilities dropped)' : ''}; ` +
        'set emulator.security.privileged: true in the props if your image needs more'));
  }

  /** Values → devices: `kvm`/`dri` enabled, from the node (privileged, as the chart did) or from a device plugin. */
  private devices(emulator: HelmValues): { kvm?: Code; dri?: Code; privileged: boolean } {
    const source = this.options.deviceSource ?? DeviceSource.HOST_PATH;
    const result: { kvm?: Code; dri?: Code; privileged: boolean } = { privileged: false };
    for (const kind of ['kvm', 'dri'] as const) {
      const device = this.mapping(`emulator.${kind}`, emulator[kind]);
      for (const key of Object.keys(device)) {
        if (key !== 'enabled' && key !== 'hostPath') this.unknownKeys.push(`emulator.${kind}.${key}`);
      }
      if (!this.boolean(`emulator.${kind}.enabled`, device.enabled)) continue;
      const hostPath = nonEmpty(this.string(`emulator.${kind}.hostPath`, device.hostPath));
      if (source === DeviceSource.HOST_PATH) {
        result[kind] = call('Device.hostPath', hostPath);
        result.privileged = true;
        this.warn(`emulator.${kind}.enabled: mounted from the node${hostPath ? ` (${hostPath})` : ''} as the chart did, which needs ` +
          'privileged: true; a device plugin (deviceSource DEVICE_PLUGIN, --device-plugin) grants it without privileges');
      } else {
        result[kind] = call('Device.devicePlugin');
        this.warn(`emulator.${kind}.enabled: requested from a device plugin instead of the chart's hostPath${hostPath ? ` ${hostPath}` : ''}: ` +
          'the nodes need the plugin (for KVM, KubeVirt\'s devices.kubevirt.io/kvm), or the pods stay Pending');
      }
    }
    return result;
  }

  private probes(value: unknown): EmulatorProbes | undefined {
    if (value === undefined || value === null) return undefined;
    const probes = this.mapping('emulator.probes', value);
    const result: { [kind: string]: HealthProbeOptions } = {};
    for (const [kind, raw] of Object.entries(probes)) {
      if (!(PROBE_KINDS as readonly string[]).includes(kind)) {
        this.unknownKeys.push(`emulator.probes.${kind}`);
        continue;
      }
      const probe = this.mapping(`emulator.probes.${kind}`, raw);
      const options: { -readonly [K in keyof HealthProbeOptions]: HealthProbeOptions[K] } = {};
      for (const [field, fieldValue] of Object.entries(probe)) {
        const path = `emulator.probes.${kind}.${field}`;
        if (!(PROBE_FIELDS as readonly string[]).includes(field)) {
          this.unknownKeys.push(path);
        } else if (field === 'enabled') {
          options.enabled = this.boolean(path, fieldValue);
        } else if (field === 'path') {
          options.path = this.string(path, fieldValue);
        } else {
          options[field as Exclude<typeof PROBE_FIELDS[number], 'enabled' | 'path'>] = this.integer(path, fieldValue, 0);
        }
      }
      result[kind] = stripUndefined(options) as HealthProbeOptions;
    }
    return Object.keys(result).length > 0 ? result : undefined;
  }

  private resources(value: unknown): { requests: { [k: string]: string }; limits: { [k: string]: string } } | undefined {
    if (value === undefined || value === null) return undefined;
    const resources = this.mapping('emulator.resources', value);
    const result: { requests?: { [k: string]: string }; limits?: { [k: string]: string } } = {};
    for (const [key, raw] of Object.entries(resources)) {
      if (key !== 'requests' && key !== 'limits') {
        this.unknownKeys.push(`emulator.resources.${key}`);
        continue;
      }
      result[key] = this.stringMap(`emulator.resources.${key}`, raw) ?? {};
    }
    // What the chart wrote is all the container got: a missing half stays empty here too (for
    // requests, Kubernetes then takes the limits), rather than taking the library's defaults.
    return { requests: result.requests ?? {}, limits: result.limits ?? {} };
  }

  private pullSecrets(value: unknown): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.problems.push(`imagePullSecrets must be a list of secret names, not ${describeType(value, 'yaml')}`);
      return undefined;
    }
    const names: string[] = [];
    value.forEach((entry, index) => {
      const name = isPlainObject(entry) ? entry.name : entry;
      if (typeof name !== 'string' || name === '') {
        this.problems.push(`imagePullSecrets[${index}] must be a secret name, not ${summarize(entry)}`);
      } else {
        names.push(name);
      }
    });
    return names.length > 0 ? names : undefined;
  }

  private passThrough(path: string, value: unknown, kind: 'list' | 'object'): Code {
    if (value === undefined || value === null) return undefined;
    if (kind === 'list' ? !Array.isArray(value) : !isPlainObject(value)) {
      this.problems.push(`${path} must be a ${kind === 'list' ? 'list' : 'mapping'}, not ${describeType(value, 'yaml')}`);
      return undefined;
    }
    const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
    // Plain data as the values file had it: what the chart passed to the pod spec.
    return empty ? undefined : value as Code;
  }

  private stringMap(path: string, value: unknown): { [key: string]: string } | undefined {
    if (value === undefined || value === null) return undefined;
    const result: { [key: string]: string } = {};
    for (const [key, raw] of Object.entries(this.mapping(path, value))) {
      const text = this.string(`${path}.${key}`, raw);
      if (text !== undefined) setOwn(result, key, text);
    }
    return Object.keys(result).length > 0 ? result : undefined;
  }

  private mapping(path: string, value: unknown): HelmValues {
    if (value === undefined || value === null) return {};
    if (!isPlainObject(value)) {
      this.problems.push(`${path} must be a mapping, not ${describeType(value, 'yaml')}`);
      return {};
    }
    return value;
  }

  private string(path: string, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    // As Helm prints them (fmt's %v): every number is a float64 there, so 1000000 is 1e+06.
    if (typeof value === 'number') return goFormatFloat(value, 64);
    if (typeof value === 'boolean') return String(value);
    this.problems.push(`${path} must be a string, not ${describeType(value, 'yaml')}`);
    return undefined;
  }

  private boolean(path: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    this.problems.push(`${path} must be true or false, not ${summarize(value)}`);
    return undefined;
  }

  private integer(path: string, value: unknown, min: number): number {
    const number = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min) {
      this.problems.push(`${path} must be a whole number of at least ${min}, not ${summarize(value)}`);
      return min;
    }
    return number;
  }

  private warn(message: string): void {
    this.warnings.push(message);
  }
}

/** The parts of the synthesized pod spec the explanations read. */
interface BuiltPod {
  readonly containers?: BuiltContainer[];
  readonly volumes?: { readonly name: string; readonly emptyDir?: { readonly sizeLimit?: string } }[];
}
interface BuiltContainer {
  readonly name: string;
  readonly env?: { readonly name: string; readonly value?: string }[];
  readonly securityContext?: { readonly privileged?: boolean; readonly capabilities?: { readonly add?: string[]; readonly drop?: string[] } };
}

/** The factories and constants the migrated props use, under the names the package exports them by. */
const LIBRARY = { ContainerImage, Device, DiskVolume, ImagePullPolicy, SeedSource, SnapshotMode, StorageMode };
/** The package the printed code imports each name from, when not the library's root. */
const IMPORTED_FROM: { [name: string]: string } = { App: 'cdk8s', ImagePullPolicy: 'cdk8s-plus-28' };
const PACKAGE = 'cdk8s-qemu-loco';

/**
 * Values → the storage mode's options: the claim (A and B); the snapshot when it is not the
 * default, as the hybrid seeder's first source (with the built-in image after it, as the
 * default sources are) or as the ephemeral mode's snapshot.
 */
function modeCode(mode: StorageModeKind, disk: Code | undefined, snapshotImage: string | undefined): Code {
  const snapshot = snapshotImage === undefined || snapshotImage === DEFAULT_SNAPSHOT_IMAGE ? undefined
    : call('ContainerImage.fromReference', snapshotImage, snapshotImage.endsWith(`:${HELM_DEFAULT_TAG}`) ? { allowLatestTag: true } : undefined);
  switch (mode) {
    case StorageModeKind.PERSISTENT:
      return call('StorageMode.persistent', { volume: disk });
    case StorageModeKind.HYBRID:
      return call('StorageMode.hybrid', { volume: disk, seeder: snapshot && { sources: [call('SeedSource.snapshot', snapshot), call('SeedSource.builtin')] } });
    default:
      return call('StorageMode.ephemeral', snapshot && { snapshotImage: snapshot });
  }
}

/** A cdk8s app that builds the chart from the props: their code with the imports it needs. */
function typescriptApp(chartId: string, props: CodeObject): string {
  const byPackage = new Map<string, string[]>();
  for (const name of ['App', 'LegoLocoChart', ...importsOf(props)].sort()) {
    const from = IMPORTED_FROM[name] ?? PACKAGE;
    byPackage.set(from, [...byPackage.get(from) ?? [], name]);
  }
  const imports = [...byPackage.keys()].sort().map((from) => `import { ${byPackage.get(from)!.join(', ')} } from '${from}';`);
  return [...imports, '', 'const app = new App();', `new LegoLocoChart(app, ${printCode(chartId)}, ${printCode(props)});`, 'app.synth();', ''].join('\n');
}

/** How many properties are set: an object with none is left out. */
function definedCount(value: object): number {
  return Object.values(value).filter((v) => v !== undefined).length;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isPlainObject(value: unknown): value is HelmValues {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

