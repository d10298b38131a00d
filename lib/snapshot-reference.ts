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
const REFERENCE = new RegExp(
  `^(?:(${REGISTRY})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);

/**
 * Parses an image reference the way container runtimes do (`[registry/]repository[:tag][@digest]`),
 * or throws the error naming the construct path and property.
 */
export function parseSnapshotReference(scope: IConstruct, property: string, image: string): SnapshotReference {
  const match = typeof image === 'string' ? REFERENCE.exec(image) : null;
  if (!match || (match[3] === undefined && match[4] === undefined)) {
    throw invalidProp(scope, property, image,
      'must be an image reference [registry/]repository:tag or [registry/]repository@sha256:<64 hex digits>, e.g. ghcr.io/mroie/qemu-snapshots:win98-base');
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
