// The GitOps layout as a library feature: GitOpsApp and writeKustomizations on an app of their own
// charts (not main.ts), each folder built by the real `kubectl kustomize` (kustomize v5), and the
// overlay docs/gitops.md shows, taken from the page, built on dist/ with it.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ContainerImage, DiskVolume, EmulatorDisk, GitOpsApp, LegoLocoChart, QemuStatefulSet, StorageMode } from '../lib';
import { cleanupDirs, tempDir } from './harness/qcow2';

const KUBECTL = '/usr/bin/kubectl';
const ROOT = path.join(__dirname, '..');
afterAll(cleanupDirs);

function kustomize(folder: string): any[] {
  try {
    const out = execFileSync(KUBECTL, ['kustomize', folder], { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
    return parseAllDocuments(out).map((doc) => doc.toJS());
  } catch (error: any) {
    throw new Error(`kubectl kustomize ${folder} failed: ${error.stderr ?? error.message}`);
  }
}

const kindAndName = (objects: any[]) => objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();

/** The DOS emulator on its own claim: a StatefulSet, its Service, its scripts ConfigMap and the claim. */
function dosEmulator(chart: Chart): QemuStatefulSet {
  const disk = new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.newClaim({ claimName: 'dos-disk' }) });
  return new QemuStatefulSet(chart, 'Emulator', { disk, image: ContainerImage.fromTag('qemu-dos', 'v1'), name: 'dos' });
}

/** What kubectl kustomize builds from dosEmulator's folder. */
const dosObjects = (emulator: QemuStatefulSet) =>
  [`ConfigMap/${emulator.scriptConfigMap.name}`, 'PersistentVolumeClaim/dos-disk', 'Service/dos', 'StatefulSet/dos'];

/** What each folder of the outdir holds: its object files' objects, by folder. */
function synthesized(outdir: string): Record<string, any[]> {
  return Object.fromEntries(fs.readdirSync(outdir).sort().map((folder) => [folder,
    fs.readdirSync(path.join(outdir, folder)).filter((file) => file.endsWith('.k8s.yaml'))
      .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(outdir, folder, file), 'utf8')).map((doc) => doc.toJS()))]));
}

describe('GitOpsApp', () => {
  test('writes one folder per chart that kubectl kustomize builds into exactly the chart\'s objects', () => {
    const outdir = tempDir('gitops-app-');
    const app = new GitOpsApp({ outdir });
    new LegoLocoChart(app, 'lab-hybrid', {
      mode: StorageMode.hybrid(),
      emulator: { image: ContainerImage.fromTag('registry.example.com/qemu-loco', 'v28'), replicas: 2, scheduling: { sharedClaimOnOneNode: true } },
    });
    const emulator = dosEmulator(new Chart(app, 'dos'));
    app.synth();

    const folders = synthesized(outdir);
    expect(Object.keys(folders)).toEqual(['dos', 'lab-hybrid']);
    for (const [folder, objects] of Object.entries(folders)) {
      expect(objects.length).toBeGreaterThanOrEqual(3);
      const built = kustomize(path.join(outdir, folder));
      expect(kindAndName(built)).toEqual(kindAndName(objects));
    }
    expect(emulator.scriptConfigMap.name).toMatch(/^dos-scripts-[0-9a-f]{10}$/);
    expect(fs.readFileSync(path.join(outdir, 'dos', 'kustomization.yaml'), 'utf8')).toBe([
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ConfigMap.${emulator.scriptConfigMap.name}.k8s.yaml`,
      '  - PersistentVolumeClaim.dos-disk.k8s.yaml',
      '  - Service.dos.k8s.yaml',
      '  - StatefulSet.dos.k8s.yaml',
      '',
    ].join('\n'));
  });

  test('lists only this synth\'s files, not those an earlier synth left in the folder', () => {
    const outdir = tempDir('gitops-stale-');
    fs.mkdirSync(path.join(outdir, 'dos'));
    fs.writeFileSync(path.join(outdir, 'dos', 'Service.removed.k8s.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: removed\n');
    const app = new GitOpsApp({ outdir });
    const emulator = dosEmulator(new Chart(app, 'dos'));
    app.synth();
    expect(kindAndName(kustomize(path.join(outdir, 'dos')))).toEqual(dosObjects(emulator));
  });

  test('follows cdk8s\'s numbered folders when charts depend on each other (a nested chart)', () => {
    const outdir = tempDir('gitops-nested-');
    const app = new GitOpsApp({ outdir });
    const parent = new Chart(app, 'platform');
    new ApiObject(parent, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'games' } });
    const emulator = dosEmulator(new Chart(parent, 'emulators'));
    app.synth();

    const folders = fs.readdirSync(outdir).sort();
    expect(folders).toEqual([expect.stringMatching(/^000[01]-platform-emulators-[0-9a-f]+$/), expect.stringMatching(/^000[01]-platform$/)].sort());
    const built = Object.fromEntries(folders.map((folder) => [folder.replace(/^\d{4}-/, '').replace(/-[0-9a-f]{8}$/, ''), kindAndName(kustomize(path.join(outdir, folder)))]));
    expect(built).toEqual({
      'platform': ['Namespace/games'],
      'platform-emulators': dosObjects(emulator),
    });
  });

  test('GitOpsApp.writeKustomizations on a plain App in the folder layout does the same; another layout is refused, saying what to do', () => {
    const outdir = tempDir('gitops-plain-');
    const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    const loco = new LegoLocoChart(app, 'loco', { mode: StorageMode.ephemeral(), emulator: { image: ContainerImage.fromTag('qemu-loco', 'v1') } });
    app.synth();
    expect(GitOpsApp.writeKustomizations(app)).toEqual([path.join(outdir, 'loco', 'kustomization.yaml')]);
    expect(kindAndName(kustomize(path.join(outdir, 'loco'))))
      .toEqual([`ConfigMap/${loco.emulator.scriptConfigMap.name}`, 'Service/loco-emulator', 'StatefulSet/loco-emulator']);

    expect(() => GitOpsApp.writeKustomizations(new App({ outdir: tempDir('gitops-file-per-chart-') })))
      .toThrow('GitOpsApp.writeKustomizations: the app writes YamlOutputType.FILE_PER_CHART; kustomization.yaml files need one folder per chart: ' +
        'create the App with yamlOutputType FOLDER_PER_CHART_FILE_PER_RESOURCE, or use GitOpsApp');
  });
});

describe("docs/gitops.md's overlay on dist/", () => {
  /** The first yaml block of the section "Kustomize overlay in your GitOps repo". */
  function documentedOverlay(): string {
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'gitops.md'), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(page.slice(page.indexOf('## Kustomize overlay in your GitOps repo')));
    if (!block) throw new Error('docs/gitops.md: no yaml block in "Kustomize overlay in your GitOps repo"');
    return block[1];
  }

  test('keeps spec.replicas and EMULATOR_REPLICAS equal, and every other env entry as it was', () => {
    const overlay = tempDir('gitops-overlay-');
    const base = path.relative(overlay, path.join(ROOT, 'dist', 'loco-hybrid'));
    // The page's overlay with its remote base replaced by this checkout's folder (kustomize wants it relative).
    const text = documentedOverlay().replace(/^resources:\n(?: {2}.*\n)+/m, `resources:\n  - ${base}\n`);
    expect(text).toContain(`resources:\n  - ${base}\n`);
    fs.writeFileSync(path.join(overlay, 'kustomization.yaml'), text);

    const statefulSetOf = (objects: any[]) => objects.find((object) => object.kind === 'StatefulSet');
    const envOf = (statefulSet: any) => statefulSet.spec.template.spec.containers.find((c: any) => c.name === 'emulator').env;
    const before = statefulSetOf(kustomize(path.join(ROOT, 'dist', 'loco-hybrid')));
    const built = kustomize(overlay);
    const after = statefulSetOf(built);

    expect(before.spec.replicas).toBe(9);
    expect(after.spec.replicas).toBe(4);
    const replicasEnv = envOf(after).filter((entry: any) => entry.name === 'EMULATOR_REPLICAS');
    expect(replicasEnv).toEqual([{ name: 'EMULATOR_REPLICAS', value: String(after.spec.replicas) }]);
    const others = (env: any[]) => env.filter((entry) => entry.name !== 'EMULATOR_REPLICAS')
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(others(envOf(after))).toEqual(others(envOf(before)));
    // The rest of the overlay applied too: the image and the claim's annotation.
    expect(after.spec.template.spec.containers[0].image).toBe('registry.example.com/games/qemu-loco:v28');
    expect(built.find((object) => object.kind === 'PersistentVolumeClaim').metadata.annotations)
      .toMatchObject({ 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' });
  });
});
