import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import {
  isDns1035Label, isDnsLabel, isDnsSubdomain, isEnvVarName, isLabelValue, isPortName, isQualifiedName, quantityValue,
} from './validation';

/** The Kubernetes version whose API schema the validator checks against. */
export const KUBERNETES_VERSION = '1.28.0';

/** File name of the schema in the package's `schemas/` directory. */
export const SCHEMA_FILE = `k8s-v${KUBERNETES_VERSION}-definitions.json`;

/** One reason an object would not be accepted by a Kubernetes 1.28 API server. */
export interface ManifestFailure {
  /** The object, as `Kind/name` (`?` for what is missing). */
  readonly object: string;
  /** Where in the object, as a path such as `spec.template.spec.containers[0].image` (`(root)` for the object itself). */
  readonly path: string;
  /** What is wrong, and what is allowed when the schema says. */
  readonly message: string;
}

/** A failure in a YAML stream: which document (1-based) it is in. */
export interface YamlFailure extends ManifestFailure {
  /** The document's position in the stream, from 1. */
  readonly document: number;
}

const SCHEMA_ID = 'k8s';
const DEFINITIONS = 'io.k8s.';
const QUANTITY_DEFINITION = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING_DEFINITION = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Where a pod spec sits in the workload kinds that carry one. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  'Pod': ['spec'],
  'PodTemplate': ['template', 'spec'],
  'ReplicationController': ['spec', 'template', 'spec'],
  'ReplicaSet': ['spec', 'template', 'spec'],
  'Deployment': ['spec', 'template', 'spec'],
  'StatefulSet': ['spec', 'template', 'spec'],
  'DaemonSet': ['spec', 'template', 'spec'],
  'Job': ['spec', 'template', 'spec'],
  'CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/**
 * Validates Kubernetes objects against the Kubernetes 1.28.0 API schema as strictly as
 * kubeconform's `--strict` mode, plus the API server's own checks that the schema does not carry.
 *
 * The schema (OpenAPI v2 definitions, `schemas/k8s-v1.28.0-definitions.json`) is adapted in
 * memory: every object definition with fixed `properties` gets `additionalProperties: false`, so an
 * unknown or misspelt field is an error, as it is for `kubectl apply --validate=strict`; maps (which
 * have their own `additionalProperties`) stay open. Quantity strings must match the Kubernetes
 * quantity grammar; int-or-string fields take a string or an integer. The definition an object is
 * checked against is the one whose `x-kubernetes-group-version-kind` names its `apiVersion` and
 * `kind`; an object of a kind the API does not know is an error.
 *
 * Beyond the schema, as the API server's validation does: object names by kind (DNS-1123 subdomain,
 * DNS-1035 label for Services, ...), namespaces, label keys and values, annotation keys, negative
 * quantities, and in pod specs the container, volume, port and environment variable names, their
 * uniqueness, mounts of undeclared volumes, requests above limits, and `allowPrivilegeEscalation:
 * false` combined with `privileged` or `CAP_SYS_ADMIN`.
 *
 * Compiling a kind's schema takes a moment, so use the shared instance ({@link ManifestValidator.shared}):
 * each kind is compiled once, on first use, and cached.
 */
export class ManifestValidator {
  /** The instance every caller shares, so each kind's schema is compiled once per process. */
  public static shared(): ManifestValidator {
    if (!ManifestValidator.instance) {
      ManifestValidator.instance = new ManifestValidator();
    }
    return ManifestValidator.instance;
  }

  private static instance?: ManifestValidator;

  private readonly ajv: Ajv;
  /** `apiVersion/kind` (e.g. `apps/v1/StatefulSet`) to definition name. */
  private readonly definitionsByKind = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  /**
   * @param schemaPath the OpenAPI v2 definitions document
   * @default - `schemas/k8s-v1.28.0-definitions.json` of this package
   */
  constructor(schemaPath: string = defaultSchemaPath()) {
    const document = JSON.parse(readFileSync(schemaPath, 'utf8')) as { definitions: Record<string, Schema> };
    const definitions = strictDefinitions(document.definitions);
    for (const [name, definition] of Object.entries(definitions)) {
      const kinds = definition['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
      // Definitions that list several kinds (DeleteOptions, WatchEvent) are not objects one applies.
      if (kinds?.length !== 1) continue;
      const [{ group, version, kind }] = kinds;
      this.definitionsByKind.set(`${group ? `${group}/` : ''}${version}/${kind}`, name);
    }

    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, validateFormats: true, verbose: true });
    addFormats(this.ajv);
    for (const keyword of KUBERNETES_EXTENSIONS) {
      this.ajv.addKeyword({ keyword, schemaType: ['boolean', 'string', 'array', 'object'] });
    }
    this.ajv.addKeyword({
      keyword: 'x-quantity',
      schemaType: 'boolean',
      errors: true,
      validate: function quantity(_schema: boolean, data: unknown): boolean {
        if (typeof data !== 'string' || quantityValue(data) !== undefined) return true;
        (quantity as unknown as { errors: Partial<ErrorObject>[] }).errors = [{
          keyword: 'x-quantity',
          message: `"${data}" is not a quantity: use a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, m, k, M, G, T, P, E or an exponent (e.g. 10Gi, 500m, 1e3)`,
          params: {},
        }];
        return false;
      },
    });
    this.ajv.addSchema({ definitions }, SCHEMA_ID);
  }

  /** The `apiVersion/kind` pairs this validator knows, e.g. `apps/v1/StatefulSet`. */
  public get knownKinds(): string[] {
    return [...this.definitionsByKind.keys()];
  }

  /** Every reason `object` would be rejected; empty when it is valid. */
  public validate(object: unknown): ManifestFailure[] {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      return [{ object: '?', path: '(root)', message: `a Kubernetes object must be a mapping, not ${describeType(object)}` }];
    }
    const manifest = object as Record<string, unknown>;
    const label = objectLabel(manifest);
    if (typeof manifest.apiVersion !== 'string' || typeof manifest.kind !== 'string') {
      return [{ object: label, path: '(root)', message: 'apiVersion and kind are required strings' }];
    }
    if (manifest.apiVersion === 'v1' && /List$/.test(manifest.kind) && Array.isArray(manifest.items)) {
      return manifest.items.flatMap((item: unknown, index: number) =>
        this.validate(item).map((failure) => ({ ...failure, path: `items[${index}] ${failure.path}` })));
    }
    const definition = this.definitionsByKind.get(`${manifest.apiVersion}/${manifest.kind}`);
    if (definition === undefined) {
      const kind = manifest.kind.toLowerCase();
      const similar = this.knownKinds.filter((known) => known.toLowerCase().endsWith(`/${kind}`));
      return [{
        object: label,
        path: 'apiVersion',
        message: `Kubernetes ${KUBERNETES_VERSION} has no kind ${manifest.kind} in apiVersion ${manifest.apiVersion}` +
          (similar.length ? ` (it has ${similar.map((known) => known.replace(/\/([^/]+)$/, ' $1')).join(', ')})` : ''),
      }];
    }
    const validateSchema = this.compile(definition);
    const failures: ManifestFailure[] = [];
    if (!validateSchema(manifest)) {
      failures.push(...schemaFailures(label, validateSchema.errors ?? []));
    }
    failures.push(...apiServerChecks(manifest, manifest.kind).map((failure) => ({ object: label, ...failure })));
    return failures;
  }

  /**
   * Parses a stream of YAML documents (`---`-separated) and validates each object.
   * A YAML syntax error, an alias past the reader's limits (an alias bomb) or an anchor that
   * contains itself is reported as a failure of the document it is in. Objects of a kind in
   * `options.skipKinds` that the schema does not know (custom resources) are skipped and listed.
   */
  public validateYaml(text: string, options: { readonly skipKinds?: readonly string[] } = {}): {
    /** How many objects the documents held. */
    objects: number;
    /** What is wrong, one entry per problem; empty when every object is valid. */
    failures: YamlFailure[];
    /** The objects of skipped kinds, as `Kind/name`, with their document. */
    skipped: { document: number; object: string }[];
    /** Kinds of objects that failed for want of a schema, not skipped. */
    unknownKinds: string[];
  } {
    const failures: YamlFailure[] = [];
    const skipped: { document: number; object: string }[] = [];
    const unknownKinds = new Set<string>();
    let objects = 0;
    for (const [index, document] of parseAllDocuments(text).entries()) {
      const read = documentObject(document);
      if ('error' in read) {
        failures.push({ document: index + 1, object: '?', path: '(root)', message: `YAML: ${read.error}` });
        continue;
      }
      const parsed = read.object;
      // Empty documents (a trailing `---`) are not objects.
      if (parsed === null || parsed === undefined) continue;
      objects++;
      const kind = this.unknownKind(parsed);
      if (kind !== undefined && options.skipKinds?.includes(kind)) {
        skipped.push({ document: index + 1, object: objectLabel(parsed as Record<string, unknown>) });
        continue;
      }
      if (kind !== undefined) unknownKinds.add(kind);
      failures.push(...this.validate(parsed).map((failure) => ({ document: index + 1, ...failure })));
    }
    return { objects, failures, skipped, unknownKinds: [...unknownKinds] };
  }

  /** The kind of `object` when the schema has no definition for its apiVersion and kind. */
  private unknownKind(object: unknown): string | undefined {
    if (!isObject(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') return undefined;
    if (object.apiVersion === 'v1' && /List$/.test(object.kind)) return undefined;
    return this.definitionsByKind.has(`${object.apiVersion}/${object.kind}`) ? undefined : object.kind;
  }

  private compile(definition: string): ValidateFunction {
    let validateSchema = this.compiled.get(definition);
    if (!validateSchema) {
      validateSchema = this.ajv.getSchema(`${SCHEMA_ID}#/definitions/${definition}`)!;
      this.compiled.set(definition, validateSchema);
    }
    return validateSchema;
  }
}

/** Validates one object with the shared validator. */
export function validateManifest(object: unknown): ManifestFailure[] {
  return ManifestValidator.shared().validate(object);
}

/** Formats a failure as one line: `Kind/name: path: message`. */
export function formatFailure(failure: ManifestFailure): string {
  return `${failure.object}: ${failure.path}: ${failure.message}`;
}

type Schema = Record<string, unknown>;
interface GroupVersionKind { readonly group: string; readonly version: string; readonly kind: string }

/** The OpenAPI extensions of the Kubernetes schema: annotations for the validator. */
const KUBERNETES_EXTENSIONS = [
  'x-kubernetes-group-version-kind', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type',
  'x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy', 'x-kubernetes-map-type',
  'x-kubernetes-unions', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations',
];

/** Finds the schema beside the sources (`lib/../schemas`) or the compiled package (`build/lib/../../schemas`). */
function defaultSchemaPath(): string {
  const candidates = [join(__dirname, '..', 'schemas', SCHEMA_FILE), join(__dirname, '..', '..', 'schemas', SCHEMA_FILE)];
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
}

/** A copy of the definitions, made as strict as kubeconform's strict mode. */
function strictDefinitions(original: Record<string, Schema>): Record<string, Schema> {
  const definitions: Record<string, Schema> = {};
  for (const [name, definition] of Object.entries(original)) {
    if (!name.startsWith(DEFINITIONS)) continue;
    const copy: Schema = { ...definition };
    if (copy.properties && copy.additionalProperties === undefined && !copy['x-kubernetes-preserve-unknown-fields']) {
      copy.additionalProperties = false;
    }
    definitions[name] = copy;
  }
  // int-or-string: `oneOf` of string and integer, one error message instead of three.
  definitions[INT_OR_STRING_DEFINITION] = { type: ['string', 'integer'] };
  // Quantities are strings in the Kubernetes grammar (or plain numbers).
  definitions[QUANTITY_DEFINITION] = { 'type': ['string', 'number'], 'x-quantity': true };
  return definitions;
}

function schemaFailures(label: string, errors: ErrorObject[]): ManifestFailure[] {
  const failures: ManifestFailure[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    let path = toPath(error.instancePath);
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties':
        path = joinPath(path, error.params.additionalProperty);
        message = `unknown field "${error.params.additionalProperty}"`;
        break;
      case 'required':
        path = joinPath(path, error.params.missingProperty);
        message = `required field "${error.params.missingProperty}" is missing`;
        break;
      case 'type':
        message = `must be ${[error.params.type].flat().join(' or ')}, not ${describeType(error.data)}`;
        break;
      case 'enum':
        message = `must be one of ${error.params.allowedValues.map((value: unknown) => JSON.stringify(value)).join(', ')}, not ${JSON.stringify(error.data)}`;
        break;
      case 'format':
        message = `must be a valid ${error.params.format}, not ${JSON.stringify(error.data)}`;
        break;
      default:
        message = error.message ?? error.keyword;
    }
    const key = `${path}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    failures.push({ object: label, path, message });
  }
  return failures;
}

/** `/spec/containers/0/name` -> `spec.containers[0].name`. */
function toPath(instancePath: string): string {
  if (instancePath === '') return '(root)';
  let path = '';
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^[0-9]+$/.test(segment) ? `${path}[${segment}]` : joinPath(path || '(root)', segment);
  }
  return path;
}

function joinPath(path: string, segment: string): string {
  const part = /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? segment : `["${segment}"]`;
  if (path === '(root)' || path === '') return part;
  return part.startsWith('[') ? `${path}${part}` : `${path}.${part}`;
}

function objectLabel(object: Record<string, unknown>): string {
  const kind = typeof object.kind === 'string' ? object.kind : '?';
  const name = dig(object, ['metadata', 'name']);
  return `${kind}/${typeof name === 'string' ? name : '?'}`;
}

/** The document's object, or what makes it unreadable: a syntax error, an alias bomb, a cycle. */
function documentObject(document: ReturnType<typeof parseAllDocuments>[number]): { object: unknown } | { error: string } {
  if (document.errors.length > 0) return { error: document.errors[0].message.split('\n')[0] };
  let object: unknown;
  try {
    // The reader refuses aliases that expand past 100 uses of an anchor's nodes (an alias bomb).
    object = document.toJS();
  } catch (error) {
    return {
      error: (error as Error).message === 'Excessive alias count indicates a resource exhaustion attack'
        ? 'its aliases expand past 100 copies (an alias bomb?); a manifest needs no aliases: write the values out'
        : (error as Error).message,
    };
  }
  try {
    JSON.stringify(object);
  } catch {
    return { error: 'an anchor contains an alias to itself, so the object has no end; write the values out' };
  }
  return { object };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isInteger(value)) return `the integer ${value}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

// ---------------------------------------------------------------------------------------------
// What the API server validates beyond the OpenAPI schema (k8s.io/kubernetes/pkg/apis/core/validation
// and apimachinery's ValidateObjectMeta), for the fields this library and most workloads use.

type Check = { path: string; message: string };

const NAME_RULES: Record<string, { test: (name: string) => boolean; rule: string }> = {
  dns1035: { test: isDns1035Label, rule: "a DNS-1035 label: at most 63 characters of lower-case letters, digits and '-', starting with a letter and ending with a letter or digit" },
  dnsLabel: { test: (name) => isDnsLabel(name), rule: "a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit" },
  subdomain: { test: isDnsSubdomain, rule: "a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit" },
  pathSegment: { test: (name) => name !== '.' && name !== '..' && !/[/%]/.test(name), rule: "a path segment: no '/' or '%', not '.' or '..'" },
};

/** Name rule by kind, as the API server's ValidateXxxName functions. */
const NAME_RULE_BY_KIND: Record<string, keyof typeof NAME_RULES> = {
  Service: 'dns1035',
  Namespace: 'dnsLabel',
  Role: 'pathSegment',
  ClusterRole: 'pathSegment',
  RoleBinding: 'pathSegment',
  ClusterRoleBinding: 'pathSegment',
};

/**
 * Kubernetes labels each StatefulSet pod `controller-revision-hash: <name>-<10 characters>`; a
 * label value holds at most 63 characters, so a longer name leaves the StatefulSet unable to create pods.
 */
const STATEFULSET_NAME_MAX = 52;

/** `kind`: the object's, a string (validate() checked it). */
function apiServerChecks(object: Record<string, unknown>, kind: string): Check[] {
  const checks: Check[] = [];
  const metadata = object.metadata;
  if (!isObject(metadata)) {
    checks.push({ path: 'metadata', message: 'required: every object needs metadata with a name' });
  } else {
    checks.push(...objectMetaChecks(kind, metadata, 'metadata', true));
  }
  const name = dig(object, ['metadata', 'name']);
  if (kind === 'StatefulSet' && typeof name === 'string' && name.length > STATEFULSET_NAME_MAX) {
    checks.push({
      path: 'metadata.name',
      message: `"${name}" has ${name.length} characters; a StatefulSet name may have at most ${STATEFULSET_NAME_MAX}, since its pods get the label controller-revision-hash=<name>-<hash> (63 at most)`,
    });
  }
  const spec = object.spec;
  if (kind === 'Service' && isObject(spec)) {
    checks.push(...selectorChecks(spec.selector, 'spec.selector'));
    checks.push(...servicePortChecks(spec.ports));
  }
  const matchLabels = dig(object, ['spec', 'selector', 'matchLabels']);
  if (isObject(matchLabels)) {
    checks.push(...selectorChecks(matchLabels, 'spec.selector.matchLabels'));
  }
  const podPath = POD_SPEC_PATHS[kind];
  if (podPath) {
    const templatePath = podPath.slice(0, -1);
    const templateMetadata = dig(object, [...templatePath, 'metadata']);
    if (kind !== 'Pod' && isObject(templateMetadata)) {
      checks.push(...objectMetaChecks(kind, templateMetadata, `${templatePath.join('.')}.metadata`, false));
    }
    const podSpec = dig(object, podPath);
    // A StatefulSet's pods also get a volume per volumeClaimTemplates entry, by its name.
    const volumeClaimTemplates = dig(object, ['spec', 'volumeClaimTemplates']);
    const claimTemplates: unknown[] = kind === 'StatefulSet' && Array.isArray(volumeClaimTemplates) ? volumeClaimTemplates : [];
    const templateVolumes = claimTemplates.map((template) => dig(template, ['metadata', 'name'])).filter((name): name is string => typeof name === 'string');
    if (isObject(podSpec)) checks.push(...podSpecChecks(podSpec, podPath.join('.'), templateVolumes));
  }
  checks.push(...negativeQuantities(object));
  return checks;
}

function objectMetaChecks(kind: string, metadata: Record<string, unknown>, path: string, requireName: boolean): Check[] {
  const checks: Check[] = [];
  if (requireName) {
    const name = metadata.name;
    if (name === undefined && metadata.generateName === undefined) {
      checks.push({ path: `${path}.name`, message: 'required: name or generateName' });
    } else if (name !== undefined) {
      const rule = NAME_RULES[NAME_RULE_BY_KIND[kind] ?? 'subdomain'];
      if (typeof name !== 'string' || !rule.test(name)) {
        checks.push({ path: `${path}.name`, message: `${JSON.stringify(name)} is not a valid ${kind} name: it must be ${rule.rule}` });
      }
    }
  }
  if (metadata.namespace !== undefined && !isDnsLabel(metadata.namespace)) {
    checks.push({ path: `${path}.namespace`, message: `${JSON.stringify(metadata.namespace)} is not a valid namespace: it must be ${NAME_RULES.dnsLabel.rule}` });
  }
  checks.push(...labelChecks(metadata.labels, `${path}.labels`));
  if (isObject(metadata.annotations)) {
    for (const key of Object.keys(metadata.annotations)) {
      if (!isQualifiedName(key)) {
        checks.push({ path: joinPath(`${path}.annotations`, key), message: `"${key}" is not a valid annotation key: ${QUALIFIED_NAME_RULE}` });
      }
    }
  }
  return checks;
}

const QUALIFIED_NAME_RULE = "[prefix/]name, the prefix a DNS-1123 subdomain and the name at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
const LABEL_VALUE_RULE = "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)";

function labelChecks(labels: unknown, path: string): Check[] {
  if (!isObject(labels)) return [];
  const checks: Check[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedName(key)) {
      checks.push({ path: joinPath(path, key), message: `"${key}" is not a valid label key: ${QUALIFIED_NAME_RULE}` });
    }
    if (!isLabelValue(value)) {
      checks.push({ path: joinPath(path, key), message: `${JSON.stringify(value)} is not a valid label value: ${LABEL_VALUE_RULE}` });
    }
  }
  return checks;
}

function selectorChecks(selector: unknown, path: string): Check[] {
  return labelChecks(selector, path);
}

function servicePortChecks(ports: unknown): Check[] {
  if (!Array.isArray(ports)) return [];
  const checks: Check[] = [];
  const names = new Set<unknown>();
  ports.forEach((port, index) => {
    if (!isObject(port)) return;
    const path = `spec.ports[${index}].name`;
    if (port.name === undefined) {
      if (ports.length > 1) checks.push({ path, message: 'required when a Service has more than one port' });
      return;
    }
    if (!isDnsLabel(port.name)) {
      checks.push({ path, message: `${JSON.stringify(port.name)} is not a valid Service port name: it must be ${NAME_RULES.dnsLabel.rule}` });
    }
    if (names.has(port.name)) checks.push({ path, message: `duplicate port name "${port.name}"` });
    names.add(port.name);
  });
  return checks;
}

function podSpecChecks(spec: Record<string, unknown>, path: string, templateVolumes: string[]): Check[] {
  const checks: Check[] = [];
  const podVolumes = new Set<unknown>();
  arrayOf(spec.volumes).forEach((volume, index) => {
    const volumePath = `${path}.volumes[${index}].name`;
    const name = dig(volume, ['name']);
    if (name === undefined) return; // the schema reports the missing name
    if (!isDnsLabel(name)) {
      checks.push({ path: volumePath, message: `${JSON.stringify(name)} is not a valid volume name: it must be ${NAME_RULES.dnsLabel.rule}` });
    } else if (podVolumes.has(name)) {
      checks.push({ path: volumePath, message: `duplicate volume name "${name}"` });
    }
    podVolumes.add(name);
  });
  const volumes = new Set<unknown>([...podVolumes, ...templateVolumes]);
  const containerNames = new Set<unknown>();
  for (const list of ['initContainers', 'containers'] as const) {
    arrayOf(spec[list]).forEach((container, index) => {
      if (!isObject(container)) return;
      const containerPath = `${path}.${list}[${index}]`;
      if (container.name === undefined) {
        // the schema reports the missing name
      } else if (!isDnsLabel(container.name)) {
        checks.push({ path: `${containerPath}.name`, message: `${JSON.stringify(container.name)} is not a valid container name: it must be ${NAME_RULES.dnsLabel.rule}` });
      } else if (containerNames.has(container.name)) {
        checks.push({ path: `${containerPath}.name`, message: `duplicate container name "${container.name}" (names are unique across containers and initContainers)` });
      }
      containerNames.add(container.name);
      checks.push(...containerChecks(container, containerPath, volumes));
    });
  }
  return checks;
}

function containerChecks(container: Record<string, unknown>, path: string, volumes: Set<unknown>): Check[] {
  const checks: Check[] = [];
  const portNames = new Set<unknown>();
  arrayOf(container.ports).forEach((port, index) => {
    const name = dig(port, ['name']);
    if (name === undefined) return;
    const portPath = `${path}.ports[${index}].name`;
    if (!isPortName(name)) {
      checks.push({ path: portPath, message: `${JSON.stringify(name)} is not a valid port name: at most 15 characters of lower-case letters, digits and '-', with at least one letter, no '-' at either end and no '--'` });
    } else if (portNames.has(name)) {
      checks.push({ path: portPath, message: `duplicate port name "${name}"` });
    }
    portNames.add(name);
  });
  arrayOf(container.env).forEach((env, index) => {
    const name = dig(env, ['name']);
    if (name !== undefined && !isEnvVarName(name)) {
      checks.push({ path: `${path}.env[${index}].name`, message: `${JSON.stringify(name)} is not a valid environment variable name: letters, digits, '_', '-' and '.', not starting with a digit` });
    }
  });
  arrayOf(container.volumeMounts).forEach((mount, index) => {
    const name = dig(mount, ['name']);
    if (typeof name === 'string' && !volumes.has(name)) {
      checks.push({ path: `${path}.volumeMounts[${index}].name`, message: `mounts volume "${name}", which the pod does not declare in volumes` });
    }
  });
  const requests = dig(container, ['resources', 'requests']);
  const limits = dig(container, ['resources', 'limits']);
  if (isObject(requests) && isObject(limits)) {
    for (const [resource, request] of Object.entries(requests)) {
      const requested = quantityValue(request);
      const limit = quantityValue(limits[resource]);
      if (requested !== undefined && limit !== undefined && requested > limit) {
        checks.push({ path: joinPath(`${path}.resources.requests`, resource), message: `request ${request} is above the limit ${limits[resource]}: it must be less than or equal to the limit` });
      }
    }
  }
  const securityContext = container.securityContext;
  if (isObject(securityContext) && securityContext.allowPrivilegeEscalation === false) {
    if (securityContext.privileged === true) {
      checks.push({ path: `${path}.securityContext.allowPrivilegeEscalation`, message: 'cannot be false while privileged is true' });
    }
    const added = arrayOf(dig(securityContext, ['capabilities', 'add']));
    if (added.some((capability) => capability === 'SYS_ADMIN' || capability === 'CAP_SYS_ADMIN')) {
      checks.push({ path: `${path}.securityContext.allowPrivilegeEscalation`, message: 'cannot be false while capabilities.add includes SYS_ADMIN' });
    }
  }
  return checks;
}

/** Quantities the API server requires to be non-negative: resources, capacities, sizes. */
function negativeQuantities(object: unknown, path = ''): Check[] {
  const checks: Check[] = [];
  const visit = (value: unknown, at: string, parentKey: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${at}[${index}]`, parentKey));
    } else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = joinPath(at, key);
        const quantityField = key === 'sizeLimit' || ['requests', 'limits', 'capacity'].includes(parentKey);
        if (quantityField && (typeof child === 'string' || typeof child === 'number')) {
          const amount = quantityValue(child);
          if (amount !== undefined && amount < 0) {
            checks.push({ path: childPath, message: `${child} is negative: a quantity here must be zero or more` });
          }
        }
        visit(child, childPath, key);
      }
    }
  };
  visit(object, path, '');
  return checks;
}

/** The value at `path` in `object`, or undefined where a step is not a mapping. */
function dig(object: unknown, path: string[]): unknown {
  return path.reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), object);
}

/** `value` if it is an array, else none: a wrong type there is the schema's to report. */
function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
