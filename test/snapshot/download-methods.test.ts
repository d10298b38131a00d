// What DiskSeeder synthesizes for each snapshot download method: the containers, their images and
// pull policies, the scripts in the ConfigMap, the env the scripts read, the credentials mount,
// and the synth-time errors of the options that belong to one method only.
import { Testing } from 'cdk8s';
import { ContainerImage, DiskSeeder, EmulatorDisk, LegoLoco, LegoLocoChart, SeedSource, SnapshotMethod, SnapshotMethodKind, StorageMode } from '../../lib';
import { FETCH_SCRIPT_FILE, shippedScript, TOOLS_SCRIPT_FILE } from '../../lib/disk-seeder';
import { envOf, K8sObject, only, synth, testChart } from '../helpers/synth';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A seeder of the snapshot (by `method`, kubelet pull by default), then the built-in image. */
function seederIn(options: { method?: SnapshotMethod; snapshotImage?: string; snapshotPath?: string } = {}) {
  const chart = testChart();
  const disk = new EmulatorDisk(chart, 'Disk');
  // allowLatestTag: the pull-policy cases include a snapshot tagged latest.
  const snapshotImage = ContainerImage.fromReference(options.snapshotImage ?? 'ghcr.io/mroie/qemu-snapshots:win98-base', { allowLatestTag: true });
  const seeder = new DiskSeeder(chart, 'Seeder', {
    disk,
    image: ContainerImage.fromTag('qemu-loco', 'v1'),
    sources: [SeedSource.snapshot(snapshotImage, { method: options.method, path: options.snapshotPath }), SeedSource.builtin()],
  });
  return { chart, seeder };
}

function container(seeder: DiskSeeder, name: string): any {
  const found = seeder.initContainers.find((c) => c.name === name);
  if (!found) throw new Error(`no init container ${name} (have: ${seeder.initContainers.map((c) => c.name).join(', ')})`);
  return found;
}

describe('kubelet pull (the default)', () => {
  test('runs busybox first, then the snapshot image itself with that busybox, then the seeder', () => {
    const { chart, seeder } = seederIn();

    expect(seeder.snapshotMethod).toBe(SnapshotMethodKind.KUBELET_PULL);
    expect(seeder.initContainers.map((c) => c.name)).toEqual(['seed-tools', 'seed-snapshot', 'seed-disk']);
    expect(container(seeder, 'seed-tools').image).toBe('busybox:1.35');
    const snapshot = container(seeder, 'seed-snapshot');
    expect(snapshot.image).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(snapshot.command).toEqual(['/seed-tools/busybox', 'sh', '/seed-script/seed-disk.sh', 'stage', '/snapshot.qcow2']);
    expect(envOf(snapshot).PATH).toBe('/seed-tools/bin');
    expect(envOf(container(seeder, 'seed-disk')).SEED_SNAPSHOT_METHOD).toBe('kubelet-pull');
    const data = only(synth(chart), 'ConfigMap').data;
    expect(data[TOOLS_SCRIPT_FILE]).toBe(shippedScript(TOOLS_SCRIPT_FILE));
    expect(data).not.toHaveProperty(FETCH_SCRIPT_FILE);
  });

  test.each([
    [`ghcr.io/mroie/qemu-snapshots@${DIGEST}`, 'IfNotPresent'],
    ['ghcr.io/mroie/qemu-snapshots:win98-base', 'IfNotPresent'],
    ['ghcr.io/mroie/qemu-snapshots:latest', 'Always'],
  ])('pulls %s with %s', (snapshotImage, policy) => {
    const { seeder } = seederIn({ snapshotImage });
    expect(container(seeder, 'seed-snapshot').imagePullPolicy).toBe(policy);
  });

  test('the snapshot path inside the image is the stage argument', () => {
    const { seeder } = seederIn({ snapshotPath: '/disks/base.qcow2' });
    expect(container(seeder, 'seed-snapshot').command.slice(-2)).toEqual(['stage', '/disks/base.qcow2']);
  });

});

describe('registry client', () => {
  test('runs only the seeder, which runs fetch-snapshot.sh from the ConfigMap', () => {
    const { chart, seeder } = seederIn({ method: SnapshotMethod.registryClient() });

    expect(seeder.initContainers.map((c) => c.name)).toEqual(['seed-disk']);
    const env = envOf(container(seeder, 'seed-disk'));
    expect(env.SEED_SNAPSHOT_METHOD).toBe('registry-client');
    expect(env.SEED_SNAPSHOT_REF).toBe('ghcr.io/mroie/qemu-snapshots:win98-base');
    expect(env.SEED_SOURCES).toBe('snapshot builtin');
    // Defaults stay with the script: verified TLS, /snapshot.qcow2, anonymous.
    expect(env).not.toHaveProperty('SEED_REGISTRY_TLS_VERIFY');
    expect(env).not.toHaveProperty('SEED_SNAPSHOT_PATH');
    expect(env).not.toHaveProperty('REGISTRY_AUTH_FILE');
    expect(env.SEED_HINT).toContain("registry credentials in the registry client's authSecret");
    const data = only(synth(chart), 'ConfigMap').data;
    expect(data[FETCH_SCRIPT_FILE]).toBe(shippedScript(FETCH_SCRIPT_FILE));
    expect(data).not.toHaveProperty(TOOLS_SCRIPT_FILE);
    expect(seeder.volumes.map((v) => v.name)).toEqual(['seed-script']);
  });

  test('mounts the docker-config Secret read-only and points REGISTRY_AUTH_FILE at it', () => {
    const { seeder } = seederIn({ method: SnapshotMethod.registryClient({ authSecret: 'snapshot-pull' }) });
    const seed = container(seeder, 'seed-disk');

    expect(seeder.volumes).toContainEqual({
      name: 'registry-auth',
      secret: { secretName: 'snapshot-pull', items: [{ key: '.dockerconfigjson', path: 'auth.json' }] },
    });
    expect(seed.volumeMounts).toContainEqual({ name: 'registry-auth', mountPath: '/seed-registry-auth', readOnly: true });
    expect(envOf(seed).REGISTRY_AUTH_FILE).toBe('/seed-registry-auth/auth.json');
  });

  test('passes the path inside the image and the TLS opt-out to the script', () => {
    const { seeder } = seederIn({ method: SnapshotMethod.registryClient({ tlsVerify: false }), snapshotPath: '/disks/base.qcow2' });
    const env = envOf(container(seeder, 'seed-disk'));

    expect(env.SEED_SNAPSHOT_PATH).toBe('/disks/base.qcow2');
    expect(env.SEED_REGISTRY_TLS_VERIFY).toBe('false');
  });

  test('tlsVerify true is the default and adds nothing', () => {
    const { seeder } = seederIn({ method: SnapshotMethod.registryClient({ tlsVerify: true }) });
    expect(envOf(container(seeder, 'seed-disk'))).not.toHaveProperty('SEED_REGISTRY_TLS_VERIFY');
  });

  test('refuses a tlsVerify that is not a boolean', () => {
    expect(() => seederIn({ method: SnapshotMethod.registryClient({ tlsVerify: 'no' as unknown as boolean }) }))
      .toThrow('test/Seeder: invalid sources.snapshot.method.tlsVerify "no": must be true or false');
  });
});

describe('LegoLocoChart', () => {
  function loco(mode: StorageMode): { chart: LegoLocoChart; objects: K8sObject[] } {
    const chart = new LegoLocoChart(Testing.app(), 'loco', { mode, emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1') } });
    return { chart, objects: Testing.synth(chart) as K8sObject[] };
  }
  const snapshot = (method: SnapshotMethod) => SeedSource.snapshot(LegoLoco.SNAPSHOT_IMAGE, { method });
  function seedContainer(objects: any[]): any {
    return objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec.initContainers.find((c: any) => c.name === 'seed-disk');
  }

  test('mode B with the registry client passes the credentials Secret and the TLS choice to its seeder', () => {
    const { objects } = loco(StorageMode.hybrid({
      seeder: { sources: [snapshot(SnapshotMethod.registryClient({ authSecret: 'snapshot-pull', tlsVerify: false })), SeedSource.builtin()] },
    }));
    const env = envOf(seedContainer(objects));

    expect(env.REGISTRY_AUTH_FILE).toBe('/seed-registry-auth/auth.json');
    expect(env.SEED_REGISTRY_TLS_VERIFY).toBe('false');
    expect(objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec.volumes)
      .toContainEqual(expect.objectContaining({ name: 'registry-auth', secret: expect.objectContaining({ secretName: 'snapshot-pull' }) }));
  });

  test('mode C seeding with the registry client: one init container, the fetch script shipped', () => {
    const { chart, objects } = loco(StorageMode.ephemeral({ seeder: { method: SnapshotMethod.registryClient() } }));
    const spec = objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec;

    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['seed-disk']);
    expect(envOf(seedContainer(objects)).SEED_SOURCES).toBe('snapshot');
    const scripts = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === chart.seeder!.scriptConfigMap.name)!;
    expect(scripts.data[FETCH_SCRIPT_FILE]).toBe(shippedScript(FETCH_SCRIPT_FILE));
  });
});
