import { spawnSync } from 'child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, posix } from 'path';
import { parseArgs } from 'util';
import { SEED_SCRIPT_FILE } from '../disk-seeder';
import { quantityValue } from '../validation';

/**
 * `cdk8s-qemu-loco check-image`: does an emulator image hold a sound built-in disk image?
 *
 * Mode A (persistent) seeds every new claim from `/opt/builtin-images/win98.qcow2.builtin` inside
 * the emulator image, and fails at run time when it is missing. This check answers before
 * deploying, without a Docker engine: skopeo copies the image into a temporary OCI layout, the
 * system `tar` reads its layers from the top down (honouring whiteouts, so a later layer can delete
 * the file), the file is extracted and the seeder's own image policy judges it (`seed-disk.sh
 * inspect`, the shipped script, run with `sh`): what passes here passes every seeder, and the
 * other way round.
 */

/** Where mode A expects the built-in disk image. */
export const BUILTIN_IMAGE_PATH = '/opt/builtin-images/win98.qcow2.builtin';

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
  /** The path the file was found under, when a symbolic link led there. */
  readonly resolvedPath?: string;
  /** The image format qemu-img detected. */
  readonly format?: string;
  /** Virtual size of the disk image in bytes. */
  readonly virtualSize?: number;
  /** Size of the file in bytes. */
  readonly fileSize?: number;
  /** Leaked clusters `qemu-img check` reported (harmless: space only). */
  readonly leaks?: number;
  /** Why the check failed, when it did: one sentence. */
  readonly problem?: string;
}

/** The image could not be read at all (registry, credentials, missing tools): exit code 3. */
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
  return result;
}

const TRANSPORTS = /^(docker|oci|oci-archive|docker-archive|dir|containers-storage|docker-daemon):/;
const MAX_LISTING = 512 * 1024 * 1024;
const MAX_SYMLINKS = 8;

/** The skopeo source for an image reference: a bare reference means `docker://`. */
export function skopeoSource(image: string): string {
  return TRANSPORTS.test(image) ? image : `docker://${image}`;
}

/**
 * Copies the image to a temporary OCI layout, finds the file through the layers and checks it.
 * Throws ImageInspectionError when the image cannot be read.
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
  const work = mkdtempSync(join(options.tmpdir ?? tmpdir(), 'check-image-'));
  try {
    const layout = join(work, 'layout');
    copyImage(source, layout, options);
    const layers = readLayers(layout);
    return inspect(source, path, layers, join(work, 'extract'), options);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Layer extends LayerRef {
  readonly blob: string;
  /** Entry names normalised (no leading ./ or /, no trailing /) to their names in the archive. */
  readonly names: Map<string, string>;
}

function copyImage(source: string, layout: string, options: CheckImageOptions): void {
  const args = ['--command-timeout', `${options.timeoutSeconds ?? 600}s`, 'copy', '--quiet'];
  if (options.authfile) args.push('--src-authfile', options.authfile);
  if (options.creds) args.push('--src-creds', options.creds);
  if (options.tlsVerify === false) args.push('--src-tls-verify=false');
  args.push(source, `oci:${layout}:image`);
  const result = runTool('skopeo', args, { timeout: ((options.timeoutSeconds ?? 600) + 30) * 1000 });
  if (result.status !== 0) {
    throw new ImageInspectionError(`skopeo copy ${source} failed: ${skopeoMessage(result.stderr || String(result.error ?? result.signal))}`);
  }
}

/** skopeo's fatal message without the log decoration. */
function skopeoMessage(stderr: string): string {
  const fatal = stderr.split('\n').find((line) => line.includes('level=fatal')) ?? stderr.trim().split('\n').pop() ?? '';
  const match = /msg="((?:[^"\\]|\\.)*)"/.exec(fatal);
  return (match ? match[1].replace(/\\"/g, '"') : fatal).trim();
}

function readLayers(layout: string): Layer[] {
  const blobPath = (digest: string) => {
    const [algorithm, hex] = String(digest).split(':');
    return join(layout, 'blobs', algorithm, hex);
  };
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const descriptor = index.manifests?.[0];
  if (!descriptor) throw new ImageInspectionError('the copied image has no manifest');
  const manifest = JSON.parse(readFileSync(blobPath(descriptor.digest), 'utf8'));
  if (!Array.isArray(manifest.layers)) {
    throw new ImageInspectionError(`the copied image's manifest (${descriptor.mediaType}) lists no layers`);
  }
  return manifest.layers.map((layer: { digest: string }, position: number) => {
    const blob = blobPath(layer.digest);
    return { index: position + 1, digest: layer.digest, blob, names: listLayer(blob, layer.digest) };
  });
}

function listLayer(blob: string, digest: string): Map<string, string> {
  // GNU tar recognises gzip, zstd (with the zstd program) and plain archives by their content.
  const result = runTool('tar', ['-tf', blob], { maxBuffer: MAX_LISTING });
  if (result.status !== 0 && !onlyMissingEnd(result.stderr)) {
    throw new ImageInspectionError(`could not read layer ${digest} with tar: ${firstLine(result.stderr || String(result.error))}`);
  }
  const names = new Map<string, string>();
  for (const name of result.stdout.split('\n')) {
    if (name !== '') names.set(normalise(name), name);
  }
  return names;
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

function normalise(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

/** What the topmost layer that mentions the path says about it. */
type Finding =
  | { kind: 'file'; layer: Layer; member: string }
  | { kind: 'deleted'; layer: Layer; how: string }
  | { kind: 'symlink-ancestor'; layer: Layer; ancestor: string; member: string }
  | { kind: 'absent' };

function locate(layers: Layer[], path: string): Finding {
  const relative = normalise(path);
  const parts = relative.split('/');
  for (const layer of [...layers].reverse()) {
    // An entry in this layer wins over any whiteout in the same layer (those apply to lower layers).
    const member = layer.names.get(relative);
    if (member !== undefined) return { kind: 'file', layer, member };
    for (let depth = 0; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join('/');
      const name = parts[depth];
      const whiteout = parent ? `${parent}/.wh.${name}` : `.wh.${name}`;
      if (layer.names.has(whiteout)) {
        return { kind: 'deleted', layer, how: `whiteout ${whiteout} removes /${parts.slice(0, depth + 1).join('/')}` };
      }
      if (depth > 0) {
        const opaque = `${parent}/.wh..wh..opq`;
        if (layer.names.has(opaque)) {
          return { kind: 'deleted', layer, how: `opaque whiteout ${opaque} hides the earlier contents of /${parent}` };
        }
      }
      const ancestor = parts.slice(0, depth + 1).join('/');
      if (depth < parts.length - 1 && layer.names.has(ancestor)) {
        const archived = layer.names.get(ancestor)!;
        if (archived.endsWith('/')) continue; // a directory: its contents merge with lower layers
        const type = entryType(layer, archived);
        if (type.type === 'd') continue;
        if (type.type === 'l') return { kind: 'symlink-ancestor', layer, ancestor, member: type.target ?? '' };
        return { kind: 'deleted', layer, how: `/${ancestor} is replaced by a file, so nothing below it remains` };
      }
    }
  }
  return { kind: 'absent' };
}

/** The type letter of `tar -tv` for one member, and a link's target. */
function entryType(layer: Layer, member: string): { type: string; target?: string } {
  const result = runTool('tar', ['-tvf', layer.blob, '--', member]);
  const line = result.stdout.split('\n')[0] ?? '';
  const link = / (?:->|link to) (.*)$/.exec(line);
  return { type: line.charAt(0), target: link?.[1] };
}

function inspect(source: string, path: string, layers: Layer[], extractDir: string, limits: VirtualSizeLimits): CheckImageResult {
  const base = { source, path, layerCount: layers.length };
  let current = path;
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    const finding = locate(layers, current);
    const via = current === path ? '' : ` (through symbolic links: ${current})`;
    if (finding.kind === 'absent') {
      return { ...base, ok: false, problem: `no layer adds ${current === path ? 'it' : current}${via} (the image has ${plural(layers.length, 'layer')})` };
    }
    if (finding.kind === 'deleted') {
      return { ...base, ok: false, problem: `layer ${finding.layer.index} of ${layers.length} (${short(finding.layer.digest)}) deletes it: ${finding.how}` };
    }
    if (finding.kind === 'symlink-ancestor') {
      const rest = normalise(current).slice(finding.ancestor.length);
      current = posix.normalize(posix.resolve('/', posix.dirname(`/${finding.ancestor}`), finding.member) + rest);
      continue;
    }
    const extracted = extract(finding.layer, finding.member, extractDir);
    const stat = lstatSync(extracted);
    if (stat.isSymbolicLink()) {
      current = posix.resolve(posix.dirname(current), readlinkSync(extracted));
      rmSync(extracted, { force: true });
      continue;
    }
    const foundIn = { index: finding.layer.index, digest: finding.layer.digest };
    const found = { ...base, foundIn, resolvedPath: current === path ? undefined : current };
    if (!stat.isFile()) {
      return { ...found, ok: false, problem: `${current} in layer ${foundIn.index} is not a regular file` };
    }
    const verdict = verifyImage(extracted, limits);
    rmSync(extracted, { force: true });
    return { ...found, fileSize: stat.size, ...verdict };
  }
  return { ...base, ok: false, problem: `more than ${MAX_SYMLINKS} symbolic links from ${path}` };
}

function extract(layer: Layer, member: string, extractDir: string): string {
  rmSync(extractDir, { recursive: true, force: true });
  mkdirSync(extractDir, { recursive: true });
  const run = (name: string) => runTool('tar', ['-xf', layer.blob, '-C', extractDir, '--no-same-owner', '--no-same-permissions', '--', name]);
  let result = run(member);
  let target = join(extractDir, member);
  if ((result.status !== 0 && !onlyMissingEnd(result.stderr)) || !existsSyncNoFollow(target)) {
    // A hard link names another member of the same layer: extract that one, same content.
    const type = entryType(layer, member);
    if (type.type === 'h' && type.target) {
      result = run(type.target);
      target = join(extractDir, type.target);
    }
  }
  if ((result.status !== 0 && !onlyMissingEnd(result.stderr)) || !existsSyncNoFollow(target)) {
    throw new ImageInspectionError(`could not extract ${member} from layer ${layer.digest}: ${firstLine(result.stderr) || 'tar extracted nothing'}`);
  }
  return target;
}

function existsSyncNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
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

function requireTool(tool: string): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    const packages: { [tool: string]: string } = { 'skopeo': 'skopeo', 'tar': 'tar', 'qemu-img': 'qemu-utils (Debian/Ubuntu) or qemu-img' };
    throw new ImageInspectionError(`${tool} is not installed; install ${packages[tool]}`);
  }
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
its layers (a later layer may delete the file), and the seeder's own image
policy judges the file (the shipped seed-disk.sh inspect: a self-contained
qcow2, no backing or data file, not encrypted, then qemu-img check).

<image>   docker://host/repo:tag, host/repo:tag (same as docker://),
          oci:/path/to/layout:tag, or another skopeo transport

Options:
  --authfile FILE        registry credentials file (auth.json of podman/skopeo login)
  --creds USER[:PASS]    registry credentials
  --tls-verify=false     allow a registry over plain HTTP or with an untrusted certificate
  --path PATH            file to look for (default ${BUILTIN_IMAGE_PATH})
  --tmpdir DIR           where to put the temporary copy (needs room for the image)
  --timeout SECONDS      how long the copy may take (default 600)
  --max-virtual-size Q   largest virtual size accepted (default 64Gi, as the seeder)
  --min-virtual-size Q   smallest virtual size accepted (the DiskSeeder's minVirtualSize)
  -h, --help             this help

Exit status: 0 the file is there and sound; 1 it is missing or unsound;
2 bad usage; 3 the image could not be read (reference, credentials, tools).`;

/** Runs `check-image` with its arguments; returns the exit code. */
export function runCheckImage(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      // `--tls-verify` alone means true, as in skopeo.
      args: argv.map((arg) => (arg === '--tls-verify' ? '--tls-verify=true' : arg)),
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
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${CHECK_IMAGE_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    return usageError(positionals.length === 0 ? 'name the image to check' : `one image at a time, not ${positionals.length}`);
  }
  const tlsVerify = values['tls-verify'];
  if (tlsVerify !== undefined && tlsVerify !== 'true' && tlsVerify !== 'false') {
    return usageError(`--tls-verify takes true or false, not '${tlsVerify}'`);
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    return usageError(`--timeout takes a whole number of seconds, not '${values.timeout}'`);
  }
  const limits: { [name: string]: number | undefined } = {};
  for (const name of ['max-virtual-size', 'min-virtual-size'] as const) {
    const given = values[name];
    if (given === undefined) continue;
    const bytes = quantityValue(given);
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 0) {
      return usageError(`--${name} takes a size in bytes or a quantity such as 2Gi, not '${given}'`);
    }
    limits[name] = bytes;
  }
  const image = positionals[0];
  const path = values.path ?? BUILTIN_IMAGE_PATH;
  let result: CheckImageResult;
  // With a listener, Ctrl-C stops the running tool but not this process, so that the temporary
  // copy of the image is removed before exiting.
  const ignore = () => undefined;
  process.on('SIGINT', ignore).on('SIGTERM', ignore);
  try {
    result = checkImage({
      image,
      path,
      authfile: values.authfile,
      creds: values.creds,
      tlsVerify: tlsVerify === undefined ? undefined : tlsVerify === 'true',
      tmpdir: values.tmpdir,
      timeoutSeconds: timeout,
      maxVirtualSize: limits['max-virtual-size'],
      minVirtualSize: limits['min-virtual-size'],
    });
  } catch (error) {
    if (error instanceof Interrupted) {
      process.stderr.write(`check-image: ${error.message}; the temporary copy was removed\n`);
      return 130;
    }
    if (!(error instanceof ImageInspectionError)) throw error;
    process.stderr.write(`check-image: could not inspect ${image}: ${error.message}. What to do: check the image reference, ` +
      'the registry credentials (--authfile, --creds) and, for a local registry over HTTP, --tls-verify=false\n');
    return 3;
  } finally {
    process.off('SIGINT', ignore).off('SIGTERM', ignore);
  }
  const where = result.foundIn
    ? ` (layer ${result.foundIn.index} of ${result.layerCount}, ${short(result.foundIn.digest)}${result.resolvedPath ? `, at ${result.resolvedPath}` : ''})`
    : '';
  if (result.ok) {
    process.stdout.write(`check-image: OK: ${result.source} has ${path}${where}\n` +
      `  format: ${result.format}\n` +
      `  virtual size: ${formatBytes(result.virtualSize!)}\n` +
      `  file size: ${formatBytes(result.fileSize!)}\n` +
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

function usageError(message: string): number {
  process.stderr.write(`check-image: ${message}\n\n${CHECK_IMAGE_USAGE}\n`);
  return 2;
}
