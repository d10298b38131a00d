/**
 * pod-runner: runs the init containers of a synthesized pod template for real, on this machine,
 * without a cluster: the command and args exactly as the manifest gives them, in order, with the
 * container's env, volumes at their real mount paths, its user and the pod's fsGroup.
 *
 * Each container runs in a private mount namespace (`unshare --mount`, as root) whose root is a
 * fresh tmpfs chrooted into:
 * - `/bin/sh` is the shell under test (busybox 1.35 static, or dash), bound over it;
 * - PATH is a directory of busybox applet symlinks (`/.harness/bin`) plus a directory holding only
 *   `qemu-img` (`/.harness/qemu`), so the script's commands are busybox's, not coreutils';
 *   the host's libraries (`/usr/lib`, read-only) let qemu-img and dash load;
 * - every volume is bound at its mountPath: ConfigMap volumes materialised from the synthesized
 *   ConfigMap (with defaultMode), emptyDir and PVC volumes from host directories the caller
 *   gives, and the image's own files (e.g. `/opt/builtin-images`) as the caller maps them;
 * - the root filesystem is read-only when the container asks for `readOnlyRootFilesystem`;
 * - the process runs through `setpriv` as the container's runAsUser (gid runAsGroup, else 0, as
 *   a runtime does for an image without a user entry), with the pod's fsGroup as supplementary
 *   group, capabilities dropped as the securityContext says, no_new_privs when privilege
 *   escalation is off. Volumes are prepared for fsGroup as the kubelet does (group-owned,
 *   g+rwxs dirs, g+rw files; with fsGroupChangePolicy OnRootMismatch only when the root differs).
 *
 * Mounts live only in the namespace, so they vanish with its last process; temporary
 * directories are removed when the pod ends. Each container is bounded by a timeout and runs in
 * its own process group, which `kill()` kills whole, as a container kill does.
 *
 * Usage:
 *   const result = await runPod({ objects: Testing.synth(chart), shell: 'dash',
 *     volumes: { disk: volumeDir }, images: { 'qemu-loco:v1': { files: { '/opt/builtin-images': dir } } } });
 *   expect(result.exitCode).toBe(0);
 *
 *   const pod = startPod({ ... });   // in the background
 *   await waitFor(() => existsSync(...));
 *   pod.kill();                      // SIGKILL to the whole process group
 *   const killed = await pod.done;
 *
 *   // The kubelet's restart of one init container: with `restartFailed`, a container that fails
 *   // or is killed (pod.signal('SIGKILL'), an OOM kill) runs again alone, in the same pod (same
 *   // volumes, same uid); the init containers that completed before it do not run again.
 *   const pod = startPod({ ..., restartFailed: 1 });
 *   pod.signal('SIGKILL');
 *   (await pod.done).attempts('seed-disk');   // both runs, restartCount 0 and 1
 *
 * Needs root, util-linux (unshare, setpriv, mount), coreutils chroot, busybox-static, dash and
 * qemu-utils, and skopeo for images that ship it (scripts/install-test-deps.sh installs them).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A synthesized Kubernetes object, as `Testing.synth(chart)` returns it. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name?: string; [key: string]: any }; [key: string]: any };

/** The shell bound on `/bin/sh`. */
export type Shell = 'busybox' | 'dash';

/** The binaries the shells come from. */
export const SHELL_BINARIES: Record<Shell, string> = { busybox: '/bin/busybox', dash: '/usr/bin/dash' };

/** Both shells the scripts must run under: for `describe.each`. */
export const SHELLS: Shell[] = ['busybox', 'dash'];

/** What a container image holds, as far as a test cares. */
export interface ImageContents {
  /**
   * Host files or directories bound read-only into the container: container path to host path
   * (e.g. `{ '/opt/builtin-images': dir }` for the emulator image's built-in disk). Make them
   * readable by the container's user, as an image build would.
   * @default - none
   */
  readonly files?: Record<string, string>;
  /**
   * Symbolic links in the image's root: container path to link target, created as they are
   * (a bind mount would follow them on the host), so that they resolve inside the container.
   * @default - none
   */
  readonly symlinks?: Record<string, string>;
  /**
   * A `FROM scratch` image: no `/bin/sh`, no applets, no qemu-img; only `files`.
   * @default false
   */
  readonly scratch?: boolean;
  /**
   * Whether `qemu-img` is on the image's PATH.
   * @default true (unless `scratch`)
   */
  readonly qemuImg?: boolean;
  /**
   * Whether `skopeo` is on the image's PATH (the emulator image ships it for the registry-client
   * method), with what it needs from the image: the host's `/etc/containers` (policy.json,
   * registries.conf) and CA certificates (`/etc/ssl/certs`), read-only, unless
   * `containersConfig` is false.
   * @default false
   */
  readonly skopeo?: boolean;
  /**
   * With `skopeo`: whether the image has `/etc/containers` (skopeo's signature policy).
   * @default true
   */
  readonly containersConfig?: boolean;
}

/** The values the downward API gives (`valueFrom.fieldRef`). */
export interface PodFields {
  /** `metadata.name` @default '<workload name>-0' */
  readonly name?: string;
  /** `metadata.namespace` @default 'default' */
  readonly namespace?: string;
  /** `metadata.uid` @default - a random UUID per pod run */
  readonly uid?: string;
  /** `status.podIP` @default '127.0.0.1' */
  readonly podIP?: string;
  /** `status.hostIP` @default '127.0.0.1' */
  readonly hostIP?: string;
  /** `spec.nodeName` @default 'node-1' */
  readonly nodeName?: string;
}

/** What to run and how. */
export interface PodRunOptions {
  /** The objects synthesized from a chart (`Testing.synth(chart)`). */
  readonly objects: readonly K8sObject[];
  /**
   * Name of the StatefulSet, Job, Deployment or DaemonSet whose pod template runs.
   * @default - the one workload among the objects (an error when there are several)
   */
  readonly workload?: string;
  /** The shell bound on `/bin/sh`. */
  readonly shell: Shell;
  /**
   * Host directories backing the pod's volumes, by volume name: required for emptyDir and
   * persistentVolumeClaim volumes (use `mountTmpfs` for a small volume); also overrides any
   * other volume.
   * @default - none
   */
  readonly volumes?: Record<string, string>;
  /**
   * What each image contains, by the image reference exactly as the manifest writes it. An
   * image not listed has only the shell, the applets and qemu-img.
   * @default - none
   */
  readonly images?: Record<string, ImageContents>;
  /**
   * Downward API values.
   * @default - see PodFields
   */
  readonly pod?: PodFields;
  /**
   * Names of the init containers to run, in manifest order.
   * @default - all of them
   */
  readonly initContainers?: readonly string[];
  /**
   * Env set after the manifest's, in every container: for knobs the manifest leaves at their
   * defaults. Prefer configuring the construct: what ships is the manifest.
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * Per-container timeout; the container's process group is killed when it passes.
   * @default 60000
   */
  readonly timeoutMs?: number;
  /**
   * How many times a failed or killed init container is restarted, as the kubelet does with
   * restartPolicy Always or OnFailure: that container alone runs again in the same pod, and the
   * init containers that completed before it are not re-run. No back-off delay. A container that
   * times out, and a pod ended with `kill()`, are not restarted.
   * @default 0
   */
  readonly restartFailed?: number;
  /**
   * With `restartFailed`: called with a failed or killed container's result before it is
   * restarted, the volumes as it left them (to check what a kill left behind).
   * @default - none
   */
  readonly beforeRestart?: (failed: ContainerResult) => void;
}

/** How one container ended. */
export interface ContainerResult {
  readonly name: string;
  /** Exit code, or null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
  /** Which run of this container it was: 0 for the first, 1 for its first restart... */
  readonly restartCount: number;
}

/** How the pod's init containers ended. */
export interface PodResult {
  /** The containers that ran, in order; the run stops at the first one that fails. */
  readonly containers: ContainerResult[];
  /** Exit code of the last container that ran (null when killed). */
  readonly exitCode: number | null;
  /** Whether the pod was killed through `kill()`. */
  readonly killed: boolean;
  /** Everything the containers printed (stdout then stderr, container by container). */
  readonly output: string;
  /** The result of one container by name (its last run when it was restarted). */
  container(name: string): ContainerResult;
  /** Every run of one container, in order (more than one when it was restarted). */
  attempts(name: string): ContainerResult[];
}

/** A process of the running container. */
export interface ContainerProcess {
  readonly pid: number;
  readonly ppid: number;
  /** The command name (`comm`). */
  readonly comm: string;
}

/** A pod started in the background. */
export interface RunningPod {
  /** Resolves when the last container ended (or the pod was killed). */
  readonly done: Promise<PodResult>;
  /** The name of the container running now, if any. */
  readonly currentContainer: string | undefined;
  /** Kills the running container's whole process group (default SIGKILL) and runs no more. */
  kill(signal?: NodeJS.Signals): void;
  /** Sends a signal to the running container's process group without ending the pod run. */
  signal(signal: NodeJS.Signals): void;
  /** The processes of the running container (its process group). */
  processes(): ContainerProcess[];
}

const HARNESS_DIR = '/.harness';
const APPLET_DIR = `${HARNESS_DIR}/bin`;
const QEMU_DIR = `${HARNESS_DIR}/qemu`;
const SKOPEO_DIR = `${HARNESS_DIR}/skopeo`;
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom'];
/** The host's QEMU module directories (/usr/lib/<arch>/qemu). */
const QEMU_MODULE_DIRS = fs.readdirSync('/usr/lib').map((entry) => path.join('/usr/lib', entry, 'qemu'))
  .filter((dir) => fs.existsSync(path.join(dir)) && fs.statSync(dir).isDirectory() && fs.readdirSync(dir).some((file) => file.startsWith('block-')));

/** Runs the pod's init containers in order and resolves with how they ended. */
export function runPod(options: PodRunOptions): Promise<PodResult> {
  return startPod(options).done;
}

/** Starts the pod's init containers in the background. */
export function startPod(options: PodRunOptions): RunningPod {
  const template = podTemplate(options.objects, options.workload);
  const spec = template.spec ?? {};
  const workloadName = template.workloadName;
  const fields: Required<PodFields> = {
    name: options.pod?.name ?? `${workloadName}-0`,
    namespace: options.pod?.namespace ?? 'default',
    uid: options.pod?.uid ?? randomUUID(),
    podIP: options.pod?.podIP ?? '127.0.0.1',
    hostIP: options.pod?.hostIP ?? '127.0.0.1',
    nodeName: options.pod?.nodeName ?? 'node-1',
  };
  const all: any[] = spec.initContainers ?? [];
  const wanted = options.initContainers;
  if (wanted) {
    for (const name of wanted) {
      if (!all.some((container) => container.name === name)) {
        throw new Error(`pod-runner: no init container '${name}' in ${workloadName} (it has: ${all.map((c) => c.name).join(', ') || 'none'})`);
      }
    }
  }
  const containers = wanted ? all.filter((container) => wanted.includes(container.name)) : all;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pod-runner-'));
  const fsGroup: number | undefined = spec.securityContext?.fsGroup;

  let child: ChildProcess | undefined;
  let current: string | undefined;
  let killed = false;

  const run = async (): Promise<PodResult> => {
    const results: ContainerResult[] = [];
    try {
      const volumes = resolveVolumes(options, spec, workDir, fsGroup);
      prepareForFsGroup(spec, volumes);
      for (const container of containers) {
        let result: ContainerResult | undefined;
        for (let restartCount = 0; !killed; restartCount++) {
          current = container.name;
          result = await runContainer(container, {
            options, spec, fields, volumes, workDir, fsGroup, restartCount,
            started: (process) => { child = process; },
          });
          child = undefined;
          results.push(result);
          const restart = result.exitCode !== 0 && !result.timedOut && !killed && restartCount < (options.restartFailed ?? 0);
          if (!restart) break;
          options.beforeRestart?.(result);
        }
        if (!result || result.exitCode !== 0) break;
      }
    } finally {
      current = undefined;
      fs.rmSync(workDir, { recursive: true, force: true });
    }
    const last = results[results.length - 1];
    return {
      containers: results,
      exitCode: last ? last.exitCode : 0,
      killed,
      output: results.map((result) => result.stdout + result.stderr).join(''),
      container(name: string) {
        const found = results.filter((result) => result.name === name).pop();
        if (!found) throw new Error(`pod-runner: container '${name}' did not run (ran: ${results.map((r) => r.name).join(', ') || 'none'})`);
        return found;
      },
      attempts(name: string) {
        return results.filter((result) => result.name === name);
      },
    };
  };

  const done = run();
  return {
    done,
    get currentContainer() { return current; },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      killed = true;
      signalGroup(child, signal);
    },
    signal(signal: NodeJS.Signals) {
      signalGroup(child, signal);
    },
    processes() {
      return child?.pid ? processGroup(child.pid) : [];
    },
  };
}

function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** The processes whose process group is pgid, from /proc. */
export function processGroup(pgid: number): ContainerProcess[] {
  const found: ContainerProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const rest = stat.slice(close + 2).split(' ');
    // rest: state ppid pgrp ...
    if (Number(rest[2]) === pgid) {
      found.push({ pid: Number(entry), ppid: Number(rest[1]), comm });
    }
  }
  return found;
}

interface PodTemplate { workloadName: string; spec: any }

function podTemplate(objects: readonly K8sObject[], name?: string): PodTemplate {
  const kinds = ['StatefulSet', 'Job', 'Deployment', 'DaemonSet', 'Pod'];
  const workloads = objects.filter((object) => kinds.includes(object.kind) && (name === undefined || object.metadata.name === name));
  if (workloads.length !== 1) {
    const all = objects.filter((object) => kinds.includes(object.kind)).map((object) => `${object.kind}/${object.metadata.name}`);
    throw new Error(`pod-runner: expected one workload${name ? ` named '${name}'` : ''}, found ${workloads.length} (workloads: ${all.join(', ') || 'none'})`);
  }
  const workload = workloads[0];
  const spec = workload.kind === 'Pod' ? workload.spec : workload.spec?.template?.spec;
  // A StatefulSet's volumeClaimTemplates become pod volumes named after the template, backed by
  // the claim `<template>-<statefulset>-<ordinal>` (the caller maps the volume name to a dir).
  const templates: any[] = workload.kind === 'StatefulSet' ? workload.spec?.volumeClaimTemplates ?? [] : [];
  const claimVolumes = templates.map((template) => ({
    name: template.metadata.name,
    persistentVolumeClaim: { claimName: `${template.metadata.name}-${workload.metadata.name}` },
  }));
  let runnable = claimVolumes.length > 0 ? { ...spec, volumes: [...(spec.volumes ?? []), ...claimVolumes] } : spec;
  // A Job's containers run to completion after its init containers: the runner runs them in turn.
  if (workload.kind === 'Job') {
    runnable = { ...runnable, initContainers: [...(runnable.initContainers ?? []), ...(runnable.containers ?? [])] };
  }
  return { workloadName: workload.metadata.name ?? 'pod', spec: runnable };
}

interface VolumeSource { hostPath: string; isConfigMap: boolean; isPodData: boolean }

function resolveVolumes(options: PodRunOptions, spec: any, workDir: string, fsGroup?: number): Map<string, VolumeSource> {
  const volumes = new Map<string, VolumeSource>();
  for (const volume of spec.volumes ?? []) {
    const given = options.volumes?.[volume.name];
    if (given !== undefined) {
      if (!fs.existsSync(given)) throw new Error(`pod-runner: volume '${volume.name}': host path ${given} does not exist`);
      volumes.set(volume.name, { hostPath: given, isConfigMap: false, isPodData: Boolean(volume.emptyDir || volume.persistentVolumeClaim) });
    } else if (volume.configMap) {
      volumes.set(volume.name, { hostPath: materialiseConfigMap(options.objects, volume, workDir, fsGroup), isConfigMap: true, isPodData: false });
    }
    // Other volumes are only an error if a container that runs mounts them (see runContainer).
  }
  return volumes;
}

function materialiseConfigMap(objects: readonly K8sObject[], volume: any, workDir: string, fsGroup?: number): string {
  const name = volume.configMap.name;
  const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name);
  if (!configMap) throw new Error(`pod-runner: volume '${volume.name}' names ConfigMap '${name}', which the chart does not synthesize`);
  const dir = fs.mkdtempSync(path.join(workDir, `configmap-${volume.name}-`));
  fs.chmodSync(dir, 0o755);
  const defaultMode: number = volume.configMap.defaultMode ?? 0o644;
  const data: Record<string, string> = configMap.data ?? {};
  const items: { key: string; path: string; mode?: number }[] = volume.configMap.items
    ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of items) {
    if (!(item.key in data)) throw new Error(`pod-runner: ConfigMap '${name}' has no key '${item.key}'`);
    const file = path.join(dir, item.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data[item.key]);
    fs.chmodSync(file, item.mode ?? defaultMode);
    // The kubelet gives ConfigMap files the pod's fsGroup too.
    if (fsGroup !== undefined) fs.chownSync(file, 0, fsGroup);
  }
  return dir;
}

/**
 * Prepares emptyDir and PVC volumes for the pod's fsGroup the way the kubelet does
 * (SetVolumeOwnership): every file and directory gets the group; files g+rw, directories
 * g+rwxs. With fsGroupChangePolicy OnRootMismatch nothing changes when the volume's root already
 * has the group and those permissions.
 */
function prepareForFsGroup(spec: any, volumes: Map<string, VolumeSource>): void {
  const fsGroup: number | undefined = spec.securityContext?.fsGroup;
  if (fsGroup === undefined) return;
  const onRootMismatch = spec.securityContext?.fsGroupChangePolicy === 'OnRootMismatch';
  for (const volume of volumes.values()) {
    if (!volume.isPodData) continue;
    const root = fs.statSync(volume.hostPath);
    const rootMatches = root.gid === fsGroup && (root.mode & 0o2070) === 0o2070;
    if (onRootMismatch && rootMatches) continue;
    const walk = (file: string) => {
      const stat = fs.lstatSync(file);
      if (stat.isSymbolicLink()) {
        fs.lchownSync(file, stat.uid, fsGroup);
        return;
      }
      fs.chownSync(file, stat.uid, fsGroup);
      if (stat.isDirectory()) {
        fs.chmodSync(file, (stat.mode & 0o7777) | 0o2770);
        for (const entry of fs.readdirSync(file)) walk(path.join(file, entry));
      } else {
        fs.chmodSync(file, (stat.mode & 0o7777) | 0o660);
      }
    };
    walk(volume.hostPath);
  }
}

interface ContainerContext {
  options: PodRunOptions;
  spec: any;
  fields: Required<PodFields>;
  volumes: Map<string, VolumeSource>;
  workDir: string;
  fsGroup?: number;
  restartCount: number;
  started: (child: ChildProcess) => void;
}

/**
 * Resolves the container's env as the kubelet does (makeEnvironmentVariables): values with their
 * $(VAR) references expanded against the entries declared before them, downward API values
 * taken as they are. `declared` receives the declared entries: what command and args expand
 * against. PATH and HOSTNAME come from the image and the runtime, so no reference sees them.
 */
function containerEnv(container: any, context: ContainerContext, imagePath: string, declared: Map<string, string>): Map<string, string> {
  const env = new Map<string, string>();
  env.set('PATH', imagePath);
  env.set('HOSTNAME', context.fields.name);
  const set = (name: string, value: string) => {
    env.set(name, value);
    declared.set(name, value);
  };
  const fieldValues: Record<string, string> = {
    'metadata.name': context.fields.name,
    'metadata.namespace': context.fields.namespace,
    'metadata.uid': context.fields.uid,
    'status.podIP': context.fields.podIP,
    'status.hostIP': context.fields.hostIP,
    'spec.nodeName': context.fields.nodeName,
  };
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      set(entry.name, expandReferences(entry.value, declared));
    } else if (entry.valueFrom?.fieldRef) {
      const fieldPath = entry.valueFrom.fieldRef.fieldPath;
      if (!(fieldPath in fieldValues)) throw new Error(`pod-runner: env ${entry.name}: fieldRef ${fieldPath} is not supported (supported: ${Object.keys(fieldValues).join(', ')})`);
      set(entry.name, fieldValues[fieldPath]);
    } else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      const configMap = context.options.objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === ref.name);
      const value = configMap?.data?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`pod-runner: env ${entry.name}: ConfigMap ${ref.name} key ${ref.key} not synthesized`);
      if (value !== undefined) set(entry.name, value);
    } else {
      throw new Error(`pod-runner: env ${entry.name}: only value, fieldRef and configMapKeyRef are supported`);
    }
  }
  for (const [name, value] of Object.entries(context.options.env ?? {})) env.set(name, value);
  return env;
}

/**
 * The kubelet's `$(VAR)` expansion of env values, command and args, rule for rule as
 * k8s.io/kubernetes third_party/forked/golang/expansion/expand.go (Expand, tryReadVariableName):
 * `$$` is one `$`; `$(` up to the first `)` names a variable (any text, even `$` or `(`), replaced
 * by its value when `env` has it and kept as written otherwise; a `$(` with no `)` after it, a `$`
 * before any other character and a `$` at the very end stay as they are.
 */
export function expandReferences(text: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < text.length; cursor++) {
    if (text[cursor] !== '$' || cursor + 1 >= text.length) continue;
    out += text.slice(checkpoint, cursor);
    const next = text[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = text.indexOf(')', cursor + 2);
      if (close === -1) {
        out += '$(';
      } else {
        const name = text.slice(cursor + 2, close);
        out += env.has(name) ? env.get(name)! : `$(${name})`;
        advance = close - cursor;
      }
    } else {
      // The operator and the one character after it (a whole code point, as the Go code reads a rune).
      const codePoint = String.fromCodePoint(text.codePointAt(cursor + 1)!);
      out += `$${codePoint}`;
      advance = codePoint.length;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + text.slice(checkpoint);
}

/** Single-quotes a word for sh. */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

let appletDir: string | undefined;

/**
 * A host directory of busybox applet symlinks pointing at `/.harness/busybox` (where the
 * namespace binds busybox). Its contents depend only on the busybox binary, so it is made once
 * per machine under a name derived from that binary and shared by every test process (a jest
 * worker ends without running exit handlers, so per-process directories would pile up in /tmp).
 */
function busyboxAppletDir(): string {
  if (appletDir && fs.existsSync(appletDir)) return appletDir;
  const binary = fs.statSync(SHELL_BINARIES.busybox);
  const dir = path.join(os.tmpdir(), `pod-runner-applets-${binary.size}-${Math.floor(binary.mtimeMs)}`);
  if (!fs.existsSync(dir)) {
    // Built under a private name and renamed into place, so a concurrent process never sees it half made.
    const building = fs.mkdtempSync(`${dir}.building-`);
    fs.chmodSync(building, 0o755);
    const applets = execFileSync(SHELL_BINARIES.busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) {
      fs.symlinkSync(`${HARNESS_DIR}/busybox`, path.join(building, applet));
    }
    try {
      fs.renameSync(building, dir);
    } catch {
      // Another process got there first: use theirs.
      fs.rmSync(building, { recursive: true, force: true });
    }
  }
  appletDir = dir;
  return dir;
}

/** An fstab field, with the octal escapes libmount reads (space, tab, newline, backslash). */
function fstabField(value: string): string {
  return value.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The mounts of a container's root, set up with as few processes as possible (the setup runs for
 * every container, and each exec costs a few ms of CPU): the root tmpfs, one `mkdir -p` for the
 * skeleton, the file mount points made by the shell itself, one `ln -s` for /lib and /lib64, then
 * every bind and proc from one generated fstab in ONE `mount --all`, in order (util-linux does
 * each read-only remount itself; X-mount.mkdir makes a directory mount point when its turn comes,
 * so a mount point inside an earlier bind is made inside it, as mkdir after that bind would).
 */
class RootSetup {
  private readonly dirs = new Set<string>(['/bin', '/etc', '/dev', '/tmp', '/proc', HARNESS_DIR]);
  private readonly files: string[] = [];
  private readonly symlinks: [string, string][] = [];
  private readonly fstab: string[] = [];

  /** `root`: the host directory the container's root tmpfs is mounted on. */
  constructor(private readonly root: string) {}

  /** Binds a host file or directory at `target` (a path in the container). */
  bind(source: string, target: string, options: { readOnly: boolean; directory?: boolean }): void {
    const flags = ['bind', ...(options.readOnly ? ['ro'] : []), ...(options.directory ? ['X-mount.mkdir'] : [])];
    if (!options.directory) {
      this.dirs.add(path.posix.dirname(target));
      this.files.push(target);
    }
    this.fstab.push(`${fstabField(source)} ${fstabField(this.root + target)} none ${flags.join(',')} 0 0`);
  }

  /** Mounts a proc at `target` (in the skeleton). */
  proc(target: string): void {
    this.fstab.push(`proc ${fstabField(this.root + target)} proc defaults 0 0`);
  }

  /** A symbolic link in the root, made as it is (not through a bind, which would follow it on the host). */
  symlink(target: string, linkPath: string): void {
    this.dirs.add(path.posix.dirname(linkPath));
    this.symlinks.push([target, linkPath]);
  }

  /** The shell lines that set up `root` (as $R), ending with the root remounted read-only if asked. */
  script(fstabFile: string, readOnlyRoot: boolean): string[] {
    fs.writeFileSync(fstabFile, this.fstab.join('\n') + '\n');
    const inRoot = (p: string) => `"$R"${q(p)}`;
    return [
      'set -e',
      `R=${q(this.root)}`,
      // Any failing setup step ends the run with 125 and this marker, told apart from the container's own exit.
      'trap \'status=$?; if [ $status -ne 0 ]; then echo "pod-runner setup failed (status $status)" >&2; exit 125; fi\' EXIT',
      'mount -t tmpfs -o mode=0755,size=4m pod-root "$R"',
      `mkdir -p ${[...this.dirs].map(inRoot).join(' ')}`,
      'ln -s usr/lib usr/lib64 "$R"',
      ...this.symlinks.map(([target, link]) => `ln -s ${q(target)} ${inRoot(link)}`),
      ...this.files.map((file) => `[ -e ${inRoot(file)} ] || : > ${inRoot(file)}`),
      // -n: nothing written to the host's /run/mount/utab.
      `mount --all --no-mtab --fstab ${q(fstabFile)}`,
      ...(readOnlyRoot ? ['mount -o remount,ro "$R"'] : []),
      'trap - EXIT',
    ];
  }
}

function runContainer(container: any, context: ContainerContext): Promise<ContainerResult> {
  const { options, spec } = context;
  if (container.workingDir) throw new Error(`pod-runner: container ${container.name}: workingDir is not supported`);
  const image: ImageContents = options.images?.[container.image] ?? {};
  const scratch = image.scratch ?? false;
  const qemuImg = !scratch && (image.qemuImg ?? true);
  const skopeo = !scratch && (image.skopeo ?? false);
  const imagePath = scratch ? '' : [APPLET_DIR, ...(qemuImg ? [QEMU_DIR] : []), ...(skopeo ? [SKOPEO_DIR] : [])].join(':');
  const declared = new Map<string, string>();
  const env = containerEnv(container, context, imagePath, declared);
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])].map((word) => expandReferences(word, declared));
  if (argv.length === 0) throw new Error(`pod-runner: container ${container.name} has no command: the harness cannot run an image's default entrypoint`);

  const security = container.securityContext ?? {};
  const podSecurity = spec.securityContext ?? {};
  const uid: number = security.runAsUser ?? podSecurity.runAsUser ?? 0;
  const gid: number = security.runAsGroup ?? podSecurity.runAsGroup ?? 0;
  if (security.runAsNonRoot && uid === 0) {
    throw new Error(`pod-runner: container ${container.name}: runAsNonRoot with user 0: the kubelet would refuse to start it`);
  }
  const groups = [...(context.fsGroup !== undefined ? [context.fsGroup] : []), ...(podSecurity.supplementalGroups ?? [])];
  const dropAll = (security.capabilities?.drop ?? []).includes('ALL');
  const setpriv = [
    `--reuid=${uid}`, `--regid=${gid}`,
    groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups',
    ...(dropAll ? ['--bounding-set=-all', '--inh-caps=-all'] : []),
    ...(security.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
  ];

  const root = path.join(context.workDir, `root-${container.name}-${context.restartCount}`);
  fs.mkdirSync(root);
  const setup = new RootSetup(root);
  setup.bind('/usr/lib', '/usr/lib', { readOnly: true, directory: true });
  setup.bind('/usr/lib64', '/usr/lib64', { readOnly: true, directory: true });
  setup.bind('/etc/ld.so.cache', '/etc/ld.so.cache', { readOnly: true });
  for (const device of DEVICES) setup.bind(`/dev/${device}`, `/dev/${device}`, { readOnly: false });
  setup.proc('/proc');
  setup.bind(SHELL_BINARIES.busybox, `${HARNESS_DIR}/busybox`, { readOnly: true });
  setup.bind('/usr/bin/setpriv', `${HARNESS_DIR}/setpriv`, { readOnly: true });
  setup.bind(busyboxAppletDir(), APPLET_DIR, { readOnly: true, directory: true });
  if (!scratch) setup.bind(SHELL_BINARIES[options.shell], '/bin/sh', { readOnly: true });
  if (qemuImg) {
    setup.bind('/usr/bin/qemu-img', `${QEMU_DIR}/qemu-img`, { readOnly: true });
    // QEMU is relocatable: it loads its block modules (qemu-block-extra's curl driver...) from
    // ../lib/<arch>/qemu beside its binary, as /usr/bin/qemu-img finds /usr/lib/<arch>/qemu in a
    // real image. Without this, qemu-img here would lack drivers the emulator image has.
    for (const moduleDir of QEMU_MODULE_DIRS) {
      setup.bind(moduleDir, HARNESS_DIR + moduleDir.slice('/usr'.length), { readOnly: true, directory: true });
    }
  }
  if (skopeo) {
    setup.bind('/usr/bin/skopeo', `${SKOPEO_DIR}/skopeo`, { readOnly: true });
    const config = (image.containersConfig ?? true) ? ['/etc/containers', '/etc/ssl/certs'] : ['/etc/ssl/certs'];
    for (const dir of config.filter((d) => fs.existsSync(d))) setup.bind(dir, dir, { readOnly: true, directory: true });
  }
  const mountInto = (hostPath: string, mountPath: string, readOnly: boolean) => {
    setup.bind(hostPath, mountPath, { readOnly, directory: fs.statSync(hostPath).isDirectory() });
  };
  for (const [mountPath, hostPath] of Object.entries(image.files ?? {})) {
    if (!fs.existsSync(hostPath)) throw new Error(`pod-runner: image ${container.image}: ${hostPath} (for ${mountPath}) does not exist`);
    mountInto(hostPath, mountPath, true);
  }
  for (const [linkPath, target] of Object.entries(image.symlinks ?? {})) setup.symlink(target, linkPath);
  for (const mount of container.volumeMounts ?? []) {
    const volume = context.volumes.get(mount.name);
    if (!volume) {
      const declared = (spec.volumes ?? []).find((v: any) => v.name === mount.name);
      throw new Error(`pod-runner: container ${container.name} mounts volume '${mount.name}' (${declared ? Object.keys(declared).filter((k) => k !== 'name').join(', ') : 'not declared'}): give it a host directory in options.volumes`);
    }
    const source = mount.subPath ? path.join(volume.hostPath, mount.subPath) : volume.hostPath;
    mountInto(source, mount.mountPath, Boolean(mount.readOnly) || volume.isConfigMap);
  }
  const fstab = path.join(context.workDir, `fstab-${container.name}-${context.restartCount}`);
  const lines = setup.script(fstab, Boolean(security.readOnlyRootFilesystem));
  const envWords = [...env.entries()].map(([name, value]) => q(`${name}=${value}`));
  lines.push(`exec chroot "$R" ${HARNESS_DIR}/setpriv ${setpriv.join(' ')} -- ${APPLET_DIR}/env -i ${envWords.join(' ')} ${argv.map(q).join(' ')}`);

  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', lines.join('\n')], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    context.started(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (chunk) => { stdout += chunk; });
    child.stderr!.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 125 && stderr.includes('pod-runner setup failed')) {
        reject(new Error(`pod-runner: could not set up container ${container.name}: ${stderr.trim()}`));
        return;
      }
      resolve({ name: container.name, exitCode: code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut, restartCount: context.restartCount });
    });
  });
}

/** A tmpfs of a given size mounted on a fresh host directory: a small volume. */
export interface TmpfsVolume {
  readonly path: string;
  /** Unmounts it and removes the directory. */
  dispose(): void;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a new temporary directory (in the host's namespace), with at
 * most `inodes` inodes (the root directory counts) when given.
 */
export function mountTmpfs(sizeBytes: number, options: { inodes?: number } = {}): TmpfsVolume {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pod-runner-tmpfs-'));
  const inodes = options.inodes !== undefined ? `,nr_inodes=${options.inodes}` : '';
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755${inodes}`, 'pod-runner-volume', dir]);
  return {
    path: dir,
    dispose() {
      execFileSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` every few milliseconds until it holds, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`pod-runner: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
