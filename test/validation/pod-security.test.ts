import { StorageModeKind } from '../../lib';
import { SEEDER_CONTAINER_NAME, SNAPSHOT_CONTAINER_NAME, TOOLS_CONTAINER_NAME, WAIT_CONTAINER_NAME } from '../../lib/disk-seeder';
import { EMULATOR_CAPABILITIES, EMULATOR_CONTAINER_NAME, RESET_CONTAINER_NAME } from '../../lib/qemu-stateful-set';
import { COMBINATIONS, K8sObject, podSpecsOf, synthesize } from './charts';

/**
 * The Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
 * as of Kubernetes 1.28), control by control, as data: the restricted fields and the values each
 * level allows. A pod meets "baseline" when no baseline control fails, "restricted" when no control
 * fails at all; otherwise it is at "privileged", the unrestricted level.
 */
type Level = 'baseline' | 'restricted';

/** A value no field holds: the field is unset (undefined/nil in the standard's words). */
const UNSET = Symbol('unset');
type Allowed = readonly (string | number | boolean | typeof UNSET | RegExp)[];

interface Control {
  /** The control's name on the standard's page. */
  readonly name: string;
  readonly level: Level;
  /** Pod-level fields (relative to the pod: `spec.` and `metadata.`), `[*]` for every element. */
  readonly podFields?: readonly string[];
  /** Container-level fields (relative to each container, init containers included). */
  readonly containerFields?: readonly string[];
  /** Every value found at the fields must be one of these. */
  readonly allowed?: Allowed;
  /**
   * For "must be set" controls: a container field may be unset when this pod-level field holds
   * an allowed value (the pod-level setting applies to every container).
   */
  readonly podFallback?: string;
  /** A custom rule where the standard's wording needs one (volume types, required drops). */
  readonly rule?: 'volume-types' | 'drop-all';
}

const BASELINE_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports'];
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

const CONTROLS: readonly Control[] = [
  // Baseline
  { name: 'HostProcess', level: 'baseline', podFields: ['spec.securityContext.windowsOptions.hostProcess'], containerFields: ['securityContext.windowsOptions.hostProcess'], allowed: [UNSET, false] },
  { name: 'Host Namespaces', level: 'baseline', podFields: ['spec.hostNetwork', 'spec.hostPID', 'spec.hostIPC'], allowed: [UNSET, false] },
  { name: 'Privileged Containers', level: 'baseline', containerFields: ['securityContext.privileged'], allowed: [UNSET, false] },
  { name: 'Capabilities', level: 'baseline', containerFields: ['securityContext.capabilities.add[*]'], allowed: [UNSET, ...BASELINE_CAPABILITIES] },
  { name: 'HostPath Volumes', level: 'baseline', podFields: ['spec.volumes[*].hostPath'], allowed: [UNSET] },
  { name: 'Host Ports', level: 'baseline', containerFields: ['ports[*].hostPort'], allowed: [UNSET, 0] },
  { name: 'AppArmor', level: 'baseline', podFields: ['metadata.annotations[container.apparmor.security.beta.kubernetes.io/*]'], allowed: [UNSET, 'runtime/default', /^localhost\//] },
  { name: 'SELinux (type)', level: 'baseline', podFields: ['spec.securityContext.seLinuxOptions.type'], containerFields: ['securityContext.seLinuxOptions.type'], allowed: [UNSET, '', 'container_t', 'container_init_t', 'container_kvm_t'] },
  { name: 'SELinux (user and role)', level: 'baseline', podFields: ['spec.securityContext.seLinuxOptions.user', 'spec.securityContext.seLinuxOptions.role'], containerFields: ['securityContext.seLinuxOptions.user', 'securityContext.seLinuxOptions.role'], allowed: [UNSET, ''] },
  { name: '/proc Mount Type', level: 'baseline', containerFields: ['securityContext.procMount'], allowed: [UNSET, 'Default'] },
  { name: 'Seccomp', level: 'baseline', podFields: ['spec.securityContext.seccompProfile.type'], containerFields: ['securityContext.seccompProfile.type'], allowed: [UNSET, 'RuntimeDefault', 'Localhost'] },
  { name: 'Sysctls', level: 'baseline', podFields: ['spec.securityContext.sysctls[*].name'], allowed: [UNSET, ...SAFE_SYSCTLS] },
  // Restricted
  { name: 'Volume Types', level: 'restricted', rule: 'volume-types' },
  { name: 'Privilege Escalation', level: 'restricted', containerFields: ['securityContext.allowPrivilegeEscalation'], allowed: [false] },
  { name: 'Running as Non-root', level: 'restricted', containerFields: ['securityContext.runAsNonRoot'], allowed: [true], podFallback: 'spec.securityContext.runAsNonRoot' },
  { name: 'Running as Non-root user', level: 'restricted', podFields: ['spec.securityContext.runAsUser'], containerFields: ['securityContext.runAsUser'], allowed: [UNSET, /^[1-9][0-9]*$/] },
  { name: 'Seccomp (restricted)', level: 'restricted', containerFields: ['securityContext.seccompProfile.type'], allowed: ['RuntimeDefault', 'Localhost'], podFallback: 'spec.securityContext.seccompProfile.type' },
  { name: 'Capabilities (drop ALL)', level: 'restricted', rule: 'drop-all' },
  { name: 'Capabilities (add only NET_BIND_SERVICE)', level: 'restricted', containerFields: ['securityContext.capabilities.add[*]'], allowed: [UNSET, 'NET_BIND_SERVICE'] },
];

/** The values at a dotted path with `[*]` wildcards and `[key/*]` map-key prefixes; UNSET where missing. */
function valuesAt(root: any, path: string): unknown[] {
  const segments = path.match(/[^.[\]]+|\[[^\]]*\]/g)!;
  let values: unknown[] = [root];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of values) {
      if (value === UNSET || value === undefined || value === null) { next.push(UNSET); continue; }
      if (segment === '[*]') {
        if (Array.isArray(value) && value.length > 0) next.push(...value); else next.push(UNSET);
      } else if (segment.startsWith('[')) {
        const prefix = segment.slice(1, -2); // `[prefix/*]`
        const matching = Object.entries(value as object).filter(([key]) => key.startsWith(prefix)).map(([, v]) => v);
        next.push(...(matching.length > 0 ? matching : [UNSET]));
      } else {
        const child = (value as any)[segment];
        next.push(child === undefined || child === null ? UNSET : child);
      }
    }
    values = next;
  }
  return values;
}

function isAllowed(value: unknown, allowed: Allowed): boolean {
  return allowed.some((entry) => (entry instanceof RegExp ? typeof value !== 'symbol' && entry.test(String(value)) : entry === value));
}

interface Pod { metadata: any; spec: any }

/** The controls a single container fails, pod-level fallbacks considered. */
function containerFailures(pod: Pod, container: any): string[] {
  const failed: string[] = [];
  for (const control of CONTROLS) {
    if (control.rule === 'drop-all') {
      if (!(container.securityContext?.capabilities?.drop ?? []).includes('ALL')) failed.push(control.name);
      continue;
    }
    if (!control.containerFields) continue;
    const fallbackHolds = control.podFallback !== undefined && valuesAt(pod, control.podFallback).every((value) => isAllowed(value, control.allowed!));
    const ok = control.containerFields.every((field) => valuesAt(container, field).every((value) =>
      isAllowed(value, control.allowed!) || (value === UNSET && fallbackHolds)));
    if (!ok) failed.push(control.name);
  }
  return failed;
}

/** The controls the pod itself fails (pod-level fields, volumes). */
function podLevelFailures(pod: Pod): string[] {
  const failed: string[] = [];
  for (const control of CONTROLS) {
    if (control.rule === 'volume-types') {
      const volumes: any[] = pod.spec.volumes ?? [];
      if (volumes.some((volume) => Object.keys(volume).filter((key) => key !== 'name').some((type) => !RESTRICTED_VOLUME_TYPES.includes(type)))) failed.push(control.name);
      continue;
    }
    if (!control.podFields || control.podFallback) continue;
    if (!control.podFields.every((field) => valuesAt(pod, field).every((value) => isAllowed(value, control.allowed!)))) failed.push(control.name);
  }
  return failed;
}

function levelOf(failedControls: string[]): 'restricted' | 'baseline' | 'privileged' {
  const failedLevels = CONTROLS.filter((control) => failedControls.includes(control.name)).map((control) => control.level);
  if (failedLevels.includes('baseline')) return 'privileged';
  if (failedLevels.includes('restricted')) return 'baseline';
  return 'restricted';
}

/** Per pod of a chart: the pod-level failures, and each container's failures. */
function assess(objects: K8sObject[]) {
  return podSpecsOf(objects).map(({ owner, metadata, spec }) => {
    const pod = { metadata, spec };
    const containers = [...(spec.initContainers ?? []), ...spec.containers].map((container: any) => ({
      name: container.name as string,
      failed: containerFailures(pod, container),
    }));
    const podFailed = podLevelFailures(pod);
    const all = [...new Set([...podFailed, ...containers.flatMap((container) => container.failed)])];
    return { owner, podFailed, containers, level: levelOf(all) };
  });
}

function containerNamed(objects: K8sObject[], name: string) {
  const found = assess(objects).flatMap((pod) => pod.containers).filter((container) => container.name === name);
  expect(found.length).toBeGreaterThan(0);
  return found;
}

const byName = Object.fromEntries(COMBINATIONS.map((combination) => [combination.name, combination]));
const objectsOf = (name: string) => synthesize(byName[name]);

/**
 * What the emulator's entrypoint needs costs it these controls, no more: NET_ADMIN (baseline
 * "Capabilities", and the restricted add-list) and root (its image runs as root; runAsUser is left
 * unset, so "Running as Non-root user", which only refuses an explicit 0, passes).
 */
const EMULATOR_DEFAULT_FAILS = ['Capabilities', 'Running as Non-root', 'Capabilities (add only NET_BIND_SERVICE)'];
const EMULATOR_PRIVILEGED_FAILS = [
  'Privileged Containers', 'Capabilities', 'Privilege Escalation', 'Running as Non-root', 'Seccomp (restricted)',
  'Capabilities (drop ALL)', 'Capabilities (add only NET_BIND_SERVICE)',
];
const ROOT_FAILS = ['Running as Non-root', 'Running as Non-root user'];

describe('the Pod Security checks themselves', () => {
  test('a pod the standard calls restricted passes every control; each weakening fails the control it names', () => {
    const restrictedPod = {
      metadata: {},
      spec: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    };
    const failuresOf = (mutate: (pod: any) => void): string[] => {
      const pod = JSON.parse(JSON.stringify(restrictedPod));
      mutate(pod);
      return [...podLevelFailures(pod), ...containerFailures(pod, pod.spec.containers[0])];
    };
    expect(failuresOf(() => undefined)).toEqual([]);
    expect(failuresOf((p) => { p.spec.hostNetwork = true; })).toEqual(['Host Namespaces']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.privileged = true; })).toEqual(['Privileged Containers']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; })).toEqual(['Capabilities', 'Capabilities (add only NET_BIND_SERVICE)']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE']; })).toEqual([]);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.capabilities.add = ['CHOWN']; })).toEqual(['Capabilities (add only NET_BIND_SERVICE)']);
    expect(failuresOf((p) => { p.spec.volumes.push({ name: 'tun', hostPath: { path: '/dev/net/tun' } }); })).toEqual(['HostPath Volumes', 'Volume Types']);
    expect(failuresOf((p) => { p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]; })).toEqual(['Host Ports']);
    expect(failuresOf((p) => { p.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }; })).toEqual(['AppArmor']);
    expect(failuresOf((p) => { p.spec.securityContext.seLinuxOptions = { type: 'spc_t' }; })).toEqual(['SELinux (type)']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.procMount = 'Unmasked'; })).toEqual(['/proc Mount Type']);
    expect(failuresOf((p) => { p.spec.securityContext.seccompProfile.type = 'Unconfined'; })).toEqual(['Seccomp', 'Seccomp (restricted)']);
    expect(failuresOf((p) => { p.spec.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; })).toEqual(['Sysctls']);
    expect(failuresOf((p) => { delete p.spec.containers[0].securityContext.allowPrivilegeEscalation; })).toEqual(['Privilege Escalation']);
    expect(failuresOf((p) => { delete p.spec.securityContext.runAsNonRoot; })).toEqual(['Running as Non-root']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.runAsUser = 0; })).toEqual(['Running as Non-root user']);
    expect(failuresOf((p) => { delete p.spec.containers[0].securityContext.capabilities; })).toEqual(['Capabilities (drop ALL)']);
    expect(failuresOf((p) => { p.spec.containers[0].securityContext.windowsOptions = { hostProcess: true }; })).toEqual(['HostProcess']);
    expect(levelOf(['Volume Types'])).toBe('baseline');
    expect(levelOf(['Volume Types', 'Capabilities'])).toBe('privileged');
  });
});

describe('seeder containers meet "restricted" wherever they run', () => {
  const seederContainers = [SEEDER_CONTAINER_NAME, TOOLS_CONTAINER_NAME, SNAPSHOT_CONTAINER_NAME, WAIT_CONTAINER_NAME];
  const seeded = COMBINATIONS
    .filter((combination) => combination.mode !== StorageModeKind.EPHEMERAL || combination.name.includes('seeded'))
    .filter((combination) => !combination.name.includes('without a seeder') && !combination.name.includes('hostPath PersistentVolume'));
  test.each(seeded.map((combination) => [combination.name]))('%s', (name) => {
    const pods = assess(objectsOf(name));
    const seeders = pods.flatMap((pod) => pod.containers).filter((container) => seederContainers.includes(container.name));
    expect(seeders.length).toBeGreaterThan(0);
    for (const seeder of seeders) expect(seeder).toEqual({ name: seeder.name, failed: [] });
  });

  test('the seeding Job of a shared base is a restricted pod as a whole', () => {
    const job = assess(objectsOf('B: shared read-only base with per-replica overlays, 9 replicas')).find((pod) => pod.owner.startsWith('Job/'))!;
    expect(job.podFailed).toEqual([]);
    expect(job.level).toBe('restricted');
  });

  test('on a hostPath PersistentVolume, which gets no fsGroup, the seeder runs as root with no capabilities: baseline', () => {
    const [seeder] = containerNamed(objectsOf('A: hostPath PersistentVolume, acknowledged'), SEEDER_CONTAINER_NAME);
    expect(seeder.failed).toEqual(ROOT_FAILS);
    expect(levelOf(seeder.failed)).toBe('baseline');
  });
});

describe('the emulator', () => {
  test.each(Object.values(StorageModeKind))('in mode %s, by default: only the capability its TAP networking needs keeps it from baseline', (mode) => {
    const name = `${mode === StorageModeKind.PERSISTENT ? 'A' : mode === StorageModeKind.HYBRID ? 'B' : 'C'}: defaults`;
    const [emulator] = containerNamed(objectsOf(name), EMULATOR_CONTAINER_NAME);
    expect(emulator.failed).toEqual(EMULATOR_DEFAULT_FAILS);
    const [pod] = assess(objectsOf(name)).filter((assessed) => assessed.owner.startsWith('StatefulSet/'));
    // The hostPath /dev/net/tun is the one pod-level finding.
    expect(pod.podFailed).toEqual(['HostPath Volumes', 'Volume Types']);
    expect(pod.level).toBe('privileged');
  });

  test('adds no capability outside baseline but NET_ADMIN', () => {
    expect(EMULATOR_CAPABILITIES.filter((capability) => !BASELINE_CAPABILITIES.includes(capability))).toEqual(['NET_ADMIN']);
  });

  test('with /dev/net/tun and /dev/kvm from device plugins: no hostPath volume left, NET_ADMIN the one baseline finding', () => {
    const objects = objectsOf('C: tun and kvm from device plugins');
    const [pod] = assess(objects);
    expect(pod.podFailed).toEqual([]);
    expect(pod.containers).toEqual([{ name: EMULATOR_CONTAINER_NAME, failed: EMULATOR_DEFAULT_FAILS }]);
    expect(CONTROLS.filter((control) => control.level === 'baseline' && EMULATOR_DEFAULT_FAILS.includes(control.name)).map((control) => control.name)).toEqual(['Capabilities']);
  });

  test('privileged, as the Helm chart: fails privileged containers, capabilities, escalation and seccomp too', () => {
    const [emulator] = containerNamed(objectsOf('C: privileged as the Helm chart'), EMULATOR_CONTAINER_NAME);
    expect(emulator.failed).toEqual(EMULATOR_PRIVILEGED_FAILS);
  });

  test('an extra capability is the only change it makes', () => {
    const [emulator] = containerNamed(objectsOf('A: extra env, scheduling and an extra capability'), EMULATOR_CONTAINER_NAME);
    expect(emulator.failed).toEqual(EMULATOR_DEFAULT_FAILS);
  });

  test('hostPath /dev/kvm and /dev/dri come only with privileged', () => {
    const [pod] = assess(objectsOf('B: kvm and dri by hostPath, privileged')).filter((assessed) => assessed.owner.startsWith('StatefulSet/'));
    expect(pod.podFailed).toEqual(['HostPath Volumes', 'Volume Types']);
    expect(pod.containers.find((container) => container.name === EMULATOR_CONTAINER_NAME)!.failed).toContain('Privileged Containers');
  });
});

describe('every container of every combination sits at the level stated here', () => {
  type Expectation = { level: 'restricted' | 'baseline' | 'privileged'; failed: string[] };
  /** Containers by name: their level, and the controls they fail. Anything else failing is a weakening. */
  const EXPECTED: Record<string, { default: Expectation; privileged?: Expectation; root?: Expectation }> = {
    // Seeders are restricted, except as root on a hostPath PersistentVolume (no fsGroup there).
    [SEEDER_CONTAINER_NAME]: { default: { level: 'restricted', failed: [] }, root: { level: 'baseline', failed: ROOT_FAILS } },
    [TOOLS_CONTAINER_NAME]: { default: { level: 'restricted', failed: [] }, root: { level: 'baseline', failed: ROOT_FAILS } },
    [SNAPSHOT_CONTAINER_NAME]: { default: { level: 'restricted', failed: [] }, root: { level: 'baseline', failed: ROOT_FAILS } },
    [WAIT_CONTAINER_NAME]: { default: { level: 'restricted', failed: [] }, root: { level: 'baseline', failed: ROOT_FAILS } },
    // The one-shot reset moves the emulator's own (root-owned) overlays: root, no capabilities.
    [RESET_CONTAINER_NAME]: { default: { level: 'baseline', failed: ROOT_FAILS } },
    // NET_ADMIN for its TAP networking: privileged level, with no other finding than that and root.
    [EMULATOR_CONTAINER_NAME]: {
      default: { level: 'privileged', failed: EMULATOR_DEFAULT_FAILS },
      privileged: { level: 'privileged', failed: EMULATOR_PRIVILEGED_FAILS },
    },
  };
  test.each(COMBINATIONS.map((combination) => [combination.name]))('%s', (name) => {
    for (const pod of assess(objectsOf(name))) {
      // Pod level: the emulator's pod has one hostPath volume finding (/dev/net/tun, and hostPath
      // devices when privileged) unless tun comes from a device plugin; the seeding Job has none.
      const hostPathTun = pod.owner.startsWith('StatefulSet/') && !name.includes('tun and kvm from device plugins');
      expect({ pod: pod.owner, podFailed: pod.podFailed }).toEqual({ pod: pod.owner, podFailed: hostPathTun ? ['HostPath Volumes', 'Volume Types'] : [] });
      for (const container of pod.containers) {
        const stated = EXPECTED[container.name];
        expect(stated).toBeDefined();
        const expected = name.includes('privileged') && stated.privileged ? stated.privileged
          : name.includes('hostPath PersistentVolume') && stated.root ? stated.root
            : stated.default;
        expect({ pod: pod.owner, container: container.name, level: levelOf(container.failed), failed: container.failed })
          .toEqual({ pod: pod.owner, container: container.name, ...expected });
      }
    }
  });
});
