// Every reader of an OCI snapshot sees the same file (issue 10 §2). A corpus of hostile and
// legitimate snapshot images, made here, each pushed to one real registry and read by all three
// readers and the seeder: the kubelet (skopeo + umoci unpack: umoci's own whiteout and link rules
// decide what the runtime sees, then the synthesized seed-snapshot stage and seed-disk), the
// registry client (the synthesized seeder running fetch-snapshot.sh) and check-image. Each row
// states what the runtime sees and whether the image must be accepted; every reader must accept
// the very file the runtime sees or refuse. The figures (hostile accepted, legitimate refused,
// reader disagreements) are printed and must all be 0.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SHELLS } from '../harness/pod-runner';
import { cleanupDirs, makeQcow2, sha256Of, tempDir } from '../harness/qcow2';
import { QCOW2_CASES } from '../harness/qcow2-cases';
import { LocalRegistry } from '../harness/registry';
import { freshVolume } from '../scripts/seeding';
import {
  checkImageReader, CorpusImage, kubeletReader, pushCorpusImage, ReaderVerdict, registryReader, runtimeView, smallVolume, TarEntry,
} from './corpus-fixtures';

// A hang guard, not a goal: the suite takes about a minute alone, more under a full suite on 2 cores.
jest.setTimeout(300_000);

const F = 'snapshot.qcow2';
const IN_FLIGHT = 2;

interface Row {
  readonly name: string;
  /** accept: the image is a snapshot every reader takes (the file the runtime sees); refuse: none may. */
  readonly expect: 'accept' | 'refuse';
  readonly image: () => CorpusImage;
  /** What every refusal must say (all three readers), when the reason is the point. */
  readonly reason?: RegExp;
  /** A small volume (MiB) for the disk and check-image's tmpdir: an image that must not fit. */
  readonly volumeMiB?: number;
}

let work: string;
let disk: Buffer;
let other: Buffer;
const file = (name: string, data: Buffer): TarEntry => ({ name, data });
const one = (...entries: TarEntry[]): CorpusImage => ({ layers: [{ entries }] });

function qcow2(name: string, bytes = 1 << 20): Buffer {
  const at = path.join(work, name);
  makeQcow2(at, bytes);
  return fs.readFileSync(at);
}

const ROWS: Row[] = [
  { name: 'a normal snapshot (FROM scratch, one gzip layer)', expect: 'accept', image: () => one(file(F, disk)) },
  { name: 'an uncompressed layer (media type tar)', expect: 'accept', image: () => ({ layers: [{ entries: [file(F, disk)], gzip: false }] }) },
  { name: './ names', expect: 'accept', image: () => one({ name: './', type: 'dir' }, file(`./${F}`, disk)) },
  {
    // 299 times the same small layer above it (one blob to copy): every reader walks 300 layers.
    name: '300 layers, the file in the bottom one',
    expect: 'accept',
    image: () => ({ layers: [{ entries: [file(F, disk)] }, ...Array.from({ length: 299 }, () => ({ entries: [file('NOTE', Buffer.from('a layer\n'))] }))] }),
  },
  {
    name: 'a symbolic link, then the regular file, in one layer (the later entry wins)',
    expect: 'accept',
    image: () => one({ name: F, type: 'symlink', link: '/etc/passwd' }, file(F, disk)),
  },
  { name: 'the file twice in one layer (the later entry wins)', expect: 'accept', image: () => one(file(F, other), file(F, disk)) },
  {
    name: 'a whiteout of the file beside the file in one layer (whiteouts hide lower layers only)',
    expect: 'accept',
    image: () => ({ layers: [{ entries: [file(F, other)] }, { entries: [file(`.wh.${F}`, Buffer.alloc(0)), file(F, disk)] }] }),
  },
  {
    name: 'a root opaque whiteout in the layer that adds the file',
    expect: 'accept',
    image: () => ({ layers: [{ entries: [file(F, other)] }, { entries: [file('.wh..wh..opq', Buffer.alloc(0)), file(F, disk)] }] }),
  },
  {
    name: 'deleted, then added again above',
    expect: 'accept',
    image: () => ({ layers: [{ entries: [file(F, other)] }, { entries: [file(`.wh.${F}`, Buffer.alloc(0))] }, { entries: [file(F, disk)] }] }),
  },
  { name: 'path traversal: ../snapshot.qcow2 (the runtime keeps it in the image)', expect: 'accept', image: () => one(file(`../${F}`, disk)) },
  { name: 'path traversal: ../../../snapshot.qcow2', expect: 'accept', image: () => one(file(`../../../${F}`, disk)) },
  { name: 'an absolute member name /snapshot.qcow2', expect: 'accept', image: () => one(file(`/${F}`, disk)) },
  { name: 'a dir/../ name', expect: 'accept', image: () => one(file(`tmp/../${F}`, disk)) },
  {
    name: 'a manifest key "layers[9].digest" naming a lower layer whose file is deleted',
    expect: 'refuse',
    image: () => ({
      layers: [{ entries: [file(F, other)] }, { entries: [file(`.wh.${F}`, Buffer.alloc(0))] }],
      manifest: (manifest, layers) => JSON.stringify({ ...manifest, 'layers[9].digest': layers[0].digest }),
    }),
    reason: /not an OCI image manifest|outside the OCI schema|not in the snapshot image/,
  },
  {
    name: 'a root opaque whiteout above the file (hides every lower layer)',
    expect: 'refuse',
    image: () => ({ layers: [{ entries: [file(F, disk)] }, { entries: [file('.wh..wh..opq', Buffer.alloc(0)), file('README', Buffer.from('x'))] }] }),
    reason: /opaque whiteout|nothing was staged|not in the snapshot image/,
  },
  { name: 'a whiteout of the file above it', expect: 'refuse', image: () => ({ layers: [{ entries: [file(F, disk)] }, { entries: [file(`.wh.${F}`, Buffer.alloc(0))] }] }) },
  { name: 'a symbolic link to a host file', expect: 'refuse', image: () => one({ name: F, type: 'symlink', link: '/etc/passwd' }), reason: /symbolic link/ },
  { name: 'a symbolic link to a device', expect: 'refuse', image: () => one({ name: F, type: 'symlink', link: '/dev/zero' }), reason: /symbolic link/ },
  { name: 'the regular file, then a symbolic link (the later entry wins)', expect: 'refuse', image: () => one(file(F, disk), { name: F, type: 'symlink', link: '/etc/passwd' }) },
  {
    name: 'a hard link to another file of the layer',
    expect: 'refuse',
    image: () => one(file('other.qcow2', disk), { name: F, type: 'hardlink', link: 'other.qcow2' }),
    reason: /hard link/,
  },
  {
    name: 'another name hard-linked to the file',
    expect: 'refuse',
    image: () => one(file(F, disk), { name: 'alias', type: 'hardlink', link: F }),
    reason: /hard link/,
  },
  { name: 'a hard link to a file on the volume (../images/win98.qcow2)', expect: 'refuse', image: () => one({ name: F, type: 'hardlink', link: '../images/win98.qcow2' }) },
  { name: 'a character device', expect: 'refuse', image: () => one({ name: F, type: 'char' }) },
  { name: 'a directory', expect: 'refuse', image: () => one({ name: `${F}/`, type: 'dir' }, file(`${F}/x`, disk)), reason: /not a regular file/ },
  {
    name: 'a plain tar layer labelled tar+gzip (the runtime reads the bytes)',
    expect: 'accept',
    image: () => ({ layers: [{ entries: [file(F, disk)], gzip: false, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }] }),
  },
  {
    name: 'a gzip layer labelled tar',
    expect: 'refuse',
    image: () => ({ layers: [{ entries: [file(F, disk)], mediaType: 'application/vnd.oci.image.layer.v1.tar' }] }),
  },
  {
    name: 'an unknown layer media type',
    expect: 'refuse',
    image: () => ({ layers: [{ entries: [file(F, disk)], mediaType: 'application/vnd.example.unknown' }] }),
  },
  { name: 'an HTML page as the disk', expect: 'refuse', image: () => one(file(F, Buffer.from(`<!DOCTYPE html><html>${'Not Found. '.repeat(180)}</html>\n`))) },
  { name: 'a truncated qcow2', expect: 'refuse', image: () => one(file(F, disk.subarray(0, disk.length >> 1))) },
  {
    name: 'a layer that expands past the free space (gzip bomb: a 48 MiB preallocated qcow2, 8 MiB volume)',
    expect: 'refuse',
    volumeMiB: 8,
    image: () => {
      const at = path.join(work, 'bomb.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=full', at, '48M']);
      return one(file(F, fs.readFileSync(at)));
    },
    reason: /full|not enough space/,
  },
  // The qcow2-level policy (helper H1's table): each image as /snapshot.qcow2 of a normal snapshot.
  ...QCOW2_CASES.filter((c) => c.minVirtualSize === undefined).map((c): Row => ({
    name: `qcow2: ${c.name}`,
    expect: c.refused ? 'refuse' : 'accept',
    image: () => one(file(F, fs.readFileSync(c.build(fs.mkdtempSync(path.join(work, 'policy-')))))),
  })),
];

interface Outcome {
  readonly row: Row;
  readonly sees: string;
  readonly runtime?: string;
  readonly ms: number;
  readonly readers: { [reader: string]: ReaderVerdict };
}

let registry: LocalRegistry;
let outcomes: Outcome[];
const unmounts: Array<() => void> = [];

beforeAll(async () => {
  work = tempDir('corpus-');
  disk = qcow2('disk.qcow2');
  other = qcow2('other.qcow2');
  registry = await LocalRegistry.start();
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  unmounts.forEach((unmount) => unmount());
  cleanupDirs();
});

/** Reads one row's image with the three readers (the two pods alternate shells across rows). */
async function readRow(row: Row, i: number): Promise<Outcome> {
  const started = Date.now();
  const reference = await pushCorpusImage(registry, `corpus-${i}`, row.image());
  const view = await runtimeView(registry, reference);
  const volume = (): string => {
    if (!row.volumeMiB) return freshVolume();
    const small = smallVolume(row.volumeMiB);
    unmounts.push(small.unmount);
    return small.dir;
  };
  const tmp = row.volumeMiB ? volume() : undefined;
  const pods = Promise.all([
    kubeletReader(reference, view.rootfs, SHELLS[i % 2], volume()),
    registryReader(reference, SHELLS[(i + 1) % 2], volume()),
  ]);
  const checked = checkImageReader(reference, tmp);
  const [kubelet, client] = await pods;
  return { row, sees: view.sees, runtime: view.sha256, ms: Date.now() - started, readers: { 'kubelet': kubelet, 'registry client': client, 'check-image': checked } };
}

test('every corpus image goes through the three readers and the seeder: they agree with the runtime', async () => {
  expect(ROWS.length).toBeGreaterThanOrEqual(25);
  // A few rows in flight at a time (each runs two pods and check-image): more only thrash 2 cores.
  const read: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ROWS.length; i = next++) read[i] = await readRow(ROWS[i], i);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  outcomes = read;

  let hostileAccepted = 0;
  let legitimateRefused = 0;
  let disagreements = 0;
  const lines: string[] = [];
  for (const outcome of outcomes) {
    const verdicts = Object.entries(outcome.readers);
    const accepted = verdicts.filter(([, v]) => v.accepted !== undefined);
    if (outcome.row.expect === 'refuse' && accepted.length > 0) hostileAccepted++;
    if (outcome.row.expect === 'accept' && accepted.length < verdicts.length) legitimateRefused++;
    // A reader disagrees when it accepts anything but the file the runtime sees.
    if (accepted.some(([, v]) => v.accepted !== outcome.runtime)) disagreements++;
    lines.push(`${outcome.row.expect === 'accept' ? 'ACCEPT' : 'REFUSE'} ${outcome.row.name} (${outcome.ms} ms)\n    runtime sees: ${outcome.sees}\n` +
      verdicts.map(([reader, v]) => `    ${reader}: ${v.accepted !== undefined ? `accepted ${v.accepted.slice(0, 12)}` : `refused: ${(v.refused ?? '').slice(0, 300)}`}`).join('\n'));
  }
  // eslint-disable-next-line no-console -- the corpus's verdicts, every reader's, are this test's report
  console.log(`snapshot corpus: ${outcomes.length} images; hostile accepted ${hostileAccepted}, legitimate refused ${legitimateRefused}, ` +
    `reader disagreements ${disagreements}\n${lines.join('\n')}`);
  expect({ hostileAccepted, legitimateRefused, disagreements }).toEqual({ hostileAccepted: 0, legitimateRefused: 0, disagreements: 0 });

  // The reason is the point for some rows: every reader says it.
  for (const outcome of outcomes.filter((o) => o.row.reason)) {
    for (const [reader, verdict] of Object.entries(outcome.readers)) {
      expect(`${outcome.row.name} / ${reader}: ${verdict.refused}`).toMatch(outcome.row.reason!);
    }
  }
  // What the runtime sees for a legitimate row is the corpus's disk (or the policy table's image).
  for (const outcome of outcomes.filter((o) => o.row.expect === 'accept' && !o.row.name.startsWith('qcow2:'))) {
    expect(`${outcome.row.name}: ${outcome.runtime}`).toBe(`${outcome.row.name}: ${sha256Of(path.join(work, 'disk.qcow2'))}`);
  }
});
