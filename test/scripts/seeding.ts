/**
 * Fixtures shared by the seeding script's tests: charts that ship the seeder, an emulator image
 * with or without its built-in disk, volumes, and what a test checks on a volume afterwards.
 */
import { Chart, Testing } from 'cdk8s';
import * as fs from 'fs';
import * as path from 'path';
import { ContainerImage, DiskSeeder, DiskSeederProps, EmulatorDisk, LegoLocoChart, QemuStatefulSet, StorageMode } from '../../lib';
import { ImageContents, K8sObject, PodRunOptions, Shell, runPod, PodResult, startPod, RunningPod } from '../harness/pod-runner';
import { makeQcow2, tempDir } from '../harness/qcow2';

export const EMULATOR_IMAGE = 'qemu-loco:v1';
export const SNAPSHOT_IMAGE = 'ghcr.io/mroie/qemu-snapshots:win98-base';
export const DISK = 'win98.qcow2';
/**
 * 1 MiB of real data: a real copy, as small as it can be where size is not the point (tests that
 * need a copy to take a while, or a given size, pass `bytes`).
 */
export const IMAGE_BYTES = 1 << 20;

/** A LegoLocoChart in mode A or B (StorageMode.persistent() or hybrid()), as main.ts builds them (one replica). */
export function locoChart(mode: StorageMode): K8sObject[] {
  return Testing.synth(new LegoLocoChart(Testing.app(), `loco-${mode.kind}`, {
    mode,
    emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1') },
  })) as K8sObject[];
}

/** A DiskSeeder with the given props in front of a QemuStatefulSet, in a test chart. */
export function seederChart(props: Partial<DiskSeederProps> = {}): K8sObject[] {
  const chart = new Chart(Testing.app(), 'test');
  const disk = new EmulatorDisk(chart, 'Disk');
  const seeder = new DiskSeeder(chart, 'Seeder', { disk, image: ContainerImage.fromReference(EMULATOR_IMAGE), ...props });
  new QemuStatefulSet(chart, 'Emulator', { disk, seeder, image: ContainerImage.fromTag('qemu-loco', 'v1') });
  return Testing.synth(chart) as K8sObject[];
}

/** An emulator image directory holding a real built-in qcow2 (or nothing when `withBuiltin` is false). */
export function emulatorImage(options: { withBuiltin?: boolean; bytes?: number } = {}): { dir: string; builtin: string } {
  const dir = tempDir('emulator-image-');
  const builtin = path.join(dir, 'win98.qcow2.builtin');
  if (options.withBuiltin ?? true) makeQcow2(builtin, options.bytes ?? IMAGE_BYTES);
  return { dir, builtin };
}

/** An empty disk volume (a host directory, as a fresh claim). */
export function freshVolume(): string {
  return tempDir('disk-volume-');
}

/** Runs the synthesized pod's init containers with the emulator image's files and the disk volume. */
export function seed(objects: K8sObject[], shell: Shell, volume: string, builtinDir: string, extra: Partial<PodRunOptions> = {}): Promise<PodResult> {
  return runPod(podOptions(objects, shell, volume, builtinDir, extra));
}

/** The same, in the background. */
export function startSeed(objects: K8sObject[], shell: Shell, volume: string, builtinDir: string, extra: Partial<PodRunOptions> = {}): RunningPod {
  return startPod(podOptions(objects, shell, volume, builtinDir, extra));
}

export function podOptions(objects: K8sObject[], shell: Shell, volume: string, builtinDir: string, extra: Partial<PodRunOptions> = {}): PodRunOptions {
  const images: Record<string, ImageContents> = {
    [EMULATOR_IMAGE]: { files: { '/opt/builtin-images': builtinDir } },
    // The tools image of the kubelet-pull method: busybox's own image.
    'busybox:1.35': { files: { '/bin/busybox': '/bin/busybox' }, qemuImg: false },
    ...extra.images,
  };
  return { objects, shell, volumes: { disk: volume }, timeoutMs: 30_000, ...extra, images };
}

/**
 * A seed-tools emptyDir as the chart's seed-tools init container leaves it, from one real run:
 * for pods where seed-tools is not what is tested (they run from the next container on). Made
 * once per test file; the containers after seed-tools only read it.
 */
export async function preparedSeedTools(objects: K8sObject[], builtinDir: string): Promise<string> {
  const tools = tempDir('seed-tools-');
  const result = await runPod(podOptions(objects, 'dash', freshVolume(), builtinDir, {
    initContainers: ['seed-tools'], volumes: { 'disk': freshVolume(), 'seed-tools': tools },
  }));
  if (result.exitCode !== 0) throw new Error(`seed-tools failed: ${result.output}`);
  return tools;
}

/** The names on a volume that are not the disk or its record: what a seeder must not leave. */
export function leftovers(volume: string): string[] {
  return fs.readdirSync(volume).filter((name) => name !== DISK && name !== `${DISK}.seed-info`).sort();
}

/** The record beside the disk as key/value pairs. */
export function recordOf(volume: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(volume, `${DISK}.seed-info`), 'utf8').split('\n')) {
    const match = /^([a-z0-9_]+)=(.*)$/.exec(line);
    if (match) record[match[1]] = match[2];
  }
  return record;
}

/** The one line a failed seeder prints to stderr. */
export function failureLine(result: PodResult): string {
  const lines = result.containers[result.containers.length - 1].stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0];
}
