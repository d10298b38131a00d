import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { KUBERNETES_VERSION, ManifestValidator } from '../manifest-validator';

/** Where `validate` looks when given no paths: the synthesized charts. */
export const DEFAULT_VALIDATE_PATHS = ['dist'];

const USAGE = `usage: cdk8s-qemu-loco validate [<file or directory>...]

Validates Kubernetes YAML (or JSON) against the Kubernetes ${KUBERNETES_VERSION} API schema, strictly:
unknown fields, wrong types, malformed quantities and invalid names are errors.
Directories are searched recursively for *.yaml, *.yml and *.json (kustomization.yaml
is kustomize's configuration and is skipped). Default: ${DEFAULT_VALIDATE_PATHS.join(' ')}/.
Prints one line per failure (file, document, object kind/name, JSON path, message);
exits 0 when every object is valid, 1 otherwise.`;

/** Where `runValidate` writes: standard output and standard error unless a test captures them. */
export interface ValidateOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const CONSOLE: ValidateOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * The `validate` command: validates every object of the given files and directories (default
 * `dist/`) and returns the exit code, 0 when all are valid and 1 on any failure (an invalid
 * object, an unreadable path, a directory without manifests). `argv` holds the arguments after the
 * command name.
 */
export function runValidate(argv: string[], output: ValidateOutput = CONSOLE): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    output.out(USAGE);
    return 0;
  }
  const unknownOption = argv.find((arg) => arg.startsWith('-'));
  if (unknownOption !== undefined) {
    output.err(`validate: unknown option ${unknownOption}\n${USAGE}`);
    return 1;
  }
  const paths = argv.length > 0 ? argv : DEFAULT_VALIDATE_PATHS;
  const validator = ManifestValidator.shared();
  let failures = 0;
  let objects = 0;
  let files = 0;
  let failedFiles = 0;
  for (const path of paths) {
    let found: string[];
    try {
      found = manifestFiles(path);
    } catch (error) {
      output.err(`${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      failures++;
      continue;
    }
    if (found.length === 0) {
      output.err(`${path}: no *.yaml, *.yml or *.json files found (synthesize first: npx cdk8s synth --no-check-upgrade)`);
      failures++;
      continue;
    }
    for (const file of found) {
      files++;
      const result = validator.validateYaml(readFileSync(file, 'utf8'));
      objects += result.objects;
      if (result.failures.length > 0) failedFiles++;
      for (const failure of result.failures) {
        output.out(`${file} (document ${failure.document}): ${failure.object}: ${failure.path}: ${failure.message}`);
      }
      failures += result.failures.length;
    }
  }
  if (failures === 0) {
    output.out(`validate: ${objects} objects in ${files} files valid for Kubernetes ${KUBERNETES_VERSION}`);
    return 0;
  }
  output.err(`validate: ${failures} ${failures === 1 ? 'failure' : 'failures'} (${failedFiles} of ${files} files, ${objects} objects) against Kubernetes ${KUBERNETES_VERSION}`);
  return 1;
}

/** kustomize's own configuration (dist/<chart>/kustomization.yaml), not a Kubernetes object. */
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The manifests at `path`: the file itself, or the YAML and JSON files under a directory, sorted. */
function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
      } else if (/\.(ya?ml|json)$/.test(entry.name) && !KUSTOMIZATION_FILES.includes(entry.name)) {
        files.push(full);
      }
    }
  };
  walk(path);
  return files;
}

if (require.main === module) {
  process.exitCode = runValidate(process.argv.slice(2));
}
