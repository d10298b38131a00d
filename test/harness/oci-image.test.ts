import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { createQcow2, OciLayout, truncatedCopy } from './oci-image';

let layout: OciLayout;

beforeAll(() => {
  layout = OciLayout.create();
});

afterAll(() => layout?.dispose());

function layerNames(digest: string): string[] {
  const result = spawnSync('tar', ['-tvzf', layout.blobPath(digest)], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout.trim().split('\n');
}

test('each layer spec becomes one gzip layer with the files, owned by root, mtime 0', () => {
  const manifest = layout.build('two', [
    { files: [{ path: '/etc/os-release', content: 'ID=test\n' }] },
    { files: [{ path: '/usr/bin/run', content: '#!/bin/sh\n', mode: 0o755 }, { path: '/var/empty', directory: true }] },
  ]);
  expect(manifest.layers).toHaveLength(2);
  expect(manifest.layers.every((layer) => layer.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip')).toBe(true);
  const second = layerNames(manifest.layers[1].digest);
  expect(second).toEqual(expect.arrayContaining([
    expect.stringMatching(/^-rwxr-xr-x 0\/0 .* 1970-01-01 00:00 usr\/bin\/run$/),
    expect.stringMatching(/^drwxr-xr-x 0\/0 .* var\/empty\/$/),
  ]));
});

test('the same content gives the same layer digest (reproducible layers)', () => {
  const a = layout.build('repro-a', [{ files: [{ path: '/a', content: 'same' }] }]);
  const b = layout.build('repro-b', [{ files: [{ path: '/a', content: 'same' }] }]);
  expect(a.layers[0].digest).toBe(b.layers[0].digest);
});

test('from stacks on an existing tag; delete and opaque write OCI whiteouts', () => {
  layout.build('base', [{ files: [{ path: '/opt/data/file', content: 'x' }] }]);
  const manifest = layout.build('child', [{ delete: ['/opt/data/file'], opaque: ['/etc'] }], { from: 'base' });
  expect(manifest.layers).toHaveLength(2);
  expect(manifest.layers[0].digest).toBe(layout.layers('base')[0].digest);
  const names = layerNames(manifest.layers[1].digest).map((line) => line.split(' ').pop());
  expect(names).toEqual(expect.arrayContaining(['opt/data/.wh.file', 'etc/.wh..wh..opq']));
  expect(layout.tags()).toEqual(expect.arrayContaining(['base', 'child']));
});

test('symbolic and hard links are packed as links', () => {
  const manifest = layout.build('links', [{ files: [
    { path: '/data/disk', content: 'disk' },
    { path: '/link/soft', symlinkTo: '../data/disk' },
    { path: '/link/hard', hardlinkTo: '/data/disk' },
  ] }]);
  const lines = layerNames(manifest.layers[0].digest);
  expect(lines).toEqual(expect.arrayContaining([
    expect.stringMatching(/^l.* link\/soft -> \.\.\/data\/disk$/),
    expect.stringMatching(/^h.* link\/hard link to data\/disk$/),
  ]));
});

test('skopeo reads the layout reference', () => {
  layout.build('readable', [{ files: [{ path: '/a', content: 'a' }] }]);
  const result = spawnSync('skopeo', ['inspect', layout.reference('readable')], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout).Layers).toHaveLength(1);
});

test('createQcow2 makes real qcow2 images; truncatedCopy damages them', () => {
  const empty = createQcow2(layout.workDir, 'empty.qcow2', { sizeMiB: 8 });
  const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', empty], { encoding: 'utf8' }).stdout);
  expect(info).toMatchObject({ 'format': 'qcow2', 'virtual-size': 8 * 1024 * 1024 });

  const full = createQcow2(layout.workDir, 'full.qcow2', { dataMiB: 1 });
  expect(spawnSync('qemu-img', ['check', '-q', full]).status).toBe(0);
  const cut = truncatedCopy(full, layout.workDir, 'cut.qcow2', 512 * 1024);
  expect(readFileSync(cut).length).toBe(512 * 1024);
  expect(spawnSync('qemu-img', ['check', '-q', cut]).status).toBe(2);
});

test('bad layer specs are refused', () => {
  expect(() => layout.build('bad', [{ files: [{ path: 'relative', content: 'x' }] }])).toThrow(/absolute and normal/);
  expect(() => layout.build('bad2', [{ files: [{ path: '/x', content: 'x', source: '/etc/hostname' }] }])).toThrow(/exactly one/);
});
