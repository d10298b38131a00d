import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as cdk8s from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { ManifestValidator } from '../../lib/tools';
import * as library from '../../lib';
import { DeviceSource } from '../../lib';
import { FromHelmOptions, migrateHelmValuesFiles } from '../../lib/cli/from-helm';
import { runCli } from './run-cli';

const FIXTURES = join(__dirname, '..', 'fixtures', 'loco-chart-values');
const fixture = (file: string) => join(FIXTURES, file);
const VALUE_FILES = readdirSync(FIXTURES).filter((file) => file.endsWith('.yaml')).sort();

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'from-helm-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const documents = (yaml: string) => parseAllDocuments(yaml).map((document) => document.toJS());

test('the fixtures are the twelve value files of the chart, with their README', () => {
  expect(VALUE_FILES).toHaveLength(12);
  expect(readFileSync(join(FIXTURES, 'README.md'), 'utf8')).toContain('at\ncommit 68655d0');
});

describe.each(VALUE_FILES)('%s', (file) => {
  test('synthesizes to manifests valid for the Kubernetes API', () => {
    const { migration, yaml } = migrateHelmValuesFiles({ files: [fixture(file)] });
    const objects = documents(yaml);
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toHaveLength(1);
    expect(objects.find((o) => o.kind === 'StatefulSet').metadata.labels['app.kubernetes.io/component']).toBe('emulator');
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toHaveLength(migration.mode === 'ephemeral' ? 0 : 1);
    expect(ManifestValidator.shared().validateYaml(yaml).failures).toEqual([]);
  });
});

describe('the TypeScript it prints (HelmMigration.typescript, --typescript)', () => {
  const ROOT = join(__dirname, '..', '..');
  // Each file alone and over values.yaml, with each option: every branch of the printed code.
  // What the chart's files leave out: devices on, scheduling, overlays, hostile text and numbers.
  const extras = mkdtempSync(join(tmpdir(), 'from-helm-extras-'));
  afterAll(() => rmSync(extras, { recursive: true, force: true }));
  const overlay = join(extras, 'overlay.yaml');
  writeFileSync(overlay, [
    'emulator:',
    '  kvm: { enabled: true, hostPath: /dev/kvm }',
    '  dri: { enabled: true }',
    '  snapshotMode: ephemeral',
    '  snapshotReset: true',
    '  nodeSelector: { "kubernetes.io/arch": amd64 }',
    '  tolerations: [{ key: dedicated, operator: Equal, value: emulators, effect: NoExecute, tolerationSeconds: 30 }]',
    '  env: { QUOTED: "it\'s \\"x\\" \\\\ \\n ${y} \u00fc", BIG: 1000000, HALF: 0.5 }',
    '',
  ].join('\n'));
  const CASES: (FromHelmOptions & { name: string })[] = [
    { name: 'values.yaml + devices, scheduling, overlays, hostile env', files: [fixture('values.yaml'), overlay] },
    { name: 'the same --device-plugin', files: [fixture('values.yaml'), overlay], deviceSource: DeviceSource.DEVICE_PLUGIN },
    ...VALUE_FILES.flatMap((file) => [
    { name: file, files: [fixture(file)] },
    { name: `values.yaml + ${file} --release loco --host-path-volume`, files: [fixture('values.yaml'), fixture(file)], releaseName: 'loco', hostPathVolume: true },
  ])];
  const migrated = CASES.map((c) => ({ ...c, ...migrateHelmValuesFiles(c) }));

  test('compiles, strict, against the package as an app imports it (cdk8s-qemu-loco resolved to lib/index.ts)', () => {
    const dir = join(work, 'typescript');
    mkdirSync(dir);
    const files = migrated.map((m, index) => {
      const file = join(dir, `app${index}.ts`);
      writeFileSync(file, m.migration.typescript);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
      baseUrl: ROOT, paths: { 'cdk8s-qemu-loco': ['lib/index.ts'], '*': ['node_modules/*'] }, typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'],
      skipLibCheck: true, noUnusedLocals: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') +
      (d.file ? ` (${d.file.fileName.replace(`${dir}/`, '')}: ${migrated[Number(/app(\d+)/.exec(d.file.fileName)?.[1])]?.name})` : ''));
    expect(errors).toEqual([]);
  }, 120_000);

  test.each(migrated.map((m) => [m.name, m] as const))('%s: running it synthesizes exactly the manifests of the props', (_name, m) => {
    const outdir = mkdtempSync(join(work, 'app-'));
    const js = ts.transpileModule(m.migration.typescript, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const previous = process.env.CDK8S_OUTDIR;
    process.env.CDK8S_OUTDIR = outdir;
    try {
      // The app may import these three packages only.
      const modules: { [name: string]: object } = { 'cdk8s': cdk8s, 'cdk8s-plus-28': plus, 'cdk8s-qemu-loco': library };
      const requireModule = (name: string) => {
        if (!modules[name]) throw new Error(`the app imports ${name}`);
        return modules[name];
      };
      new Function('require', 'exports', js)(requireModule, {});
    } finally {
      if (previous === undefined) delete process.env.CDK8S_OUTDIR; else process.env.CDK8S_OUTDIR = previous;
    }
    const written = readdirSync(outdir).filter((file) => file.endsWith('.yaml')).sort();
    expect(written).toEqual([`${m.migration.chartId}.k8s.yaml`]);
    expect(written.map((file) => readFileSync(join(outdir, file), 'utf8').replace(/\n*$/, '\n')).join('---\n')).toBe(m.yaml);
  });

  test('--typescript -o main.ts: the header, then the app', () => {
    const out = join(work, 'main.ts');
    const run = runCli(['from-helm', '--typescript', fixture('values-private-registry-kind.yaml'), '-o', out]);
    expect(run.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe([
      '// Generated by cdk8s-qemu-loco from-helm values-private-registry-kind.yaml (storage mode ephemeral)',
      "import { App } from 'cdk8s';",
      "import { ImagePullPolicy } from 'cdk8s-plus-28';",
      "import { ContainerImage, LegoLocoChart, StorageMode } from 'cdk8s-qemu-loco';",
      '',
      'const app = new App();',
      "new LegoLocoChart(app, 'loco-ephemeral', {",
      '  mode: StorageMode.ephemeral(),',
      '  emulator: {',
      "    image: ContainerImage.fromTag('qemu-loco', 'latest', {",
      '      allowLatestTag: true,',
      '      pullPolicy: ImagePullPolicy.ALWAYS,',
      '    }),',
      "    imagePullSecrets: ['ghcr-secret'],",
      '    replicas: 1,',
      "    env: { DISK_SIZE: '2G', DISABLE_TAP: 'true', NETWORK_MODE: 'user' },",
      '  },',
      '});',
      'app.synth();',
      '',
    ].join('\n'));
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('from-helm: warning: '));
    expect(run.stderr).toBe(`${warnings.join('\n')}\nfrom-helm: storage mode ephemeral; ${warnings.length} warnings; wrote ${out}\n`);
  });
});

describe('the from-helm command', () => {
  test('values.yaml -o out.yaml: writes the manifests, warnings on stderr', () => {
    const out = join(work, 'out.yaml');
    const run = runCli(['from-helm', fixture('values.yaml'), '-o', out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const yaml = readFileSync(out, 'utf8');
    expect(yaml.split('\n')[0]).toBe('# Generated by cdk8s-qemu-loco from-helm values.yaml (storage mode persistent)');
    const statefulSet = documents(yaml).find((o) => o.kind === 'StatefulSet');
    expect(statefulSet.spec.replicas).toBe(2);
    expect(statefulSet.spec.template.spec.containers[0].image).toBe('qemu-loco-softgpu:v28-qemu3dfx');

    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('from-helm: warning: '));
    expect(warnings).toContain('from-helm: warning: values.yaml: key emulator.diskPVC appears 2 times (lines 88, 130); as Helm does, the last one wins: "win98-disk"');
    expect(warnings.filter((w) => w.includes('not migrated (not part of this library)'))).toHaveLength(1);
    expect(run.stderr).toContain(`from-helm: storage mode persistent; ${warnings.length} warnings; wrote ${out}`);
  });

  test('an overlay after values.yaml merges as Helm does, and the YAML goes to stdout', () => {
    const run = runCli(['from-helm', '--release', 'loco', fixture('values.yaml'), fixture('values-private-registry.yaml')]);
    expect(run.status).toBe(0);
    const objects = documents(run.stdout);
    const statefulSet = objects.find((o) => o.kind === 'StatefulSet');
    expect(statefulSet.metadata.name).toBe('loco-loco-emulator');
    expect(statefulSet.metadata.labels['app.kubernetes.io/instance']).toBe('loco');
    expect(statefulSet.spec.template.spec.imagePullSecrets).toEqual([{ name: 'ghcr-secret' }, { name: 'jfrog-secret' }]);
    const env = Object.fromEntries(statefulSet.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ USE_PREBUILT_SNAPSHOT: 'false', SNAPSHOT_TAG: 'win98-base', DISK_SIZE: '2G', QEMU_3DFX_VGA: 'vmware' });
    expect(run.stderr).toContain('from-helm: storage mode hybrid;');
  });

  test('--host-path-volume keeps the chart\'s hostPath PersistentVolume; its output passes validate', () => {
    const out = join(work, 'hostpath.yaml');
    const run = runCli(['from-helm', '--host-path-volume', fixture('values-minikube-hostpath.yaml'), '--output', out]);
    expect(run.status).toBe(0);
    const pv = documents(readFileSync(out, 'utf8')).find((o) => o.kind === 'PersistentVolume');
    expect(pv.spec.hostPath).toEqual({ path: '/tmp/win98-disk', type: 'DirectoryOrCreate' });
    const validate = runCli(['validate', out]);
    expect(validate.stderr).toBe('');
    expect(validate.status).toBe(0);
  });

  test('values it cannot migrate: exit 1 and one line, no stack trace', () => {
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, 'replicas: many\nemulator:\n  image: qemu-loco\n  tag: v1\n');
    const run = runCli(['from-helm', bad]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('from-helm: bad.yaml: cannot migrate: replicas must be a whole number of at least 1, not "many"\n');

    // A values file that is not there is bad usage (exit 2): test/cli/failures.test.ts.
  });

  test('bad usage exits 2 with one line naming the problem and where the options are', () => {
    const run = runCli(['from-helm']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('from-helm: name the values file(s) to migrate (options: cdk8s-qemu-loco from-helm --help)\n');
    expect(runCli(['from-helm', '--bogus', fixture('values.yaml')]).status).toBe(2);
    expect(runCli(['from-helm', '--help']).stdout).toContain('Usage: cdk8s-qemu-loco from-helm');
  });
});
