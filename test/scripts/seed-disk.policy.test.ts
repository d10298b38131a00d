// The disk image policy through the seeder, as it ships: the builtin source of the synthesized
// chart, under both shells, for every case of the policy table (test/harness/qcow2-cases.ts):
// self-contained images become the disk (compressed and freshly created ones too), hostile or
// wrong ones are refused with their reason and leave nothing on the volume.
import * as fs from 'fs';
import * as path from 'path';
import { SHELLS } from '../harness/pod-runner';
import { cleanupDirs, sha256Of, tempDir } from '../harness/qcow2';
import { QCOW2_CASES } from '../harness/qcow2-cases';
import { DISK, failureLine, freshVolume, recordOf, seed, seederChart } from './seeding';

jest.setTimeout(120_000);
afterAll(cleanupDirs);

/** One emulator image directory per case, built once: `/opt/builtin-images/win98.qcow2.builtin`. */
const images = new Map<string, string>();
beforeAll(() => {
  for (const policyCase of QCOW2_CASES) {
    const dir = tempDir('policy-image-');
    const built = policyCase.build(dir);
    fs.renameSync(built, path.join(dir, 'win98.qcow2.builtin'));
    fs.chmodSync(path.join(dir, 'win98.qcow2.builtin'), 0o644);
    images.set(policyCase.name, dir);
  }
});

const minimum = (bytes?: number) => (bytes === undefined ? {} : { minVirtualSize: String(bytes) });

describe.each(SHELLS)('under %s', (shell) => {
  test.each(QCOW2_CASES.map((c) => [c.name, c] as const))('%s', async (_name, policyCase) => {
    const dir = images.get(policyCase.name)!;
    const builtin = path.join(dir, 'win98.qcow2.builtin');
    const volume = freshVolume();

    const result = await seed(seederChart(minimum(policyCase.minVirtualSize)), shell, volume, dir);

    if (policyCase.refused === undefined) {
      expect(result.output).not.toContain('FAILED');
      expect(result.exitCode).toBe(0);
      expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(builtin));
      expect(recordOf(volume).source).toBe('builtin');
    } else {
      expect(result.exitCode).toBe(1);
      const line = failureLine(result);
      expect(line).toMatch(/^seed-disk: FAILED: no source produced \/images\/win98\.qcow2\. Tried: builtin: /);
      expect(line).toMatch(policyCase.refused);
      expect(fs.readdirSync(volume)).toEqual([]);
    }
  });
});
