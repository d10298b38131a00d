/**
 * Fixtures of the snapshot-download tests: snapshot images built the way the chart's
 * scripts/build_snapshot.sh builds them (FROM scratch, one layer holding /snapshot.qcow2, a real
 * qcow2 made by qemu-img) and pushed to a real registry; the charts that ship each download method;
 * the kubelet's part of the kubelet-pull method (pull and unpack the image); and a throttling TCP
 * relay to kill a transfer midway.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import * as zlib from 'zlib';
import { Testing } from 'cdk8s';
import { ContainerImage, LegoLocoChart, SeedingOptions, SeedSource, SnapshotMethod, StorageMode } from '../../lib';
import { ImageContents, K8sObject, PodRunOptions, Shell } from '../harness/pod-runner';
import { OciLayout, LayerSpec } from '../harness/oci-image';
import { LocalRegistry } from '../harness/registry';
import { makeQcow2, sha256Of, tempDir } from '../harness/qcow2';
import { EMULATOR_IMAGE, podOptions, seederChart } from '../scripts/seeding';

export { EMULATOR_IMAGE };

/** A snapshot image in the registry and what the tests compare the disk with. */
export interface PublishedSnapshot {
  /** `127.0.0.1:PORT/repository:tag`. */
  readonly reference: string;
  /** `127.0.0.1:PORT/repository@sha256:...` (the manifest digest). */
  readonly pinned: string;
  /** The manifest digest. */
  readonly digest: string;
  /** The layer holding the qcow2 (the top one). */
  readonly layer: { readonly digest: string; readonly size: number };
  /** The qcow2 file that was published, when there is one. */
  readonly qcow2?: string;
  /** Its sha256. */
  readonly sha256?: string;
}

/**
 * Builds and pushes a snapshot image as build_snapshot.sh does: FROM scratch, one layer with
 * `/snapshot.qcow2` (a real qcow2 of `dataBytes` random data, unless `layers` are given).
 */
export function publishSnapshot(registry: LocalRegistry, layout: OciLayout, repositoryAndTag: string,
  options: { dataBytes?: number; layers?: LayerSpec[]; qcow2?: string } = {}): PublishedSnapshot {
  const tag = repositoryAndTag.replace(/[^A-Za-z0-9_.-]/g, '-');
  let qcow2 = options.qcow2;
  let layers = options.layers;
  if (!layers) {
    if (!qcow2) {
      qcow2 = path.join(layout.workDir, `${tag}.qcow2`);
      makeQcow2(qcow2, options.dataBytes ?? 2 << 20);
    }
    layers = [{ files: [{ path: '/snapshot.qcow2', source: qcow2 }] }];
  }
  const manifest = layout.build(tag, layers);
  const pushed = registry.push(layout.reference(tag), repositoryAndTag);
  const repository = pushed.reference.replace(/:[^:/]+$/, '');
  const top = manifest.layers[manifest.layers.length - 1];
  return {
    reference: pushed.reference,
    pinned: `${repository}@${pushed.digest}`,
    digest: pushed.digest,
    layer: { digest: top.digest, size: top.size },
    qcow2,
    sha256: qcow2 ? sha256Of(qcow2) : undefined,
  };
}

/** What registryClientChart varies: the method's and the source's options, and the seeder's. */
export interface RegistryClientChartOptions extends SeedingOptions {
  /** The registry client's `authSecret`. */
  readonly authSecret?: string;
  /** The registry client's `tlsVerify`. @default false: the local registry speaks plain HTTP */
  readonly tlsVerify?: boolean;
  /** The snapshot source's `path` inside the image. */
  readonly snapshotPath?: string;
  /** The built-in image as the second source (an offline fallback). @default false */
  readonly builtinFallback?: boolean;
}

/**
 * A seeder whose snapshot source uses the registry client, in front of the emulator, as the
 * synthesized manifests carry it. The local registry speaks plain HTTP: tlsVerify false.
 */
export function registryClientChart(snapshotImage: string, options: RegistryClientChartOptions = {}): K8sObject[] {
  const { authSecret, tlsVerify, snapshotPath, builtinFallback, ...seeding } = options;
  const snapshot = SeedSource.snapshot(ContainerImage.fromReference(snapshotImage), {
    method: SnapshotMethod.registryClient({ authSecret, tlsVerify: tlsVerify ?? false }),
    path: snapshotPath,
  });
  return seederChart({ ...seeding, sources: builtinFallback ? [snapshot, SeedSource.builtin()] : [snapshot] });
}

/**
 * Mode B of the LegoLocoChart with the given snapshot: the snapshot, then the built-in image
 * (or the other way round with `builtinFirst`).
 */
export function hybridChart(snapshotImage: string, options: { method?: SnapshotMethod; builtinFirst?: boolean } = {}): K8sObject[] {
  const snapshot = SeedSource.snapshot(ContainerImage.fromReference(snapshotImage), { method: options.method });
  const builtin = SeedSource.builtin();
  return Testing.synth(new LegoLocoChart(Testing.app(), 'loco-hybrid', {
    mode: StorageMode.hybrid({ seeder: { sources: options.builtinFirst ? [builtin, snapshot] : [snapshot, builtin] } }),
    emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1') },
  })) as K8sObject[];
}

/** Mode C of the LegoLocoChart with its emptyDir seeded from the snapshot before the emulator starts. */
export function seededEphemeralChart(snapshotImage: string, method?: SnapshotMethod): K8sObject[] {
  return Testing.synth(new LegoLocoChart(Testing.app(), 'loco-ephemeral', {
    mode: StorageMode.ephemeral({ snapshotImage: ContainerImage.fromReference(snapshotImage), seeder: { method } }),
    emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1') },
  })) as K8sObject[];
}

/** The init containers of the one workload in the objects. */
export function initContainers(objects: K8sObject[]): any[] {
  const workload = objects.find((object) => object.kind === 'StatefulSet')!;
  return workload.spec.template.spec.initContainers;
}

/**
 * The kubelet's part of the kubelet-pull method: pulls `reference` (as the synthesized snapshot
 * container names it) from the registry into an OCI layout with skopeo, and unpacks its layers
 * into a root filesystem with umoci, as a container runtime would. Returns the rootfs directory.
 */
export function pullAsKubelet(registry: LocalRegistry, reference: string): string {
  const dir = tempDir('kubelet-pull-');
  const layout = path.join(dir, 'layout');
  const bundle = path.join(dir, 'bundle');
  run('skopeo', ['copy', '--quiet', ...registry.skopeoArgs('src'), `docker://${reference}`, `oci:${layout}:pulled`]);
  run('umoci', ['unpack', '--rootless', '--image', `${layout}:pulled`, bundle]);
  return path.join(bundle, 'rootfs');
}

/**
 * A `FROM scratch` image whose only files are those of `rootfs`: no shell, no applets, no
 * qemu-img. Every top-level entry is bound at its path; a top-level symbolic link is recreated.
 */
export function scratchImage(rootfs: string): ImageContents {
  const files: Record<string, string> = {};
  const symlinks: Record<string, string> = {};
  for (const entry of fs.readdirSync(rootfs)) {
    const host = path.join(rootfs, entry);
    // A link is made in the container's root: it resolves there, as in the runtime's rootfs.
    if (fs.lstatSync(host).isSymbolicLink()) symlinks[`/${entry}`] = fs.readlinkSync(host);
    else files[`/${entry}`] = host;
  }
  return { scratch: true, files, symlinks };
}

/** The emulator image: skopeo and qemu-img on PATH, and the built-in disk directory. */
export function emulatorWithSkopeo(builtinDir: string): ImageContents {
  return { files: { '/opt/builtin-images': builtinDir }, skopeo: true };
}

/** Pod-runner options for the registry-client seeder (the emulator image with skopeo). */
export function registryClientPod(objects: K8sObject[], shell: Shell, volume: string, builtinDir: string,
  extra: Partial<PodRunOptions> = {}): PodRunOptions {
  return podOptions(objects, shell, volume, builtinDir, {
    ...extra,
    images: { [EMULATOR_IMAGE]: emulatorWithSkopeo(builtinDir), ...extra.images },
  });
}

/** Pod-runner options for the kubelet-pull init containers, the snapshot image unpacked from `rootfs`. */
export function kubeletPullPod(objects: K8sObject[], shell: Shell, volume: string, builtinDir: string,
  snapshotImage: string, rootfs: string): PodRunOptions {
  return podOptions(objects, shell, volume, builtinDir, {
    images: { [snapshotImage]: scratchImage(rootfs) },
    volumes: { 'disk': volume, 'seed-tools': tempDir('seed-tools-') },
  });
}

/** A docker config.json with the registry user's credentials, as a dockerconfigjson Secret holds. */
export function authFileDir(registry: LocalRegistry): string {
  const dir = tempDir('registry-auth-');
  const auth = Buffer.from(registry.credentials()!).toString('base64');
  fs.writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
  fs.chmodSync(path.join(dir, 'auth.json'), 0o644);
  return dir;
}

/**
 * A TCP relay in front of a registry that sends the registry's answers on at `bytesPerSecond`
 * (while throttled), and counts them: slow enough to kill a download midway.
 */
export class ThrottledRelay {
  public static async start(target: number, bytesPerSecond: number): Promise<ThrottledRelay> {
    const relay = new ThrottledRelay(target, bytesPerSecond);
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  /** Bytes sent from the registry to clients so far. */
  public bytesRelayed = 0;
  /** Whether answers are throttled. */
  public throttled = true;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(target: number, private readonly bytesPerSecond: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        this.bytesRelayed += chunk.length;
        client.write(chunk);
        if (this.throttled) {
          upstream.pause();
          setTimeout(() => upstream.resume(), Math.ceil((chunk.length / this.bytesPerSecond) * 1000));
        }
      });
      upstream.on('end', () => client.end());
    });
  }

  /** `127.0.0.1:PORT`. */
  public get host(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A layer for pushRawImage: files (path in the image to content or a host file), and whiteouts. */
export interface RawLayer {
  /** Files: absolute path in the image to a host file to copy in. */
  readonly files?: Record<string, string>;
  /** Paths this layer deletes (a `.wh.<name>` beside each). */
  readonly delete?: string[];
  /** gzip the layer (`tar+gzip`), or leave it a plain `tar`. @default true */
  readonly gzip?: boolean;
  /** Entry names prefixed with `./`, as some image builders write them. @default false */
  readonly dotSlash?: boolean;
}

/**
 * Pushes an OCI image through the registry's HTTP API, byte for byte as given, for the layouts
 * skopeo and umoci would not produce themselves: uncompressed layers, `./` entry names, and a
 * manifest pretty-printed with `indent` spaces and carrying `annotations` (tricky strings).
 */
export async function pushRawImage(registry: LocalRegistry, repositoryAndTag: string, layers: RawLayer[],
  options: { indent?: number; annotations?: Record<string, string> } = {}): Promise<{ reference: string; digest: string }> {
  const [repository, tag] = repositoryAndTag.split(':');
  const work = tempDir('raw-image-');
  const descriptors = [];
  const diffIds = [];
  for (const [i, layer] of layers.entries()) {
    const stage = path.join(work, `stage-${i}`);
    fs.mkdirSync(stage);
    for (const [file, source] of Object.entries(layer.files ?? {})) {
      fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
      fs.copyFileSync(source, path.join(stage, file));
    }
    for (const deleted of layer.delete ?? []) {
      const whiteout = path.join(stage, path.dirname(deleted), `.wh.${path.basename(deleted)}`);
      fs.mkdirSync(path.dirname(whiteout), { recursive: true });
      fs.writeFileSync(whiteout, '');
    }
    const tarFile = path.join(work, `layer-${i}.tar`);
    const entries = fs.readdirSync(stage).sort().map((entry) => (layer.dotSlash ? `./${entry}` : entry));
    run('tar', ['-cf', tarFile, '-C', stage, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--', ...entries]);
    const tar = fs.readFileSync(tarFile);
    diffIds.push(`sha256:${sha256Hex(tar)}`);
    const gzip = layer.gzip ?? true;
    const blob = gzip ? zlib.gzipSync(tar) : tar;
    descriptors.push({
      mediaType: `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}`,
      digest: await uploadBlob(registry, repository, blob),
      size: blob.length,
    });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await uploadBlob(registry, repository, config), size: config.length },
    layers: descriptors,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  }, null, options.indent));
  const answer = await httpRequest('PUT', `http://${registry.host}/v2/${repository}/manifests/${tag}`, manifest,
    { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
  if (answer.status !== 201) throw new Error(`pushing the manifest of ${repositoryAndTag}: HTTP ${answer.status}`);
  return { reference: registry.reference(repositoryAndTag), digest: `sha256:${sha256Hex(manifest)}` };
}

export async function uploadBlob(registry: LocalRegistry, repository: string, blob: Buffer): Promise<string> {
  const digest = `sha256:${sha256Hex(blob)}`;
  const started = await httpRequest('POST', `http://${registry.host}/v2/${repository}/blobs/uploads/`);
  if (started.status !== 202 || !started.location) throw new Error(`starting a blob upload to ${repository}: HTTP ${started.status}`);
  const url = new URL(started.location, `http://${registry.host}`);
  url.searchParams.set('digest', digest);
  const finished = await httpRequest('PUT', url.toString(), blob, { 'Content-Type': 'application/octet-stream' });
  if (finished.status !== 201) throw new Error(`uploading blob ${digest} to ${repository}: HTTP ${finished.status}`);
  return digest;
}

export function httpRequest(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false, headers: { ...headers, 'Content-Length': String(body?.length ?? 0) } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
    });
    request.once('error', reject);
    request.end(body);
  });
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The last line a container printed to stderr: the failure line. */
export function lastStderrLine(output: { stderr: string }): string {
  const lines = output.stderr.split('\n').filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  }
}
