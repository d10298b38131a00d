import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { DEFAULT_SNAPSHOT_IMAGE, parseSnapshotReference } from '../lib';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function scope(): Construct {
  return new Construct(new Chart(Testing.app(), 'loco'), 'Seeder');
}

function parse(image: string) {
  return parseSnapshotReference(scope(), 'snapshotImage', image);
}

describe('parseSnapshotReference', () => {
  test.each([
    ['ghcr.io/mroie/qemu-snapshots:win98-base',
      { registry: 'ghcr.io', repository: 'mroie/qemu-snapshots', name: 'ghcr.io/mroie/qemu-snapshots', tag: 'win98-base', digest: undefined }],
    ['mroie/qemu-snapshots:win98-base',
      { registry: 'docker.io', repository: 'mroie/qemu-snapshots', name: 'mroie/qemu-snapshots', tag: 'win98-base', digest: undefined }],
    ['qemu-snapshots:v1.2_rc-3',
      { registry: 'docker.io', repository: 'qemu-snapshots', name: 'qemu-snapshots', tag: 'v1.2_rc-3', digest: undefined }],
    ['localhost/snapshots:v1',
      { registry: 'localhost', repository: 'snapshots', name: 'localhost/snapshots', tag: 'v1', digest: undefined }],
    ['127.0.0.1:5000/snapshots:v1',
      { registry: '127.0.0.1:5000', repository: 'snapshots', name: '127.0.0.1:5000/snapshots', tag: 'v1', digest: undefined }],
    [`registry.example.com:5000/team/loco/snapshots@${DIGEST}`,
      { registry: 'registry.example.com:5000', repository: 'team/loco/snapshots', name: 'registry.example.com:5000/team/loco/snapshots', tag: undefined, digest: DIGEST }],
    [`ghcr.io/mroie/qemu-snapshots:win98-base@${DIGEST}`,
      { registry: 'ghcr.io', repository: 'mroie/qemu-snapshots', name: 'ghcr.io/mroie/qemu-snapshots', tag: 'win98-base', digest: DIGEST }],
  ])('%s', (image, parts) => {
    expect(parse(image)).toEqual({ image, ...parts });
  });

  test('the default snapshot is the one the Lego Loco project publishes', () => {
    expect(parse(DEFAULT_SNAPSHOT_IMAGE)).toMatchObject({ registry: 'ghcr.io', repository: 'mroie/qemu-snapshots', tag: 'win98-base' });
  });

  const ALLOWED = 'must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base';
  test.each([
    ['no tag or digest', 'ghcr.io/mroie/qemu-snapshots'],
    ['empty', ''],
    ['an upper-case repository', 'ghcr.io/MRoie/qemu-snapshots:win98-base'],
    ['a URL', 'https://ghcr.io/mroie/qemu-snapshots:win98-base'],
    ['an empty path component', 'ghcr.io//qemu-snapshots:v1'],
    ['an empty tag', 'ghcr.io/mroie/qemu-snapshots:'],
    ['a tag of 129 characters', `ghcr.io/mroie/qemu-snapshots:${'t'.repeat(129)}`],
    ['a tag starting with a dot', 'ghcr.io/mroie/qemu-snapshots:.hidden'],
    ['a short digest', 'ghcr.io/mroie/qemu-snapshots@sha256:abc123'],
    ['an upper-case digest', `ghcr.io/mroie/qemu-snapshots@${DIGEST.toUpperCase()}`],
    ['another digest algorithm', `ghcr.io/mroie/qemu-snapshots@md5:${'0'.repeat(32)}`],
    ['spaces', 'ghcr.io/mroie/qemu snapshots:v1'],
  ])('refuses %s, naming the construct path, the property and the value', (_what, image) => {
    expect(() => parse(image)).toThrow(`loco/Seeder: invalid snapshotImage ${JSON.stringify(image)}: ${ALLOWED}`);
  });

  test('refuses a name longer than registries allow (255 characters)', () => {
    const image = `registry.example.com/${'a'.repeat(240)}:v1`;
    expect(() => parse(image)).toThrow(
      `loco/Seeder: invalid snapshotImage ${JSON.stringify(image)}: has a name (registry and repository) of 261 characters; registries allow at most 255`);
    expect(() => parse(`registry.example.com/${'a'.repeat(234)}:v1`)).not.toThrow();
  });
});
