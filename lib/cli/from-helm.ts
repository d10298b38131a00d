import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { parseArgs } from 'util';
import { App } from 'cdk8s';
import { HelmMigration, HelmValues, HelmValuesError, mergeHelmValues, parseHelmValues, propsFromHelmValues } from '../helm-values';
import { LegoLocoChart } from '../lego-loco';
import { DeviceSource } from '../qemu-stateful-set';
import { EXIT, fail, missingPart, optionError, pathProblem, usageError } from './usage';

/**
 * `cdk8s-qemu-loco from-helm`: the Helm chart's values files in, the equivalent manifests out.
 */

/** Options of migrateHelmValuesFiles. */
export interface FromHelmOptions {
  /** Values files, merged in order as `helm -f a.yaml -f b.yaml` merges them. */
  readonly files: string[];
  /** @default - see HelmMigrationOptions.releaseName */
  readonly releaseName?: string;
  /** @default false */
  readonly hostPathVolume?: boolean;
  /** @default DeviceSource.HOST_PATH */
  readonly deviceSource?: DeviceSource;
}

/** The migration and the manifests it synthesizes to. */
export interface FromHelmResult {
  /** The migration: mode, props, warnings. */
  readonly migration: HelmMigration;
  /** The synthesized manifests, as `cdk8s synth` writes them. */
  readonly yaml: string;
}

/**
 * Reads and merges the values files, migrates them and synthesizes the chart in a fresh cdk8s App
 * (in a temporary output directory). Throws HelmValuesError for values it cannot migrate.
 */
export function migrateHelmValuesFiles(options: FromHelmOptions): FromHelmResult {
  if (options.files.length === 0) {
    throw new HelmValuesError('name at least one values file');
  }
  let values: HelmValues = {};
  const parseWarnings: string[] = [];
  for (const file of options.files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw unreadableValuesFile(file, error);
    }
    const parsed = parseHelmValues(text, basename(file));
    parseWarnings.push(...parsed.warnings);
    values = mergeHelmValues(values, parsed.values);
  }
  const migration = propsFromHelmValues(values, {
    source: options.files.map((file) => basename(file)).join(' + '),
    releaseName: options.releaseName,
    hostPathVolume: options.hostPathVolume,
    deviceSource: options.deviceSource,
  });

  const outdir = temporaryDirectory();
  try {
    const app = new App({ outdir });
    // The chart id names the generated objects and the app.kubernetes.io/instance label.
    new LegoLocoChart(app, migration.chartId, migration.chartProps);
    app.synth();
    const files = readdirSync(outdir).filter((file) => file.endsWith('.yaml')).sort();
    const yaml = files.map((file) => readFileSync(join(outdir, file), 'utf8').replace(/\n*$/, '\n')).join('---\n');
    return { migration: { ...migration, warnings: [...parseWarnings, ...migration.warnings] }, yaml };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * A path the command was given cannot be used: a values file that cannot be read (missing, a
 * directory...), a temporary directory that cannot be created. The command's exit 2.
 */
export class UnusablePath extends HelmValuesError {}

function unreadableValuesFile(file: string, cause: unknown): UnusablePath {
  const problem = pathProblem(cause, file);
  const todo = problem === 'it is a directory'
    ? `name the values file(s) in it, e.g. ${join(file, 'values.yaml')}`
    : 'name an existing, readable values file (the chart\'s values.yaml)';
  return new UnusablePath(`cannot read values file ${file}: ${problem}. What to do: ${todo}`);
}

/** Where the chart is synthesized before its files are joined: a fresh directory under $TMPDIR. */
function temporaryDirectory(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'from-helm-'));
  } catch (error) {
    throw new UnusablePath(`cannot create a temporary directory in ${tmpdir()}: ${pathProblem(error, tmpdir())}. ` +
      'What to do: set TMPDIR to a writable directory');
  }
}

export const FROM_HELM_USAGE = `Usage: cdk8s-qemu-loco from-helm [options] <values.yaml>...

Writes the manifests of a LegoLocoChart equivalent to the Lego Loco Helm chart's
values, and on stderr one warning per thing that changes or is not migrated.
Several files merge in order as \`helm -f a.yaml -f b.yaml\` merges them: for an
overlay such as values-minikube.yaml, give the chart's values.yaml first.

Options:
  -o, --output FILE      write the YAML to FILE (default: standard output)
  --typescript           write a cdk8s app in TypeScript that builds the same
                         chart with the library's API, instead of the YAML
  --release NAME         the Helm release name: keep the chart's object names
                         (<release>-loco-emulator)
  --host-path-volume     also create the chart's hostPath PersistentVolume for
                         the claim (single-node clusters without a provisioner)
  --device-plugin        give KVM/DRI through device-plugin resources instead of
                         the chart's hostPath devices (which need privileged)
  -h, --help             this help

Exit status: ${EXIT.OK} written (warnings may follow); ${EXIT.FAILED} the values cannot be
migrated; ${EXIT.USAGE} bad usage, or a values file or the output that cannot be read or written.`;

/** Runs `from-helm` with its arguments; returns the exit code. */
export function runFromHelm(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'output': { type: 'string', short: 'o' },
        'release': { type: 'string' },
        'host-path-volume': { type: 'boolean' },
        'device-plugin': { type: 'boolean' },
        'typescript': { type: 'boolean' },
        'help': { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError(COMMAND, optionError(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${FROM_HELM_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length === 0) {
    return usageError(COMMAND, 'name the values file(s) to migrate');
  }
  let result: FromHelmResult;
  try {
    result = migrateHelmValuesFiles({
      files: positionals,
      releaseName: values.release,
      hostPathVolume: values['host-path-volume'],
      deviceSource: values['device-plugin'] ? DeviceSource.DEVICE_PLUGIN : undefined,
    });
  } catch (error) {
    if (!(error instanceof HelmValuesError)) throw error;
    return fail(COMMAND, error.message, error instanceof UnusablePath ? EXIT.USAGE : EXIT.FAILED);
  }
  const { migration, yaml } = result;
  const header = `Generated by cdk8s-qemu-loco from-helm ${positionals.map((file) => basename(file)).join(' ')} (storage mode ${migration.mode})`;
  const output = values.typescript ? `// ${header}\n${migration.typescript}` : `# ${header}\n${yaml}`;
  if (values.output) {
    const problem = writeOutput(values.output, output);
    if (problem !== undefined) return fail(COMMAND, problem, EXIT.USAGE);
  } else {
    process.stdout.write(output);
  }
  for (const warning of migration.warnings) {
    process.stderr.write(`from-helm: warning: ${warning}\n`);
  }
  process.stderr.write(`from-helm: storage mode ${migration.mode}; ${migration.warnings.length} warnings` +
    `${values.output ? `; wrote ${values.output}` : ''}\n`);
  return EXIT.OK;
}

const COMMAND = 'from-helm';

/** Writes the output file; returns why it could not, as the one line to print (a partial new file is removed). */
function writeOutput(file: string, text: string): string | undefined {
  const existed = existsSync(file);
  try {
    writeFileSync(file, text);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Only a write that ran out of room leaves a partial file.
    if (!existed && (code === 'ENOSPC' || code === 'EDQUOT')) rmSync(file, { force: true });
    const problem = pathProblem(error, file);
    const todo = code === 'EISDIR' ? `name a file in it, e.g. -o ${join(file, 'loco.k8s.yaml')}`
      : code === 'ENOENT' ? `create ${missingPart(file)} first, or give -o a path in an existing directory`
        : code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space there, or give -o a path on another file system'
          : 'give -o a path you can write, or leave -o out to write to standard output';
    return `cannot write -o ${file}: ${problem}. What to do: ${todo}`;
  }
}
