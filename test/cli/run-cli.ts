import { spawnSync } from 'child_process';
import { join } from 'path';

/** The command as it ships: package.json "bin". */
export const BIN = join(__dirname, '..', '..', 'bin', 'cdk8s-qemu-loco');

/** What a run of the command printed and returned. */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `cdk8s-qemu-loco` with node, bounded in time: the compiled CLI in build/, which jest's
 * global setup (test/global-setup.js) has brought up to date with the sources by content hash, so
 * a build/ left over from another change cannot answer for them.
 */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', ...options.env },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
