import { spawnSync } from 'child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, posix } from 'path';
import { parseArgs } from 'util';
import { SEED_SCRIPT_FILE } from '../disk-seeder';
import { quantityValue } from '../validation';
import { DEFAULT_BUILTIN_IMAGE_PATH } from '../disk-layout';
import { EXIT, fail, optionError, pathProblem, usageError } from './usage';

/**
 * `cdk8s-qemu-loco check-image`: does an emulator image hold a sound built-in disk image?
 *
 * Mode A (persistent) seeds every new claim from `/opt/builtin-images/win98.qcow2.builtin` inside
 * the emulator image, and fails at run time when it is missing. This check answers before
 * deploying, without a Docker engine: skopeo copies the image into a temporary OCI layout, the
 * system `tar` lists its layers from the top down with a container runtime's rules, the same as
 * the registry client's (a strict manifest, cleaned member names, the last entry of a name wins,
 * whiteouts hide lower layers; links and devices are refused), only the file's bytes are extracted
 * (bounded by the free space of the temporary directory) and the seeder's own image policy judges it (`seed-disk.sh
 * inspect`, the shipped script, run with `sh`): what passes here passes every seeder, and the
 * other way round.
 */

/** Where mode A expects the built-in disk image. */
export const BUILTIN_IMAGE_PATH = DEFAULT_BUILTIN_IMAGE_PATH;

/** The image policy's virtual size limits, in bytes (seed-disk.sh SEED_MAX/MIN_VIRTUAL_SIZE). */
export interface VirtualSizeLimits {
  /**
   * Largest virtual size accepted.
   * @default - the seeder's default, 64 GiB
   */
  readonly maxVirtualSize?: number;
  /**
   * Smallest virtual size accepted.
   * @default - no minimum
   */
  readonly minVirtualSize?: number;
}

/** Options of checkImage. */
export interface CheckImageOptions extends VirtualSizeLimits {
  /**
   * The image: `docker://host/repo:tag`, a bare `host/repo:tag` (meaning `docker://`),
   * `oci:/path/to/layout:tag`, or any other skopeo transport (`oci-archive:`, `docker-archive:`...).
   */
  readonly image: string;
  /**
   * The file to look for, absolute inside the image.
   * @default BUILTIN_IMAGE_PATH
   */
  readonly path?: string;
  /**
   * A registry credentials file (`auth.json`, as `podman login` or `skopeo login` write it).
   * @default - skopeo's default ($REGISTRY_AUTH_FILE, then ${XDG_RUNTIME_DIR}/containers/auth.json)
   */
  readonly authfile?: string;
  /**
   * Registry credentials, `user[:password]`.
   * @default - none
   */
  readonly creds?: string;
  /**
   * Require HTTPS and verify the registry's certificate. `false` for a local registry over HTTP.
   * @default true
   */
  readonly tlsVerify?: boolean;
  /**
   * Directory for the temporary copy of the image (it needs room for the whole image).
   * @default - the system's temporary directory
   */
  readonly tmpdir?: string;
  /**
   * Seconds the image copy may take.
   * @default 600
   */
  readonly timeoutSeconds?: number;
}

/** Where the file was found. */
export interface LayerRef {
  /** 1-based position of the layer, from the bottom. */
  readonly index: number;
  /** The layer's digest. */
  readonly digest: string;
}

/** What checkImage found. */
export interface CheckImageResult {
  /** True when the file is there and is a sound qcow2 image. */
  readonly ok: boolean;
  /** The image, as skopeo named it. */
  readonly source: string;
  /** The file looked for. */
  readonly path: string;
  /** Number of layers of the image. */
  readonly layerCount: number;
  /** The layer that provides the file, when present. */
  readonly foundIn?: LayerRef;
  /** The image format qemu-img detected. */
  readonly format?: string;
  /** Virtual size of the disk image in bytes. */
  readonly virtualSize?: number;
  /** The sha256 of the file, when it passed (what `expectedSha256` pins). */
  readonly sha256?: string;
  /** Size of the file in bytes. */
  readonly fileSize?: number;
  /** Leaked clusters `qemu-img check` reported (harmless: space only). */
  readonly leaks?: number;
  /** Why the check failed, when it did: one sentence. */
  readonly problem?: string;
}

/**
 * The image could not be read at all (registry, credentials): exit code 3; its subclasses say
 * when a program is missing (ToolMissing, exit 4) or --tmpdir cannot be used (UnusablePath, exit 2).
 */
export class ImageInspectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInspectionError';
  }
}

/** A step was stopped by SIGINT or SIGTERM (the temporary copy is removed all the same). */
class Interrupted extends ImageInspectionError {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

/** spawnSync, failing with Interrupted when the child was stopped by Ctrl-C or SIGTERM. */
function runTool(command: string, args: string[], options: { timeout?: number; maxBuffer?: number; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.signal === 'SIGINT' || result.signal === 'SIGTERM') throw new Interrupted(result.signal);
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new ToolMissing(command);
  return result;
}

/** How to install each program check-image runs. */
const PACKAGES: { [tool: string]: string } = {
  'skopeo': 'apt-get install skopeo (Debian/Ubuntu), dnf install skopeo (Fedora)',
  'qemu-img': 'apt-get install qemu-utils (Debian/Ubuntu), dnf install qemu-img (Fedora)',
  'tar': 'apt-get install tar (Debian/Ubuntu), dnf install tar (Fedora)',
  'sha256sum': 'apt-get install coreutils (Debian/Ubuntu), dnf install coreutils (Fedora)',
  'sh': 'apt-get install dash (Debian/Ubuntu), dnf install bash (Fedora)',
};

/** A program check-image runs is not installed (not found in PATH): exit 4. */
export class ToolMissing extends ImageInspectionError {
  constructor(readonly tool: string) {
    super(`${tool} is not installed (not found in PATH). What to do: install it: ${PACKAGES[tool] ?? `the package that provides ${tool}`}`);
  }
}

/** A path the command line names cannot be used (--tmpdir): exit 2, bad usage. */
export class UnusablePath extends ImageInspectionError {}

const TRANSPORTS = /^(docker|oci|oci-archive|docker-archive|dir|containers-storage|docker-daemon):/;
const MAX_LISTING = 512 * 1024 * 1024;

/** The skopeo source for an image reference: a bare reference means `docker://`. */
export function skopeoSource(image: string): string {
  return TRANSPORTS.test(image) ? image : `docker://${image}`;
}

/**
 * Copies the image to a temporary OCI layout, finds the file through the layers and checks it.
 * Throws ImageInspectionError when the image cannot be read: ToolMissing when skopeo, tar or
 * qemu-img is not installed, UnusablePath when the temporary directory cannot be created.
 */
export function checkImage(options: CheckImageOptions): CheckImageResult {
  const path = options.path ?? BUILTIN_IMAGE_PATH;
  if (!path.startsWith('/')) {
    throw new ImageInspectionError(`the path to look for must be absolute inside the image, not '${path}'`);
  }
  for (const tool of ['skopeo', 'tar', 'qemu-img']) {
    requireTool(tool);
  }
  const source = skopeoSource(options.image);
  const work = workDirectory(options.tmpdir);
  try {
    const layout = join(work, 'layout');
    copyImage(source, layout, options);
    const layers = readLayers(layout);
    return inspect(source, path, layers, join(work, 'extract'), options);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { source, path, layerCount: 0, ok: false, problem: `the image is refused: ${error.message}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fresh directory for the copy, under `parent` (--tmpdir) or the system's temporary directory. */
function workDirectory(parent: string | undefined): string {
  const where = parent ?? tmpdir();
  try {
    return mkdtempSync(join(where, 'check-image-'));
  } catch (error) {
    const option = parent === undefined ? 'TMPDIR' : '--tmpdir';
    throw new UnusablePath(`cannot create the temporary copy in ${option} ${where}: ${pathProblem(error, where)}. ` +
      `What to do: give --tmpdir an existing, writable directory with room for the image`);
  }
}

interface Layer extends LayerRef {
  readonly blob: string;
  readonly mediaType: string;
}

function copyImage(source: string, layout: string, options: CheckImageOptions): void {
  const args = ['--command-timeout', `${options.timeoutSeconds ?? 600}s`, 'copy', '--quiet'];
  if (options.authfile) args.push('--src-authfile', options.authfile);
  if (options.creds) args.push('--src-creds', options.creds);
  if (options.tlsVerify === false) args.push('--src-tls-verify=false');
  args.push(source, `oci:${layout}:image`);
  const result = runTool('skopeo', args, { timeout: ((options.timeoutSeconds ?? 600) + 30) * 1000 });
  if (result.status !== 0) {
    const message = skopeoMessage(result.stderr || String(result.error ?? result.signal));
    if (/no space left on device/i.test(message)) {
      const free = freeBytes(dirname(layout));
      throw new OutOfSpace(`the temporary directory is full: skopeo copy ${source} ran out of room in ${dirname(layout)} (${formatBytes(free ?? 0)} free; ${message}). ` +
        'What to do: give --tmpdir a directory with room for the whole image');
    }
    throw new ImageInspectionError(`skopeo copy ${source} failed: ${message}`);
  }
}

/** skopeo's fatal message without the log decoration. */
function skopeoMessage(stderr: string): string {
  const fatal = stderr.split('\n').find((line) => line.includes('level=fatal')) ?? stderr.trim().split('\n').pop() ?? '';
  const match = /msg="((?:[^"\\]|\\.)*)"/.exec(fatal);
  return (match ? match[1].replace(/\\"/g, '"') : fatal).trim();
}

/** The image holds something this check refuses to read as the file (the result's problem). */
class Refused extends Error {}

/** A resource ran out (the temporary directory): exit 3, with what ran out, where and what to do. */
export class OutOfSpace extends ImageInspectionError {}

/** The OCI image manifest schema, as far as this check reads it: nothing else is accepted. */
const MANIFEST_KEYS = new Set(['schemaVersion', 'mediaType', 'config', 'layers', 'annotations', 'subject', 'artifactType']);
const DESCRIPTOR_KEYS = new Set(['mediaType', 'digest', 'size', 'annotations', 'urls', 'data', 'artifactType']);
/** Layer media types and the compression each one means (the runtime decides by the type). */
const LAYER_TYPES: { [mediaType: string]: string } = {
  'application/vnd.oci.image.layer.v1.tar': 'plain tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
};

function readLayers(layout: string): Layer[] {
  const blobPath = (digest: string) => {
    const [algorithm, hex] = String(digest).split(':');
    if (!/^sha(256|512)$/.test(algorithm) || !/^[0-9a-f]+$/.test(hex ?? '')) throw new Refused(`the manifest names a malformed digest '${digest}'`);
    return join(layout, 'blobs', algorithm, hex);
  };
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const descriptor = index.manifests?.[0];
  if (!descriptor) throw new ImageInspectionError('the copied image has no manifest');
  const manifest = checkManifest(JSON.parse(readFileSync(blobPath(descriptor.digest), 'utf8')));
  return manifest.layers.map((layer, position) => {
    const blob = blobPath(layer.digest);
    // Every layer's type, as the runtime checks them all before unpacking any.
    checkLayerType(blob, layer.digest, layer.mediaType);
    return { index: position + 1, digest: layer.digest, blob, mediaType: layer.mediaType };
  });
}

/**
 * The manifest, if it is an OCI image manifest and nothing else: keys outside the schema are
 * refused (Go's decoder, the runtime's, takes "Layers" for "layers"; another reader could take a
 * key "layers[9].digest" for a layer), as the registry client refuses them.
 */
function checkManifest(manifest: unknown): { layers: Array<{ digest: string; mediaType: string }> } {
  checkObject(manifest, MANIFEST_KEYS, 'top level');
  if (manifest.manifests !== undefined) throw new Refused('it is an image index, not an image');
  if (manifest.schemaVersion !== 2 || (manifest.mediaType !== undefined && manifest.mediaType !== 'application/vnd.oci.image.manifest.v1+json')) {
    throw new Refused(`its manifest is not an OCI image manifest (schemaVersion ${manifest.schemaVersion}, mediaType ${manifest.mediaType})`);
  }
  checkObject(manifest.config, DESCRIPTOR_KEYS, 'the config');
  if (manifest.config.mediaType !== 'application/vnd.oci.image.config.v1+json') throw new Refused(`its config has the media type ${manifest.config.mediaType}`);
  if (!Array.isArray(manifest.layers)) throw new Refused('its manifest lists no layers');
  const layers: unknown[] = manifest.layers;
  return {
    layers: layers.map((layer, i) => {
      checkObject(layer, DESCRIPTOR_KEYS, `layer ${i + 1}`);
      if (typeof layer.digest !== 'string' || typeof layer.mediaType !== 'string') throw new Refused(`layer ${i + 1} of its manifest has no digest or media type`);
      return { digest: layer.digest, mediaType: layer.mediaType };
    }),
  };
}

/** A manifest's object (`what`) holds only the schema's `keys`, and its annotations are strings. */
function checkObject(value: unknown, keys: Set<string>, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refused(`its manifest's ${what} is not an object`);
  const extra = Object.keys(value).filter((key) => !keys.has(key));
  if (extra.length > 0) throw new Refused(`its manifest has ${what === 'top level' ? 'top-level keys' : `keys in ${what}`} outside the OCI schema (${extra.slice(0, 3).map((k) => JSON.stringify(k)).join(', ')})`);
  const annotations = (value as Record<string, unknown>).annotations;
  if (annotations !== undefined && (typeof annotations !== 'object' || annotations === null || Object.values(annotations).some((v) => typeof v !== 'string'))) {
    throw new Refused(`its manifest's annotations in ${what} are not strings`);
  }
}

/**
 * Whether tar's only complaint is an archive that stops without the two zero blocks that should
 * end it. Some image builders (umoci among them) write layers that way and container runtimes
 * accept them; every entry is still complete (skopeo checked the blob against its digest).
 */
function onlyMissingEnd(stderr: string): boolean {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  return lines.length > 0 && lines.every((line) =>
    /Unexpected EOF in archive|Error is not recoverable: exiting now|Exiting with failure status due to previous errors/.test(line));
}

/** One entry of a layer's tar listing. */
interface Entry {
  /** regular file, directory, symbolic link, hard link, or other (a device, fifo...). */
  readonly kind: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** The name as tar lists it (and takes it to extract it). */
  readonly raw: string;
  /** The path in the image the runtime gives it: cleaned under / (no ../, no leading /). */
  readonly name: string;
  readonly size: number;
  /** A link's target as written. */
  readonly target?: string;
  /** The type letter of `tar -tv`. */
  readonly type: string;
}

function checkLayerType(blob: string, digest: string, mediaType: string): void {
  const compression = LAYER_TYPES[mediaType];
  if (!compression) throw new Refused(`layer ${short(digest)} has the media type '${mediaType}', which is not an OCI layer (tar, tar+gzip, tar+zstd)`);
  const magic = readFileSync(blob).subarray(0, 4).toString('hex');
  const sniffed = magic.startsWith('1f8b') ? 'gzip' : magic === '28b52ffd' ? 'zstd' : 'plain tar';
  // A plain tar labelled compressed is unpacked all the same (skopeo and containerd look at the
  // bytes); a compressed blob labelled plain tar is not (umoci fails on it).
  if (sniffed !== compression && sniffed !== 'plain tar') throw new Refused(`layer ${short(digest)} is ${sniffed} but its media type ${mediaType} says ${compression}, so a container runtime cannot unpack it`);
}

function listLayer(blob: string, digest: string): Entry[] {
  // GNU tar decompresses by the content, which now agrees with the media type; names are listed raw.
  const result = runTool('tar', ['--numeric-owner', '-tvf', blob], { maxBuffer: MAX_LISTING });
  if (result.status !== 0 && !onlyMissingEnd(result.stderr)) {
    throw new Refused(`tar cannot read layer ${short(digest)}: ${firstLine(result.stderr || String(result.error))}`);
  }
  return result.stdout.split('\n').filter((line) => line !== '').map(parseListing);
}

/** A `tar --numeric-owner -tv` line: type and mode, uid/gid, size, date, time, name [-> target]. */
function parseListing(line: string): Entry {
  const match = /^(\S)\S* +\S+ +(\S+) +\S+ +\S+ (.*)$/.exec(line);
  if (!match) throw new Refused(`tar listed an entry this check cannot read: ${line.slice(0, 200)}`);
  const [, type, size, rest] = match;
  let raw = rest;
  let target: string | undefined;
  const link = type === 'l' ? / -> / : type === 'h' ? / link to / : undefined;
  if (link) {
    const at = link.exec(rest);
    if (at) {
      raw = rest.slice(0, at.index);
      target = rest.slice(at.index + at[0].length);
    }
  }
  const kind = type === '-' ? 'file' : type === 'd' ? 'directory' : type === 'l' ? 'symlink' : type === 'h' ? 'hardlink' : 'other';
  return { kind, raw, name: cleanName(raw), size: Number(size) || 0, target, type };
}

/** The path a runtime gives a member name: cleaned under / (../ and a leading / cannot leave). */
function cleanName(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * What busybox tar (the registry client's) makes of a name: leading / and ../ dropped, then
 * everything up to the last /../. Where that is not the runtime's path, the readers would differ.
 */
function busyboxName(name: string): string {
  let rest = name;
  for (;;) {
    if (rest.startsWith('/')) rest = rest.slice(1);
    else if (rest.startsWith('../')) rest = rest.slice(3);
    else if (rest.includes('/../')) rest = rest.slice(rest.lastIndexOf('/../') + 4);
    else return rest;
  }
}

/** What one layer does to the file, by the runtime's rules (see layerVerdict). */
type Verdict =
  | { kind: 'found'; entry: Entry; skip: number }
  | { kind: 'refused'; why: string }
  | { kind: 'deleted'; how: string }
  | { kind: 'none' };

/**
 * What a layer does to `member`, as a container runtime stacks it (umoci, containerd): the last
 * entry of a name wins; whiteouts hide only what lower layers hold, of the file or a directory
 * above it. A link, device or directory at the path, a link or file in place of a directory
 * above it, or a hard link to the file is refused, as every reader of the snapshot refuses it.
 * The same rules as fetch-snapshot.sh's LAYER_VERDICT.
 */
function layerVerdict(entries: Entry[], member: string): Verdict {
  const above = (dir: string) => dir === '' || (member.startsWith(`${dir}/`));
  let last: Entry | undefined;
  let lastFile: Entry | undefined;
  let skip = 0;
  let spellings = false;
  let ancestor: string | undefined;
  let deleted: string | undefined;
  for (const entry of entries) {
    if (cleanName(busyboxName(entry.raw)) !== entry.name) {
      return { kind: 'refused', why: `it has member names that climb out of a directory and back (${entry.raw}), which tar and the runtime read differently` };
    }
    if (entry.kind === 'hardlink' && entry.target !== undefined && cleanName(entry.target) === member && entry.name !== member) {
      return { kind: 'refused', why: `/${entry.name} is a hard link to it (a file with two names)` };
    }
    if (entry.name === member) {
      if (entry.kind === 'file' && lastFile) {
        if (lastFile.raw === entry.raw) skip += lastFile.size;
        else spellings = true;
      }
      if (entry.kind === 'file') lastFile = entry;
      last = entry;
      continue;
    }
    if (above(entry.name) && entry.kind !== 'directory') ancestor = `/${entry.name} is ${describe(entry)}`;
    const slash = entry.name.lastIndexOf('/');
    const dir = slash < 0 ? '' : entry.name.slice(0, slash);
    const base = entry.name.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      if (above(dir)) deleted = `opaque whiteout ${entry.name} hides the lower contents of /${dir}`;
    } else if (base.startsWith('.wh.')) {
      const gone = (dir ? `${dir}/` : '') + base.slice(4);
      if (gone === member || above(gone)) deleted = `whiteout ${entry.name} removes /${gone}`;
    }
  }
  if (last && last.kind !== 'file') return { kind: 'refused', why: `it is ${describe(last)}, not a regular file` };
  if (last && spellings) return { kind: 'refused', why: 'it is written several times under different names' };
  if (ancestor) return { kind: 'refused', why: `${ancestor}, in the path of the file` };
  if (last) return { kind: 'found', entry: last, skip };
  return deleted ? { kind: 'deleted', how: deleted } : { kind: 'none' };
}

function describe(entry: Entry): string {
  switch (entry.kind) {
    case 'file': return 'a file';
    case 'symlink': return `a symbolic link (to ${entry.target})`;
    case 'hardlink': return `a hard link (to ${entry.target})`;
    case 'directory': return 'a directory';
    default: return `a device or special file (${entry.type})`;
  }
}

function inspect(source: string, path: string, layers: Layer[], extractDir: string, limits: VirtualSizeLimits): CheckImageResult {
  const base = { source, path, layerCount: layers.length };
  const member = cleanName(path);
  // A layer the manifest repeats is one blob (skopeo checked its digest): it is listed once.
  const listings = new Map<string, Entry[]>();
  for (const layer of [...layers].reverse()) {
    const listing = listings.get(layer.digest) ?? listLayer(layer.blob, layer.digest);
    listings.set(layer.digest, listing);
    const verdict = layerVerdict(listing, member);
    const where = `layer ${layer.index} of ${layers.length} (${short(layer.digest)})`;
    if (verdict.kind === 'none') continue;
    if (verdict.kind === 'deleted') return { ...base, ok: false, problem: `${where} deletes it: ${verdict.how}` };
    const foundIn = { index: layer.index, digest: layer.digest };
    if (verdict.kind === 'refused') return { ...base, foundIn, ok: false, problem: `${where} is refused: ${verdict.why}` };
    const extracted = extract(layer, verdict.entry, verdict.skip, extractDir);
    const judged = verifyImage(extracted, limits);
    const sha256 = judged.ok ? firstLine(runTool('sha256sum', [extracted]).stdout).split(' ')[0] : undefined;
    rmSync(extracted, { force: true });
    return { ...base, foundIn, fileSize: verdict.entry.size, sha256, ...judged };
  }
  return { ...base, ok: false, problem: `no layer adds it (the image has ${plural(layers.length, 'layer')})` };
}

/**
 * Writes the bytes of the entry (after `skip` bytes of earlier entries of its name, which
 * `tar -O` writes too) to a file in extractDir: only bytes, never a name, a link or a device on
 * this machine. Refuses to start when the file cannot fit.
 */
function extract(layer: Layer, entry: Entry, skip: number, extractDir: string): string {
  rmSync(extractDir, { recursive: true, force: true });
  mkdirSync(extractDir, { recursive: true });
  const needed = entry.size + skip;
  const free = freeBytes(extractDir);
  if (free !== undefined && needed > free) throw outOfSpace(extractDir, needed, free, layer);
  const target = join(extractDir, 'file');
  const out = openSync(target, 'w');
  let result;
  try {
    // -P: GNU tar extracts a ../ name with -O too (nothing is written under that name).
    result = spawnSync('tar', ['-xOPf', layer.blob, '--', entry.raw], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
  } finally {
    closeSync(out);
  }
  if (result.signal === 'SIGINT' || result.signal === 'SIGTERM') throw new Interrupted(result.signal);
  const written = statSync(target).size;
  if (written !== needed) {
    if (/No space left/i.test(result.stderr ?? '')) throw outOfSpace(extractDir, needed, freeBytes(extractDir) ?? 0, layer, written);
    throw new ImageInspectionError(`could not extract ${entry.raw} from layer ${layer.digest}: ${written} of ${needed} bytes (${firstLine(result.stderr) || 'tar said nothing'})`);
  }
  if (skip === 0) return target;
  // Only the last entry of the name counts, as in the runtime.
  const last = join(extractDir, 'last');
  const copy = spawnSync('sh', ['-c', 'tail -c "+$1" "$2" > "$3"', 'sh', String(skip + 1), target, last]);
  rmSync(target, { force: true });
  if (copy.status !== 0) throw outOfSpace(extractDir, entry.size, freeBytes(extractDir) ?? 0, layer);
  return last;
}

function freeBytes(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

function outOfSpace(dir: string, needed: number, free: number, layer: Layer, written?: number): OutOfSpace {
  return new OutOfSpace(`the temporary directory is full: the file in layer ${layer.index} (${short(layer.digest)}) is ${formatBytes(needed)} ` +
    `uncompressed, ${formatBytes(free)} free in ${dir}${written !== undefined ? ` (stopped after ${formatBytes(written)})` : ''}. ` +
    'What to do: give --tmpdir a directory with room for the image and the file');
}

/** The shipped seeding script, whose `inspect` mode is the one disk image policy. */
const POLICY_SCRIPT = join(__dirname, '..', 'scripts', SEED_SCRIPT_FILE);

/**
 * The seeder's verdict on the file: `seed-disk.sh inspect` (the image policy, then qemu-img
 * check and the data end, exactly as every seeder applies them), run with the system's `sh`.
 */
function verifyImage(file: string, limits: VirtualSizeLimits): Pick<CheckImageResult, 'ok' | 'format' | 'virtualSize' | 'leaks' | 'problem'> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, SEED_VERIFY: 'qemu-img' };
  if (limits.maxVirtualSize !== undefined) env.SEED_MAX_VIRTUAL_SIZE = String(limits.maxVirtualSize);
  if (limits.minVirtualSize !== undefined) env.SEED_MIN_VIRTUAL_SIZE = String(limits.minVirtualSize);
  const run = runTool('sh', [POLICY_SCRIPT, 'inspect', file], { env });
  const ok = /^seed-disk: inspect: OK (.*)$/m.exec(run.stdout ?? '');
  if (run.status === 0 && ok) {
    const fields = new Map(ok[1].split(' ').map((pair) => pair.split('=') as [string, string]));
    return { ok: true, format: fields.get('format'), virtualSize: Number(fields.get('virtual-size')), leaks: Number(fields.get('leaks')) };
  }
  const failed = /^seed-disk: FAILED: (.*)$/m.exec(run.stderr ?? '');
  // The script names the file (a temporary path here): the reason is what follows it.
  const reason = failed ? failed[1].replace(`${file}: `, '') : firstLine(run.stderr) || `seed-disk.sh inspect exited ${run.status}`;
  return { ok: false, problem: `the seeder would refuse it: ${reason}` };
}

/** Tools found once in this process: a command run checks one image, a program may check many. */
const toolsFound = new Set<string>();

function requireTool(tool: string): void {
  if (toolsFound.has(tool)) return;
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    if ((probe.error as NodeJS.ErrnoException).code === 'ENOENT') throw new ToolMissing(tool);
    throw new ImageInspectionError(`${tool} cannot be run: ${probe.error.message}`);
  }
  toolsFound.add(tool);
}

function firstLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function short(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1');
}

/** A size in bytes the way people read it: `2 GiB (2147483648 bytes)`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
  return unit === 0 ? shown : `${shown} (${bytes} bytes)`;
}

export const CHECK_IMAGE_USAGE = `Usage: cdk8s-qemu-loco check-image [options] <image>

Checks that an emulator image holds a sound built-in disk image at
${BUILTIN_IMAGE_PATH}, which storage mode A (persistent) needs.
No Docker engine: skopeo copies the image to a temporary OCI layout, tar reads
its layers as a container runtime stacks them (a later layer may delete the
file; a link is refused), and the seeder's own image
policy judges the file (the shipped seed-disk.sh inspect: a self-contained
qcow2, no backing or data file, not encrypted, then qemu-img check).

<image>   docker://host/repo:tag, host/repo:tag (same as docker://),
          oci:/path/to/layout:tag, or another skopeo transport

Options:
  --authfile FILE        registry credentials file (auth.json of podman/skopeo login)
  --creds USER[:PASS]    registry credentials
  --tls-verify false     allow a registry over plain HTTP or with an untrusted certificate
  --path PATH            file to look for (default ${BUILTIN_IMAGE_PATH})
  --tmpdir DIR           where to put the temporary copy (needs room for the image
                         and the file)
  --timeout SECONDS      how long the copy may take (default 600)
  --max-virtual-size Q   largest virtual size accepted (default 64Gi, as the seeder)
  --min-virtual-size Q   smallest virtual size accepted (the DiskSeeder's minVirtualSize)
  -h, --help             this help

Exit status: ${EXIT.OK} the file is there and sound; ${EXIT.FAILED} it is missing or unsound;
${EXIT.USAGE} bad usage, or a path it names (--tmpdir, --authfile, a local image) cannot be
used; ${EXIT.UNREADABLE} the image could not be read (reference, registry, credentials, no room);
${EXIT.TOOL_MISSING} skopeo, tar or qemu-img is not installed.`;

/** Runs `check-image` with its arguments; returns the exit code. */
export function runCheckImage(argv: string[]): number {
  const options = parseCheckImageArgs(argv);
  if (typeof options === 'number') return options;
  const outcome = inspectInterruptibly(options);
  return typeof outcome === 'number' ? outcome : report(outcome, options.path ?? BUILTIN_IMAGE_PATH);
}

/** The options the command line asks for, or the exit code when it asks for help or is bad usage. */
function parseCheckImageArgs(argv: string[]): CheckImageOptions | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: tlsVerifyArgs(argv),
      allowPositionals: true,
      options: {
        'authfile': { type: 'string' },
        'creds': { type: 'string' },
        'tls-verify': { type: 'string' },
        'path': { type: 'string' },
        'tmpdir': { type: 'string' },
        'timeout': { type: 'string' },
        'max-virtual-size': { type: 'string' },
        'min-virtual-size': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError(COMMAND, optionError(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${CHECK_IMAGE_USAGE}\n`);
    return EXIT.OK;
  }
  const problem = argumentProblem(positionals, values);
  if (problem !== undefined) return usageError(COMMAND, problem);
  const unusable = pathsProblem(positionals[0], values.authfile);
  if (unusable !== undefined) return fail(COMMAND, unusable, EXIT.USAGE);
  const maxVirtualSize = sizeOption('max-virtual-size', values['max-virtual-size']);
  const minVirtualSize = sizeOption('min-virtual-size', values['min-virtual-size']);
  if (maxVirtualSize === null || minVirtualSize === null) return EXIT.USAGE;
  return {
    image: positionals[0],
    path: values.path ?? BUILTIN_IMAGE_PATH,
    authfile: values.authfile,
    creds: values.creds,
    tlsVerify: values['tls-verify'] === undefined ? undefined : values['tls-verify'] === 'true',
    tmpdir: values.tmpdir,
    timeoutSeconds: values.timeout === undefined ? undefined : Number(values.timeout),
    maxVirtualSize,
    minVirtualSize,
  };
}

const COMMAND = 'check-image';

/**
 * `--tls-verify` as skopeo takes it: alone it means true, and `--tls-verify false` (with a space)
 * is `--tls-verify=false` (parseArgs would take the `false` for the image).
 */
function tlsVerifyArgs(argv: string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (argv[i] !== '--tls-verify') {
      args.push(argv[i]);
    } else if (argv[i + 1] === 'true' || argv[i + 1] === 'false') {
      args.push(`--tls-verify=${argv[++i]}`);
    } else {
      args.push('--tls-verify=true');
    }
  }
  return args;
}

/** What is wrong with the image and the options that take no quantity, if anything. */
function argumentProblem(positionals: string[], values: { [option: string]: string | boolean | undefined }): string | undefined {
  if (positionals.length !== 1) return positionals.length === 0 ? 'name the image to check' : `one image at a time, not ${positionals.length} (${positionals.join(' ')})`;
  const tlsVerify = values['tls-verify'];
  if (tlsVerify !== undefined && tlsVerify !== 'true' && tlsVerify !== 'false') return `--tls-verify takes true or false, not '${tlsVerify}'`;
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) return `--timeout takes a whole number of seconds, not '${values.timeout}'`;
  const path = values.path;
  if (typeof path === 'string' && !path.startsWith('/')) return `--path takes the absolute path of the file inside the image, not '${path}' (e.g. ${BUILTIN_IMAGE_PATH})`;
  return undefined;
}

/** What is wrong with the local paths the command line names (the image, --authfile), if anything. */
function pathsProblem(image: string, authfile: string | undefined): string | undefined {
  if (authfile !== undefined) {
    const problem = fileProblem(authfile);
    if (problem !== undefined) return `cannot read --authfile ${authfile}: ${problem}. What to do: name the auth.json that podman login or skopeo login wrote`;
  }
  return imageProblem(image);
}

/** Why `path` is not a readable file, if it is not. */
function fileProblem(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'it is a directory';
    closeSync(openSync(path, 'r'));
    return undefined;
  } catch (error) {
    return pathProblem(error, path);
  }
}

/** Transports that read a local path, and what they read there. */
const LOCAL_TRANSPORTS: { [transport: string]: string } = {
  'oci': 'an OCI layout directory (oci:DIR[:TAG])',
  'oci-archive': 'an OCI archive file (oci-archive:FILE[:TAG])',
  'docker-archive': 'a docker save archive file (docker-archive:FILE)',
  'dir': 'a skopeo dir: directory (dir:DIR)',
};

/**
 * What is wrong with the image argument, if anything: a path given without a transport (a bare
 * reference means docker://, which no path is), or a local transport's path that is not there.
 */
function imageProblem(image: string): string | undefined {
  const local = /^(oci|oci-archive|docker-archive|dir):(.*)$/.exec(image);
  if (local) {
    // oci:DIR:TAG and oci-archive:FILE:TAG: the last colon separates a tag, when the path is not there.
    const [, transport, rest] = local;
    const path = existsSync(rest) || !rest.includes(':') ? rest : rest.slice(0, rest.lastIndexOf(':'));
    if (existsSync(path)) return undefined;
    return `cannot read ${image}: ${path} does not exist. What to do: name ${LOCAL_TRANSPORTS[transport]} that exists`;
  }
  const pathLike = /^(\.{1,2}|~)?\//.test(image) || /^\.{1,2}$/.test(image) || existsSync(image);
  if (TRANSPORTS.test(image) || !pathLike) return undefined;
  const hint = !existsSync(image) ? `oci:${image} (an OCI layout directory) or oci-archive:${image} (an OCI archive)`
    : statSync(image).isDirectory() ? `oci:${image} (an OCI layout directory)`
      : `oci-archive:${image} (an OCI archive) or docker-archive:${image} (docker save)`;
  return `${image} is a path, not an image reference: did you mean ${hint}? A registry image is docker://host/repo:tag`;
}

/** A size option in bytes, `undefined` when not given, `null` after reporting a bad one. */
function sizeOption(name: string, given: string | undefined): number | undefined | null {
  if (given === undefined) return undefined;
  const bytes = quantityValue(given);
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 0) {
    usageError(COMMAND, `--${name} takes a size in bytes or a quantity such as 2Gi, not '${given}'`);
    return null;
  }
  return bytes;
}

/** checkImage, with Ctrl-C and SIGTERM ending the running tool only; failures become exit codes. */
function inspectInterruptibly(options: CheckImageOptions): CheckImageResult | number {
  // With a listener, Ctrl-C stops the running tool but not this process, so that the temporary
  // copy of the image is removed before exiting.
  const ignore = () => undefined;
  process.on('SIGINT', ignore).on('SIGTERM', ignore);
  try {
    return checkImage(options);
  } catch (error) {
    if (error instanceof Interrupted) {
      process.stderr.write(`check-image: ${error.message}; the temporary copy was removed\n`);
      return 130;
    }
    if (!(error instanceof ImageInspectionError)) throw error;
    if (error instanceof ToolMissing) return fail(COMMAND, error.message, EXIT.TOOL_MISSING);
    if (error instanceof UnusablePath) return fail(COMMAND, error.message, EXIT.USAGE);
    if (error instanceof OutOfSpace) return fail(COMMAND, `FAILED: could not inspect ${options.image}: ${error.message}`, EXIT.UNREADABLE);
    return fail(COMMAND, `could not inspect ${options.image}: ${error.message}. What to do: check the image reference, ` +
      'the registry credentials (--authfile, --creds) and, for a local registry over HTTP, --tls-verify=false', EXIT.UNREADABLE);
  } finally {
    process.off('SIGINT', ignore).off('SIGTERM', ignore);
  }
}

/** Prints the verdict (what was found, or the one failure line) and returns the exit code. */
function report(result: CheckImageResult, path: string): number {
  const where = result.foundIn
    ? ` (layer ${result.foundIn.index} of ${result.layerCount}, ${short(result.foundIn.digest)})`
    : '';
  if (result.ok) {
    process.stdout.write(`check-image: OK: ${result.source} has ${path}${where}\n` +
      `  format: ${result.format}\n` +
      `  virtual size: ${formatBytes(result.virtualSize!)}\n` +
      `  file size: ${formatBytes(result.fileSize!)}\n` +
      `  sha256: ${result.sha256}\n` +
      '  image policy: self-contained (no backing or data file, not encrypted, known features)\n' +
      `  qemu-img check: no errors${result.leaks ? ` (${result.leaks} leaked clusters: wasted space, harmless)` : ''}\n`);
    return 0;
  }
  const present = result.foundIn !== undefined;
  const details = [result.format && `format ${result.format}`, result.virtualSize !== undefined && `virtual size ${formatBytes(result.virtualSize)}`]
    .filter(Boolean).join(', ');
  const found = present ? `has ${path}${where}${details ? ` (${details})` : ''} but ${result.problem}` : `has no ${path}: ${result.problem}`;
  const tried = `skopeo copy to a temporary OCI layout, read ${plural(result.layerCount, 'layer')} from the top down${present ? ", the seeder's image policy (seed-disk.sh inspect)" : ''}`;
  const todo = present
    ? `rebuild the emulator image from a good, self-contained disk image (qemu-img convert -O qcow2 win98.qcow2 out.qcow2 flattens backing and data files; qemu-img check out.qcow2 passes) copied to ${path}`
    : `build the emulator image with the disk at ${path} (e.g. COPY win98.qcow2 ${path}) and do not delete it in a later layer`;
  process.stderr.write(`check-image: FAILED: ${result.source} ${found} (tried: ${tried}). What to do: ${todo}, ` +
    'or use the hybrid mode (StorageMode.HYBRID), which downloads the snapshot instead\n');
  return 1;
}
