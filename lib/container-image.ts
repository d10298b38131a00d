import { ImagePullPolicy } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { invalidProp } from './validation';

/** Options of a ContainerImage. */
export interface ContainerImageOptions {
  /**
   * Accept the `latest` tag. It makes every node run whatever was pushed last, so it is refused
   * unless this says it is meant (an image loaded into minikube or kind by hand, for example).
   * @default false
   */
  readonly allowLatestTag?: boolean;

  /**
   * When the kubelet pulls the image. Images loaded into minikube or kind by hand need
   * `IF_NOT_PRESENT` or `NEVER` (there is no registry to pull them from).
   * @default - IF_NOT_PRESENT for a digest or a version tag (the image behind them does not
   * change); ALWAYS for `latest` (the only way every node runs the current `latest`)
   */
  readonly pullPolicy?: ImagePullPolicy;
}

/**
 * A container image: one value that every container of a construct built from it uses (the
 * emulator, its seeder, its reset container), with its pull policy.
 *
 * The reference is checked by the construct that uses it, with the container runtimes' grammar
 * (`[registry/]repository[:tag][@sha256:<digest>]`, a lower-case repository, no spaces), so that
 * the error names that construct and its property. Every image needs a tag or a digest, and
 * `latest` only with `allowLatestTag`.
 */
export class ContainerImage {
  /**
   * An image by repository and tag, e.g. `fromTag('ghcr.io/mroie/qemu-loco', '1.4.0')`.
   * @param repository `[registry/]name`, lower case, without tag or digest
   * @param tag the tag
   */
  public static fromTag(repository: string, tag: string, options: ContainerImageOptions = {}): ContainerImage {
    return new ContainerImage(`${repository}:${tag}`, { repository, tag }, options);
  }

  /**
   * An image pinned by digest, e.g. `fromDigest('ghcr.io/mroie/qemu-loco', 'sha256:…')`.
   * @param repository `[registry/]name`, lower case, without tag or digest
   * @param digest `sha256:` and 64 lower-case hex digits
   */
  public static fromDigest(repository: string, digest: string, options: ContainerImageOptions = {}): ContainerImage {
    return new ContainerImage(`${repository}@${digest}`, { repository, digest }, options);
  }

  /**
   * An image from a whole reference, e.g. `'busybox:1.35'` or
   * `'ghcr.io/mroie/qemu-snapshots:win98-base@sha256:…'` (tag and digest: the digest pins it).
   */
  public static fromReference(reference: string, options: ContainerImageOptions = {}): ContainerImage {
    return new ContainerImage(reference, undefined, options);
  }

  /** The reference as the pod spec gives it, e.g. `qemu-loco:1.4.0`. */
  public readonly reference: string;
  /** The pull policy asked for, if any (see `ContainerImageOptions.pullPolicy`). */
  public readonly pullPolicy?: ImagePullPolicy;
  private readonly parts?: { repository: string; tag?: string; digest?: string };
  private readonly allowLatestTag: boolean;

  private constructor(reference: string, parts: { repository: string; tag?: string; digest?: string } | undefined, options: ContainerImageOptions) {
    this.reference = reference;
    this.parts = parts;
    this.pullPolicy = options.pullPolicy;
    this.allowLatestTag = options.allowLatestTag ?? false;
  }

  /**
   * The image checked for the construct that uses it, split into its parts, with the pull policy
   * it gets.
   * @internal
   */
  public _resolve(scope: IConstruct, property: string): ResolvedImage {
    if (this.parts !== undefined) this.checkParts(scope, property, this.parts);
    const parsed = parseImageReference(scope, property, this.reference);
    if (parsed.tag === undefined && parsed.digest === undefined) {
      throw invalidProp(scope, property, this.reference,
        'has no tag, which means latest: give a version tag or a digest (ContainerImage.fromTag, ContainerImage.fromDigest)');
    }
    if (parsed.tag === 'latest' && parsed.digest === undefined && !this.allowLatestTag) {
      throw invalidProp(scope, property, this.reference,
        "'latest' runs whatever was pushed last on each node: pin a version tag or a digest, or pass allowLatestTag: true");
    }
    const pullPolicy = this.pullPolicy ?? (parsed.digest === undefined && parsed.tag === 'latest' ? ImagePullPolicy.ALWAYS : ImagePullPolicy.IF_NOT_PRESENT);
    if (!Object.values(ImagePullPolicy).includes(pullPolicy)) {
      throw invalidProp(scope, `${property} pullPolicy`, pullPolicy, `must be one of ${Object.values(ImagePullPolicy).join(', ')}`);
    }
    return { ...parsed, pullPolicy };
  }

  /** The parts of fromTag and fromDigest, each against its own rule, so the error says which part is wrong. */
  private checkParts(scope: IConstruct, property: string, parts: { repository: string; tag?: string; digest?: string }): void {
    const repository = typeof parts.repository === 'string' ? REFERENCE.exec(parts.repository) : null;
    if (!repository || repository[3] !== undefined || repository[4] !== undefined) {
      throw invalidProp(scope, `${property} repository`, parts.repository,
        'must be an image repository [registry/]name in lower case, without tag or digest, e.g. qemu-loco or ghcr.io/mroie/qemu-loco');
    }
    // By the factory that made the parts: fromDigest without a digest is a missing digest, not a missing tag.
    if ('tag' in parts && (typeof parts.tag !== 'string' || !IMAGE_TAG.test(parts.tag))) {
      throw invalidProp(scope, `${property} tag`, parts.tag, 'must be an image tag: letters, digits, _ . -, at most 128 characters, not starting with . or -');
    }
    if ('digest' in parts && (typeof parts.digest !== 'string' || !IMAGE_DIGEST.test(parts.digest))) {
      throw invalidProp(scope, `${property} digest`, parts.digest, 'must be sha256:<64 lower-case hex digits>');
    }
  }
}

/** An image reference split into the parts the emulator's environment and the seeder need. */
export interface ImageReference {
  /** The whole reference as given, e.g. `ghcr.io/mroie/qemu-snapshots:win98-base`. */
  readonly image: string;
  /** Registry host (with port), e.g. `ghcr.io`; `docker.io` when the reference names none. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `mroie/qemu-snapshots`. */
  readonly repository: string;
  /** Registry and repository as written, no tag: what the entrypoint's `SNAPSHOT_REGISTRY` holds. */
  readonly name: string;
  /** The tag, if any. */
  readonly tag?: string;
  /** The `sha256:<64 hex>` digest, if the reference is pinned. */
  readonly digest?: string;
}

/** A checked image with the pull policy its containers get. */
export interface ResolvedImage extends ImageReference {
  readonly pullPolicy: ImagePullPolicy;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)';
/** An image tag, as the registries accept it. */
export const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;
/** An image digest this library pins by. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
// distribution/reference's grammar (reference.go ReferenceRegexp), with the digests this library pins by.
const REFERENCE = new RegExp(
  `^(?:(${REGISTRY})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);
const REFERENCE_RULE = 'must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository and no spaces, e.g. ghcr.io/mroie/qemu-snapshots:win98-base';

/**
 * Parses an image reference the way container runtimes do, or throws the error naming the
 * construct path and property: the one grammar for every image prop.
 */
export function parseImageReference(scope: IConstruct, property: string, image: string): ImageReference {
  const match = typeof image === 'string' ? REFERENCE.exec(image) : null;
  if (!match) {
    throw invalidProp(scope, property, image, REFERENCE_RULE);
  }
  // The registries' limit (distribution's NameTotalLengthMax): a longer name is refused at pull.
  const nameAsWritten = match[1] === undefined ? match[2] : `${match[1]}/${match[2]}`;
  if (nameAsWritten.length > 255) {
    throw invalidProp(scope, property, image,
      `has a name (registry and repository) of ${nameAsWritten.length} characters; registries allow at most 255`);
  }
  let registryPart: string | undefined = match[1];
  let repository = match[2];
  // Like the runtimes: a first component without '.', ':' and other than localhost is a path, not a host.
  if (registryPart !== undefined && !/[.:]/.test(registryPart) && registryPart !== 'localhost') {
    repository = `${registryPart}/${repository}`;
    registryPart = undefined;
  }
  return {
    image,
    registry: registryPart ?? 'docker.io',
    repository,
    name: registryPart ? `${registryPart}/${repository}` : repository,
    tag: match[3],
    digest: match[4],
  };
}
