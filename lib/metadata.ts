import { createHash } from 'crypto';
import { ApiObject, ApiObjectMetadata, Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { invalidProp, isLabelValue, isQualifiedName } from './validation';

/**
 * Adds the labels and annotations of a construct's `metadata` prop to every object the construct
 * made. Names and namespaces are the constructs' own props (and the chart's), so `metadata`
 * carries only labels and annotations.
 */
export function applyMetadata(scope: Construct, metadata: ApiObjectMetadata | undefined): void {
  if (metadata === undefined) return;
  for (const field of ['name', 'namespace', 'finalizers', 'ownerReferences'] as const) {
    if (metadata[field] !== undefined) {
      throw invalidProp(scope, `metadata.${field}`, metadata[field],
        "is not taken here: metadata gives labels and annotations; names are the construct's own props, the namespace is the chart's");
    }
  }
  checkLabels(scope, 'metadata.labels', metadata.labels ?? {});
  const objects = scope.node.findAll().filter((child): child is ApiObject => child instanceof ApiObject);
  for (const object of objects) {
    for (const [key, value] of Object.entries(metadata.labels ?? {})) object.metadata.addLabel(key, value);
    for (const [key, value] of Object.entries(metadata.annotations ?? {})) object.metadata.addAnnotation(key, value);
  }
}

/** Label keys and values as the API server takes them (apimachinery ValidateLabels). */
export function checkLabels(scope: IConstruct, property: string, labels: { [key: string]: string }): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedName(key)) {
      throw invalidProp(scope, property, key, 'each key must be [prefix/]name: a DNS subdomain prefix, and a name of at most 63 letters, digits, - _ . starting and ending with a letter or digit');
    }
    if (!isLabelValue(value)) {
      throw invalidProp(scope, `${property}.${key}`, value, 'must be at most 63 letters, digits, - _ . starting and ending with a letter or digit (or empty)');
    }
  }
}

/** A construct id as a label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(id: string): string {
  return id.replace(/[^A-Za-z0-9-_.]/g, '').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** A name for a construct's objects, from its path (cdk8s' rules, without its path hash). */
export function pathName(scope: Construct, maxLen = 42): string {
  // cdk8s keeps '_' of construct ids, which no DNS-1123 name may hold.
  return Names.toDnsLabel(scope, { includeHash: false, maxLen }).replace(/_/g, '-');
}

/**
 * A ConfigMap of scripts (`<base>-scripts-<hash>`) named by a hash of its content, as kustomize's configMapGenerator names
 * them: a pod template that mounts it changes whenever a script does, so the pods roll.
 */
export function scriptConfigMap(scope: Construct, id: string, base: string, data: { [file: string]: string }): k8s.KubeConfigMap {
  const hash = createHash('sha256');
  for (const file of Object.keys(data).sort()) hash.update(`${file}\0${data[file]}\0`);
  return new k8s.KubeConfigMap(scope, id, {
    metadata: { name: `${base}-scripts-${hash.digest('hex').slice(0, 10)}` },
    data,
  });
}
