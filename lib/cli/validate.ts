import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { parseArgs } from 'util';
import { KUBERNETES_VERSION, ManifestValidator } from '../manifest-validator';
import { EXIT, optionError, pathProblem } from './usage';

/** Where `validate` looks when given no paths: the synthesized charts. */
export const DEFAULT_VALIDATE_PATHS = ['dist'];

const USAGE = `usage: cdk8s-qemu-loco validate [--skip-kind KIND]... [<file or directory>...]

Validates Kubernetes YAML (or JSON) against the Kubernetes ${KUBERNETES_VERSION} API schema, strictly:
unknown fields, wrong types, malformed quantities and invalid names are errors.
Directories are searched recursively for *.yaml, *.yml and *.json (kustomization.yaml
is kustomize's configuration and is skipped). Default: ${DEFAULT_VALIDATE_PATHS.join(' ')}/.
Prints one line per failure (file, document, object kind/name, JSON path, message).

Options:
  --skip-kind KIND   skip objects of KIND when the schema has no such kind (custom
                     resources, e.g. Argo CD's Application); repeat it or give a
                     comma-separated list; the skipped objects are counted and named
  -h, --help         this help

Exit status: ${EXIT.OK} every object is valid; ${EXIT.FAILED} an object is invalid; ${EXIT.USAGE} bad usage, or a
path that cannot be read or holds no manifests.`;

/** Where `runValidate` writes: standard output and standard error unless a test captures them. */
export interface ValidateOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const CONSOLE: ValidateOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** What the command line asks for, or the exit code after help or bad usage. */
function parseValidateArgs(argv: string[], output: ValidateOutput): { paths: string[]; skipKinds: string[] } | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'skip-kind': { type: 'string', multiple: true }, 'help': { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    output.err(`validate: ${optionError(error)} (options: cdk8s-qemu-loco validate --help)`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    output.out(USAGE);
    return EXIT.OK;
  }
  const skipKinds = (parsed.values['skip-kind'] ?? []).flatMap((list) => list.split(',')).map((kind) => kind.trim());
  const validator = ManifestValidator.shared();
  for (const kind of skipKinds) {
    const known = validator.knownKinds.filter((known) => known.endsWith(`/${kind}`));
    const problem = kind === '' ? 'an empty kind' : !/^[A-Za-z][A-Za-z0-9]*$/.test(kind) ? `'${kind}' is not a kind name (e.g. Application)`
      : known.length > 0 ? `Kubernetes ${KUBERNETES_VERSION} has a schema for ${kind} (${known.map((k) => k.slice(0, -kind.length - 1)).join(', ')}), so it is always validated; --skip-kind is for kinds without one (custom resources)`
        : undefined;
    if (problem !== undefined) {
      output.err(`validate: --skip-kind: ${problem}`);
      return EXIT.USAGE;
    }
  }
  return { paths: parsed.positionals.length > 0 ? parsed.positionals : DEFAULT_VALIDATE_PATHS, skipKinds };
}

/** What a run found: counts, paths it could not use, skipped objects (`Kind/name`), kinds without a schema. */
interface Tally {
  failures: number;
  objects: number;
  files: number;
  failedFiles: number;
  unusable: number;
  readonly skipped: string[];
  readonly unknownKinds: Set<string>;
}

/**
 * The `validate` command: validates every object of the given files and directories (default
 * `dist/`) and returns the exit code: 0 when all are valid, 1 when an object is invalid, 2 for bad
 * usage or a path that cannot be read or holds no manifests (each reported on one line, after the
 * other paths were validated). `argv` holds the arguments after the command name.
 */
export function runValidate(argv: string[], output: ValidateOutput = CONSOLE): number {
  const args = parseValidateArgs(argv, output);
  if (typeof args === 'number') return args;
  const validator = ManifestValidator.shared();
  const tally: Tally = { failures: 0, objects: 0, files: 0, failedFiles: 0, unusable: 0, skipped: [], unknownKinds: new Set() };
  for (const path of args.paths) {
    const found = manifestFiles(path);
    if (typeof found === 'string') {
      output.err(`validate: ${found}`);
      tally.unusable++;
      continue;
    }
    for (const file of found) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        output.err(`validate: cannot read ${file}: ${pathProblem(error, file)}. What to do: make it readable, or name the other files`);
        tally.unusable++;
        continue;
      }
      tally.files++;
      const result = validator.validateYaml(text, { skipKinds: args.skipKinds });
      tally.objects += result.objects;
      tally.skipped.push(...result.skipped.map((skipped) => skipped.object));
      result.unknownKinds.forEach((kind) => tally.unknownKinds.add(kind));
      if (result.failures.length > 0) tally.failedFiles++;
      for (const failure of result.failures) {
        output.out(`${file} (document ${failure.document}): ${failure.object}: ${failure.path}: ${failure.message}`);
      }
      tally.failures += result.failures.length;
    }
  }
  return summarize(tally, output);
}

/** The closing lines: the count, the skipped objects, the --skip-kind hint; returns the exit code. */
function summarize(tally: Tally, output: ValidateOutput): number {
  const perKind = new Map<string, number>();
  tally.skipped.forEach((object) => perKind.set(object.split('/')[0], (perKind.get(object.split('/')[0]) ?? 0) + 1));
  const skipped = tally.skipped.length === 0 ? ''
    : `; skipped (no schema, --skip-kind): ${[...perKind].map(([kind, count]) => `${count} ${kind}`).join(', ')}`;
  if (tally.failures === 0) {
    // With nothing read (every path unusable, each said so), nothing is valid either.
    if (tally.files > 0) output.out(`validate: ${tally.objects - tally.skipped.length} objects in ${tally.files} files valid for Kubernetes ${KUBERNETES_VERSION}${skipped}`);
    return tally.unusable > 0 ? EXIT.USAGE : EXIT.OK;
  }
  output.err(`validate: ${tally.failures} ${tally.failures === 1 ? 'failure' : 'failures'} (${tally.failedFiles} of ${tally.files} files, ${tally.objects} objects) against Kubernetes ${KUBERNETES_VERSION}${skipped}`);
  if (tally.unknownKinds.size > 0) {
    const kinds = [...tally.unknownKinds].sort().join(',');
    output.err(`validate: no schema for ${kinds.replace(/,/g, ', ')}: if these are custom resources (CRDs), skip them with --skip-kind ${kinds}`);
  }
  return tally.unusable > 0 ? EXIT.USAGE : EXIT.FAILED;
}

/** kustomize's own configuration (dist/<chart>/kustomization.yaml), not a Kubernetes object. */
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/**
 * The manifests at `path`: the file itself, or the YAML and JSON files under a directory, sorted;
 * or, when there are none to read, the one line that says why and what to do.
 */
function manifestFiles(path: string): string[] | string {
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (error) {
    const todo = path === DEFAULT_VALIDATE_PATHS[0] ? 'synthesize first (npx cdk8s synth --no-check-upgrade) or name the manifests to validate' : 'name an existing file or directory';
    return `cannot read ${path}: ${pathProblem(error, path)}. What to do: ${todo}`;
  }
  if (!directory) return [path];
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
      } else if (/\.(ya?ml|json)$/.test(entry.name) && !KUSTOMIZATION_FILES.includes(entry.name)) {
        files.push(full);
      }
    }
  };
  try {
    walk(path);
  } catch (error) {
    const at = (error as NodeJS.ErrnoException).path ?? path;
    return `cannot read ${at}: ${pathProblem(error, at)}. What to do: make it readable, or name the other files`;
  }
  if (files.length === 0) return `${path}: no *.yaml, *.yml or *.json files found. What to do: synthesize first (npx cdk8s synth --no-check-upgrade) or name the manifests' directory`;
  return files;
}

if (require.main === module) {
  process.exitCode = runValidate(process.argv.slice(2));
}
