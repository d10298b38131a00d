// The emulator uses the disk the seeder placed. Each mode's synthesized pod runs for real: its init
// containers, then, in the emulator container's own volumes, env and user, a stand-in for the
// entrypoint's disk setup written from its contract (test/fixtures/entrypoint/). Several replicas
// (pod names loco-emulator-0..N-1) on the volume a mode gives them: where a seeder provides the
// disk, one base copy and one overlay per replica backed by it, and the registry client never runs;
// mode C without a seeder takes the download branch.
import { Testing } from 'cdk8s';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ContainerImage, LegoLocoChart, StorageMode, StorageModeKind } from '../lib';
import { ImageContents, K8sObject, PodResult, runPod, Shell, SHELLS } from './harness/pod-runner';
import { cleanupDirs, makeQcow2, sha256Of, tempDir } from './harness/qcow2';

jest.setTimeout(120_000);
afterAll(cleanupDirs);

const IMAGE = 'qemu-loco:v1';
/** The snapshot the modes take by default (LegoLoco.SNAPSHOT_IMAGE). */
const SNAPSHOT = 'ghcr.io/mroie/qemu-snapshots:win98-base';
const REPLICAS = 3;
const FIXTURES = path.join(__dirname, 'fixtures', 'entrypoint');
const STAND_IN = '/opt/stand-in/entrypoint-disk-setup.sh';
const FAKE_REGISTRY_DIR = '/opt/fake-registry';
const REGISTRY_LOG_DIR = '/var/log/fake-registry';

function chart(mode: StorageMode): K8sObject[] {
  return Testing.synth(new LegoLocoChart(Testing.app(), `loco-${mode.kind}`, {
    mode,
    emulator: {
      image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: REPLICAS,
      scheduling: { sharedClaimOnOneNode: mode.kind === StorageModeKind.EPHEMERAL ? undefined : true },
    },
  })) as K8sObject[];
}

/**
 * The objects with the emulator container appended as one more init container running the
 * stand-in instead of /entrypoint.sh: same image, env, user and disk mounts (not the host devices),
 * plus the fake registry client first on PATH and a volume where it records its calls.
 */
function withStandIn(objects: K8sObject[]): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  const pod = copy.find((object) => object.kind === 'StatefulSet')!.spec.template.spec;
  const emulator = pod.containers[0];
  const volumeMounts = [
    ...emulator.volumeMounts.filter((mount: any) => !mount.name.startsWith('dev-')),
    { name: 'fake-registry-log', mountPath: REGISTRY_LOG_DIR },
  ];
  const env = [{ name: 'PATH', value: `${FAKE_REGISTRY_DIR}:/.harness/bin:/.harness/qemu` }, ...emulator.env];
  pod.volumes = [...pod.volumes, { name: 'fake-registry-log', emptyDir: {} }];
  pod.initContainers = [...(pod.initContainers ?? []),
    { ...emulator, name: 'entrypoint-disk-setup', command: ['/bin/sh', STAND_IN], env, volumeMounts, lifecycle: undefined }];
  return copy;
}

let builtinDir: string;
let snapshotFile: string;
beforeAll(() => {
  builtinDir = tempDir('emulator-image-');
  makeQcow2(path.join(builtinDir, 'win98.qcow2.builtin'), 2 << 20);
  snapshotFile = path.join(tempDir('snapshot-image-'), 'snapshot.qcow2');
  makeQcow2(snapshotFile, 3 << 20);
});

function images(): Record<string, ImageContents> {
  return {
    [IMAGE]: {
      files: {
        '/opt/builtin-images': builtinDir,
        [STAND_IN]: path.join(FIXTURES, 'entrypoint-disk-setup.sh'),
        [`${FAKE_REGISTRY_DIR}/skopeo`]: path.join(FIXTURES, 'fake-skopeo'),
        [`${FAKE_REGISTRY_DIR}/snapshot.qcow2`]: snapshotFile,
      },
    },
    'busybox:1.35': { files: { '/bin/busybox': '/bin/busybox' }, qemuImg: false },
    // The FROM-scratch snapshot image as the kubelet unpacks it: the qcow2 and nothing else.
    [SNAPSHOT]: { scratch: true, files: { '/snapshot.qcow2': snapshotFile } },
  };
}

interface Replica { result: PodResult; disk: string; registryCalls: string[] }

/** Runs replica `ordinal`: init containers, then the stand-in, on `disk` (a fresh one when not given). */
async function runReplica(objects: K8sObject[], shell: Shell, ordinal: number, disk = tempDir('disk-')): Promise<Replica> {
  const log = tempDir('registry-log-');
  const result = await runPod({
    objects: withStandIn(objects),
    workload: 'loco-emulator',
    shell,
    pod: { name: `loco-emulator-${ordinal}` },
    volumes: { 'disk': disk, 'seed-tools': tempDir('seed-tools-'), 'fake-registry-log': log },
    images: images(),
    timeoutMs: 30_000,
  });
  if (result.exitCode !== 0) throw new Error(`replica ${ordinal} failed:\n${result.output}`);
  const calls = path.join(log, 'calls');
  const registryCalls = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
  return { result, disk, registryCalls };
}

function info(file: string): { format: string; 'backing-filename'?: string } {
  return JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file], { encoding: 'utf8' }));
}

/** Every file on a volume but the seeder's record (win98.qcow2.seed-info): no stray copy hides. */
function filesOn(volume: string): string[] {
  return (fs.readdirSync(volume, { recursive: true }) as string[])
    .filter((name) => fs.statSync(path.join(volume, name)).isFile() && name !== 'win98.qcow2.seed-info').sort();
}

function expectOverlaysOnSeededBase(volume: string, ordinals: number[], baseSha: string): void {
  // One base copy; every other qcow2 is an instance's overlay.
  expect(filesOn(volume)).toEqual([...ordinals.map((ordinal) => `snapshots/win98_instance_${ordinal}.qcow2`), 'win98.qcow2'].sort());
  for (const ordinal of ordinals) {
    const overlay = info(path.join(volume, 'snapshots', `win98_instance_${ordinal}.qcow2`));
    expect(overlay).toMatchObject({ 'format': 'qcow2', 'backing-filename': '/images/win98.qcow2' });
  }
  expect(sha256Of(path.join(volume, 'win98.qcow2'))).toBe(baseSha);
}

describe.each(SHELLS)('under %s', (shell) => {
  test.each([
    ['A, persistent: seeded from the built-in image', StorageMode.persistent(), () => path.join(builtinDir, 'win98.qcow2.builtin')],
    ['B, hybrid: seeded from the snapshot (kubelet pull)', StorageMode.hybrid(), () => snapshotFile],
  ])('mode %s; the replicas share the claim: one base, one overlay each on it, no download', async (_name, mode, source) => {
    const objects = chart(mode);
    const claim = tempDir('claim-');
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const replica = await runReplica(objects, shell, ordinal, claim);
      expect(replica.result.container('seed-disk').stdout).toContain(ordinal === 0 ? 'seeded /images/win98.qcow2' : 'already present');
      expect(replica.result.container('entrypoint-disk-setup').stdout)
        .toBe(`disk setup: overlay /images/snapshots/win98_instance_${ordinal}.qcow2 on /images/win98.qcow2\n`);
      expect(replica.registryCalls).toEqual([]);
    }
    expectOverlaysOnSeededBase(claim, [0, 1, 2], sha256Of(source()));
  });

  test('mode C with a seeder: each pod\'s emptyDir gets the verified snapshot and its overlay on it, no download', async () => {
    const objects = chart(StorageMode.ephemeral({ seeder: {} }));
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const replica = await runReplica(objects, shell, ordinal);
      expect(replica.result.container('seed-disk').stdout).toContain('seeded /images/win98.qcow2');
      expect(replica.registryCalls).toEqual([]);
      expectOverlaysOnSeededBase(replica.disk, [ordinal], sha256Of(snapshotFile));
    }
  });

  test('mode C without a seeder: the entrypoint downloads the snapshot into each instance\'s own file', async () => {
    const objects = chart(StorageMode.ephemeral());
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const replica = await runReplica(objects, shell, ordinal);
      expect(replica.result.containers.map((container) => container.name)).toEqual(['entrypoint-disk-setup']);
      expect(replica.registryCalls).toEqual([
        `copy docker://${SNAPSHOT} oci-archive:/images/snapshots/win98_instance_${ordinal}.qcow2.tar`,
      ]);
      const instance = path.join(replica.disk, 'snapshots', `win98_instance_${ordinal}.qcow2`);
      expect(filesOn(replica.disk)).toEqual([`snapshots/win98_instance_${ordinal}.qcow2`]);
      expect(info(instance)).not.toHaveProperty('backing-filename');
      expect(sha256Of(instance)).toBe(sha256Of(snapshotFile));
    }
  });
});
