import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdk8s';
import { runValidate } from '../../lib/cli/validate';
import { ContainerImage, LegoLocoChart, StorageMode, StorageModeKind } from '../../lib';

const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seed\ndata:\n  a: b\n';
const BAD_STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: loco-emulator
spec:
  serviceName: loco-emulator
  replicas: "9"
  selector:
    matchLabels: { app: loco }
  template:
    metadata:
      labels: { app: loco }
    spec:
      containers:
        - name: emulator
          image: qemu-loco:v1
          resource: {}
`;

let work: string;
beforeEach(() => { work = mkdtempSync(join(tmpdir(), 'validate-')); });
afterEach(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runValidate(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

test('validates freshly synthesized charts of all three modes (all valid, exit 0)', () => {
  // The modes are alternatives under the same names: each is an app of its own, as in main.ts.
  for (const mode of [StorageMode.persistent(), StorageMode.hybrid(), StorageMode.ephemeral()]) {
    const app = new App({ outdir: join(work, 'dist', mode.kind) });
    new LegoLocoChart(app, `loco-${mode.kind}`, {
      mode,
      emulator: {
        image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: 3,
        scheduling: { sharedClaimOnOneNode: mode.kind === StorageModeKind.EPHEMERAL ? undefined : true },
      },
    });
    app.synth();
  }
  const { code, out, err } = run([join(work, 'dist')]);
  expect(err).toEqual([]);
  expect(out).toEqual([expect.stringMatching(/^validate: 1[0-9] objects in 3 files valid for Kubernetes 1\.28\.0$/)]);
  expect(code).toBe(0);
});

test('prints one line per failure with file, document, kind/name, JSON path and message; exit 1', () => {
  writeFileSync(join(work, 'a.yaml'), `${CONFIG_MAP}---\n${BAD_STATEFULSET}`);
  const { code, out, err } = run([join(work, 'a.yaml')]);
  expect(out).toEqual([
    `${join(work, 'a.yaml')} (document 2): StatefulSet/loco-emulator: spec.replicas: must be integer, not string "9"`,
    `${join(work, 'a.yaml')} (document 2): StatefulSet/loco-emulator: spec.template.spec.containers[0].resource: unknown field "resource"`,
  ]);
  expect(err).toEqual(['validate: 2 failures (1 of 1 files, 2 objects) against Kubernetes 1.28.0']);
  expect(code).toBe(1);
});

test('walks directories for .yaml, .yml and .json, skipping kustomization.yaml and other files', () => {
  mkdirSync(join(work, 'chart', 'nested'), { recursive: true });
  writeFileSync(join(work, 'chart', 'ConfigMap.seed.k8s.yaml'), CONFIG_MAP);
  writeFileSync(join(work, 'chart', 'nested', 'b.yml'), CONFIG_MAP.replace('seed', 'other'));
  writeFileSync(join(work, 'chart', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad' } }));
  writeFileSync(join(work, 'chart', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n');
  writeFileSync(join(work, 'chart', 'notes.txt'), 'kind: nonsense');
  const { code, out } = run([join(work, 'chart')]);
  expect(out).toEqual([expect.stringContaining(`${join(work, 'chart', 'c.json')} (document 1): ConfigMap/Bad: metadata.name:`)]);
  expect(code).toBe(1);
  rmSync(join(work, 'chart', 'c.json'));
  expect(run([join(work, 'chart')]).out).toEqual(['validate: 2 objects in 2 files valid for Kubernetes 1.28.0']);
});

test('a missing path or a directory without manifests is bad usage (exit 2), not a silent success', () => {
  mkdirSync(join(work, 'empty'));
  writeFileSync(join(work, 'a.yaml'), CONFIG_MAP);
  const { code, out, err } = run([join(work, 'missing.yaml'), join(work, 'empty'), join(work, 'a.yaml')]);
  expect(err).toEqual([
    `validate: cannot read ${join(work, 'missing.yaml')}: it does not exist. What to do: name an existing file or directory`,
    `validate: ${join(work, 'empty')}: no *.yaml, *.yml or *.json files found. What to do: synthesize first (npx cdk8s synth --no-check-upgrade) or name the manifests' directory`,
  ]);
  // The paths it can read are validated all the same.
  expect(out).toEqual(['validate: 1 objects in 1 files valid for Kubernetes 1.28.0']);
  expect(code).toBe(2);
});

test('refuses an unknown option (exit 2, like the other commands) and prints its usage on --help', () => {
  expect(run(['--strict'])).toEqual({ code: 2, out: [], err: ["validate: Unknown option '--strict' (options: cdk8s-qemu-loco validate --help)"] });
  const help = run(['--help']);
  expect(help.code).toBe(0);
  expect(help.out[0]).toContain('usage: cdk8s-qemu-loco validate [--skip-kind KIND]...');
});

test('the shipped command validates dist/ by default and exits with the status', () => {
  mkdirSync(join(work, 'dist'));
  writeFileSync(join(work, 'dist', 'bad.k8s.yaml'), BAD_STATEFULSET);
  const command = spawnSync(process.execPath, [
    '-r', require.resolve('ts-node/register/transpile-only'), join(__dirname, '..', '..', 'lib', 'cli', 'validate.ts'),
  ], { cwd: work, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') } });
  expect(command.stdout).toContain('dist/bad.k8s.yaml (document 1): StatefulSet/loco-emulator: spec.replicas: must be integer');
  expect(command.stderr).toContain('validate: 2 failures');
  expect(command.status).toBe(1);
});
