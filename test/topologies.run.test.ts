// The disk topologies run for real: the synthesized init containers (and the seeding Job) with
// their volumes at their real paths, then the per-instance overlay made the way the emulator's
// entrypoint makes it (`qemu-img create -f qcow2 -b "$DISK" -F qcow2 ...`), in the emulator
// container's own mount layout, env and user, on real qcow2 images.
import { Chart, Testing } from 'cdk8s';
import * as fs from 'fs';
import * as path from 'path';
import {
  CloneSource, ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, EmulatorDiskKind, EmulatorOptions, OverlayOptions, QemuStatefulSet,
} from '../lib';
import { shippedScript } from '../lib/disk-seeder';
import { K8sObject, PodResult, runPod, SHELLS } from './harness/pod-runner';
import { allocatedBytes, cleanupDirs, makeQcow2, sha256Of, tempDir } from './harness/qcow2';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const IMAGE = 'qemu-loco:v1';
const REPLICAS = 3;
const BASE_BYTES = 4 << 20;

/** A disk of the given kind (a new claim by default) seeded from the built-in image, under REPLICAS emulators. */
function topologyChart(volume?: DiskVolume, overlays?: OverlayOptions): K8sObject[] {
  const chart = new Chart(Testing.app(), 'topology');
  const disk = new EmulatorDisk(chart, 'Disk', { volume });
  // A short wait for the shared base's Job, the only disk kind that waits.
  const baseWaitSeconds = disk.kind === EmulatorDiskKind.SHARED_BASE ? 3 : undefined;
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: ContainerImage.fromReference(IMAGE), baseWaitSeconds });
  const emulator: EmulatorOptions = {
    image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: REPLICAS, overlays,
    scheduling: { sharedClaimOnOneNode: disk.kind === EmulatorDiskKind.CLAIM ? true : undefined },
  };
  new QemuStatefulSet(chart, 'Emulator', { ...emulator, disk, seeder });
  return Testing.synth(chart) as K8sObject[];
}

/**
 * The objects with the emulator container turned into one more init container that runs, instead
 * of /entrypoint.sh, what the entrypoint does to the disk: create this instance's overlay on
 * $DISK in $SNAPSHOT_DIR (or reuse it), write "game state" into it, and check the chain.
 */
function withEntrypointStep(objects: K8sObject[]): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  const statefulSet = copy.find((object) => object.kind === 'StatefulSet')!;
  const pod = statefulSet.spec.template.spec;
  const emulator = pod.containers[0];
  const script = [
    'set -eu',
    'ordinal=${POD_NAME##*-}',
    'overlay="$SNAPSHOT_DIR/win98_instance_$ordinal.qcow2"',
    'mkdir -p "$SNAPSHOT_DIR"',
    '[ -f "$overlay" ] || qemu-img create -q -f qcow2 -b "$DISK" -F qcow2 "$overlay"',
    '/opt/qemu-tools/qemu-io -f qcow2 -c "write -P 0x4c 0 1M" "$overlay" >/dev/null',
    'qemu-img check -q "$overlay"',
    'echo "backing: $(qemu-img info --backing-chain "$overlay" | grep -c "^image:") images in the chain"',
    'echo "overlay: $overlay"',
  ].join('\n');
  // The disk step needs the emulator's disk mounts, env and user, not its host devices.
  const volumeMounts = emulator.volumeMounts.filter((mount: any) => !mount.name.startsWith('dev-'));
  pod.initContainers = [...(pod.initContainers ?? []), { ...emulator, name: 'entrypoint-disk-step', command: ['/bin/sh', '-c', script], volumeMounts, lifecycle: undefined }];
  return copy;
}

/** Runs replica `ordinal`'s init containers plus the entrypoint's disk step. */
function runReplica(objects: K8sObject[], ordinal: number, volumes: Record<string, string>): Promise<PodResult> {
  return runPod({
    objects: withEntrypointStep(objects),
    workload: 'qemu-emulator',
    shell: 'busybox',
    volumes,
    pod: { name: `qemu-emulator-${ordinal}` },
    images: { [IMAGE]: { files: { '/opt/builtin-images': builtinDir, '/opt/qemu-tools/qemu-io': '/usr/bin/qemu-io' } } },
  });
}

let builtinDir: string;
let builtinSha: string;
beforeAll(() => {
  builtinDir = tempDir('emulator-image-');
  makeQcow2(path.join(builtinDir, 'win98.qcow2.builtin'), BASE_BYTES);
  builtinSha = sha256Of(path.join(builtinDir, 'win98.qcow2.builtin'));
});

function expectOverlayOn(result: PodResult, base: string, baseSha: string): void {
  expect(result.exitCode).toBe(0);
  const step = result.container('entrypoint-disk-step');
  expect(step.stdout).toContain('backing: 2 images in the chain');
  expect(sha256Of(base)).toBe(baseSha);
}

describe('shared claim (chart parity)', () => {
  test('one base, seeded once; every replica overlays it in the same claim, the base stays byte-identical', async () => {
    const objects = topologyChart();
    const volume = tempDir('shared-claim-');
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const result = await runReplica(objects, ordinal, { disk: volume });
      expectOverlayOn(result, path.join(volume, 'win98.qcow2'), builtinSha);
      expect(result.container('seed-disk').stdout).toContain(ordinal === 0 ? 'seeded /images/win98.qcow2' : 'already present');
    }
    expect(fs.readdirSync(path.join(volume, 'snapshots')).sort())
      .toEqual(['win98_instance_0.qcow2', 'win98_instance_1.qcow2', 'win98_instance_2.qcow2']);
  });
});

describe('claim per replica', () => {
  test('each replica claim gets its own verified base copy and its overlay beside it', async () => {
    const objects = topologyChart(DiskVolume.claimPerReplica());
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const claim = tempDir(`disk-qemu-emulator-${ordinal}-`);
      const result = await runReplica(objects, ordinal, { disk: claim });
      expect(result.container('seed-disk').stdout).toContain('seeded /images/win98.qcow2');
      expectOverlayOn(result, path.join(claim, 'win98.qcow2'), builtinSha);
      expect(fs.existsSync(path.join(claim, 'snapshots', `win98_instance_${ordinal}.qcow2`))).toBe(true);
    }
  });
});

describe('shared read-only base with per-replica overlays', () => {
  test('the Job seeds the base once; replicas wait for it, mount it read-only and overlay it on their own claims', async () => {
    const objects = topologyChart(DiskVolume.sharedBase());
    const base = tempDir('base-claim-');
    const jobName = objects.find((object) => object.kind === 'Job')!.metadata.name!;

    const job = await runPod({ objects, workload: jobName, shell: 'busybox', volumes: { base }, images: { [IMAGE]: { files: { '/opt/builtin-images': builtinDir } } } });
    expect(job.exitCode).toBe(0);
    expect(sha256Of(path.join(base, 'win98.qcow2'))).toBe(builtinSha);
    const baseBytes = allocatedBytes(base);

    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      const overlays = tempDir(`disk-qemu-emulator-${ordinal}-`);
      const result = await runReplica(objects, ordinal, { base, disk: overlays });
      expect(result.container('wait-for-base').stdout).toContain('base image ready: /images/base/win98.qcow2');
      expectOverlayOn(result, path.join(base, 'win98.qcow2'), builtinSha);
      expect(fs.existsSync(path.join(overlays, 'snapshots', `win98_instance_${ordinal}.qcow2`))).toBe(true);
    }
    // The replicas wrote nothing to the shared base.
    expect(allocatedBytes(base)).toBe(baseBytes);
  });

  test('a replica whose base never arrives fails after the bound with one line saying what to do', async () => {
    const objects = topologyChart(DiskVolume.sharedBase());
    const result = await runPod({
      objects, workload: 'qemu-emulator', shell: 'busybox', initContainers: ['wait-for-base'],
      volumes: { base: tempDir('empty-base-'), disk: tempDir('overlays-') }, pod: { name: 'qemu-emulator-1' },
      env: { WAIT_INTERVAL_SECONDS: '1' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(/wait-for-disk: FAILED: the base image \/images\/base\/win98.qcow2 did not appear within 3s\..*What to do: check the seeding Job/);
  });
});

describe('golden clone', () => {
  test('a claim cloned from the golden disk arrives filled: the seeder keeps it, the overlay goes on top', async () => {
    const objects = topologyChart(DiskVolume.goldenClone(CloneSource.fromClaim('win98-golden')));
    const golden = tempDir('golden-');
    fs.copyFileSync(path.join(builtinDir, 'win98.qcow2.builtin'), path.join(golden, 'win98.qcow2'));
    for (let ordinal = 0; ordinal < REPLICAS; ordinal++) {
      // What the CSI driver does for dataSourceRef: the new claim starts as a copy of the source.
      const claim = tempDir(`disk-qemu-emulator-${ordinal}-`);
      fs.copyFileSync(path.join(golden, 'win98.qcow2'), path.join(claim, 'win98.qcow2'));
      const result = await runReplica(objects, ordinal, { disk: claim });
      expect(result.container('seed-disk').stdout).toContain('already present');
      expectOverlayOn(result, path.join(claim, 'win98.qcow2'), builtinSha);
    }
  });
});

describe('one-shot reset', () => {
  test('moves the overlay aside once per token, and keeps the overlay made after it', async () => {
    const volume = tempDir('reset-');
    const first = topologyChart(undefined, { resetToken: 'r1' });
    // The reset is a file of the StatefulSet's scripts ConfigMap, which the runs below mount as shipped.
    const pod = first.find((object) => object.kind === 'StatefulSet')!.spec.template.spec;
    const resetContainer = pod.initContainers.find((container: any) => container.name === 'reset-overlay');
    expect(resetContainer.command).toEqual(['/bin/sh', '/qemu-scripts/reset-overlay.sh']);
    expect(resetContainer.volumeMounts).toContainEqual({ name: 'qemu-scripts', mountPath: '/qemu-scripts', readOnly: true });
    const scripts = pod.volumes.find((volume: any) => volume.name === 'qemu-scripts').configMap.name;
    expect(first.find((object) => object.kind === 'ConfigMap' && object.metadata.name === scripts)!.data['reset-overlay.sh'])
      .toBe(shippedScript('reset-overlay.sh'));
    expect((await runReplica(first, 1, { disk: volume })).exitCode).toBe(0);
    const overlay = path.join(volume, 'snapshots', 'win98_instance_1.qcow2');
    const before = sha256Of(overlay);

    // The same token again, in a later start: the reset already happened, the overlay stays.
    const again = await runPod({ objects: first, workload: 'qemu-emulator', shell: 'busybox', initContainers: ['reset-overlay'], volumes: { disk: volume }, pod: { name: 'qemu-emulator-1' } });
    expect(again.output).toContain("reset 'r1' already done for instance 1");
    expect(sha256Of(overlay)).toBe(before);

    // A new token: this instance's overlay is moved aside; other instances' are not touched.
    fs.writeFileSync(path.join(volume, 'snapshots', 'win98_instance_2.qcow2'), 'other instance');
    const second = topologyChart(undefined, { resetToken: 'r2' });
    const reset = await runPod({ objects: second, workload: 'qemu-emulator', shell: 'busybox', initContainers: ['reset-overlay'], volumes: { disk: volume }, pod: { name: 'qemu-emulator-1' } });
    expect(reset.exitCode).toBe(0);
    expect(fs.existsSync(overlay)).toBe(false);
    expect(sha256Of(`${overlay}.before-reset`)).toBe(before);
    expect(fs.readFileSync(path.join(volume, 'snapshots', 'win98_instance_2.qcow2'), 'utf8')).toBe('other instance');
  });
});

describe.each(SHELLS)('one-shot reset of a snapshotDir with unusual characters, under %s', (shell) => {
  const reset = (volume: string, snapshotDir: string, token = 'r1') => runPod({
    objects: topologyChart(undefined, { resetToken: token, snapshotDir }), workload: 'qemu-emulator', shell,
    initContainers: ['reset-overlay'], volumes: { disk: volume }, pod: { name: 'qemu-emulator-1' },
  });
  const overlayIn = (volume: string, dir: string) => {
    fs.mkdirSync(path.join(volume, dir), { recursive: true });
    const overlay = path.join(volume, dir, 'win98_instance_1.qcow2');
    fs.writeFileSync(overlay, `overlay in ${dir}`);
    return overlay;
  };

  test.each(['my snapshots', '$(POD_NAME) $$ cost'])("a directory named '%s' is reset as named", async (name) => {
    const volume = tempDir('reset-');
    const overlay = overlayIn(volume, name);
    const result = await reset(volume, `/images/${name}`);
    expect(result.exitCode).toBe(0);
    expect(fs.existsSync(overlay)).toBe(false);
    expect(fs.readFileSync(`${overlay}.before-reset`, 'utf8')).toBe(`overlay in ${name}`);
    expect(fs.readFileSync(path.join(volume, '.reset-token.1'), 'utf8')).toBe('r1');
  });

  test("a '*' in the directory's name matches only itself: other directories are not touched", async () => {
    const volume = tempDir('reset-');
    const overlay = overlayIn(volume, 'snap*');
    const unrelated = overlayIn(volume, 'snapshots');
    const result = await reset(volume, '/images/snap*');
    expect(result.exitCode).toBe(0);
    expect(fs.readFileSync(`${overlay}.before-reset`, 'utf8')).toBe('overlay in snap*');
    expect(fs.readFileSync(unrelated, 'utf8')).toBe('overlay in snapshots');
    expect(fs.existsSync(`${unrelated}.before-reset`)).toBe(false);
  });

  test('a directory it cannot list fails the reset and records no token, so the next start does it', async () => {
    const volume = tempDir('reset-');
    fs.writeFileSync(path.join(volume, 'overlays'), 'a file where the directory should be');
    const failed = await reset(volume, '/images/overlays');
    expect(failed.exitCode).toBe(1);
    expect(failed.output.trim().split('\n')).toEqual([
      "reset-overlay: FAILED: cannot list the overlay directory '/images/overlays'; reset 'r1' not recorded, so the next start tries again. What to do: check that it is a directory this container can read",
    ]);
    expect(fs.existsSync(path.join(volume, '.reset-token.1'))).toBe(false);

    fs.rmSync(path.join(volume, 'overlays'));
    const overlay = overlayIn(volume, 'overlays');
    const again = await reset(volume, '/images/overlays');
    expect(again.exitCode).toBe(0);
    expect(fs.existsSync(`${overlay}.before-reset`)).toBe(true);
  });
});
