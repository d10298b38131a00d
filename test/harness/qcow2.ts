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
