/**
 * The `cdk8s-qemu-loco` command: dispatches to its subcommands.
 *
 * Each subcommand's module is loaded only when it runs, so that `check-image` starts without
 * loading cdk8s.
 */

import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

interface Command {
  readonly summary: string;
  readonly run: (argv: string[]) => number | Promise<number>;
}

const COMMANDS: { [name: string]: Command } = {
  'check-image': {
    summary: 'check that an emulator image holds a sound built-in disk image (storage mode A)',
    run: async (argv) => (await import('./check-image')).runCheckImage(argv),
  },
  'from-helm': {
    summary: 'migrate the Lego Loco Helm chart\'s values.yaml to this library\'s manifests',
    run: async (argv) => (await import('./from-helm')).runFromHelm(argv),
  },
  'validate': {
    summary: 'validate manifests (default dist/) against the Kubernetes API schema',
    run: async (argv) => (await import('./validate')).runValidate(argv),
  },
};

/** This package's version, from its package.json (two levels up in lib/, three in build/lib/). */
function packageVersion(): string {
  for (let dir = __dirname, up = 0; up < 4; dir = dirname(dir), up++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      if (manifest.name === 'cdk8s-qemu-loco') return manifest.version;
    }
  }
  return 'unknown';
}

/** The top-level help. */
export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: cdk8s-qemu-loco <command> [options]

Commands:
${lines.join('\n')}

Run 'cdk8s-qemu-loco <command> --help' for a command's options.`;
}

/**
 * Runs the command line (without `node` and the script: `process.argv.slice(2)`); returns the
 * exit code: 0 success, 2 bad usage, otherwise the subcommand's.
 */
export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`| head`) closes the pipe: stop writing, quietly, with the status.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`cdk8s-qemu-loco: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}
