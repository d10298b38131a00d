import { spawn, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createServer, Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { BUILTIN_IMAGE_PATH, checkImage, formatBytes, skopeoSource } from '../../lib/cli/check-image';
import { createQcow2, OciLayout, truncatedCopy } from '../harness/oci-image';
import { QCOW2_CASES } from '../harness/qcow2-cases';
import { LocalRegistry } from '../harness/registry';
import { BIN, runCli } from './run-cli';

/** A digest as check-image shows it: sha256: and 12 hex digits. */
const short = (digest: string) => digest.slice(0, 'sha256:'.length + 12);

// Real images (umoci, system tar, qemu-img), read through skopeo as the command ships.
let layout: OciLayout;
let goodDisk: string;

const BASE_LAYER = { files: [{ path: '/etc/os-release', content: 'ID=test\n' }, { path: '/bin/placeholder', content: '#!/bin/sh\n', mode: 0o755 }] };

beforeAll(() => {
  layout = OciLayout.create();
  goodDisk = createQcow2(layout.workDir, 'win98.qcow2', { dataMiB: 2 });
  const truncated = truncatedCopy(goodDisk, layout.workDir, 'truncated.qcow2', 1024 * 1024);

  layout.build('with-disk', [BASE_LAYER, { files: [{ path: BUILTIN_IMAGE_PATH, source: goodDisk }] }]);
  layout.build('without-disk', [BASE_LAYER]);
  layout.build('corrupt-disk', [BASE_LAYER, { files: [{ path: BUILTIN_IMAGE_PATH, source: truncated }] }]);
  layout.build('deleted-disk', [{ delete: [BUILTIN_IMAGE_PATH] }], { from: 'with-disk' });
});

afterAll(() => layout?.dispose());

describe('check-image command against an OCI layout', () => {
  test('an image with a sound built-in disk passes, with its format and virtual size', () => {
    const run = runCli(['check-image', layout.reference('with-disk')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`has ${BUILTIN_IMAGE_PATH} (layer 2 of 2`);
    expect(run.stdout).toMatch(/format: qcow2\n/);
    expect(run.stdout).toContain('virtual size: 2 MiB (2097152 bytes)');
    expect(run.stdout).toContain('qemu-img check: no errors');
  });

  test('a file larger than the temporary directory: exit 3, what ran out, where, and --tmpdir (not the credentials)', () => {
    const big = join(layout.workDir, 'big.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=full', big, '24M']);
    layout.build('big-disk', [{ files: [{ path: BUILTIN_IMAGE_PATH, source: big }] }]);
    const small = mkdtempSync(join(tmpdir(), 'check-image-small-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'check-image-small', small]).status).toBe(0);
    try {
      const run = runCli(['check-image', '--tmpdir', small, layout.reference('big-disk')]);
      expect(run.status).toBe(3);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`^check-image: FAILED: could not inspect \\S+: the temporary directory is full: the file in layer 1 \\(sha256:[0-9a-f]{12}\\) is 24\\.\\d MiB \\(\\d+ bytes\\) uncompressed, [\\d.]+ MiB \\(\\d+ bytes\\) free in ${small}/check-image-\\w+/extract\\. What to do: give --tmpdir a directory with room for the image and the file\n$`));
      expect(run.stderr).not.toContain('credentials');
      expect(readdirSync(small)).toEqual([]);
    } finally {
      spawnSync('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }
  });

  test('an image without the file fails with one line saying what was tried and what to do', () => {
    const run = runCli(['check-image', layout.reference('without-disk')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`has no ${BUILTIN_IMAGE_PATH}: no layer adds it (the image has 1 layer)`);
    expect(run.stderr).toContain('tried: skopeo copy to a temporary OCI layout, read 1 layer');
    expect(run.stderr).toContain(`build the emulator image with the disk at ${BUILTIN_IMAGE_PATH}`);
    expect(run.stderr).toContain('or use the hybrid mode');
  });

  test('a truncated qcow2 is found but refused by the seeder\'s verification (qemu-img check)', () => {
    const run = runCli(['check-image', layout.reference('corrupt-disk')]);
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`has ${BUILTIN_IMAGE_PATH} (layer 2 of 2`);
    expect(run.stderr).toMatch(/but the seeder would refuse it: not a sound qcow2 image \(qemu-img check exited 2: ERROR: counting reference for region exceeding the end of the file/);
    expect(run.stderr).toContain('rebuild the emulator image from a good, self-contained disk image');
  });

  test('a later layer that deletes the file (whiteout) wins over the layer that added it', () => {
    const run = runCli(['check-image', layout.reference('deleted-disk')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('layer 3 of 3');
    expect(run.stderr).toContain(`whiteout opt/builtin-images/.wh.win98.qcow2.builtin removes ${BUILTIN_IMAGE_PATH}`);
  });

  test('an image that cannot be read exits 3 with the reason', () => {
    const run = runCli(['check-image', layout.reference('no-such-tag')]);
    expect(run.status).toBe(3);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('no descriptor found for reference "no-such-tag"');
  });

  test('bad usage exits 2 with one line naming the problem and where the options are', () => {
    const run = runCli(['check-image']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('check-image: name the image to check (options: cdk8s-qemu-loco check-image --help)\n');
    expect(runCli(['check-image', '--tls-verify=maybe', 'x']).status).toBe(2);
    expect(runCli(['check-image', '--help']).stdout).toContain('Usage: cdk8s-qemu-loco check-image');
  });
});

test('Ctrl-C during the copy exits 130 and leaves no temporary copy behind', async () => {
  // A "registry" that accepts connections and never answers: skopeo waits until interrupted.
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const scratch = mkdtempSync(join(tmpdir(), 'check-image-interrupt-'));
  try {
    const child = spawn(process.execPath, [BIN, 'check-image', '--tls-verify=false', '--tmpdir', scratch, `127.0.0.1:${port}/qemu-loco:v1`], {
      detached: true, // its own process group, which Ctrl-C signals as a whole
      env: process.env,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (sockets.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sockets.length).toBeGreaterThan(0);
    expect(readdirSync(scratch)).toHaveLength(1); // the temporary layout exists while skopeo runs
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toBe('check-image: interrupted by SIGINT; the temporary copy was removed\n');
    expect(readdirSync(scratch)).toEqual([]);
  } finally {
    sockets.forEach((socket) => socket.destroy());
    server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}, 30_000);

describe('checkImage reads layers the way a container runtime stacks them', () => {
  const check = (tag: string, path?: string) => checkImage({ image: layout.reference(tag), path });

  test('a whiteout of a parent directory deletes the file', () => {
    layout.build('dir-deleted', [{ delete: ['/opt/builtin-images'] }], { from: 'with-disk' });
    const result = check('dir-deleted');
    expect(result.ok).toBe(false);
    expect(result.problem).toContain('whiteout opt/.wh.builtin-images removes /opt/builtin-images');
  });

  test('an opaque directory hides what lower layers put in it', () => {
    layout.build('opaque', [{ opaque: ['/opt/builtin-images'], files: [{ path: '/opt/builtin-images/README', content: 'x' }] }], { from: 'with-disk' });
    const result = check('opaque');
    expect(result.ok).toBe(false);
    expect(result.problem).toContain('opaque whiteout opt/builtin-images/.wh..wh..opq');
  });

  test('a file added again above its deletion is there', () => {
    layout.build('re-added', [{ files: [{ path: BUILTIN_IMAGE_PATH, source: goodDisk }] }], { from: 'deleted-disk' });
    const result = check('re-added');
    expect(result.ok).toBe(true);
    expect(result.foundIn?.index).toBe(4);
    expect(result.layerCount).toBe(4);
  });

  // Every reader of an image takes the same file or refuses it: the registry client and the
  // kubelet-pull stage step refuse links, so this check does too (test/snapshot/corpus.test.ts).
  test('a symbolic link at the path is refused, not followed (to another layer or the host)', () => {
    layout.build('symlink', [
      BASE_LAYER,
      { files: [{ path: '/data/win98.qcow2', source: goodDisk }] },
      { files: [{ path: BUILTIN_IMAGE_PATH, symlinkTo: '../../data/win98.qcow2' }] },
    ]);
    const result = check('symlink');
    expect(result.ok).toBe(false);
    expect(result.foundIn?.index).toBe(3);
    expect(result.problem).toBe(`layer 3 of 3 (${short(layout.layers('symlink')[2].digest)}) is refused: it is a symbolic link (to ../../data/win98.qcow2), not a regular file`);
  });

  test('a hard link at the path, or to the file, is refused (a file with two names)', () => {
    layout.build('hardlink', [{ files: [
      { path: '/data/disk.qcow2', source: goodDisk },
      { path: BUILTIN_IMAGE_PATH, hardlinkTo: '/data/disk.qcow2' },
    ] }]);
    const result = check('hardlink');
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/is refused: (it is a hard link \(to data\/disk\.qcow2\), not a regular file|\/data\/disk\.qcow2 is a hard link to it)/);
  });

  test('a file that is not qcow2 is refused by its header, before qemu-img sees it', () => {
    layout.build('raw-disk', [{ files: [{ path: BUILTIN_IMAGE_PATH, content: Buffer.alloc(4096, 7) }] }]);
    const result = check('raw-disk');
    expect(result.ok).toBe(false);
    expect(result.format).toBeUndefined();
    expect(result.problem).toBe("the seeder would refuse it: not a qcow2 image (first bytes '07070707', expected 514649fb)");
  });

  test('layers written by umoci insert (no end-of-archive blocks) are read', () => {
    const insert = spawnSync('umoci', ['insert', '--image', `${layout.path}:without-disk`, '--tag', 'umoci-insert', goodDisk, BUILTIN_IMAGE_PATH], { encoding: 'utf8' });
    expect(insert.stderr).toBe('');
    const result = check('umoci-insert');
    expect(result.ok).toBe(true);
    expect(result.fileSize).toBeGreaterThan(2 * 1024 * 1024);
  });

  test('another path can be checked', () => {
    expect(check('with-disk', '/etc/os-release').foundIn?.index).toBe(1);
    expect(check('with-disk', '/etc/nothing').ok).toBe(false);
  });
});

describe('the disk image policy: check-image gives the seeder\'s verdict on every case of the table', () => {
  // The same table test/scripts/seed-disk.policy.test.ts runs through the seeder.
  beforeAll(() => {
    for (const [index, policyCase] of QCOW2_CASES.entries()) {
      const dir = join(layout.workDir, `policy-${index}`);
      mkdirSync(dir);
      layout.build(`policy-${index}`, [{ files: [{ path: BUILTIN_IMAGE_PATH, source: policyCase.build(dir) }] }]);
    }
  }, 60_000);

  test.each(QCOW2_CASES.map((c, index) => [c.name, c, index] as const))('%s', (_name, policyCase, index) => {
    const result = checkImage({ image: layout.reference(`policy-${index}`), minVirtualSize: policyCase.minVirtualSize });
    if (policyCase.refused === undefined) {
      expect(result.problem).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.format).toBe('qcow2');
    } else {
      expect(result.ok).toBe(false);
      expect(result.problem).toMatch(/^the seeder would refuse it: /);
      expect(result.problem).toMatch(policyCase.refused);
    }
  });

  test('the CLI prints the policy verdict and takes the limits as quantities', () => {
    const empty = QCOW2_CASES.findIndex((c) => c.name.startsWith('freshly created'));
    const ok = runCli(['check-image', layout.reference(`policy-${empty}`)]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('virtual size: 1 GiB (1073741824 bytes)');
    expect(ok.stdout).toContain('image policy: self-contained (no backing or data file, not encrypted, known features)');
    const small = runCli(['check-image', '--min-virtual-size', '2Gi', layout.reference(`policy-${empty}`)]);
    expect(small.status).toBe(1);
    expect(small.stderr).toContain('but the seeder would refuse it: its virtual size of 1073741824 bytes is under the declared 2147483648 bytes (minVirtualSize): is it the right image?');
    const limited = runCli(['check-image', '--max-virtual-size', '512Mi', layout.reference(`policy-${empty}`)]);
    expect(limited.status).toBe(1);
    expect(limited.stderr).toContain('its virtual size of 1073741824 bytes is over the limit of 536870912 bytes');
    const bad = runCli(['check-image', '--max-virtual-size', 'lots', layout.reference(`policy-${empty}`)]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--max-virtual-size takes a size in bytes or a quantity such as 2Gi, not 'lots'");
  });
});

describe('helpers', () => {
  test('a bare reference means docker://, transports pass through', () => {
    expect(skopeoSource('ghcr.io/mroie/qemu-loco:v1')).toBe('docker://ghcr.io/mroie/qemu-loco:v1');
    expect(skopeoSource('localhost:5000/qemu-loco:v1')).toBe('docker://localhost:5000/qemu-loco:v1');
    expect(skopeoSource('oci:/tmp/layout:v1')).toBe('oci:/tmp/layout:v1');
    expect(skopeoSource('docker://ghcr.io/x:y')).toBe('docker://ghcr.io/x:y');
  });

  test('sizes are shown in binary units with the exact byte count', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(2 * 1024 ** 3)).toBe('2 GiB (2147483648 bytes)');
    expect(formatBytes(3473408)).toBe('3.3 MiB (3473408 bytes)');
  });
});

describe('check-image command against a registry on 127.0.0.1', () => {
  let registry: LocalRegistry;
  let secured: LocalRegistry;

  beforeAll(async () => {
    [registry, secured] = await Promise.all([LocalRegistry.start(), LocalRegistry.start({ users: { alice: 's3cret' } })]);
    registry.push(layout.reference('with-disk'), 'qemu-loco:with-disk');
    registry.push(layout.reference('deleted-disk'), 'qemu-loco:deleted-disk');
    secured.push(layout.reference('with-disk'), 'qemu-loco:v1');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([registry?.stop(), secured?.stop()]);
  });

  test('docker:// over plain HTTP with --tls-verify=false', () => {
    const run = runCli(['check-image', '--tls-verify=false', `docker://${registry.reference('qemu-loco:with-disk')}`]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('virtual size: 2 MiB');
  });

  test('a bare reference is read from the registry, and whiteouts hold there too', () => {
    const run = runCli(['check-image', '--tls-verify=false', registry.reference('qemu-loco:deleted-disk')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`docker://${registry.reference('qemu-loco:deleted-disk')} has no ${BUILTIN_IMAGE_PATH}`);
  });

  test('--tls-verify false (with a space) is --tls-verify=false; --tls-verify alone is true', () => {
    const run = runCli(['check-image', '--tls-verify', 'false', registry.reference('qemu-loco:with-disk')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const verified = runCli(['check-image', '--tls-verify', registry.reference('qemu-loco:with-disk')]);
    expect(verified.status).toBe(3);
    expect(verified.stderr).toContain('--tls-verify=false');
  });

  test('without --tls-verify=false an HTTP registry cannot be read (exit 3, says what to do)', () => {
    const run = runCli(['check-image', registry.reference('qemu-loco:with-disk')]);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('--tls-verify=false');
  });

  test('credentials: --creds and --authfile pass through to skopeo; none is refused', () => {
    const image = secured.reference('qemu-loco:v1');
    const refused = runCli(['check-image', '--tls-verify=false', image]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/unauthorized|authentication required/i);

    expect(runCli(['check-image', '--tls-verify=false', '--creds', 'alice:s3cret', image]).status).toBe(0);

    const authfile = join(layout.workDir, 'auth.json');
    writeFileSync(authfile, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }));
    const withAuthfile = runCli(['check-image', '--tls-verify=false', '--authfile', authfile, image]);
    expect(withAuthfile.stderr).toBe('');
    expect(withAuthfile.status).toBe(0);
    // The registry saw the layers fetched with credentials.
    expect(secured.accessLog().filter((entry) => entry.status === 401).length).toBeGreaterThan(0);
    expect(secured.blobBytesServed()).toBeGreaterThan(2 * 1024 * 1024);
  });
});
