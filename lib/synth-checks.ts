import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { invalidProp } from './validation';

/**
 * The checks every construct of this library runs on what it produced, at `app.synth()`: each
 * object against the Kubernetes 1.28 schema and the API server's own validation rules, and against
 * every other object of the app for collisions. No call is needed: the constructs register them.
 */
export class ManifestChecks {
  /**
   * Turns the synth-time manifest checks off for one object, for the rare case where you know
   * better than the checks (a field a newer API server accepts, a CRD-backed value). The reason is
   * required and kept in the object's construct metadata, so that a review sees it.
   *
   * @param apiObject an object made by one of this library's constructs (e.g. `emulator.statefulSet`)
   * @param reason why the checks do not apply to it
   */
  public static skip(apiObject: ApiObject, reason: string): void {
    const object = apiObject;
    if (!(object instanceof ApiObject)) {
      throw new Error(`ManifestChecks.skip: invalid object ${String(object)}: must be an ApiObject made by one of this library's constructs`);
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw invalidProp(object, 'reason', reason, 'must say why the checks do not apply to this object');
    }
    object.node.addMetadata(SKIP_METADATA, reason);
    SKIPPED.add(object);
  }

  /** Whether the checks were turned off for `apiObject`. */
  public static isSkipped(apiObject: ApiObject): boolean {
    return SKIPPED.has(apiObject);
  }

  private constructor() {}
}

const SKIP_METADATA = 'cdk8s-qemu-loco:manifest-checks-skipped';
const SKIPPED = new WeakSet<ApiObject>();
/** The constructs that run these checks (each reports the collisions of its own objects). */
const CHECKED = new WeakSet<IConstruct>();

function checkedOwner(object: ApiObject): IConstruct | undefined {
  return object.node.scopes.slice().reverse().find((scope) => CHECKED.has(scope));
}

/** The objects a construct made itself (its ApiObject descendants). */
export function ownObjects(scope: IConstruct): ApiObject[] {
  return scope.node.findAll().filter((child): child is ApiObject => child instanceof ApiObject);
}

/**
 * Registers the synth-time checks of a construct: its objects against the schema and the API
 * server's rules (the validator is loaded only then, so that importing the library stays cheap),
 * plus the construct's own app-wide checks.
 */
export function addSynthChecks(scope: Construct, appChecks: () => string[] = () => []): void {
  CHECKED.add(scope);
  scope.node.addValidation({
    validate: () => [...manifestFailures(scope), ...collisions(scope), ...appChecks()],
  });
}

function manifestFailures(scope: Construct): string[] {
  const objects = ownObjects(scope).filter((object) => !SKIPPED.has(object));
  if (objects.length === 0) return [];
  // Loaded here, not at import: ajv and the schema are needed at synth only.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { formatFailure, validateManifest } = require('./manifest-validator') as typeof import('./manifest-validator');
  return objects.flatMap((object) => validateManifest(object.toJson()).map((failure) =>
    `${object.node.path}: ${formatFailure(failure)} (Kubernetes would refuse this object; ManifestChecks.skip(object, reason) turns the check off for it)`));
}

/** Where an object lives: its namespace (none for cluster-scoped kinds), kind and name. */
function identity(object: ApiObject): string {
  const namespace = CLUSTER_SCOPED.has(object.kind) ? '' : namespaceOf(object);
  return `${namespace}/${object.apiGroup}/${object.kind}/${object.name}`;
}

function namespaceOf(object: ApiObject): string {
  return object.metadata.namespace ?? Chart.of(object).namespace ?? 'default';
}

const CLUSTER_SCOPED = new Set(['PersistentVolume', 'Namespace', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding']);

/**
 * The objects of the app that have the same namespace, kind and name as one of this construct's:
 * applied together, one would overwrite the other. Reported once per pair: by this construct when
 * the other object comes later in the app or is not one of this library's.
 */
function collisions(scope: Construct): string[] {
  const mine = ownObjects(scope).filter((object) => !SKIPPED.has(object));
  if (mine.length === 0) return [];
  const all = ownObjects(scope.node.root);
  const messages: string[] = [];
  for (const object of mine) {
    const key = identity(object);
    const index = all.indexOf(object);
    all.forEach((other, otherIndex) => {
      if (other === object || identity(other) !== key) return;
      // The other side reports it unless it comes first, runs these checks and was not skipped.
      if (otherIndex > index || checkedOwner(other) === undefined || SKIPPED.has(other)) messages.push(collisionMessage(object, other));
    });
  }
  return messages;
}

function collisionMessage(object: ApiObject, other: ApiObject): string {
  const where = CLUSTER_SCOPED.has(object.kind) ? 'in the cluster' : `in namespace ${namespaceOf(object)}`;
  return `${object.node.path} and ${other.node.path} both make ${object.kind} ${object.name} ${where}: ` +
    `applied together, one overwrites the other; ${NAME_PROP[object.kind] ?? 'give one of them another name'}, or put them in different namespaces`;
}

/** Which prop names each kind's object, for the collision message. */
const NAME_PROP: { [kind: string]: string } = {
  StatefulSet: "give one emulator another name (the StatefulSet's `name`)",
  Service: 'give one emulator another serviceName (or name)',
  PersistentVolumeClaim: "give one disk another claimName (the DiskVolume's options)",
  PersistentVolume: 'give one disk another claimName or namespace',
  ConfigMap: 'give one of the constructs another id or name',
  Job: 'give one of the seeders another construct id',
};
