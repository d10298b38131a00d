import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EmulatorDisk, EmulatorDiskKind, StorageModeKind } from '../../lib';
import { formatFailure, ManifestValidator } from '../../lib/manifest-validator';
import { COMBINATIONS, synthesize } from './charts';

const validator = ManifestValidator.shared();

test('the matrix covers at least 20 combinations, every mode, every disk kind and every object kind', () => {
  expect(COMBINATIONS.length).toBeGreaterThanOrEqual(20);
  const names = COMBINATIONS.map((combination) => combination.name);
  expect(new Set(names).size).toBe(names.length);
  expect(new Set(COMBINATIONS.map((combination) => combination.mode))).toEqual(new Set([...Object.values(StorageModeKind), undefined]));
  const charts = COMBINATIONS.map((combination) => combination.build());
  const diskKinds = new Set(charts.flatMap((chart) => chart.node.findAll()).filter((construct): construct is EmulatorDisk => construct instanceof EmulatorDisk).map((disk) => disk.kind));
  expect(diskKinds).toEqual(new Set(Object.values(EmulatorDiskKind)));
  const objectKinds = new Set(COMBINATIONS.map(synthesize).flat().map((object) => object.kind));
  expect([...objectKinds].sort()).toEqual(['ConfigMap', 'Job', 'PersistentVolume', 'PersistentVolumeClaim', 'Service', 'StatefulSet']);
});

describe.each(COMBINATIONS.map((combination) => [combination.name, combination] as const))('%s', (_, combination) => {
  test('every object is valid for Kubernetes 1.28', () => {
    const objects = synthesize(combination);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.flatMap((object) => validator.validate(object)).map(formatFailure)).toEqual([]);
  });
});

describe('the charts main.ts synthesizes', () => {
  let outdir: string;
  beforeAll(() => {
    // Run main.ts itself (not a copy of its options) into a temporary directory.
    outdir = mkdtempSync(join(tmpdir(), 'main-synth-'));
    const previous = process.env.CDK8S_OUTDIR;
    process.env.CDK8S_OUTDIR = outdir;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- main.ts runs for its side effect, synchronously, in a fresh module registry
      jest.isolateModules(() => require('../../main'));
    } finally {
      if (previous === undefined) delete process.env.CDK8S_OUTDIR; else process.env.CDK8S_OUTDIR = previous;
    }
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('are all valid for Kubernetes 1.28, object by object', () => {
    const files: string[] = [];
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(directory, entry.name));
        else if (entry.name.endsWith('.k8s.yaml')) files.push(join(directory, entry.name));
      }
    };
    walk(outdir);
    expect(files.length).toBeGreaterThanOrEqual(10);
    let objects = 0;
    for (const file of files) {
      const result = validator.validateYaml(readFileSync(file, 'utf8'));
      objects += result.objects;
      expect(result.failures.map((failure) => `${file}: ${formatFailure(failure)}`)).toEqual([]);
    }
    expect(objects).toBe(files.length);
  });
});
