import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';

// dist/ is what GitOps repositories consume. These tests synthesize the app exactly as
// `npm run synth` does (the cdk8s CLI running the app of cdk8s.yaml) into a temporary folder, and
// check that the committed dist/ is that output, in the layout docs/gitops.md documents.

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const MODE_FOLDERS = ['loco-ephemeral', 'loco-hybrid', 'loco-persistent'];
const STALE_HINT = 'dist/ is not what the app synthesizes: run `npm run synth` and commit dist/';

/** The temporary directory of this run, removed at the end; the synth writes into its `dist`. */
let tempRoot: string | undefined;
let outdir: string;

/** Files under dir, as sorted paths relative to dir. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => statSync(join(dir, file)).isFile())
    .sort();
}

/** Every object in one folder's manifests. */
function objectsIn(folder: string): any[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith('.k8s.yaml'))
    .flatMap((file) => parseAllDocuments(readFileSync(join(folder, file), 'utf8')).map((doc) => doc.toJS()));
}

beforeAll(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'loco-dist-'));
  outdir = join(tempRoot, 'dist');
  execFileSync(join(ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade', '--output', outdir], {
    cwd: ROOT,
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
    stdio: 'pipe',
    timeout: 120_000,
  });
}, 130_000);

afterAll(() => {
  // Only the directory made above: when the synth failed, outdir's parent must not be guessed (it was tmpdir() itself).
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
});

test('synthesizes one folder per storage mode and nothing else', () => {
  expect(readdirSync(outdir).sort()).toEqual(MODE_FOLDERS);
});

test('the committed dist/ holds exactly the files a fresh synth writes', () => {
  const fresh = filesUnder(outdir);
  const committed = existsSync(DIST) ? filesUnder(DIST) : [];
  const missing = fresh.filter((file) => !committed.includes(file));
  const extra = committed.filter((file) => !fresh.includes(file));
  if (missing.length + extra.length > 0) {
    throw new Error(`${STALE_HINT}\n  missing from dist/: ${missing.join(', ') || '-'}\n  in dist/ but no longer synthesized: ${extra.join(', ') || '-'}`);
  }
});

test('the committed dist/ files are byte-identical to a fresh synth', () => {
  const differing = filesUnder(outdir).filter((file) => existsSync(join(DIST, file))
    && !readFileSync(join(DIST, file)).equals(readFileSync(join(outdir, file))));
  if (differing.length > 0) {
    throw new Error(`${STALE_HINT}\n  differing: ${differing.join(', ')}`);
  }
});

describe.each(MODE_FOLDERS)('dist/%s', (folder) => {
  test('has a kustomization.yaml listing every manifest of the folder once, sorted', () => {
    const dir = join(outdir, folder);
    const [kustomization] = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).map((doc) => doc.toJS());
    const manifests = readdirSync(dir).filter((file) => file !== 'kustomization.yaml');
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.resources).toEqual([...manifests].sort());
    expect(manifests.every((file) => file.endsWith('.k8s.yaml'))).toBe(true);
  });

  test('holds one object per file, in a file named <Kind>.<name>.k8s.yaml', () => {
    const dir = join(outdir, folder);
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.k8s.yaml'))) {
      const names = parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((doc) => doc.toJS()).map((object) => `${object.kind}.${object.metadata.name}.k8s.yaml`);
      expect(names).toEqual([file]);
    }
  });

  test('labels every object with the recommended app.kubernetes.io labels', () => {
    const objects = objectsIn(join(outdir, folder));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const labels = object.metadata.labels ?? {};
      expect({ object: `${object.kind}/${object.metadata.name}`, labels }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        labels: expect.objectContaining({
          'app.kubernetes.io/name': 'lego-loco-emulator',
          'app.kubernetes.io/part-of': 'lego-loco-cluster',
          'app.kubernetes.io/managed-by': 'cdk8s',
          'app.kubernetes.io/instance': folder,
          'app.kubernetes.io/component': expect.stringMatching(/^(emulator|disk|disk-seeder)$/),
        }),
      });
    }
  });

  test('gives each object the component of the construct that made it', () => {
    const objects = objectsIn(join(outdir, folder));
    const components = Object.fromEntries(objects.map((object) => [`${object.kind}/${object.metadata.name}`, object.metadata.labels['app.kubernetes.io/component']]));
    const expected: Record<string, string> = {};
    for (const object of objects) {
      const name = `${object.kind}/${object.metadata.name}`;
      if (object.kind === 'StatefulSet' || object.kind === 'Service') expected[name] = 'emulator';
      else if (object.kind === 'PersistentVolumeClaim') expected[name] = 'disk';
      // Two scripts ConfigMaps: the emulator's (preStop hook) and, in the modes that seed, the seeder's.
      else if (object.kind === 'ConfigMap') expected[name] = /^loco-emulator-scripts-[0-9a-f]{10}$/.test(object.metadata.name) ? 'emulator' : 'disk-seeder';
    }
    expect(components).toEqual(expected);
    expect(Object.values(expected).filter((component) => component === 'emulator')).toHaveLength(3);
    expect(Object.keys(expected).filter((name) => name.startsWith('ConfigMap/') && expected[name] === 'disk-seeder'))
      .toEqual(folder === 'loco-ephemeral' ? [] : [expect.stringMatching(new RegExp(`^ConfigMap/${folder}-seeder-scripts-[0-9a-f]{10}$`))]);
  });
});
