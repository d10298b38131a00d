import { IConstruct } from 'constructs';
import { invalidProp } from './validation';

/** The snapshot the Lego Loco project publishes: a `FROM scratch` image holding `/snapshot.qcow2`. */
export const DEFAULT_SNAPSHOT_IMAGE = 'ghcr.io/mroie/qemu-snapshots:win98-base';

/** An OCI image reference split into the parts the emulator's environment and the seeder need. */
export interface SnapshotReference {
  /** The whole reference as given, e.g. `ghcr.io/mroie/qemu-snapshots:win98-base`. */
  readonly image: string;
  /** Registry host (with port), e.g. `ghcr.io`; `docker.io` when the reference names none. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `mroie/qemu-snapshots`. */
  readonly repository: string;
  /** What the entrypoint's `SNAPSHOT_REGISTRY` holds: registry and repository, no tag. */
  readonly name: string;
  /** The tag, if any. */
  readonly tag?: string;
  /** The `sha256:<64 hex>` digest, if the reference is pinned. */
  readonly digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)';
/** An image tag, as the registries accept it. */
export const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;
/** An image digest this library pins by. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
const REFERENCE = new RegExp(
  `^(?:(${REGISTRY})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);

/** An image reference split into its parts (the same shape as a snapshot reference). */
export type ImageReference = SnapshotReference;

/** What an image prop must say besides the repository. */
export enum ImageReferenceForm {
  /** A tag, a digest or both: `repository:tag`, `repository@sha256:...`. */
  TAG_OR_DIGEST = 'tag-or-digest',
  /** Tag and digest optional (no tag means `latest`, as for the runtimes). */
  ANY = 'any',
  /** Only the repository: tag and digest come from other props. */
  REPOSITORY_ONLY = 'repository-only',
}

const FORM_RULE: Record<ImageReferenceForm, string> = {
  [ImageReferenceForm.TAG_OR_DIGEST]: 'must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base',
  [ImageReferenceForm.ANY]: 'must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository, e.g. busybox:1.35',
  [ImageReferenceForm.REPOSITORY_ONLY]: 'must be an image repository [registry/]name in lower case, without tag or digest, e.g. qemu-loco or ghcr.io/mroie/qemu-loco (give the tag in tag)',
};

/**
 * Parses an image reference the way container runtimes do (`[registry/]repository[:tag][@digest]`:
 * a lower-case repository, no spaces), or throws the error naming the construct path and property.
 * The one grammar for every image prop.
 */
export function parseImageReference(scope: IConstruct, property: string, image: string, form: ImageReferenceForm): ImageReference {
  const match = typeof image === 'string' ? REFERENCE.exec(image) : null;
  const hasTagOrDigest = match !== null && (match[3] !== undefined || match[4] !== undefined);
  const fits = form === ImageReferenceForm.ANY || (form === ImageReferenceForm.TAG_OR_DIGEST ? hasTagOrDigest : !hasTagOrDigest);
  if (!match || !fits) {
    throw invalidProp(scope, property, image, FORM_RULE[form]);
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
  const registry = registryPart ?? 'docker.io';
  return {
    image,
    registry,
    repository,
    name: registryPart ? `${registryPart}/${repository}` : repository,
    tag: match[3],
    digest: match[4],
  };
}

/**
 * Parses a snapshot image reference (`[registry/]repository:tag` or `...@sha256:<digest>`), or
 * throws the error naming the construct path and property.
 */
export function parseSnapshotReference(scope: IConstruct, property: string, image: string): SnapshotReference {
  return parseImageReference(scope, property, image, ImageReferenceForm.TAG_OR_DIGEST);
}
