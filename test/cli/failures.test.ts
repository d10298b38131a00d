// Every user mistake through the commands as they ship: the documented exit status and one line
// on stderr that names the path or option and says what to do, never a stack trace (exit 70).
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCli } from './run-cli';

const VALUES = join(__dirname, '..', 'fixtures', 'loco-chart-values', 'values.yaml');
const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seed\ndata:\n  a: b\n';
const APPLICATION = 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: loco\nspec: {}\n';
const APP_PROJECT = 'apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: loco\nspec: {}\n';

/** An alias bomb: each level lists the previous one ten times (10^9 values when expanded). */
function aliasBomb(start: string): string {
  const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level <= 9; level++) lines.push(`l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(', ')}]`);
  return `${start}${lines.join('\n')}\n`;
}

let work: string;
/** A read-only file system (a tmpfs mounted ro): root writes nowhere in it. */
let readOnly: string;
/** A full file system (a tmpfs of 16 KiB, filled). */
let full: string;
/** A directory holding only links to the given programs, for a PATH that lacks the others. */
let pathWith: (name: string, tools: string[]) => string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cli-failures-'));
  readOnly = join(work, 'read-only');
  mkdirSync(readOnly);
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'cli-failures-ro', readOnly]).status).toBe(0);
  full = join(work, 'full');
  mkdirSync(full);
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'cli-failures-full', full]).status).toBe(0);
  spawnSync('sh', ['-c', 'cat /dev/zero > "$0/filler"', full]);
  writeFileSync(join(work, 'a-file'), 'not a directory\n');
  mkdirSync(join(work, 'layout'));
  mkdirSync(join(work, 'empty'));
  mkdirSync(join(work, 'manifests'));
  writeFileSync(join(work, 'manifests', 'config-map.yaml'), CONFIG_MAP);
  symlinkSync(join(work, 'nowhere.yaml'), join(work, 'manifests', 'dangling.yaml'));
  writeFileSync(join(work, 'bomb-values.yaml'), aliasBomb('emulator:\n  image: qemu-loco\n  tag: v1\n'));
  writeFileSync(join(work, 'bomb.yaml'), aliasBomb(CONFIG_MAP));
  writeFileSync(join(work, 'loop.yaml'), `${CONFIG_MAP.replace('data:\n  a: b\n', '')}data: &loop\n  a: [*loop]\n`);
  writeFileSync(join(work, 'argo.yaml'), `${CONFIG_MAP}---\n${APPLICATION}---\n${APP_PROJECT}`);
  pathWith = (name, tools) => {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const tool of tools) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      expect(found).not.toBe('');
      symlinkSync(found, join(dir, tool));
    }
    return dir;
  };
});

afterAll(() => {
  spawnSync('umount', [readOnly]);
  spawnSync('umount', [full]);
  rmSync(work, { recursive: true, force: true });
});

interface Case {
  /** The arguments, given the work directory. */
  readonly args: (w: string) => string[];
  readonly status: number;
  /** The whole of stderr, one line (two for validate's summary and hint). */
  readonly stderr: (w: string) => string;
  readonly stdout?: (w: string) => string;
  readonly env?: (w: string) => NodeJS.ProcessEnv;
  readonly cwd?: (w: string) => string;
}

const CASES: [string, Case][] = [
  // from-helm: the output and the values files.
  ['from-helm -o into a read-only file system', {
    args: (w) => ['from-helm', VALUES, '-o', join(w, 'read-only', 'loco.k8s.yaml')], status: 2,
    stderr: (w) => `from-helm: cannot write -o ${w}/read-only/loco.k8s.yaml: the file system is read-only. What to do: give -o a path you can write, or leave -o out to write to standard output`,
  }],
  ['from-helm -o onto a full file system (and no partial file is left)', {
    args: (w) => ['from-helm', VALUES, '-o', join(w, 'full', 'loco.k8s.yaml')], status: 2,
    stderr: (w) => `from-helm: cannot write -o ${w}/full/loco.k8s.yaml: the file system is full. What to do: free some space there, or give -o a path on another file system`,
  }],
  ['from-helm -o under a file', {
    args: (w) => ['from-helm', VALUES, '-o', join(w, 'a-file', 'loco.k8s.yaml')], status: 2,
    stderr: (w) => `from-helm: cannot write -o ${w}/a-file/loco.k8s.yaml: ${w}/a-file is a file, not a directory. What to do: give -o a path you can write, or leave -o out to write to standard output`,
  }],
  ['from-helm -o in a directory that does not exist', {
    args: (w) => ['from-helm', VALUES, '-o', join(w, 'out', 'charts', 'loco.k8s.yaml')], status: 2,
    stderr: (w) => `from-helm: cannot write -o ${w}/out/charts/loco.k8s.yaml: directory ${w}/out does not exist. What to do: create ${w}/out first, or give -o a path in an existing directory`,
  }],
  ['from-helm -o a directory', {
    args: (w) => ['from-helm', VALUES, '-o', join(w, 'empty')], status: 2,
    stderr: (w) => `from-helm: cannot write -o ${w}/empty: it is a directory. What to do: name a file in it, e.g. -o ${w}/empty/loco.k8s.yaml`,
  }],
  ['from-helm with a values file that does not exist', {
    args: (w) => ['from-helm', join(w, 'values.yaml')], status: 2,
    stderr: (w) => `from-helm: cannot read values file ${w}/values.yaml: it does not exist. What to do: name an existing, readable values file (the chart's values.yaml)`,
  }],
  ['from-helm with a directory for a values file', {
    args: (w) => ['from-helm', join(w, 'empty')], status: 2,
    stderr: (w) => `from-helm: cannot read values file ${w}/empty: it is a directory. What to do: name the values file(s) in it, e.g. ${w}/empty/values.yaml`,
  }],
  ['from-helm with TMPDIR that does not exist', {
    args: () => ['from-helm', VALUES], env: (w) => ({ TMPDIR: join(w, 'no-tmp') }), status: 2,
    stderr: (w) => `from-helm: cannot create a temporary directory in ${w}/no-tmp: it does not exist. What to do: set TMPDIR to a writable directory`,
  }],
  ['from-helm with an alias bomb', {
    args: (w) => ['from-helm', join(w, 'bomb-values.yaml')], status: 1,
    stderr: () => 'from-helm: bomb-values.yaml:5: expands to more than 100000 values (aliases and merge keys count each time they are used); a values file this large is not a chart\'s',
  }],
  ['from-helm with an unknown option', {
    args: () => ['from-helm', '--out', 'x.yaml', VALUES], status: 2,
    stderr: () => 'from-helm: Unknown option \'--out\' (options: cdk8s-qemu-loco from-helm --help)',
  }],
  ['from-helm without a values file', {
    args: () => ['from-helm', '--release', 'loco'], status: 2,
    stderr: () => 'from-helm: name the values file(s) to migrate (options: cdk8s-qemu-loco from-helm --help)',
  }],

  // check-image: the temporary directory, local paths, options, tools.
  ['check-image --tmpdir that does not exist', {
    args: (w) => ['check-image', '--tmpdir', join(w, 'no-tmp'), `oci:${w}/layout:v1`], status: 2,
    stderr: (w) => `check-image: cannot create the temporary copy in --tmpdir ${w}/no-tmp: it does not exist. What to do: give --tmpdir an existing, writable directory with room for the image`,
  }],
  ['check-image --tmpdir that is a file', {
    args: (w) => ['check-image', '--tmpdir', join(w, 'a-file'), `oci:${w}/layout:v1`], status: 2,
    stderr: (w) => `check-image: cannot create the temporary copy in --tmpdir ${w}/a-file: ${w}/a-file is a file, not a directory. What to do: give --tmpdir an existing, writable directory with room for the image`,
  }],
  ['check-image --tmpdir on a read-only file system', {
    args: (w) => ['check-image', '--tmpdir', join(w, 'read-only'), `oci:${w}/layout:v1`], status: 2,
    stderr: (w) => `check-image: cannot create the temporary copy in --tmpdir ${w}/read-only: the file system is read-only. What to do: give --tmpdir an existing, writable directory with room for the image`,
  }],
  ['check-image with TMPDIR that does not exist', {
    args: (w) => ['check-image', `oci:${w}/layout:v1`], env: (w) => ({ TMPDIR: join(w, 'no-tmp') }), status: 2,
    stderr: (w) => `check-image: cannot create the temporary copy in TMPDIR ${w}/no-tmp: it does not exist. What to do: give --tmpdir an existing, writable directory with room for the image`,
  }],
  ['check-image with a bare path to an archive that is not there', {
    args: () => ['check-image', './image.tar'], cwd: (w) => w, status: 2,
    stderr: () => 'check-image: ./image.tar is a path, not an image reference: did you mean oci:./image.tar (an OCI layout directory) or oci-archive:./image.tar (an OCI archive)? A registry image is docker://host/repo:tag',
  }],
  ['check-image with a bare path to a file', {
    args: (w) => ['check-image', join(w, 'a-file')], status: 2,
    stderr: (w) => `check-image: ${w}/a-file is a path, not an image reference: did you mean oci-archive:${w}/a-file (an OCI archive) or docker-archive:${w}/a-file (docker save)? A registry image is docker://host/repo:tag`,
  }],
  ['check-image with a bare path to a directory', {
    args: () => ['check-image', 'layout'], cwd: (w) => w, status: 2,
    stderr: () => 'check-image: layout is a path, not an image reference: did you mean oci:layout (an OCI layout directory)? A registry image is docker://host/repo:tag',
  }],
  ['check-image with an OCI layout that does not exist', {
    args: (w) => ['check-image', `oci:${w}/no-layout:v1`], status: 2,
    stderr: (w) => `check-image: cannot read oci:${w}/no-layout:v1: ${w}/no-layout does not exist. What to do: name an OCI layout directory (oci:DIR[:TAG]) that exists`,
  }],
  ['check-image with an OCI archive that does not exist', {
    args: (w) => ['check-image', `oci-archive:${w}/image.tar`], status: 2,
    stderr: (w) => `check-image: cannot read oci-archive:${w}/image.tar: ${w}/image.tar does not exist. What to do: name an OCI archive file (oci-archive:FILE[:TAG]) that exists`,
  }],
  ['check-image --authfile that does not exist', {
    args: (w) => ['check-image', '--authfile', join(w, 'auth.json'), 'registry.example.com/qemu-loco:v1'], status: 2,
    stderr: (w) => `check-image: cannot read --authfile ${w}/auth.json: it does not exist. What to do: name the auth.json that podman login or skopeo login wrote`,
  }],
  ['check-image --path that is not absolute', {
    args: (w) => ['check-image', '--path', 'win98.qcow2', `oci:${w}/layout:v1`], status: 2,
    stderr: () => "check-image: --path takes the absolute path of the file inside the image, not 'win98.qcow2' (e.g. /opt/builtin-images/win98.qcow2.builtin) (options: cdk8s-qemu-loco check-image --help)",
  }],
  ['check-image --tls-verify with another value', {
    args: (w) => ['check-image', '--tls-verify=no', `oci:${w}/layout:v1`], status: 2,
    stderr: () => "check-image: --tls-verify takes true or false, not 'no' (options: cdk8s-qemu-loco check-image --help)",
  }],
  ['check-image with two images', {
    args: () => ['check-image', '--tls-verify', 'maybe', 'localhost:5000/qemu-loco:v1'], status: 2,
    stderr: () => 'check-image: one image at a time, not 2 (maybe localhost:5000/qemu-loco:v1) (options: cdk8s-qemu-loco check-image --help)',
  }],
  ['check-image without skopeo', {
    args: (w) => ['check-image', `oci:${w}/layout:v1`], env: () => ({ PATH: pathWith('no-skopeo', ['tar', 'qemu-img', 'sh', 'sha256sum']) }), status: 4,
    stderr: () => 'check-image: skopeo is not installed (not found in PATH). What to do: install it: apt-get install skopeo (Debian/Ubuntu), dnf install skopeo (Fedora)',
  }],
  ['check-image without qemu-img', {
    args: (w) => ['check-image', `oci:${w}/layout:v1`], env: () => ({ PATH: pathWith('no-qemu-img', ['skopeo', 'tar', 'sh', 'sha256sum']) }), status: 4,
    stderr: () => 'check-image: qemu-img is not installed (not found in PATH). What to do: install it: apt-get install qemu-utils (Debian/Ubuntu), dnf install qemu-img (Fedora)',
  }],

  // validate: usage, paths, hostile YAML, kinds without a schema.
  ['validate with an unknown option', {
    args: () => ['validate', '--strict'], status: 2,
    stderr: () => "validate: Unknown option '--strict' (options: cdk8s-qemu-loco validate --help)",
  }],
  ['validate with a path that does not exist', {
    args: (w) => ['validate', join(w, 'missing.yaml')], status: 2,
    stderr: (w) => `validate: cannot read ${w}/missing.yaml: it does not exist. What to do: name an existing file or directory`,
  }],
  ['validate without dist/ (the default)', {
    args: () => ['validate'], cwd: (w) => join(w, 'empty'), status: 2,
    stderr: () => 'validate: cannot read dist: it does not exist. What to do: synthesize first (npx cdk8s synth --no-check-upgrade) or name the manifests to validate',
  }],
  ['validate with a directory without manifests', {
    args: (w) => ['validate', join(w, 'empty')], status: 2,
    stderr: (w) => `validate: ${w}/empty: no *.yaml, *.yml or *.json files found. What to do: synthesize first (npx cdk8s synth --no-check-upgrade) or name the manifests' directory`,
  }],
  ['validate with a dangling symbolic link among the manifests', {
    args: (w) => ['validate', join(w, 'manifests')], status: 2,
    stdout: () => 'validate: 1 objects in 1 files valid for Kubernetes 1.28.0',
    stderr: (w) => `validate: cannot read ${w}/manifests/dangling.yaml: it does not exist. What to do: make it readable, or name the other files`,
  }],
  ['validate with an alias bomb', {
    args: (w) => ['validate', join(w, 'bomb.yaml')], status: 1,
    stdout: (w) => `${w}/bomb.yaml (document 1): ?: (root): YAML: its aliases expand past 100 copies (an alias bomb?); a manifest needs no aliases: write the values out`,
    stderr: () => 'validate: 1 failure (1 of 1 files, 0 objects) against Kubernetes 1.28.0',
  }],
  ['validate with an anchor that contains itself', {
    args: (w) => ['validate', join(w, 'loop.yaml')], status: 1,
    stdout: (w) => `${w}/loop.yaml (document 1): ?: (root): YAML: an anchor contains an alias to itself, so the object has no end; write the values out`,
    stderr: () => 'validate: 1 failure (1 of 1 files, 0 objects) against Kubernetes 1.28.0',
  }],
  ['validate with custom resources and no --skip-kind: the failures and the flag', {
    args: (w) => ['validate', join(w, 'argo.yaml')], status: 1,
    stdout: (w) => [
      `${w}/argo.yaml (document 2): Application/loco: apiVersion: Kubernetes 1.28.0 has no kind Application in apiVersion argoproj.io/v1alpha1`,
      `${w}/argo.yaml (document 3): AppProject/loco: apiVersion: Kubernetes 1.28.0 has no kind AppProject in apiVersion argoproj.io/v1alpha1`,
    ].join('\n'),
    stderr: () => 'validate: 2 failures (1 of 1 files, 3 objects) against Kubernetes 1.28.0\n' +
      'validate: no schema for AppProject, Application: if these are custom resources (CRDs), skip them with --skip-kind AppProject,Application',
  }],
  ['validate --skip-kind naming a kind that has a schema', {
    args: (w) => ['validate', '--skip-kind', 'Application,ConfigMap', join(w, 'argo.yaml')], status: 2,
    stderr: () => 'validate: --skip-kind: Kubernetes 1.28.0 has a schema for ConfigMap (v1), so it is always validated; --skip-kind is for kinds without one (custom resources)',
  }],
  ['validate --skip-kind with something that is not a kind', {
    args: (w) => ['validate', '--skip-kind', 'argoproj.io/Application', join(w, 'argo.yaml')], status: 2,
    stderr: () => "validate: --skip-kind: 'argoproj.io/Application' is not a kind name (e.g. Application)",
  }],
];

test.each(CASES)('%s', (_name, c) => {
  const run = runCli(c.args(work), { cwd: c.cwd?.(work), env: c.env?.(work) });
  expect(run.stderr).toBe(`${c.stderr(work)}\n`);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.status).toBe(c.status);
  expect(run.stdout).toBe(c.stdout ? `${c.stdout(work)}\n` : '');
});

test('a failed -o leaves no partial file behind', () => {
  expect(existsSync(join(full, 'loco.k8s.yaml'))).toBe(false);
  expect(readdirSync(full)).toEqual(['filler']);
});

describe('validate --skip-kind', () => {
  test('skips the kinds without a schema it names, repeated or comma-separated, and lists them', () => {
    for (const flags of [['--skip-kind', 'Application,AppProject'], ['--skip-kind', 'Application', '--skip-kind', 'AppProject']]) {
      const run = runCli(['validate', ...flags, join(work, 'argo.yaml')]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('validate: 1 objects in 1 files valid for Kubernetes 1.28.0; skipped (no schema, --skip-kind): 1 Application, 1 AppProject\n');
      expect(run.status).toBe(0);
    }
  });

  test('still validates the objects of other kinds, and a skipped kind only where it has no schema', () => {
    writeFileSync(join(work, 'argo-bad.yaml'), `${APPLICATION}---\n${CONFIG_MAP.replace('name: seed', 'name: Seed')}`);
    const run = runCli(['validate', '--skip-kind', 'Application', join(work, 'argo-bad.yaml')]);
    expect(run.stdout).toMatch(new RegExp(`^${work}/argo-bad\\.yaml \\(document 2\\): ConfigMap/Seed: metadata\\.name: `));
    expect(run.stderr).toBe('validate: 1 failure (1 of 1 files, 2 objects) against Kubernetes 1.28.0; skipped (no schema, --skip-kind): 1 Application\n');
    expect(run.status).toBe(1);
  });
});
