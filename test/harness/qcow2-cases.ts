/**
 * The disk image policy as a table: images every reader (seeder for each source, the stage step,
 * wait-for-disk, check-image, the OCI readers) must accept, and the hostile or wrong ones each
 * must refuse, with the reason seed-disk.sh gives. `build(dir)` writes the image into `dir` and
 * returns its path. Virtual sizes are checked against the default limit (64 GiB) and, for the
 * "under declared" case, against `SEED_MIN_VIRTUAL_SIZE` = DECLARED_MIN_VIRTUAL_SIZE.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  makeBackedQcow2, makeCompressedQcow2, makeDataFileQcow2, makeEmptyQcow2, makeEncryptedQcow2, makeQcow2, makeQcow2With, setFeatureBit,
} from './qcow2';

export interface Qcow2Case {
  readonly name: string;
  readonly build: (dir: string) => string;
  /** undefined: accepted; otherwise the refusal's reason (after "<label>: "). */
  readonly refused?: RegExp;
  /**
   * The smallest virtual size the reader is told to require (SEED_MIN_VIRTUAL_SIZE, bytes).
   * @default - none
   */
  readonly minVirtualSize?: number;
}

/** A declared minimum the "under declared" case does not reach. */
export const DECLARED_MIN_VIRTUAL_SIZE = 2 * 1024 ** 3;

const at = (dir: string, name: string) => path.join(dir, name);
/** Guest writes that leave clusters (and subclusters) partly written. */
const PARTIAL_WRITES = ['write -P 0x11 0 100k', 'write -P 0x22 900k 7k'];
const cutBy = (file: string, bytes: number) => {
  fs.truncateSync(file, fs.statSync(file).size - bytes);
  return file;
};

export const QCOW2_CASES: Qcow2Case[] = [
  { name: 'plain, fully allocated', build: (dir) => { makeQcow2(at(dir, 'plain.qcow2'), 1 << 20); return at(dir, 'plain.qcow2'); } },
  { name: 'compressed (qemu-img convert -c)', build: (dir) => makeCompressedQcow2(at(dir, 'compressed.qcow2')) },
  { name: 'freshly created, empty (qemu-img create 1G)', build: (dir) => makeEmptyQcow2(at(dir, 'empty.qcow2')) },
  { name: 'compressed with zstd', build: (dir) => makeCompressedQcow2(at(dir, 'zstd.qcow2'), 1 << 20, 'zstd') },
  { name: 'version 2 (compat=0.10)', build: (dir) => makeQcow2With(at(dir, 'v2.qcow2'), '64M', ['compat=0.10'], ['write -P 0x11 0 100k']) },
  { name: 'extended L2, partly written subclusters', build: (dir) => makeQcow2With(at(dir, 'el2.qcow2'), '64M', ['extended_l2=on'], PARTIAL_WRITES) },
  { name: '512-byte clusters', build: (dir) => makeQcow2With(at(dir, 'c512.qcow2'), '4M', ['cluster_size=512'], PARTIAL_WRITES) },
  { name: 'preallocated metadata', build: (dir) => makeQcow2With(at(dir, 'prealloc.qcow2'), '16M', ['preallocation=metadata'], PARTIAL_WRITES) },
  { name: 'an internal snapshot, written after it', build: (dir) => makeQcow2With(at(dir, 'snapshot.qcow2'), '64M', ['lazy_refcounts=on'], PARTIAL_WRITES, ['before']) },
  {
    name: 'extended L2, cut by one byte (qemu-img check alone passes)',
    build: (dir) => cutBy(makeQcow2With(at(dir, 'el2-cut.qcow2'), '64M', ['extended_l2=on'], PARTIAL_WRITES), 1),
    refused: /truncated qcow2 image: its data ends at byte \d+ but the file has \d+ bytes/,
  },
  { name: 'virtual size exactly at the declared minimum', build: (dir) => makeEmptyQcow2(at(dir, 'min.qcow2'), '2G'), minVirtualSize: DECLARED_MIN_VIRTUAL_SIZE },
  {
    name: 'external data file on the host (/etc/passwd)',
    build: (dir) => makeDataFileQcow2(at(dir, 'data-file.qcow2'), '/etc/passwd'),
    refused: /it has an external data file \(incompatible feature bit 2\)/,
  },
  {
    name: 'backing file, host path',
    build: (dir) => makeBackedQcow2(at(dir, 'backing-host.qcow2'), '/etc/passwd'),
    refused: /it has a backing file \('\/etc\/passwd'\)/,
  },
  {
    name: 'backing file, relative path',
    build: (dir) => makeBackedQcow2(at(dir, 'backing-relative.qcow2'), '../../etc/passwd'),
    refused: /it has a backing file \('\.\.\/\.\.\/etc\/passwd'\)/,
  },
  {
    name: 'backing file, json: spec',
    build: (dir) => makeBackedQcow2(at(dir, 'backing-json.qcow2'), 'json:{"driver":"file","filename":"/etc/passwd"}'),
    refused: /it has a backing file \('json:\{"driver":"file","filename":"\/etc\/passwd"\}'\)/,
  },
  {
    name: 'backing file, http URL',
    build: (dir) => makeBackedQcow2(at(dir, 'backing-http.qcow2'), 'http://127.0.0.1:9/base.qcow2', 'qcow2'),
    refused: /it has a backing file \('http:\/\/127\.0\.0\.1:9\/base\.qcow2'\)/,
  },
  {
    name: 'encrypted, LUKS',
    build: (dir) => makeEncryptedQcow2(at(dir, 'luks.qcow2'), 'luks'),
    refused: /it is encrypted \(crypt_method 2\)/,
  },
  {
    name: 'encrypted, AES',
    build: (dir) => makeEncryptedQcow2(at(dir, 'aes.qcow2'), 'aes'),
    refused: /it is encrypted \(crypt_method 1\)/,
  },
  {
    name: 'unknown incompatible feature bit (bit 9)',
    build: (dir) => setFeatureBit(makeEmptyQcow2(at(dir, 'incompat.qcow2'), '1M'), 'incompatible', 9),
    refused: /it uses incompatible features unknown to the emulator's QEMU 7\.2 \(bits 0x0000000000000200\)/,
  },
  {
    name: 'marked corrupt (incompatible bit 1)',
    build: (dir) => setFeatureBit(makeEmptyQcow2(at(dir, 'corrupt-bit.qcow2'), '1M'), 'incompatible', 1),
    refused: /it is marked corrupt \(incompatible feature bit 1\)/,
  },
  {
    name: 'unknown autoclear feature bit (bit 5)',
    build: (dir) => setFeatureBit(makeEmptyQcow2(at(dir, 'autoclear.qcow2'), '1M'), 'autoclear', 5),
    refused: /it uses autoclear features the seeder does not accept \(bits 0x0000000000000020/,
  },
  {
    name: 'virtual size over the limit (65 GiB)',
    build: (dir) => makeEmptyQcow2(at(dir, 'huge.qcow2'), '65G'),
    refused: /its virtual size of 69793218560 bytes is over the limit of 68719476736 bytes/,
  },
  {
    name: 'virtual size under the declared minimum',
    build: (dir) => makeEmptyQcow2(at(dir, 'small.qcow2'), '1G'),
    minVirtualSize: DECLARED_MIN_VIRTUAL_SIZE,
    refused: /its virtual size of 1073741824 bytes is under the declared 2147483648 bytes/,
  },
];

/**
 * Images that point at the network through `url(path)` (a CountingServer's): a backing file
 * that is an http URL, a json: backing spec with the http driver, an external data file that is
 * an http URL. Every reader must refuse them without one request.
 */
export function networkQcow2Cases(url: (path: string) => string): Qcow2Case[] {
  return [
    {
      name: 'backing file, http URL (curl block driver)',
      build: (dir) => makeBackedQcow2(at(dir, 'net-backing-http.qcow2'), url('/backing.qcow2'), 'qcow2'),
      refused: /it has a backing file \('http:\/\/127\.0\.0\.1:\d+\/backing\.qcow2'\)/,
    },
    {
      name: 'backing file, json: spec with the http driver',
      build: (dir) => makeBackedQcow2(at(dir, 'net-backing-json.qcow2'), `json:{"file":{"driver":"http","url":"${url('/json-backing.raw')}"}}`),
      refused: /it has a backing file \('json:\{"file":\{"driver":"http","url":"http:\/\/127\.0\.0\.1:\d+\/json-backing\.raw"\}\}'\)/,
    },
    {
      name: 'external data file, http URL',
      build: (dir) => makeDataFileQcow2(at(dir, 'net-data-file.qcow2'), url('/data-file.raw')),
      refused: /it has an external data file \(incompatible feature bit 2\)/,
    },
  ];
}
