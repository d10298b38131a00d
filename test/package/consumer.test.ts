import { execFileSync, spawnSync } from 'child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';

// What people download: `npm pack` the library, install the tarball into a fresh cdk8s app in a
// temporary folder (offline: the tarball, and cdk8s, cdk8s-plus-28 and constructs from the npm
// cache that `npm ci` filled), compile the app README.md shows (its TypeScript block, taken from
// the README) with tsc against the package's .d.ts files, run it with plain node, read the GitOps
// layout it writes and build each chart's folder with `kubectl kustomize`.

const ROOT = join(__dirname, '..', '..');
const PEERS = ['cdk8s', 'cdk8s-plus-28', 'constructs'];
const TIMEOUT_MS = 120_000;
const REGISTRY = 'https://registry.npmjs.org/';

interface LockEntry { version?: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; [key: string]: unknown }
type Lock = { packages: Record<string, LockEntry> };

let work: string;
let consumer: string;
let packed: { filename: string; integrity: string; files: { path: string }[] };
let manifests: any[];
let installOutput: string;
const KUBECTL = '/usr/bin/kubectl';

function run(command: string, args: string[], cwd: string): string {
  // Not inherited: a cdk8s CLI running these tests would otherwise send the consumer's output there.
  const { CDK8S_OUTDIR, ...env } = process.env;
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: 'pipe', timeout: TIMEOUT_MS });
  } catch (error: any) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
}

function version(name: string): string {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/**
 * The consumer's package-lock.json: the entries of this repo's lock for the consumer's
 * dependencies and everything they pull in (with the `resolved` URLs and integrity hashes that
 * `npm ci` cached), plus the tarball. With it `npm ci --offline` needs no registry metadata, only
 * the cached tarballs.
 */
function consumerLock(dependencies: Record<string, string>, library: LockEntry): object {
  const repoLock: Lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', version: '1.0.0', dependencies },
    'node_modules/cdk8s-qemu-loco': library,
  };
  // Node's resolution in the lock's tree: the nearest node_modules/<name> up from where it is needed.
  const locate = (from: string, name: string): string => {
    for (let at = from; ; at = at.slice(0, Math.max(at.lastIndexOf('/node_modules/'), 0))) {
      const key = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
      if (repoLock.packages[key]) return key;
      if (!at) throw new Error(`package-lock.json has no entry for ${name} needed by ${from || 'the root'}`);
    }
  };
  // The library's bundled dependencies (and theirs) come inside its tarball, as npm pack laid them
  // out from this repo's node_modules: entries under its own node_modules, marked inBundle.
  const bundled = (library.bundleDependencies ?? []) as string[];
  const inBundle = bundled.map((name) => locate('', name));
  while (inBundle.length > 0) {
    const key = inBundle.pop()!;
    const { dev, devOptional, peer, resolved, integrity, ...entry } = repoLock.packages[key];
    packages[`node_modules/cdk8s-qemu-loco/${key}`] = { ...entry, inBundle: true };
    for (const name of Object.keys(entry.dependencies ?? {})) inBundle.push(locate(key, name));
  }
  const pending = Object.keys({ ...dependencies, ...library.dependencies })
    .filter((name) => name !== 'cdk8s-qemu-loco' && !bundled.includes(name))
    .map((name) => locate('', name));
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (packages[key]) continue;
    const { dev, devOptional, peer, ...entry } = repoLock.packages[key];
    // This repo's lock leaves out registry URLs; without them npm would fetch metadata to find
    // the tarballs. With them it takes the tarballs from the cache by their integrity hash.
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!entry.inBundle && !entry.resolved) {
      entry.resolved = `${REGISTRY}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    }
    packages[key] = entry;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      pending.push(locate(key, name));
    }
  }
  return { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** The first TypeScript block of a page's section, as a consumer would paste it. */
function tsBlock(page: string, heading: string): string {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)));
  if (!text.includes(heading) || !block) throw new Error(`${page}: no \`\`\`ts block in the section '${heading}'`);
  return block[1];
}

/** Runs npm and returns everything it printed: its stdout, then its stderr (where npm warns). */
function npm(args: string[], cwd: string): string {
  const { CDK8S_OUTDIR, ...env } = process.env;
  const result = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: TIMEOUT_MS });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed:\n${output}`);
  return output;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'loco-package-'));
  // `npm pack` runs the `prepack` build first, so the tarball holds what the sources compile to.
  const packOutput = run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  // The JSON report follows whatever the build printed.
  packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m)))[0];

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  const dependencies = {
    'cdk8s-qemu-loco': `file:../${packed.filename}`,
    ...Object.fromEntries(PEERS.map((name) => [name, version(name)])),
  };
  const library = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies }, null, 2));
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(dependencies, {
    version: library.version,
    resolved: `file:../${packed.filename}`,
    integrity: packed.integrity,
    license: library.license,
    dependencies: library.dependencies,
    bundleDependencies: library.bundledDependencies,
    peerDependencies: library.peerDependencies,
    engines: library.engines,
    // npm links node_modules/.bin from the lock's entry, as its own lock would record it.
    bin: library.bin,
  }), null, 2));
  // As a consumer installs: lifecycle scripts allowed, so a script the package should not ship shows.
  installOutput = npm(['ci', '--offline', '--no-audit', '--no-fund'], consumer);

  // The consumer's own TypeScript, compiled against the package's .d.ts files, resolved through
  // its `exports` (node16 resolution), then run as plain JavaScript.
  writeFileSync(join(consumer, 'main.ts'), tsBlock('README.md', '### Using them in your cdk8s app'));
  // docs/gitops.md's example app, which writes to deploy/.
  writeFileSync(join(consumer, 'gitops-example.ts'), tsBlock('docs/gitops.md', '## The same layout from your own app'));
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, types: [], skipLibCheck: false },
    files: ['main.ts', 'gitops-example.ts'],
  }));
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', consumer], consumer);
  run(process.execPath, ['main.js'], consumer);
  run(process.execPath, ['gitops-example.js'], consumer);
  // The GitOps layout: dist/<chart>/<Kind>.<name>.k8s.yaml; `chart` is the folder.
  manifests = readdirSync(join(consumer, 'dist')).sort().flatMap((chart) =>
    readdirSync(join(consumer, 'dist', chart)).filter((file) => file.endsWith('.k8s.yaml')).sort().flatMap((file) =>
      parseAllDocuments(readFileSync(join(consumer, 'dist', chart, file), 'utf8')).map((doc) => ({ chart, file, ...doc.toJS() }))));
}, 4 * TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  const paths = () => packed.files.map((file) => file.path);

  test('ships the compiled entry point with its declarations', () => {
    expect(paths()).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'build/lib/index.js', 'build/lib/index.d.ts']));
  });

  test('ships every module of lib/ compiled, with its declarations', () => {
    const modules = readdirSync(join(ROOT, 'lib'), { recursive: true }) as string[];
    for (const module of modules.filter((file) => file.endsWith('.ts'))) {
      const base = `build/lib/${module.slice(0, -3)}`;
      expect(paths()).toEqual(expect.arrayContaining([`${base}.js`, `${base}.d.ts`]));
    }
  });

  test('ships the scripts the constructs read at synth time, beside the compiled code', () => {
    for (const script of readdirSync(join(ROOT, 'lib/scripts'))) {
      expect(paths()).toContain(`build/lib/scripts/${script}`);
    }
  });

  test('ships the jsii assembly and, bundled, the non-jsii dependencies and nothing else', () => {
    expect(paths()).toContain('.jsii');
    const bundled = new Set(paths().filter((path) => path.startsWith('node_modules/')).map((path) => path.split('/')[1]));
    expect([...bundled].sort()).toEqual(['ajv', 'ajv-formats', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse', 'require-from-string', 'yaml']);
  });

  test('leaves out sources, tests, the repo app and build bookkeeping', () => {
    // node_modules/: the bundled dependencies as published (ajv ships its TypeScript sources).
    const unwanted = paths().filter((path) => !path.startsWith('node_modules/')).filter((path) =>
      /^(lib|test|bench|dist|imports)\//.test(path) || path.endsWith('.ts') && !path.endsWith('.d.ts')
      || ['build/main.js', 'build/.source-hash', 'tsconfig.json', 'cdk8s.yaml'].includes(path));
    expect(unwanted).toEqual([]);
  });
});

describe('a consumer app that installs the tarball', () => {
  test('gets the library from the tarball, not a link to this repo', () => {
    const installed = join(consumer, 'node_modules/cdk8s-qemu-loco');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(existsSync(join(installed, 'lib'))).toBe(false);
    expect(existsSync(join(installed, 'build/lib/index.js'))).toBe(true);
  });

  test('exposes the entry point and package.json, and nothing deeper (exports)', () => {
    const script = `
      console.log(require('cdk8s-qemu-loco/package.json').version);
      try { require('cdk8s-qemu-loco/build/lib/disk-seeder'); console.log('deep import allowed'); }
      catch (error) { console.log(error.code); }`;
    expect(run(process.execPath, ['-e', script], consumer).trim().split('\n'))
      .toEqual([JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, 'ERR_PACKAGE_PATH_NOT_EXPORTED']);
  });

  test('shares one copy of cdk8s, cdk8s-plus-28 and constructs with the library (peer dependencies)', () => {
    const resolved = run(process.execPath, ['-e', `
      const from = { paths: [require.resolve('cdk8s-qemu-loco')] };
      console.log(JSON.stringify(${JSON.stringify(PEERS)}.map((name) => require.resolve(name, from))));`], consumer);
    expect(JSON.parse(resolved)).toEqual(PEERS.map((name) => expect.stringMatching(new RegExp(`^${consumer}/node_modules/${name}/`))));
    // Its own node_modules holds only what it bundles (ajv, ajv-formats, yaml and theirs).
    expect(readdirSync(join(consumer, 'node_modules/cdk8s-qemu-loco/node_modules')).filter((name) => name !== '.bin').sort())
      .toEqual(['ajv', 'ajv-formats', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse', 'require-from-string', 'yaml']);
  });

  test("synthesizes the chart: disk claim, the seeder's and the emulator's scripts ConfigMaps, headless Service and StatefulSet", () => {
    const loco = manifests.filter((object) => object.chart === 'loco');
    expect(loco.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'PersistentVolumeClaim', 'Service', 'StatefulSet']);
  });

  test('ships the seeding script and the preStop hook in their ConfigMaps exactly as lib/scripts/ holds them', () => {
    const configMap = (prefix: RegExp) => manifests.find((object) => object.chart === 'loco' && object.kind === 'ConfigMap' && prefix.test(object.metadata.name));
    expect(configMap(/^loco-seeder-scripts-[0-9a-f]{10}$/).data['seed-disk.sh']).toBe(readFileSync(join(ROOT, 'lib/scripts/seed-disk.sh'), 'utf8'));
    expect(configMap(/^loco-emulator-scripts-[0-9a-f]{10}$/).data['pre-stop.sh']).toBe(readFileSync(join(ROOT, 'lib/scripts/pre-stop.sh'), 'utf8'));
  });

  test("runs the consumer's emulator image and replicas", () => {
    const statefulSet = manifests.find((object) => object.chart === 'loco' && object.kind === 'StatefulSet');
    expect(statefulSet.spec.replicas).toBe(9);
    expect(statefulSet.spec.template.spec.containers.map((container: any) => container.image)).toEqual(['ghcr.io/example/qemu-loco:v28']);
  });

  test('builds another emulator from the three constructs on their own', () => {
    const dos = manifests.filter((object) => object.chart === 'dos-games');
    const statefulSet = dos.find((object) => object.kind === 'StatefulSet');
    expect(statefulSet.metadata.name).toBe('dos');
    expect(statefulSet.spec.template.spec.containers[0].image).toBe('ghcr.io/example/qemu-dos:v1');
    expect(statefulSet.spec.template.spec.initContainers.map((container: any) => container.image)).toContain('ghcr.io/example/qemu-dos:v1');
    const claim = dos.find((object) => object.kind === 'PersistentVolumeClaim');
    expect(claim.metadata.name).toBe('dos-disk');
    expect(claim.spec.resources.requests.storage).toBe('2Gi');
  });

  test('validates its manifests with the schema the package ships (schemas/)', () => {
    const script = `
      const { readFileSync } = require('fs');
      const { ManifestValidator } = require('cdk8s-qemu-loco/tools');
      const file = 'dist/loco/StatefulSet.loco-emulator.k8s.yaml';
      console.log(JSON.stringify(ManifestValidator.shared().validateYaml(readFileSync(file, 'utf8'))));`;
    const result = JSON.parse(run(process.execPath, ['-e', script], consumer));
    expect(result).toEqual({ objects: 1, failures: [], skipped: [], unknownKinds: [] });
  });

  test('reports bad input from the installed package with the construct path, property and value', () => {
    const script = `
      const { App } = require('cdk8s');
      const { ContainerImage, LegoLocoChart, StorageMode } = require('cdk8s-qemu-loco');
      new LegoLocoChart(new App(), 'loco', { mode: StorageMode.ephemeral(), emulator: { image: ContainerImage.fromTag('qemu-loco', 'latest') } });`;
    expect(() => run(process.execPath, ['-e', script], consumer)).toThrow(/loco\/Resource: invalid emulator\.image "qemu-loco:latest": 'latest' runs /);
  });
});

describe("the consumer app's GitOps layout (GitOpsApp)", () => {
  const charts = ['dos-games', 'loco'];
  const objectsOf = (chart: string) => manifests.filter((object) => object.chart === chart)
    .map(({ chart: _chart, file: _file, ...object }) => object);
  const byKindAndName = (objects: any[]) => [...objects].sort((a, b) =>
    `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

  test('one folder per chart, each with a kustomization.yaml listing exactly its object files', () => {
    expect(readdirSync(join(consumer, 'dist')).sort()).toEqual(charts);
    for (const chart of charts) {
      const folder = join(consumer, 'dist', chart);
      const files = readdirSync(folder).filter((file) => file.endsWith('.k8s.yaml')).sort();
      const kustomization = parseAllDocuments(readFileSync(join(folder, 'kustomization.yaml'), 'utf8'))[0].toJS();
      expect(kustomization).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files });
    }
  });

  test.each(charts)('kubectl kustomize dist/%s builds the folder and lists the chart\'s objects', (chart) => {
    const built = parseAllDocuments(run(KUBECTL, ['kustomize', join('dist', chart)], consumer)).map((doc) => doc.toJS());
    expect(built.length).toBeGreaterThanOrEqual(3);
    expect(byKindAndName(built)).toEqual(byKindAndName(objectsOf(chart)));
  });

  test("docs/gitops.md's example app compiles, runs and writes a folder kubectl kustomize builds", () => {
    expect(readdirSync(join(consumer, 'deploy'))).toEqual(['loco-lab']);
    const built = parseAllDocuments(run(KUBECTL, ['kustomize', join('deploy', 'loco-lab')], consumer)).map((doc) => doc.toJS());
    expect(built.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'PersistentVolumeClaim', 'Service', 'StatefulSet']);
  });

  test('npx cdk8s-qemu-loco validate checks the whole dist/ the app wrote', () => {
    const output = run('npx', ['--offline', '--no-install', 'cdk8s-qemu-loco', 'validate'], consumer);
    expect(output).toMatch(new RegExp(`^validate: ${manifests.length} objects in ${manifests.length} files valid for Kubernetes 1\\.28`, 'm'));
  });
});

describe('the published package stands on its own', () => {
  const installed = () => join(consumer, 'node_modules/cdk8s-qemu-loco');

  test('installs into a fresh project without a warning', () => {
    expect(installOutput).not.toMatch(/npm warn/i);
  });

  test('names its repository, homepage and issue tracker, and ships no prepare script', () => {
    const manifest = JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8'));
    expect(manifest.repository).toEqual({ type: 'git', url: 'git+https://github.com/mroie/cdk8s-qemu-loco.git' });
    expect(manifest.homepage).toBe('https://github.com/mroie/cdk8s-qemu-loco#readme');
    expect(manifest.bugs).toEqual({ url: 'https://github.com/mroie/cdk8s-qemu-loco/issues' });
    expect(manifest.scripts ?? {}).not.toHaveProperty('prepare');
  });

  test('every relative link in the README and the shipped docs leads to a file of the installed package', () => {
    const pages = ['README.md', ...(readdirSync(join(installed(), 'docs'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.md')).map((file) => join('docs', file))];
    const broken: string[] = [];
    const targets: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(installed(), page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const resolved = join(page, '..', decodeURIComponent(target));
        targets.push(resolved);
        if (!existsSync(join(installed(), resolved))) broken.push(`${page} -> ${target}`);
      }
    }
    expect(targets).toEqual(expect.arrayContaining(['docs/gitops.md', 'docs/api/README.md']));
    expect(broken).toEqual([]);
  });
});
