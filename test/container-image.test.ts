import { ImagePullPolicy } from 'cdk8s-plus-28';
import {
  ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, LegoLoco, QemuStatefulSet, SeedSource, SnapshotMethod,
} from '../lib';
import { testChart } from './helpers/synth';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const EMULATOR = ContainerImage.fromTag('qemu-loco', 'v1');

/** A seeder in chart `test` with the given emulator image and snapshot source. */
function seeder(image: ContainerImage, snapshot?: ContainerImage, method?: SnapshotMethod): DiskSeeder {
  const chart = testChart();
  const sources = snapshot === undefined ? undefined : [SeedSource.snapshot(snapshot, { method }), SeedSource.builtin()];
  return new DiskSeeder(chart, 'Seeder', { disk: new EmulatorDisk(chart, 'Disk'), image, sources });
}

/** What the seeder made of a snapshot image (its `snapshot` getter). */
function snapshotParts(image: ContainerImage) {
  return seeder(EMULATOR, image).snapshot;
}

/** The seeder container's image and pull policy. */
function pulled(image: ContainerImage): [string | undefined, string | undefined] {
  const container = seeder(image).initContainers.find((c) => c.name === 'seed-disk')!;
  return [container.image, container.imagePullPolicy];
}

describe('ContainerImage: the reference', () => {
  test('fromTag, fromDigest and fromReference give the reference the pod spec carries', () => {
    expect(ContainerImage.fromTag('ghcr.io/mroie/qemu-loco', '1.4.0').reference).toBe('ghcr.io/mroie/qemu-loco:1.4.0');
    expect(ContainerImage.fromDigest('ghcr.io/mroie/qemu-loco', DIGEST).reference).toBe(`ghcr.io/mroie/qemu-loco@${DIGEST}`);
    expect(ContainerImage.fromReference(`busybox:1.35@${DIGEST}`).reference).toBe(`busybox:1.35@${DIGEST}`);
    expect(pulled(ContainerImage.fromDigest('qemu-loco', DIGEST))).toEqual([`qemu-loco@${DIGEST}`, 'IfNotPresent']);
  });

  test('pullPolicy is what was asked for, and unset when nothing was', () => {
    expect(ContainerImage.fromTag('qemu-loco', 'v1').pullPolicy).toBeUndefined();
    expect(ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: ImagePullPolicy.NEVER }).pullPolicy).toBe('Never');
  });

  test('one value for every container built from it: the seeder and the emulator pull the same image the same way', () => {
    const chart = testChart();
    const image = ContainerImage.fromTag('registry.example.com/emu', '2.1', { pullPolicy: ImagePullPolicy.ALWAYS });
    const disk = new EmulatorDisk(chart, 'Disk');
    const seeding = new DiskSeeder(chart, 'Seeder', { disk, image });
    new QemuStatefulSet(chart, 'Emulator', { disk, seeder: seeding, image, overlays: { resetToken: 'one' } });
    const pod = (chart.node.findChild('Emulator') as QemuStatefulSet).statefulSet.toJson().spec.template.spec;
    const containers = [...pod.initContainers, ...pod.containers];
    expect(containers.map((c: any) => [c.name, c.image, c.imagePullPolicy])).toEqual([
      ['seed-disk', 'registry.example.com/emu:2.1', 'Always'],
      ['reset-overlay', 'registry.example.com/emu:2.1', 'Always'],
      ['emulator', 'registry.example.com/emu:2.1', 'Always'],
    ]);
  });
});

describe('ContainerImage: the parts of a reference', () => {
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
    expect(snapshotParts(ContainerImage.fromReference(image))).toEqual({ image, ...parts, pullPolicy: 'IfNotPresent' });
  });

  test('the default snapshot is the one the Lego Loco project publishes', () => {
    expect(snapshotParts(LegoLoco.SNAPSHOT_IMAGE)).toMatchObject({ registry: 'ghcr.io', repository: 'mroie/qemu-snapshots', tag: 'win98-base' });
  });
});

describe('ContainerImage.fromReference: refused references', () => {
  const ALLOWED = 'must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository and no spaces, e.g. ghcr.io/mroie/qemu-snapshots:win98-base';
  test.each([
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
    ['a space after the tag', 'ghcr.io/mroie/qemu-snapshots:v1 '],
  ])('refuses %s, naming the construct path, the property and the value', (_what, image) => {
    expect(() => snapshotParts(ContainerImage.fromReference(image)))
      .toThrow(`test/Seeder: invalid sources.snapshot.image ${JSON.stringify(image)}: ${ALLOWED}`);
  });

  test('refuses a reference without tag or digest: it means latest', () => {
    expect(() => snapshotParts(ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots'))).toThrow(
      'test/Seeder: invalid sources.snapshot.image "ghcr.io/mroie/qemu-snapshots": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)');
  });

  test('refuses a name longer than registries allow (255 characters)', () => {
    const image = `registry.example.com/${'a'.repeat(240)}:v1`;
    expect(() => snapshotParts(ContainerImage.fromReference(image))).toThrow(
      `test/Seeder: invalid sources.snapshot.image ${JSON.stringify(image)}: has a name (registry and repository) of 261 characters; registries allow at most 255`);
    expect(() => snapshotParts(ContainerImage.fromReference(`registry.example.com/${'a'.repeat(234)}:v1`))).not.toThrow();
  });

  test('the error names the construct and the property the image was given to', () => {
    const bad = ContainerImage.fromReference('Qemu-Loco:v1');
    const ALLOWED_SHORT = `"Qemu-Loco:v1": ${ALLOWED}`;
    expect(() => seeder(bad)).toThrow(`test/Seeder: invalid image ${ALLOWED_SHORT}`);
    expect(() => seeder(EMULATOR, EMULATOR, SnapshotMethod.kubeletPull({ toolsImage: bad })))
      .toThrow(`test/Seeder: invalid sources.snapshot.method.toolsImage ${ALLOWED_SHORT}`);
    const emulator = (props: { image?: ContainerImage; prebuiltSnapshot?: ContainerImage }) => {
      const chart = testChart();
      new QemuStatefulSet(chart, 'Emulator', { disk: new EmulatorDisk(chart, 'Disk', { volume: DiskVolume.emptyDir() }), image: EMULATOR, ...props });
    };
    expect(() => emulator({ image: bad })).toThrow(`test/Emulator: invalid image ${ALLOWED_SHORT}`);
    expect(() => emulator({ prebuiltSnapshot: bad })).toThrow(`test/Emulator: invalid prebuiltSnapshot ${ALLOWED_SHORT}`);
  });
});

describe('ContainerImage.fromTag and fromDigest: each part checked on its own', () => {
  const REPOSITORY = 'must be an image repository [registry/]name in lower case, without tag or digest, e.g. qemu-loco or ghcr.io/mroie/qemu-loco';
  const TAG = 'must be an image tag: letters, digits, _ . -, at most 128 characters, not starting with . or -';
  const DIGEST_RULE = 'must be sha256:<64 lower-case hex digits>';

  test.each([
    ['upper case', 'Qemu-Loco'],
    ['a space', 'qemu loco'],
    ['a tag in it', 'qemu-loco:v1'],
    ['a digest in it', `qemu-loco@${DIGEST}`],
    ['empty', ''],
    ['a URL', 'https://ghcr.io/mroie/qemu-loco'],
  ])('a repository with %s is refused as the repository', (_what, repository) => {
    const message = `test/Seeder: invalid image repository ${JSON.stringify(repository)}: ${REPOSITORY}`;
    expect(() => seeder(ContainerImage.fromTag(repository, 'v1'))).toThrow(message);
    expect(() => seeder(ContainerImage.fromDigest(repository, DIGEST))).toThrow(message);
  });

  test.each([
    ['empty', ''],
    ['a space', 'v 1'],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-rc1'],
    ['129 characters', 't'.repeat(129)],
    ['a digest in it', `v1@${DIGEST}`],
  ])('a tag with %s is refused as the tag', (_what, tag) => {
    expect(() => seeder(ContainerImage.fromTag('qemu-loco', tag))).toThrow(`test/Seeder: invalid image tag ${JSON.stringify(tag)}: ${TAG}`);
  });

  test('a tag of 128 characters is a tag', () => {
    expect(pulled(ContainerImage.fromTag('qemu-loco', 'T'.repeat(128)))[0]).toBe(`qemu-loco:${'T'.repeat(128)}`);
  });

  test.each([
    ['short', 'sha256:abc123'],
    ['upper case', DIGEST.toUpperCase().replace('SHA256', 'sha256')],
    ['another algorithm', `md5:${'0'.repeat(32)}`],
    ['no algorithm', '0123456789abcdef'.repeat(4)],
  ])('a digest that is %s is refused as the digest', (_what, digest) => {
    expect(() => seeder(ContainerImage.fromDigest('qemu-loco', digest))).toThrow(`test/Seeder: invalid image digest ${JSON.stringify(digest)}: ${DIGEST_RULE}`);
  });

  test('a JavaScript caller leaving out a part gets the message, not a TypeError', () => {
    const build = [
      () => seeder(ContainerImage.fromTag(undefined as any, 'v1')),
      () => seeder(ContainerImage.fromTag('qemu-loco', undefined as any)),
      () => seeder(ContainerImage.fromDigest('qemu-loco', undefined as any)),
      () => seeder(ContainerImage.fromReference(undefined as any)),
    ];
    expect(build[0]).toThrow(`test/Seeder: invalid image repository (not set): ${REPOSITORY}`);
    expect(build[1]).toThrow(`test/Seeder: invalid image tag (not set): ${TAG}`);
    expect(build[2]).toThrow(`test/Seeder: invalid image digest (not set): ${DIGEST_RULE}`);
    expect(build[3]).toThrow('test/Seeder: invalid image (not set): must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository and no spaces, e.g. ghcr.io/mroie/qemu-snapshots:win98-base');
    for (const b of build) expect(b).not.toThrow(TypeError);
  });
});

describe('ContainerImage: latest', () => {
  const LATEST = "'latest' runs whatever was pushed last on each node: pin a version tag or a digest, or pass allowLatestTag: true";

  test('is refused unless allowLatestTag says it is meant', () => {
    expect(() => seeder(ContainerImage.fromTag('qemu-loco', 'latest'))).toThrow(`test/Seeder: invalid image "qemu-loco:latest": ${LATEST}`);
    expect(() => seeder(ContainerImage.fromReference('ghcr.io/mroie/qemu-loco:latest')))
      .toThrow(`test/Seeder: invalid image "ghcr.io/mroie/qemu-loco:latest": ${LATEST}`);
    expect(pulled(ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true }))).toEqual(['qemu-loco:latest', 'Always']);
    expect(pulled(ContainerImage.fromReference('qemu-loco:latest', { allowLatestTag: true }))).toEqual(['qemu-loco:latest', 'Always']);
  });

  test('pinned by a digest as well, latest is only a label: accepted without allowLatestTag', () => {
    expect(pulled(ContainerImage.fromReference(`qemu-loco:latest@${DIGEST}`))).toEqual([`qemu-loco:latest@${DIGEST}`, 'IfNotPresent']);
  });

  test('an untagged image is refused: it means latest', () => {
    expect(() => seeder(ContainerImage.fromReference('qemu-loco'))).toThrow(
      'test/Seeder: invalid image "qemu-loco": has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)');
  });
});

describe('ContainerImage: the pull policy', () => {
  test.each([
    ['a version tag', 'IfNotPresent', ContainerImage.fromTag('qemu-loco', 'v1')],
    ['a digest', 'IfNotPresent', ContainerImage.fromDigest('qemu-loco', DIGEST)],
    ['a tag and a digest', 'IfNotPresent', ContainerImage.fromReference(`qemu-loco:v1@${DIGEST}`)],
    ['latest (allowed)', 'Always', ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true })],
  ])('defaults for %s to %s', (_what, policy, image) => {
    expect(pulled(image)[1]).toBe(policy);
  });

  test('an explicit policy wins over the default, both ways', () => {
    // An image loaded into minikube by hand under latest: there is no registry to pull it from.
    expect(pulled(ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true, pullPolicy: ImagePullPolicy.IF_NOT_PRESENT }))[1]).toBe('IfNotPresent');
    expect(pulled(ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: ImagePullPolicy.ALWAYS }))[1]).toBe('Always');
    expect(pulled(ContainerImage.fromDigest('qemu-loco', DIGEST, { pullPolicy: ImagePullPolicy.NEVER }))[1]).toBe('Never');
  });

  test("the snapshot's and the tools image's policies reach their own containers", () => {
    const snapshot = ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base', { pullPolicy: ImagePullPolicy.ALWAYS });
    const tools = ContainerImage.fromTag('mirror.example.com/busybox', '1.35', { pullPolicy: ImagePullPolicy.NEVER });
    const containers = seeder(EMULATOR, snapshot, SnapshotMethod.kubeletPull({ toolsImage: tools })).initContainers;
    expect(containers.map((c) => [c.name, c.image, c.imagePullPolicy])).toEqual([
      ['seed-tools', 'mirror.example.com/busybox:1.35', 'Never'],
      ['seed-snapshot', 'ghcr.io/mroie/qemu-snapshots:win98-base', 'Always'],
      ['seed-disk', 'qemu-loco:v1', 'IfNotPresent'],
    ]);
  });

  test('a policy Kubernetes does not know is refused (a JavaScript caller)', () => {
    expect(() => seeder(ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: 'Sometimes' as any })))
      .toThrow('test/Seeder: invalid image pullPolicy "Sometimes": must be one of Always, IfNotPresent, Never');
  });
});
