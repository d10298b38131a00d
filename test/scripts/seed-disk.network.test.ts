// No reader of a disk image reaches the network: images whose backing file or data file is an
// http URL served by a counting HTTP server on 127.0.0.1 are refused by every source of the
// seeder (builtin, kubelet-pull stage and staged file, registry client), by wait-for-base and by
// check-image, and the server sees 0 requests. The positive control shows that in the same
// harness (pod-runner, with the host's /usr/lib and so qemu-block-extra's curl driver) an
// unguarded qemu-img check of the same image does reach the server: the zero means something.
import { Chart, Testing } from 'cdk8s';
import * as fs from 'fs';
import * as path from 'path';
import { ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, QemuStatefulSet, StorageMode } from '../../lib';
import { shippedScript } from '../../lib/disk-seeder';
import { BUILTIN_IMAGE_PATH, checkImage } from '../../lib/cli/check-image';
import { CountingServer } from '../harness/counting-server';
import { OciLayout } from '../harness/oci-image';
import { K8sObject, runPod, SHELLS } from '../harness/pod-runner';
import { cleanupDirs, sha256Of, tempDir } from '../harness/qcow2';
import { networkQcow2Cases, Qcow2Case } from '../harness/qcow2-cases';
import { LocalRegistry } from '../harness/registry';
import { publishSnapshot, registryClientChart, registryClientPod } from '../snapshot/snapshot-fixtures';
import { DISK, EMULATOR_IMAGE, emulatorImage, failureLine, freshVolume, locoChart, preparedSeedTools, recordOf, seed, seederChart, SNAPSHOT_IMAGE } from './seeding';

jest.setTimeout(120_000);

let server: CountingServer;
let cases: Qcow2Case[];
/** Per case: a directory holding the image as `win98.qcow2.builtin`. */
const imageDirs = new Map<string, string>();
const imageOf = (policyCase: Qcow2Case) => path.join(imageDirs.get(policyCase.name)!, 'win98.qcow2.builtin');

beforeAll(async () => {
  server = await CountingServer.start();
  cases = networkQcow2Cases((urlPath) => server.url(urlPath));
  for (const policyCase of cases) {
    const dir = tempDir('network-image-');
    fs.renameSync(policyCase.build(dir), path.join(dir, 'win98.qcow2.builtin'));
    fs.chmodSync(path.join(dir, 'win98.qcow2.builtin'), 0o644);
    imageDirs.set(policyCase.name, dir);
  }
});
afterAll(async () => {
  await server?.stop();
  cleanupDirs();
});
beforeEach(() => server.reset());

// The case list is known only after the server started: the tests iterate over its names.
const CASE_NAMES = networkQcow2Cases((urlPath) => `http://127.0.0.1:0${urlPath}`).map((c) => c.name);
const byName = (name: string) => cases.find((c) => c.name === name)!;

/** A pod whose one container runs an unguarded qemu-img on the image at /images/disk.qcow2. */
function controlPod(args: string[]): K8sObject[] {
  return [{
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'control' },
    spec: { initContainers: [{ name: 'unguarded', image: 'control:v1', command: ['qemu-img', ...args, '/images/disk.qcow2'] }] },
  }];
}

describe('positive control: an unguarded qemu-img in the same harness reaches the server', () => {
  test.each(CASE_NAMES.filter((name) => name.startsWith('backing')))('%s: qemu-img check -f qcow2 makes requests', async (name) => {
    const result = await runPod({
      objects: controlPod(['check', '-f', 'qcow2']), shell: 'busybox',
      images: { 'control:v1': { files: { '/images/disk.qcow2': imageOf(byName(name)) } } },
    });
    expect(result.output).toContain('CURL');
    expect(server.requests().length).toBeGreaterThan(0);
  });

  test('an http data file: QEMU 7.2 opens it as a local path (no request); its danger is a host file, refused all the same', async () => {
    const result = await runPod({
      objects: controlPod(['check', '-f', 'qcow2']), shell: 'busybox',
      images: { 'control:v1': { files: { '/images/disk.qcow2': imageOf(byName('external data file, http URL')) } } },
    });
    expect(result.output).toMatch(/Could not open 'http:\/\/127\.0\.0\.1:\d+\/data-file\.raw': No such file or directory/);
  });
});

describe('the guarded qemu-img form, on its own (defence in depth behind the header check)', () => {
  test('every qemu-img call of seed-disk.sh opens its file through safe_spec', () => {
    const calls = shippedScript('seed-disk.sh').split('\n').filter((line) => /^\s*(?:[A-Za-z_]+=\$\()?qemu-img\s/.test(line));
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const line of calls) expect(line).toContain('"$(safe_spec "$1"');
  });

  test.each(CASE_NAMES.filter((name) => name.startsWith('backing')))('%s: qemu-img check -U json:{qcow2 over file, backing null} makes no request', async (name) => {
    const spec = 'json:{"driver":"qcow2","file":{"driver":"file","filename":"/images/disk.qcow2"},"backing":null}';
    const result = await runPod({
      objects: [{
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'guarded' },
        spec: { initContainers: [{ name: 'guarded', image: 'control:v1', command: ['qemu-img', 'check', '-U', spec] }] },
      }],
      shell: 'busybox',
      images: { 'control:v1': { files: { '/images/disk.qcow2': imageOf(byName(name)) } } },
    });
    expect(result.output).toContain('No errors were found on the image.');
    expect(server.requests()).toEqual([]);
  });
});

describe.each(SHELLS)('under %s, no source of the seeder makes a request', (shell) => {
  test.each(CASE_NAMES)('builtin: %s', async (name) => {
    const policyCase = byName(name);
    const volume = freshVolume();
    const result = await seed(seederChart(), shell, volume, imageDirs.get(name)!);
    expect(result.exitCode).toBe(1);
    expect(failureLine(result)).toMatch(policyCase.refused!);
    expect(fs.readdirSync(volume)).toEqual([]);
    expect(server.requests()).toEqual([]);
  });

  const hybrid = locoChart(StorageMode.hybrid());
  let good: ReturnType<typeof emulatorImage>;
  let tools: string;
  beforeAll(async () => {
    good = emulatorImage();
    tools = await preparedSeedTools(hybrid, good.dir);
  });

  test.each(CASE_NAMES)('kubelet-pull: the stage step refuses it, and so does the seeder for a staged file: %s', async (name) => {
    const policyCase = byName(name);
    const snapshotImage = { [SNAPSHOT_IMAGE]: { scratch: true, files: { '/snapshot.qcow2': imageOf(policyCase) } } };

    // From the stage step on: seed-tools is not what this tests (seed-disk.stage.test.ts runs it).
    const volume = freshVolume();
    const staged = await seed(hybrid, shell, volume, good.dir, {
      images: snapshotImage, initContainers: ['seed-snapshot', 'seed-disk'], volumes: { 'disk': volume, 'seed-tools': tools },
    });
    expect(staged.container('seed-snapshot').stdout).toMatch(/not staged: \/snapshot\.qcow2: /);
    expect(staged.container('seed-snapshot').stdout).toMatch(policyCase.refused!);
    expect(staged.exitCode).toBe(0);
    expect(recordOf(volume).source).toBe('builtin');

    // A file already staged (by an older stage step, or put there by hand) meets the seeder's policy.
    const second = freshVolume();
    fs.copyFileSync(imageOf(policyCase), path.join(second, `.${DISK}.staged`));
    const taken = await seed(hybrid, shell, second, good.dir, { initContainers: ['seed-disk'] });
    expect(taken.output).toMatch(/staged snapshot: rejected: /);
    expect(taken.output).toMatch(policyCase.refused!);
    expect(taken.exitCode).toBe(0);
    expect(sha256Of(path.join(second, DISK))).toBe(sha256Of(good.builtin));
    expect(server.requests()).toEqual([]);
  });

  test.each(CASE_NAMES)('wait-for-base refuses it as the shared base: %s', async (name) => {
    const policyCase = byName(name);
    const chart = new Chart(Testing.app(), 'shared');
    const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.sharedBase() });
    const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: ContainerImage.fromReference(EMULATOR_IMAGE), baseWaitSeconds: 3 });
    new QemuStatefulSet(chart, 'Emulator', { disk, seeder, image: ContainerImage.fromTag('qemu-loco', 'v1') });
    const base = tempDir('base-claim-');
    fs.copyFileSync(imageOf(policyCase), path.join(base, DISK));
    fs.chmodSync(path.join(base, DISK), 0o644);

    const result = await runPod({
      objects: Testing.synth(chart) as K8sObject[], workload: 'qemu-emulator', shell, initContainers: ['wait-for-base'],
      volumes: { base, disk: tempDir('overlays-') },
    });
    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(/wait-for-disk: FAILED: the base image is refused: \/images\/base\/win98\.qcow2: /);
    expect(result.output).toMatch(policyCase.refused!);
    expect(server.requests()).toEqual([]);
  });
});

describe('registry client and check-image', () => {
  let layout: OciLayout;
  let registry: LocalRegistry;
  beforeAll(async () => {
    layout = OciLayout.create();
    registry = await LocalRegistry.start();
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    layout?.dispose();
  });

  test.each(CASE_NAMES.map((name, index) => [name, index] as const))('registry client, both shells: %s', async (name, index) => {
    const policyCase = byName(name);
    const published = publishSnapshot(registry, layout, `qemu-snapshots:net-${index}`, { qcow2: imageOf(policyCase) });
    for (const shell of SHELLS) {
      const volume = freshVolume();
      const objects = registryClientChart(published.reference);
      const result = await runPod(registryClientPod(objects, shell, volume, emulatorImage({ withBuiltin: false }).dir));
      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(/Tried: snapshot: /);
      expect(failureLine(result)).toMatch(policyCase.refused!);
      expect(fs.readdirSync(volume)).toEqual([]);
    }
    expect(server.requests()).toEqual([]);
  });

  test.each(CASE_NAMES.map((name, index) => [name, index] as const))('check-image: %s', (name, index) => {
    const policyCase = byName(name);
    layout.build(`net-builtin-${index}`, [{ files: [{ path: BUILTIN_IMAGE_PATH, source: imageOf(policyCase) }] }]);
    const result = checkImage({ image: layout.reference(`net-builtin-${index}`) });
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(policyCase.refused!);
    expect(server.requests()).toEqual([]);
  });
});
