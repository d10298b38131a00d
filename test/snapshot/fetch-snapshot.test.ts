// fetch-snapshot.sh (as the synthesized ConfigMap ships it, run by the synthesized seeder) on the
// image layouts real publishers produce: docker's schema 2 manifest, layers in any order and
// number, uncompressed layers with `./` names, a pretty-printed manifest with awkward
// annotations (read without jq), a file replaced or deleted by an upper layer, a custom path.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { OciLayout } from '../harness/oci-image';
import { runPod, SHELLS } from '../harness/pod-runner';
import { cleanupDirs, makeQcow2, qemuImgCheckPasses, sha256Of, tempDir } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers } from '../scripts/seeding';
import { pushCorpusImage, smallVolume } from './corpus-fixtures';
import { publishSnapshot, pushRawImage, registryClientChart, registryClientPod } from './snapshot-fixtures';

jest.setTimeout(60_000);

let layout: OciLayout;
let registry: LocalRegistry;
let lower: string;
let upper: string;
let noBuiltin: string;

beforeAll(async () => {
  layout = OciLayout.create();
  registry = await LocalRegistry.start();
  const dir = tempDir('qcow2-');
  lower = path.join(dir, 'lower.qcow2');
  upper = path.join(dir, 'upper.qcow2');
  makeQcow2(lower, 1 << 20);
  makeQcow2(upper, 1 << 20);
  noBuiltin = emulatorImage({ withBuiltin: false }).dir;
}, 30_000);

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
  cleanupDirs();
});

/** Runs the registry-client seeder for `reference` and returns the result and the volume. */
async function fetchWith(shell: (typeof SHELLS)[number], reference: string, snapshotPath?: string) {
  const volume = freshVolume();
  const result = await runPod(registryClientPod(registryClientChart(reference, { snapshotPath }), shell, volume, noBuiltin));
  return { result, volume, disk: path.join(volume, DISK) };
}

describe.each(SHELLS)('under %s', (shell) => {
  test('a docker schema 2 image (what docker build + docker push publish)', async () => {
    const published = publishSnapshot(registry, layout, `docker-built-${shell}:v1`, { qcow2: lower });
    const docker = registry.reference(`docker-v2s2-${shell}:v1`);
    const copy = spawnSync('skopeo', ['copy', '--quiet', '--format', 'v2s2', '--src-tls-verify=false', ...registry.skopeoArgs('dest'),
      `docker://${published.reference}`, `docker://${docker}`], { encoding: 'utf8' });
    expect(copy.stderr).toBe('');
    const raw = spawnSync('skopeo', ['inspect', '--raw', ...registry.skopeoArgs(''), `docker://${docker}`], { encoding: 'utf8' });
    expect(JSON.parse(raw.stdout).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');

    const { result, disk } = await fetchWith(shell, docker);

    expect(result.exitCode).toBe(0);
    expect(sha256Of(disk)).toBe(sha256Of(lower));
  });

  test('an uncompressed layer with ./ names, under a pretty-printed manifest with awkward annotations', async () => {
    const pushed = await pushRawImage(registry, `raw-${shell}:v1`, [{ files: { '/snapshot.qcow2': lower }, gzip: false, dotSlash: true }], {
      indent: 3,
      annotations: {
        'org.example.note': 'braces } ] { [ , : and "quotes" \\ and a tab\tin a string',
        'org.example.layers': '"layers":[{"digest":"sha256:0000"}]',
      },
    });
    const published = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', ...registry.skopeoArgs(''), `docker://${pushed.reference}`], { encoding: 'utf8' }).stdout);
    expect(published.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar');

    const { result, disk, volume } = await fetchWith(shell, pushed.reference);

    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(`(manifest ${pushed.digest}, 1 layer(s))`);
    expect(result.output).toMatch(/extracted \/snapshot\.qcow2 \(\d+ bytes\) from layer sha256:[0-9a-f]{64} \(plain tar\)/);
    expect(sha256Of(disk)).toBe(sha256Of(lower));
    expect(leftovers(volume)).toEqual([]);
  });

  test('the file in a lower layer, another file above it: the lower layer is read', async () => {
    const readme = path.join(tempDir('readme-'), 'README');
    fs.writeFileSync(readme, 'snapshot of win98\n');
    const pushed = await pushRawImage(registry, `two-layers-${shell}:v1`, [
      { files: { '/snapshot.qcow2': lower } },
      { files: { '/README': readme } },
    ]);

    const { result, disk } = await fetchWith(shell, pushed.reference);

    expect(result.exitCode).toBe(0);
    expect(sha256Of(disk)).toBe(sha256Of(lower));
    expect(qemuImgCheckPasses(disk)).toBe(true);
  });

  test('the file replaced by an upper layer: the upper one is the image\'s file', async () => {
    const pushed = await pushRawImage(registry, `replaced-${shell}:v1`, [
      { files: { '/snapshot.qcow2': lower } },
      { files: { '/snapshot.qcow2': upper } },
    ]);

    const { result, disk } = await fetchWith(shell, pushed.reference);

    expect(result.exitCode).toBe(0);
    expect(sha256Of(disk)).toBe(sha256Of(upper));
  });

  test('the file deleted by an upper layer (whiteout): the image has no file, exits non-zero', async () => {
    const pushed = await pushRawImage(registry, `deleted-${shell}:v1`, [
      { files: { '/snapshot.qcow2': lower } },
      { delete: ['/snapshot.qcow2'] },
    ]);

    const { result, volume } = await fetchWith(shell, pushed.reference);

    expect(result.exitCode).toBe(1);
    expect(failureLine(result)).toMatch(new RegExp(`Tried: snapshot: ${pushed.reference.replace(/[.]/g, '\\.')}: layer sha256:[0-9a-f]{64} deletes /snapshot\\.qcow2, so the image does not have it\\.`));
    expect(fs.readdirSync(volume)).toEqual([]);
  });

  // A directory above the file, deleted, hidden or replaced by a link in an upper layer: the
  // runtime does not see the file there, nor does the registry client.
  for (const [what, upperLayer, reason] of [
    ['deleted (whiteout of the directory)', [{ name: 'disks/.wh.win98' }], 'deletes /disks/win98/base.qcow2, so the image does not have it. How: whiteout disks/.wh.win98 removes /disks/win98.'],
    ['hidden (opaque whiteout in the directory)', [{ name: 'disks/.wh..wh..opq' }], 'How: opaque whiteout disks/.wh..wh..opq hides the lower contents of /disks.'],
    ['hidden (opaque whiteout at the root)', [{ name: '.wh..wh..opq' }], 'How: opaque whiteout .wh..wh..opq hides the lower contents of /.'],
    ['replaced by a symbolic link', [{ name: 'disks/win98', type: 'symlink' as const, link: '/etc' }], 'is refused: /disks/win98 is a symbolic link (to /etc), in the path of the file.'],
  ] as const) {
    test(`the file's directory ${what} above it`, async () => {
      const reference = await pushCorpusImage(registry, `parent-${what.split(' ')[0]}-${upperLayer[0].name.length}-${shell}`, {
        layers: [{ entries: [{ name: 'disks/win98/base.qcow2', data: fs.readFileSync(upper) }] }, { entries: [...upperLayer] }],
      });

      const { result, volume } = await fetchWith(shell, reference, '/disks/win98/base.qcow2');

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toContain(reason);
      expect(fs.readdirSync(volume)).toEqual([]);
    });
  }

  test('a layer larger than the disk volume: "the disk volume is full", with the sizes, nothing left', async () => {
    const big = path.join(tempDir('big-'), 'big.qcow2');
    makeQcow2(big, 12 << 20); // random data: the gzip layer is as large
    const reference = await pushCorpusImage(registry, `too-big-${shell}`, { layers: [{ entries: [{ name: 'snapshot.qcow2', data: fs.readFileSync(big) }] }] });
    const volume = smallVolume(8);
    try {
      const result = await runPod(registryClientPod(registryClientChart(reference), shell, volume.dir, noBuiltin));

      expect(result.exitCode).toBe(1);
      expect(failureLine(result)).toMatch(/the disk volume is full[:(].* KiB free in \/images.*What to do: make the disk volume larger/);
      expect(fs.readdirSync(volume.dir)).toEqual([]);
    } finally {
      volume.unmount();
    }
  });

  test('a custom path in the image (snapshotPath)', async () => {
    const pushed = await pushRawImage(registry, `custom-path-${shell}:v1`, [{ files: { '/disks/win98/base.qcow2': upper, '/snapshot.qcow2': lower } }]);

    const { result, disk } = await fetchWith(shell, pushed.reference, '/disks/win98/base.qcow2');

    expect(result.exitCode).toBe(0);
    expect(sha256Of(disk)).toBe(sha256Of(upper));
    expect(result.output).toContain('extracted /disks/win98/base.qcow2');
  });
});
