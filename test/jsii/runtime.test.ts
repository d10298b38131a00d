import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, App, Chart, Duration } from 'cdk8s';
import { ConfigMap, Service, ServiceType } from 'cdk8s-plus-28';
import { ContainerImage, DiskVolume, LegoLocoChart, SeedSource, SnapshotMethod, StorageMode } from '../../lib';
import { enumRef, JsiiError, JsiiRuntimeClient, ObjRef } from './runtime-client';

// The jsii assembly from outside TypeScript: the library and its dependencies loaded from their npm
// tarballs into @jsii/runtime, the process the Python, Java, Go and .NET bindings talk to, and
// driven through its JSON protocol alone (runtime-client.ts). What it synthesizes must be exactly
// what the same calls give in TypeScript, in this process.
//
// (runtime.test.ts.api2: this file for API 2.0, docs/API.md's contract. When lib/ has that API,
// it replaces runtime.test.ts: `git mv -f test/jsii/runtime.test.ts.api2 test/jsii/runtime.test.ts`.)

const ROOT = join(__dirname, '..', '..');
const NODE_MODULES = realpathSync(join(ROOT, 'node_modules'));
const DEPENDENCIES = ['constructs', 'cdk8s', 'cdk8s-plus-28'];
const LIBRARY = 'cdk8s-qemu-loco';

let work: string;
let client: JsiiRuntimeClient;
const tarballs: Record<string, { version: string; tarball: string }> = {};
/** What the client's callback handler answers, by override cookie. */
const callbackResults: Record<string, unknown> = {};

function versionOf(dir: string): string {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

/**
 * The tarballs the kernel loads. It unpacks each into its own node_modules/<name> (dropping the
 * tarball's top folder) and reads `.jsii` at its root, so the installed dependencies are packed as
 * they are; this package is packed as it is published (`npm pack`, whose prepack builds it).
 */
function packTarballs(): void {
  for (const name of DEPENDENCIES) {
    const tarball = join(work, `${name}.tgz`);
    execFileSync('tar', ['-czf', tarball, '-C', NODE_MODULES, name], { timeout: 60_000 });
    tarballs[name] = { version: versionOf(join(NODE_MODULES, name)), tarball };
  }
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  const [packed] = JSON.parse(output.slice(output.search(/^\[/m)));
  tarballs[LIBRARY] = { version: packed.version, tarball: join(work, packed.filename) };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'loco-jsii-'));
  packTarballs();
  client = await JsiiRuntimeClient.start({
    timeoutMs: 30_000,
    onCallback: (callback) => {
      if (!callback.cookie || !(callback.cookie in callbackResults)) throw new Error(`unexpected callback ${JSON.stringify(callback)}`);
      return callbackResults[callback.cookie];
    },
  });
}, 180_000);

afterAll(async () => {
  await client?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the runtime says hello and loads every assembly from its tarball, dependencies first', async () => {
  expect(client.hello).toMatch(/^@jsii\/runtime@\d+\.\d+\.\d+$/);
  for (const name of [...DEPENDENCIES, LIBRARY]) {
    const { version, tarball } = tarballs[name];
    const assembly = JSON.parse(readFileSync(join(name === LIBRARY ? ROOT : join(NODE_MODULES, name), '.jsii'), 'utf8'));
    await expect(client.load(name, version, tarball)).resolves.toEqual({ assembly: name, types: Object.keys(assembly.types).length });
  }
});

describe('cdk8s and cdk8s-plus-28 through the protocol', () => {
  test('an App, a Chart, a ConfigMap and a NodePort Service synthesize the YAML the same TypeScript gives', async () => {
    const app = await client.create('cdk8s.App');
    const chart = await client.create('cdk8s.Chart', [app, 'demo', { namespace: 'games', labels: { team: 'loco' } }]);
    const configMap = await client.create('cdk8s-plus-28.ConfigMap', [chart, 'Config', { data: { 'a.txt': 'one' } }]);
    await client.invoke(configMap, 'addData', ['b.txt', 'two']);
    await client.create('cdk8s-plus-28.Service', [chart, 'Web', {
      type: enumRef('cdk8s-plus-28.ServiceType', 'NODE_PORT'),
      ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
    }]);
    const yaml = await client.invoke(app, 'synthYaml');

    const local = new App();
    const localChart = new Chart(local, 'demo', { namespace: 'games', labels: { team: 'loco' } });
    new ConfigMap(localChart, 'Config', { data: { 'a.txt': 'one' } }).addData('b.txt', 'two');
    new Service(localChart, 'Web', { type: ServiceType.NODE_PORT, ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] });
    expect(yaml).toContain('kind: ConfigMap');
    expect(yaml).toContain('type: NodePort');
    expect(yaml).toBe(local.synthYaml());
  });

  test('static methods, property reads and writes, and deleting a reference', async () => {
    const duration: ObjRef = await client.sinvoke('cdk8s.Duration', 'minutes', [5]);
    await expect(client.invoke(duration, 'toSeconds')).resolves.toBe(Duration.minutes(5).toSeconds());
    const app = await client.create('cdk8s.App');
    const chart = await client.create('cdk8s.Chart', [app, 'props', { namespace: 'ns1' }]);
    await expect(client.get(chart, 'namespace')).resolves.toBe('ns1');
    const node: ObjRef = await client.get(chart, 'node');
    const configMap = await client.create('cdk8s-plus-28.ConfigMap', [chart, 'Resource']);
    // Node.defaultChild is writable; reading it back gives the same kernel object.
    await client.set(node, 'defaultChild', configMap);
    await expect(client.get(node, 'defaultChild')).resolves.toEqual(expect.objectContaining({ '$jsii.byref': configMap['$jsii.byref'] }));
    await client.del(duration);
    await expect(client.invoke(duration, 'toSeconds')).rejects.toThrow(/^invoke: Object cdk8s\.Duration@\d+ not found/);
  });

  test('an overridden method is called back while the kernel synthesizes, and its result is used', async () => {
    callbackResults['own-json'] = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-the-client' }, data: { via: 'callback' } };
    const app = await client.create('cdk8s.App');
    const chart = await client.create('cdk8s.Chart', [app, 'callbacks']);
    await client.create('cdk8s.ApiObject', [chart, 'Custom', { apiVersion: 'v1', kind: 'ConfigMap' }], [{ method: 'toJson', cookie: 'own-json' }]);
    const yaml = await client.invoke(app, 'synthYaml');

    const local = new App();
    const localChart = new Chart(local, 'callbacks');
    const object = new ApiObject(localChart, 'Custom', { apiVersion: 'v1', kind: 'ConfigMap' });
    object.toJson = () => callbackResults['own-json'];
    expect(yaml).toContain('name: from-the-client');
    expect(yaml).toBe(local.synthYaml());
  });

  test("the library's errors come back as error replies, and the runtime goes on serving", async () => {
    const app = await client.create('cdk8s.App');
    await client.create('cdk8s.Chart', [app, 'twice']);
    const error = await client.create('cdk8s.Chart', [app, 'twice']).catch((thrown) => thrown);
    expect(error).toBeInstanceOf(JsiiError);
    expect(error.message).toMatch(/^create: There is already a Construct with name 'twice' in App/);
    await expect(client.create('cdk8s.NoSuchClass')).rejects.toThrow(/^create: .*cdk8s\.NoSuchClass/);
    await expect(client.invoke(app, 'synthYaml')).resolves.toEqual(expect.any(String));
  });
});

describe('cdk8s-qemu-loco through the protocol', () => {
  const fqn = (type: string) => `${LIBRARY}.${type}`;

  test('a hybrid LegoLocoChart with non-default options synthesizes exactly what TypeScript gives', async () => {
    // The union-like classes are built by their static factories, as a Python or Java user does.
    const snapshotImage: ObjRef = await client.sinvoke(fqn('ContainerImage'), 'fromReference', ['registry.example/snap:v2']);
    const method: ObjRef = await client.sinvoke(fqn('SnapshotMethod'), 'registryClient');
    const snapshot: ObjRef = await client.sinvoke(fqn('SeedSource'), 'snapshot', [snapshotImage, { method }]);
    const builtin: ObjRef = await client.sinvoke(fqn('SeedSource'), 'builtin');
    const volume: ObjRef = await client.sinvoke(fqn('DiskVolume'), 'newClaim', [{ size: '12Gi', claimName: 'loco-disk' }]);
    const mode: ObjRef = await client.sinvoke(fqn('StorageMode'), 'hybrid', [{ volume, seeder: { sources: [snapshot, builtin], expectedSha256: 'a'.repeat(64) } }]);
    const image: ObjRef = await client.sinvoke(fqn('ContainerImage'), 'fromTag', ['qemu-loco', '1.2.3']);
    await expect(client.get(mode, 'kind')).resolves.toEqual(enumRef(fqn('StorageModeKind'), 'HYBRID'));
    await expect(client.get(image, 'reference')).resolves.toBe('qemu-loco:1.2.3');
    const app = await client.create('cdk8s.App');
    // Three replicas on one ReadWriteOnce claim: kept on one node, or synth refuses (Multi-Attach).
    const emulator = { replicas: 3, scheduling: { sharedClaimOnOneNode: true } };
    const chart = await client.create(fqn('LegoLocoChart'), [app, 'loco', { namespace: 'loco', mode, emulator: { ...emulator, image } }]);
    await expect(client.get(await client.get(chart, 'loco'), 'mode')).resolves.toEqual(enumRef(fqn('StorageModeKind'), 'HYBRID'));
    const yaml = await client.invoke(app, 'synthYaml');

    const local = new App();
    new LegoLocoChart(local, 'loco', {
      namespace: 'loco',
      mode: StorageMode.hybrid({
        volume: DiskVolume.newClaim({ size: '12Gi', claimName: 'loco-disk' }),
        seeder: {
          expectedSha256: 'a'.repeat(64),
          sources: [
            SeedSource.snapshot(ContainerImage.fromReference('registry.example/snap:v2'), { method: SnapshotMethod.registryClient() }),
            SeedSource.builtin(),
          ],
        },
      }),
      emulator: { ...emulator, image: ContainerImage.fromTag('qemu-loco', '1.2.3') },
    });
    // Every non-default reached the objects, so the equality below compares the options, not defaults.
    expect(yaml).toContain('replicas: 3');
    expect(yaml).toContain('namespace: loco');
    expect(yaml).toContain('storage: 12Gi');
    expect(yaml).toContain('claimName: loco-disk');
    expect(yaml).toContain('value: registry-client');
    expect(yaml).toContain('value: snapshot builtin');
    expect(yaml).toContain(`value: ${'a'.repeat(64)}`);
    expect(yaml).toContain('registry.example/snap:v2');
    expect(yaml).toContain('image: qemu-loco:1.2.3');
    expect(yaml).toBe(local.synthYaml());
  });

  test("a synth-time error of the library reaches the client as the kernel's error reply, message intact", async () => {
    // Three replicas on one ReadWriteOnce claim, not kept on one node: refused at synth (Multi-Attach).
    let expected = '';
    try {
      new LegoLocoChart(new App(), 'bad', { mode: StorageMode.persistent(), emulator: { image: ContainerImage.fromTag('qemu-loco', '1.2.3'), replicas: 3 } });
    } catch (thrown: any) {
      expected = thrown.message;
    }
    const app = await client.create('cdk8s.App');
    const error = await client.create(fqn('LegoLocoChart'), [app, 'bad', {
      mode: await client.sinvoke(fqn('StorageMode'), 'persistent'),
      emulator: { image: await client.sinvoke(fqn('ContainerImage'), 'fromTag', ['qemu-loco', '1.2.3']), replicas: 3 },
    }]).catch((thrown) => thrown);
    expect(expected).toMatch(/^bad\/.*replicas/);
    expect(error).toBeInstanceOf(JsiiError);
    expect(error.message).toBe(`create: ${expected}`);
  });
});
