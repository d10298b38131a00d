/**
 * Real qcow2 images for tests, made with qemu-img, and the facts tests compare about files.
 */
import { execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Writes a qcow2 image holding `dataBytes` of random data (every cluster allocated, so a copy
 * really moves that many bytes) to `file`, readable by everyone as an image build would leave it.
 */
export function makeQcow2(file: string, dataBytes: number): void {
  const raw = `${file}.raw`;
  fs.writeFileSync(raw, randomBytes(dataBytes));
  try {
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, file]);
  } finally {
    fs.rmSync(raw, { force: true });
  }
  fs.chmodSync(file, 0o644);
}

/** The sha256 of a file, in hex. */
export function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Whether `qemu-img check` finds the file a sound qcow2 image. */
export function qemuImgCheckPasses(file: string): boolean {
  try {
    execFileSync('qemu-img', ['check', '-q', '-f', 'qcow2', file], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** What must not change about a disk the seeder keeps. */
export interface FileState {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

export function fileState(file: string): FileState {
  const stat = fs.statSync(file, { bigint: true });
  return {
    sha256: sha256Of(file),
    size: Number(stat.size),
    mtimeNs: stat.mtimeNs,
    ctimeNs: stat.ctimeNs,
    ino: Number(stat.ino),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    mode: Number(stat.mode),
  };
}

/** A fresh directory (0755, like an image's directory) removed by `cleanupDirs`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  created.push(dir);
  return dir;
}

const created: string[] = [];

/** Removes every directory `tempDir` made. */
export function cleanupDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The names in a directory, sorted. */
export function namesIn(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/**
 * Writes "game state" into a qcow2 image through qemu-io, as a running emulator would: `bytes`
 * of a pattern at `offset`.
 */
export function writeGameState(file: string, pattern = 0x5a, offset = 0, bytes = 65536): void {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} ${offset} ${bytes}`, file], { stdio: 'pipe' });
}

/** Bytes allocated on disk under a directory tree (what was really written there). */
export function allocatedBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += entry.isDirectory() ? allocatedBytes(file) : fs.statSync(file).blocks * 512;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Images the disk image policy must accept or refuse (seed-disk.sh check_image_policy and
// verify_image), made with qemu-img where it can make them and by patching header bytes where
// it cannot. Each returns the path it wrote. The case table using them is qcow2-cases.ts.

function qemuImg(...args: string[]): void {
  execFileSync('qemu-img', args, { stdio: 'pipe' });
}

/** A freshly created, empty qcow2 (`qemu-img create`): its file ends before its last cluster. */
export function makeEmptyQcow2(file: string, size = '1G'): string {
  qemuImg('create', '-q', '-f', 'qcow2', file, size);
  return file;
}

/**
 * A qcow2 made with `qemu-img create -o <options>` (e.g. `extended_l2=on`, `compat=0.10`,
 * `preallocation=metadata`), then written by qemu-io as a guest would (`write -P 0x11 0 100k`),
 * then given internal snapshots by name.
 */
export function makeQcow2With(file: string, size: string, options: string[], writes: string[] = [], snapshots: string[] = []): string {
  qemuImg('create', '-q', '-f', 'qcow2', ...(options.length ? ['-o', options.join(',')] : []), file, size);
  for (const snapshot of snapshots) qemuImg('snapshot', '-c', snapshot, file);
  if (writes.length) execFileSync('qemu-io', ['-f', 'qcow2', ...writes.flatMap((write) => ['-c', write]), file], { stdio: 'pipe' });
  return file;
}

/** A compressed qcow2 (`qemu-img convert -c`) of `bytes` of compressible text. */
export function makeCompressedQcow2(file: string, bytes = 1 << 20, compressionType = 'zlib'): string {
  const raw = `${file}.raw`;
  const line = 'Lego Loco: compressible guest data, line ';
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `${line}${i}\n`;
  fs.writeFileSync(raw, text.slice(0, bytes));
  try {
    qemuImg('convert', '-q', '-c', '-f', 'raw', '-O', 'qcow2', '-o', `compression_type=${compressionType}`, raw, file);
  } finally {
    fs.rmSync(raw, { force: true });
  }
  return file;
}

/**
 * A qcow2 whose backing file is `backing` as written in its header: a host path, a relative path
 * (`../../etc/passwd`), a `json:{...}` spec or an `http://` URL. Made with `-u`: nothing is opened.
 */
export function makeBackedQcow2(file: string, backing: string, backingFormat = 'raw', size = '1M'): string {
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', backingFormat, file, size);
  return file;
}

/**
 * A qcow2 with an external data file named `dataFile` (a host path or a URL). Created against a
 * scratch data file, then only the header is amended, so the named file is never touched.
 */
export function makeDataFileQcow2(file: string, dataFile: string, size = '1M'): string {
  const scratch = `${file}.data`;
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${scratch}`, file, size);
  qemuImg('amend', '-q', '-f', 'qcow2', '-o', `data_file=${dataFile.replace(/,/g, ',,')}`, file);
  fs.rmSync(scratch, { force: true });
  return file;
}

/** An encrypted qcow2: LUKS (crypt_method 2, FDE header extension) or the old AES (crypt_method 1). */
export function makeEncryptedQcow2(file: string, format: 'luks' | 'aes', size = '1M'): string {
  qemuImg('create', '-q', '-f', 'qcow2', '--object', 'secret,id=sec0,data=loco',
    '-o', `encrypt.format=${format},encrypt.key-secret=sec0`, file, size);
  return file;
}

/** Overwrites `bytes` big-endian at `offset` of a file's header. */
export function patchHeader(file: string, offset: number, bytes: Buffer): string {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Sets bit `bit` of the incompatible (offset 72) or autoclear (88) features of a version 3 qcow2. */
export function setFeatureBit(file: string, field: 'incompatible' | 'autoclear', bit: number): string {
  const offset = field === 'incompatible' ? 72 : 88;
  const value = fs.readFileSync(file).readBigUInt64BE(offset) | (1n << BigInt(bit));
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return patchHeader(file, offset, bytes);
}

/** Bytes allocated on disk for one file (stat blocks), as `du` counts them. */
export function allocatedFileBytes(file: string): number {
  return fs.statSync(file).blocks * 512;
}
