import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as tools from '../lib/tools';

const ROOT = join(__dirname, '..');

test('cdk8s-qemu-loco/tools exports the validator and the migration, and nothing else at run time', () => {
  expect(Object.keys(tools).sort()).toEqual(['HelmValuesError', 'ManifestValidator', 'Migration', 'mergeHelmValues', 'parseHelmValues', 'propsFromHelmValues']);
  const migration = new tools.Migration({ emulator: { image: 'qemu-loco', tag: 'v1', diskPVC: 'win98-disk' } });
  expect(migration.run().mode).toBe('persistent');
  expect(() => migration.run()).toThrow('a Migration runs once (its warnings would repeat): make a new one');
});

test('an app resolves cdk8s-qemu-loco/tools through the package exports to the compiled module (build/ is brought up to date before the tests)', () => {
  const app = mkdtempSync(join(tmpdir(), 'tools-consumer-'));
  try {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'cdk8s-qemu-loco'));
    writeFileSync(join(app, 'main.js'), `
      const tools = require('cdk8s-qemu-loco/tools');
      console.log(require.resolve('cdk8s-qemu-loco/tools'));
      console.log(typeof tools.ManifestValidator.shared, typeof tools.propsFromHelmValues);
      try { require('cdk8s-qemu-loco/build/lib/tools'); } catch (error) { console.log(error.code); }`);
    const run = spawnSync(process.execPath, ['--preserve-symlinks', 'main.js'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual([
      join(app, 'node_modules/cdk8s-qemu-loco/build/lib/tools.js'), 'function function', 'ERR_PACKAGE_PATH_NOT_EXPORTED']);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
