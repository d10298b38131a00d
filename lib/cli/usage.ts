import { statSync } from 'fs';
import { dirname, resolve } from 'path';

/**
 * What every command shares: its exit statuses and its one-line failures. A user's mistake gets
 * one line naming what was wrong and what to do, never a stack trace (that, exit 70, is kept for
 * the command's own bugs: bin/cdk8s-qemu-loco).
 */

/** Exit statuses, the same for every command (each command's --help and the README list its own). */
export const EXIT = {
  /** Done: written, valid, present and sound. */
  OK: 0,
  /** The input was read and is refused: invalid manifests, values that cannot migrate, an unsound image. */
  FAILED: 1,
  /** Bad usage: an unknown or malformed option, or a path on the command line that cannot be used. */
  USAGE: 2,
  /** check-image: the image could not be read (registry, credentials, reference, no room). */
  UNREADABLE: 3,
  /** A program the command runs is not installed (check-image: skopeo, qemu-img, tar). */
  TOOL_MISSING: 4,
} as const;

/** Writes `<command>: <message>` (one line) on standard error and returns `status`. */
export function fail(command: string, message: string, status: number): number {
  process.stderr.write(`${command}: ${message}\n`);
  return status;
}

/** Bad usage: one line, with where the options are listed; returns EXIT.USAGE. */
export function usageError(command: string, message: string): number {
  return fail(command, `${message} (options: cdk8s-qemu-loco ${command} --help)`, EXIT.USAGE);
}

/** parseArgs' complaint, first sentence only (the rest explains `--`, which is in no usage here). */
export function optionError(error: unknown): string {
  return (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
}

/**
 * What is wrong with `path`, from the error a file operation on it failed with, in words that say
 * which part of the path to fix: `directory out does not exist`, `notes.txt is a file, not a
 * directory`, `the file system is read-only`...
 */
export function pathProblem(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': {
      const missing = missingPart(path);
      return resolve(missing) === resolve(path) ? 'it does not exist' : `directory ${missing} does not exist`;
    }
    case 'ENOTDIR': {
      const file = firstNonDirectory(path);
      return file === undefined ? 'a part of the path is not a directory' : `${file} is a file, not a directory`;
    }
    case 'EISDIR': return 'it is a directory';
    case 'EACCES': case 'EPERM': return `permission denied (user ${process.getuid?.() ?? '?'})`;
    case 'EROFS': return 'the file system is read-only';
    case 'ENOSPC': return 'the file system is full';
    case 'EDQUOT': return 'the disk quota is exhausted';
    case 'ELOOP': return 'it is a loop of symbolic links';
    case 'ENAMETOOLONG': return 'the name is too long';
    default: return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** The path's ancestors, outermost first, then the path itself (as given, relative or not). */
function ancestors(path: string): string[] {
  const chain: string[] = [];
  for (let current = path; ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current || dirname(current) === '.') break;
  }
  return chain;
}

/** The outermost part of `path` that does not exist (the path itself when only it is missing). */
export function missingPart(path: string): string {
  return ancestors(path).find((part) => !exists(part)) ?? path;
}

function firstNonDirectory(path: string): string | undefined {
  return ancestors(path).find((part) => exists(part) && !statSync(part).isDirectory());
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
