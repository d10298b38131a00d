/**
 * Fixtures of the snapshot corpus (corpus.test.ts): layer tars written entry by entry (so that a
 * test can write what no image builder would: `../` and absolute names, a name twice, links to
 * host files and devices, whiteouts), images pushed byte for byte (media types and manifest text
 * as given), and the three readers of a snapshot image run on one image: the kubelet (skopeo +
 * umoci unpack, then the synthesized stage and seed containers), the registry client (the
 * synthesized seeder running fetch-snapshot.sh) and check-image.
 */
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ContainerImage, SeedSource, SnapshotMethod } from '../../lib';
import { checkImage } from '../../lib/cli/check-image';
import { K8sObject, runPod, Shell } from '../harness/pod-runner';
import { sha256Of, tempDir } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import { DISK, emulatorImage, podOptions, seederChart } from '../scripts/seeding';
import { httpRequest, initContainers, kubeletPullPod, registryClientChart, registryClientPod, uploadBlob } from './snapshot-fixtures';

/** One tar entry, written as given. */
export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char';
  /** A regular file's bytes. */
  readonly data?: Buffer;
  /** A link's target, written as given. */
  readonly link?: string;
}

const TYPE_FLAGS = { file: '0', hardlink: '1', symlink: '2', char: '3', dir: '5' };

/** A ustar archive of the entries, in order, ended by two zero blocks. */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const data = type === 'file' ? entry.data ?? Buffer.alloc(0) : Buffer.alloc(0);
    const header = Buffer.alloc(512);
    const put = (offset: number, length: number, value: string) => header.write(value.slice(0, length), offset, length, 'latin1');
    const octal = (offset: number, length: number, value: number) => put(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
    put(0, 100, entry.name);
    octal(100, 8, type === 'dir' ? 0o755 : 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, 0);
    put(156, 1, TYPE_FLAGS[type]);
    put(157, 100, entry.link ?? '');
    put(257, 8, 'ustar\u000000');
    if (type === 'char') { octal(329, 8, 1); octal(337, 8, 5); }
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A layer as pushed: the tar, gzipped or not, under a media type (the right one by default). */
export interface CorpusLayer {
  readonly entries: TarEntry[];
  /** @default true */
  readonly gzip?: boolean;
  /** @default - the OCI type of the compression */
  readonly mediaType?: string;
}

/** An image as pushed: layers, and the manifest text (made from the real one when given). */
export interface CorpusImage {
  readonly layers: CorpusLayer[];
  /** Rewrites the manifest's text (the layers' descriptors are passed). */
  readonly manifest?: (manifest: any, descriptors: any[]) => string;
}

/** Pushes the image through the registry's HTTP API, byte for byte; returns its reference. */
export async function pushCorpusImage(registry: LocalRegistry, repository: string, image: CorpusImage): Promise<string> {
  const descriptors = [];
  const diffIds = [];
  // A layer repeated in the image (the same entries, compression and type) is made and uploaded once.
  const made = new Map<string, { diffId: string; descriptor: { mediaType: string; digest: string; size: number } }>();
  for (const layer of image.layers) {
    const gzip = layer.gzip ?? true;
    const mediaType = layer.mediaType ?? `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}`;
    const tar = tarOf(layer.entries);
    const key = `${sha256(tar)} ${gzip} ${mediaType}`;
    let layerMade = made.get(key);
    if (!layerMade) {
      const blob = gzip ? zlib.gzipSync(tar) : tar;
      layerMade = { diffId: `sha256:${sha256(tar)}`, descriptor: { mediaType, digest: await uploadBlob(registry, repository, blob), size: blob.length } };
      made.set(key, layerMade);
    }
    diffIds.push(layerMade.diffId);
    descriptors.push({ ...layerMade.descriptor });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await uploadBlob(registry, repository, config), size: config.length },
    layers: descriptors,
  };
  const text = Buffer.from(image.manifest ? image.manifest(manifest, descriptors) : JSON.stringify(manifest));
  const answer = await httpRequest('PUT', `http://${registry.host}/v2/${repository}/manifests/v1`, text,
    { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
  if (answer.status !== 201) throw new Error(`pushing the manifest of ${repository}: HTTP ${answer.status}`);
  return registry.reference(`${repository}:v1`);
}

/** What one reader made of an image: the sha256 of the file it accepted, or why it refused. */
export interface ReaderVerdict {
  readonly accepted?: string;
  readonly refused?: string;
}

/**
 * What the runtime sees at /snapshot.qcow2: the image pulled and unpacked by umoci as a
 * container runtime would (its own whiteout and link rules), described, with the file's sha256
 * when it is a regular file. `rootfs` is undefined when umoci refuses the image.
 */
export async function runtimeView(registry: LocalRegistry, reference: string): Promise<{ rootfs?: string; sees: string; sha256?: string }> {
  const dir = tempDir('corpus-kubelet-');
  const layout = path.join(dir, 'layout');
  const copy = await run('skopeo', ['copy', '--quiet', ...registry.skopeoArgs('src'), `docker://${reference}`, `oci:${layout}:pulled`]);
  if (copy.status !== 0) return { sees: `nothing: the pull fails (${firstLine(copy.stderr)})` };
  const unpack = await run('umoci', ['unpack', '--rootless', '--image', `${layout}:pulled`, path.join(dir, 'bundle')]);
  if (unpack.status !== 0) return { sees: `nothing: unpacking fails (${lastLine(unpack.stderr)})` };
  const rootfs = path.join(dir, 'bundle', 'rootfs');
  const file = path.join(rootfs, 'snapshot.qcow2');
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return { rootfs, sees: 'no /snapshot.qcow2' };
  }
  if (stat.isSymbolicLink()) return { rootfs, sees: `a symbolic link to ${fs.readlinkSync(file)}` };
  if (!stat.isFile()) return { rootfs, sees: 'not a regular file' };
  const sha = sha256Of(file);
  return { rootfs, sha256: sha, sees: `a file of ${stat.size} bytes${stat.nlink > 1 ? ` with ${stat.nlink} names` : ''} (${sha.slice(0, 12)})` };
}

/** The kubelet-pull reader: the runtime's rootfs as the seed-snapshot image, then stage and seed. */
export async function kubeletReader(reference: string, rootfs: string | undefined, shell: Shell, volume: string): Promise<ReaderVerdict> {
  if (!rootfs) return { refused: 'the runtime cannot unpack the image (the pod never starts)' };
  const objects = seederChart({ sources: [SeedSource.snapshot(ContainerImage.fromReference(reference), { method: SnapshotMethod.kubeletPull() })] });
  const image = initContainers(objects).find((container) => container.name === 'seed-snapshot').image;
  const pod = kubeletPullPod(objects, shell, volume, emptyEmulator(), image, rootfs);
  // seed-tools is not what the corpus reads: every pod starts from the emptyDir one run of it left.
  const tools = await seedTools(objects);
  const result = await runPod({ ...pod, initContainers: ['seed-snapshot', 'seed-disk'], volumes: { ...pod.volumes, 'seed-tools': tools } });
  return verdictOf(result.exitCode, volume, result.output);
}

let seedToolsDir: Promise<string> | undefined;
/** The seed-tools emptyDir as the synthesized seed-tools container leaves it, made once (read-only in the stage step). */
function seedTools(objects: K8sObject[]): Promise<string> {
  seedToolsDir ??= (async () => {
    const dir = tempDir('corpus-seed-tools-');
    const result = await runPod(podOptions(objects, 'dash', dir, emptyEmulator(), { initContainers: ['seed-tools'], volumes: { 'seed-tools': dir } }));
    if (result.exitCode !== 0) throw new Error(`seed-tools did not complete: ${result.output}`);
    return dir;
  })();
  return seedToolsDir;
}

/** The registry-client reader: the synthesized seeder running fetch-snapshot.sh. */
export async function registryReader(reference: string, shell: Shell, volume: string): Promise<ReaderVerdict> {
  const result = await runPod(registryClientPod(registryClientChart(reference), shell, volume, emptyEmulator()));
  return verdictOf(result.exitCode, volume, result.output);
}

/** check-image on the image in the registry, its files in `tmpdir`. */
export function checkImageReader(reference: string, tmpdir?: string): ReaderVerdict {
  try {
    const result = checkImage({ image: `docker://${reference}`, path: '/snapshot.qcow2', tlsVerify: false, tmpdir });
    return result.ok ? { accepted: result.sha256 } : { refused: result.problem };
  } catch (error) {
    return { refused: `exit 3: ${(error as Error).message}` };
  }
}

function verdictOf(exitCode: number | null, volume: string, output: string): ReaderVerdict {
  const disk = path.join(volume, DISK);
  if (exitCode === 0 && fs.existsSync(disk)) return { accepted: sha256Of(disk) };
  const failed = output.split('\n').filter((line) => line.includes('FAILED')).pop();
  return { refused: failed ?? `exit ${exitCode}` };
}

let emptyEmulatorDir: string | undefined;
/** The emulator image without a built-in disk: the snapshot is the only source. */
function emptyEmulator(): string {
  emptyEmulatorDir ??= emulatorImage({ withBuiltin: false }).dir;
  return emptyEmulatorDir;
}

/** A tmpfs of `mib` MiB at a new directory (a volume that can fill up); `unmount` removes it. */
export function smallVolume(mib: number): { dir: string; unmount: () => void } {
  const dir = tempDir('small-volume-');
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0777`, 'corpus-small', dir], { encoding: 'utf8' });
  if (mount.status !== 0) throw new Error(`mount tmpfs at ${dir}: ${mount.stderr}`);
  return { dir, unmount: () => { spawnSync('umount', [dir]); } };
}

/** A command's exit status and stderr, without blocking the other readers. */
function run(command: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stderr }));
    child.on('error', (error) => resolve({ status: null, stderr: error.message }));
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
