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
 * Runs `cdk8s-qemu-loco` with node, from the TypeScript sources (a build/ left over from another
 * change must not answer for them), bounded in time.
 */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, CDK8S_QEMU_LOCO_FROM_SOURCE: '1', CDK8S_CHECK_UPGRADE: 'false' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
