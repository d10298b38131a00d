import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import type Ajv from 'ajv';
import type { ErrorObject, KeywordCxt, ValidateFunction } from 'ajv';
import { IConstruct } from 'constructs';
import { parseImageReference } from './container-image';
import {
  describeType, isConfigMapKey, isDns1035Label, isDnsLabel, isDnsSubdomain, isEnvVarName, isExtendedResourceName, isLabelValue,
  isNativeResourceName, isPortName, isQualifiedName, isStandardContainerResourceName, quantityValue,
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
 * Beyond the schema, the API server's own rules ({@link apiServerFailures}, which needs no schema):
 * object names by kind (DNS-1123 subdomain, DNS-1035 label for Services, ...), namespaces, label
 * keys and values, annotations, integer ranges, ConfigMap keys and size, claim and volume specs
 * (access modes, storage class, capacity, host paths), Service ports, and the Pod rules applied to
 * pod templates (which the API server checks only when the controller creates the pods): names and
 * their uniqueness, image references, ports, environment variable names, mounts, resource names and
 * quantities (extended resources whole, requests equal to limits), probes, tolerations,
 * nodeSelector, and `allowPrivilegeEscalation: false` combined with `privileged` or `CAP_SYS_ADMIN`.
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

    this.ajv = createAjv();
    this.ajv.addSchema({ definitions }, SCHEMA_ID);
  }

  /**
   * The schema code of the kinds this library emits, compiled ahead of time (ajv standalone) into
   * `manifest-schemas.js` by the build: what the synth-time checks load instead of ajv and the schema.
   * @param kinds `apiVersion/kind` pairs, e.g. `apps/v1/StatefulSet`
   */
  public standaloneCode(kinds: string[]): string {
    const exports: Record<string, string> = {};
    for (const kind of kinds) {
      const definition = this.definitionsByKind.get(kind);
      if (definition === undefined) throw new Error(`standaloneCode: Kubernetes ${KUBERNETES_VERSION} has no kind ${kind}`);
      exports[kind] = `${SCHEMA_ID}#/definitions/${definition}`;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const standalone = require('ajv/dist/standalone').default as (ajv: Ajv, refs: Record<string, string>) => string;
    return standalone(this.ajv, exports);
  }

  /** The `apiVersion/kind` pairs this validator knows, e.g. `apps/v1/StatefulSet`. */
  public get knownKinds(): string[] {
    return [...this.definitionsByKind.keys()];
  }

  /** Every reason `object` would be rejected; empty when it is valid. */
  public validate(object: unknown): ManifestFailure[] {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      return [{ object: '?', path: '(root)', message: `a Kubernetes object must be a mapping, not ${describeType(object, 'json')}` }];
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
    return checkWith(this.compile(definition), manifest);
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
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseAllDocuments } = require('yaml') as typeof import('yaml');
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

/** The schema check of a kind, then the API server's rules. */
function checkWith(validateSchema: ValidateFunction, manifest: Record<string, unknown>): ManifestFailure[] {
  const label = objectLabel(manifest);
  const failures: ManifestFailure[] = [];
  if (!validateSchema(manifest)) {
    failures.push(...schemaFailures(label, validateSchema.errors ?? []));
  }
  // One failure per path: where the schema already objects, the API server's rule adds nothing.
  const schemaPaths = new Set(failures.map((failure) => failure.path));
  failures.push(...apiServerFailures(manifest).filter((failure) => !schemaPaths.has(failure.path)));
  return failures;
}

/** The kinds this library emits, whose schema code the build compiles ahead of time. */
export const EMITTED_KINDS = ['v1/ConfigMap', 'v1/PersistentVolumeClaim', 'v1/PersistentVolume', 'v1/Service', 'apps/v1/StatefulSet', 'batch/v1/Job'];
/** The file the build writes the ahead-of-time schema code of EMITTED_KINDS to, beside this module. */
export const STANDALONE_FILE = 'manifest-schemas.js';

/**
 * Validates one object: with the schema code compiled ahead of time when the build has made it and
 * the object is of a kind it holds (no ajv or schema to load, which is what synth needs), else with
 * the shared validator.
 */
export function validateManifest(object: unknown): ManifestFailure[] {
  const manifest = object as Record<string, unknown> | null;
  const kind = manifest && typeof manifest === 'object' ? `${String(manifest.apiVersion)}/${String(manifest.kind)}` : '';
  const precompiled = standaloneValidators()?.[kind];
  return precompiled ? checkWith(precompiled, manifest!) : ManifestValidator.shared().validate(object);
}

let standalone: Record<string, ValidateFunction> | null | undefined;

function standaloneValidators(): Record<string, ValidateFunction> | null {
  if (standalone === undefined) {
    // Beside the compiled module; from the sources (ts-node, jest), the build's, which the tests
    // keep current (their globalSetup builds first).
    const file = [join(__dirname, STANDALONE_FILE), join(__dirname, '..', 'build', 'lib', STANDALONE_FILE)].find((candidate) => existsSync(candidate));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    standalone = file === undefined ? null : require(file) as Record<string, ValidateFunction>;
  }
  return standalone;
}

/** The Ajv instance: strict, every error, formats, the Kubernetes extensions and quantities. */
function createAjv(): Ajv {
  // Loaded here: the synth-time checks use the ahead-of-time code and never load ajv.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const AjvClass = require('ajv').default as typeof Ajv;
  const addFormats = require('ajv-formats').default as (ajv: Ajv) => Ajv;
  const { _, str } = require('ajv') as typeof import('ajv');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ajv = new AjvClass({ allErrors: true, strict: true, strictTypes: false, validateFormats: true, verbose: true, code: { source: true } });
  addFormats(ajv);
  for (const keyword of KUBERNETES_EXTENSIONS) {
    ajv.addKeyword({ keyword, schemaType: ['boolean', 'string', 'array', 'object'] });
  }
  ajv.addKeyword({
    keyword: 'x-quantity',
    schemaType: 'boolean',
    error: {
      message: (cxt) => str`"${cxt.data}" is not a quantity: use a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, m, k, M, G, T, P, E or an exponent (e.g. 10Gi, 500m, 1e3)`,
    },
    code(cxt: KeywordCxt) {
      // The one quantity grammar, required by path so that the ahead-of-time code can load it too.
      const quantity = cxt.gen.scopeValue('func', { ref: quantityValue, code: _`require("./validation").quantityValue` });
      cxt.fail(_`typeof ${cxt.data} == "string" && ${quantity}(${cxt.data}) === undefined`);
    },
  });
  return ajv;
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
        message = `must be ${[error.params.type].flat().join(' or ')}, not ${describeType(error.data, 'json')}`;
        break;
      case 'enum':
        message = `must be one of ${error.params.allowedValues.map((value: unknown) => JSON.stringify(value)).join(', ')}, not ${JSON.stringify(error.data)}`;
        break;
      case 'format':
        // Integer formats: the API server's ranges (integerChecks) say more, with the allowed range.
        if (error.params.format === 'int32' || error.params.format === 'int64') continue;
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
function documentObject(document: ReturnType<typeof import('yaml').parseAllDocuments>[number]): { object: unknown } | { error: string } {
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


// ---------------------------------------------------------------------------------------------
// What the API server validates beyond the OpenAPI schema. Each rule names the Go function it is
// taken from: k8s.io/kubernetes pkg/apis/core/validation/validation.go unless another file is
// named, apimachinery's pkg/api/validation/objectmeta.go and pkg/util/validation/validation.go.
// These rules use no schema and no ajv: they run on every synth.

type Check = { path: string; message: string };

/**
 * The API server's own checks of `object` (those the OpenAPI schema cannot express), without the
 * schema: names, label keys and values, integer ranges, tolerations, resources, mounts, images.
 * Cheap enough to run on every synthesized object. `validate()` runs these and the schema.
 */
export function apiServerFailures(object: unknown): ManifestFailure[] {
  if (!isObject(object) || typeof object.kind !== 'string') return [];
  const label = objectLabel(object);
  return apiServerChecks(object, object.kind).map((check) => ({ object: label, ...check }));
}

const NAME_RULES: Record<string, { test: (name: string) => boolean; rule: string }> = {
  dns1035: { test: isDns1035Label, rule: "a DNS-1035 label: at most 63 characters of lower-case letters, digits and '-', starting with a letter and ending with a letter or digit" },
  dnsLabel: { test: (name) => isDnsLabel(name), rule: "a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit" },
  subdomain: { test: isDnsSubdomain, rule: "a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit" },
  pathSegment: { test: (name) => name !== '.' && name !== '..' && !/[/%]/.test(name), rule: "a path segment: no '/' or '%', not '.' or '..'" },
};

/**
 * Name rule by kind; NameIsDNSSubdomain for the others (ValidatePodName, ValidateConfigMapName,
 * ValidatePersistentVolumeName, ValidateStatefulSetName in pkg/apis/apps/validation,
 * ValidateReplicationControllerName for Jobs in pkg/apis/batch/validation).
 */
// ValidateServiceName = NameIsDNS1035Label; ValidateNamespaceName (objectmeta.go); rbac's ValidateRBACName = IsValidPathSegmentName
const NAME_RULE_BY_KIND: Record<string, keyof typeof NAME_RULES> = {
  Service: 'dns1035',
  Namespace: 'dnsLabel',
  Role: 'pathSegment',
  ClusterRole: 'pathSegment',
  RoleBinding: 'pathSegment',
  ClusterRoleBinding: 'pathSegment',
};

/**
 * Names that become a label value on the pods (63 characters at most): a StatefulSet's pods get
 * `controller-revision-hash: <name>-<10 characters>`, a Job's pods `job-name: <name>`. A longer
 * name is accepted, and then no pod can be created.
 */
// ValidateLabels on the pods the controller makes; ValidateGeneratedSelector (pkg/apis/batch/validation)
const NAME_MAX_FOR_POD_LABEL: Record<string, { max: number; why: string }> = {
  StatefulSet: { max: 52, why: 'since its pods get the label controller-revision-hash=<name>-<hash> (63 at most)' },
  Job: { max: 63, why: 'since its pods get the label job-name=<name> (63 at most)' },
};

/** `kind`: the object's, a string. */
function apiServerChecks(object: Record<string, unknown>, kind: string): Check[] {
  const checks: Check[] = [];
  const metadata = object.metadata;
  if (!isObject(metadata)) {
    checks.push({ path: 'metadata', message: 'required: every object needs metadata with a name' });
  } else {
    checks.push(...objectMetaChecks(kind, metadata, 'metadata', true));
  }
  const name = dig(object, ['metadata', 'name']);
  const limit = NAME_MAX_FOR_POD_LABEL[kind];
  if (limit && typeof name === 'string' && name.length > limit.max) {
    checks.push({ path: 'metadata.name', message: `"${name}" has ${name.length} characters; a ${kind} name may have at most ${limit.max}, ${limit.why}` });
  }
  checks.push(...(KIND_CHECKS[kind]?.(object) ?? []));
  const selector = dig(object, ['spec', 'selector']);
  if (kind !== 'Service' && isObject(selector)) checks.push(...labelSelectorChecks(selector, 'spec.selector'));
  checks.push(...workloadChecks(object, kind));
  checks.push(...integerChecks(object));
  checks.push(...negativeQuantities(object));
  return checks;
}

const KIND_CHECKS: Record<string, (object: Record<string, unknown>) => Check[]> = {
  Service: (object) => (isObject(object.spec) ? serviceChecks(object.spec) : []),
  ConfigMap: configMapChecks,
  PersistentVolumeClaim: (object) => (isObject(object.spec) ? claimSpecChecks(object.spec, 'spec') : []),
  PersistentVolume: (object) => (isObject(object.spec) ? persistentVolumeChecks(object.spec) : []),
  StatefulSet: statefulSetChecks,
  Job: jobChecks,
};

// ValidateObjectMetaAccessor, validateObjectMetaAccessorWithOptsCommon (objectmeta.go)
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
  // ValidateNamespaceName (objectmeta.go): a DNS-1123 label
  if (metadata.namespace !== undefined && !isDnsLabel(metadata.namespace)) {
    checks.push({ path: `${path}.namespace`, message: `${JSON.stringify(metadata.namespace)} is not a valid namespace: it must be ${NAME_RULES.dnsLabel.rule}` });
  }
  checks.push(...labelChecks(metadata.labels, `${path}.labels`));
  checks.push(...annotationChecks(metadata.annotations, `${path}.annotations`));
  return checks;
}

const QUALIFIED_NAME_RULE = "[prefix/]name, the prefix a DNS-1123 subdomain and the name at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
const LABEL_VALUE_RULE = "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)";
/** TotalAnnotationSizeLimitB (objectmeta.go): 256 KiB of keys and values together. */
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

// ValidateAnnotations, ValidateAnnotationsSize (objectmeta.go): keys are qualified names, case aside
function annotationChecks(annotations: unknown, path: string): Check[] {
  if (!isObject(annotations)) return [];
  const checks: Check[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (!isQualifiedName(key.toLowerCase())) {
      checks.push({ path: joinPath(path, key), message: `"${key}" is not a valid annotation key: ${QUALIFIED_NAME_RULE}` });
    }
    size += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  if (size > ANNOTATIONS_MAX_BYTES) {
    checks.push({ path, message: `the annotations hold ${size} bytes (keys and values); the API server allows at most ${ANNOTATIONS_MAX_BYTES}` });
  }
  return checks;
}

// ValidateLabels, ValidateLabelName (apimachinery pkg/apis/meta/v1/validation); IsValidLabelValue
function labelChecks(labels: unknown, path: string, what = 'label'): Check[] {
  if (!isObject(labels)) return [];
  const checks: Check[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedName(key)) {
      checks.push({ path: joinPath(path, key), message: `"${key}" is not a valid ${what} key: ${QUALIFIED_NAME_RULE}` });
    }
    if (!isLabelValue(value)) {
      checks.push({ path: joinPath(path, key), message: `${JSON.stringify(value)} is not a valid ${what} value: ${LABEL_VALUE_RULE}` });
    }
  }
  return checks;
}

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

// ValidateLabelSelector, ValidateLabelSelectorRequirement (apimachinery pkg/apis/meta/v1/validation/validation.go)
function labelSelectorChecks(selector: Record<string, unknown>, path: string): Check[] {
  const checks = labelChecks(selector.matchLabels, `${path}.matchLabels`);
  arrayOf(selector.matchExpressions).forEach((expression, index) => {
    if (isObject(expression)) checks.push(...requirementChecks(expression, `${path}.matchExpressions[${index}]`, SELECTOR_OPERATORS));
  });
  return checks;
}

/** A selector requirement: key, operator, values (node selectors add Gt and Lt, with one value). */
// ValidateLabelSelectorRequirement; ValidateNodeSelectorRequirement
function requirementChecks(requirement: Record<string, unknown>, path: string, operators: string[], checkValues = true): Check[] {
  const checks: Check[] = [];
  const { key, operator } = requirement;
  const values = arrayOf(requirement.values);
  if (!isQualifiedName(key)) {
    checks.push({ path: `${path}.key`, message: `${JSON.stringify(key)} is not a valid label key: ${QUALIFIED_NAME_RULE}` });
  }
  if (!operators.includes(operator as string)) {
    checks.push({ path: `${path}.operator`, message: `${JSON.stringify(operator)} is not a selector operator: it must be one of ${operators.join(', ')}` });
  } else if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    checks.push({ path: `${path}.values`, message: `required when operator is ${operator}: at least one value` });
  } else if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
    checks.push({ path: `${path}.values`, message: `must be empty when operator is ${operator}` });
  } else if ((operator === 'Gt' || operator === 'Lt') && values.length !== 1) {
    checks.push({ path: `${path}.values`, message: `must hold exactly one value when operator is ${operator}` });
  }
  if (checkValues) {
    values.forEach((value, index) => {
      if (!isLabelValue(value)) checks.push({ path: `${path}.values[${index}]`, message: `${JSON.stringify(value)} is not a valid label value: ${LABEL_VALUE_RULE}` });
    });
  }
  return checks;
}

/** Whether `labels` satisfy a label selector (matchLabels and matchExpressions). */
function selectorMatches(selector: Record<string, unknown>, labels: Record<string, unknown>): boolean {
  const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) return false;
  return arrayOf(selector.matchExpressions).every((expression) => {
    const { key, operator } = isObject(expression) ? expression : {};
    const values = arrayOf(isObject(expression) ? expression.values : undefined);
    const has = typeof key === 'string' && key in labels;
    if (operator === 'In') return has && values.includes(labels[key as string]);
    if (operator === 'NotIn') return !has || !values.includes(labels[key as string]);
    if (operator === 'Exists') return has;
    return operator === 'DoesNotExist' ? !has : true;
  });
}

const NODE_SELECTOR_OPERATORS = [...SELECTOR_OPERATORS, 'Gt', 'Lt'];

// validateAffinity: validateNodeAffinity (ValidateNodeSelector: at least one term; ValidateNodeSelectorTerm;
// preferred terms allow any value), validatePodAffinity and validatePodAntiAffinity (validatePodAffinityTerm)
function affinityChecks(affinity: unknown, path: string): Check[] {
  if (!isObject(affinity)) return [];
  const checks: Check[] = [];
  const required = dig(affinity, ['nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution']);
  if (isObject(required)) {
    const termsPath = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    const terms = arrayOf(required.nodeSelectorTerms);
    if (terms.length === 0) checks.push({ path: termsPath, message: 'required: at least one node selector term' });
    terms.forEach((term, index) => checks.push(...nodeSelectorTermChecks(term, `${termsPath}[${index}]`, true)));
  }
  arrayOf(dig(affinity, ['nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution'])).forEach((term, index) => {
    checks.push(...nodeSelectorTermChecks(dig(term, ['preference']), `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${index}].preference`, false));
  });
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    arrayOf(dig(affinity, [kind, 'requiredDuringSchedulingIgnoredDuringExecution'])).forEach((term, index) => {
      checks.push(...podAffinityTermChecks(term, `${path}.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${index}]`));
    });
    arrayOf(dig(affinity, [kind, 'preferredDuringSchedulingIgnoredDuringExecution'])).forEach((term, index) => {
      const termPath = `${path}.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${index}].podAffinityTerm`;
      checks.push(...podAffinityTermChecks(dig(term, ['podAffinityTerm']), termPath));
    });
  }
  return checks;
}

// ValidateNodeSelectorTerm: matchExpressions (ValidateNodeSelectorRequirement)
function nodeSelectorTermChecks(term: unknown, path: string, checkValues: boolean): Check[] {
  return arrayOf(dig(term, ['matchExpressions'])).flatMap((requirement, index) =>
    (isObject(requirement) ? requirementChecks(requirement, `${path}.matchExpressions[${index}]`, NODE_SELECTOR_OPERATORS, checkValues) : []));
}

// validatePodAffinityTerm: the selector, namespaces (ValidateNamespaceName), topologyKey (required, ValidateLabelName)
function podAffinityTermChecks(term: unknown, path: string): Check[] {
  if (!isObject(term)) return [];
  const checks = isObject(term.labelSelector) ? labelSelectorChecks(term.labelSelector, `${path}.labelSelector`) : [];
  arrayOf(term.namespaces).forEach((namespace, index) => {
    if (!isDnsLabel(namespace)) checks.push({ path: `${path}.namespaces[${index}]`, message: `${JSON.stringify(namespace)} is not a valid namespace: it must be ${NAME_RULES.dnsLabel.rule}` });
  });
  if (term.topologyKey === undefined || term.topologyKey === '') {
    checks.push({ path: `${path}.topologyKey`, message: 'required: the node label whose value groups the nodes, e.g. kubernetes.io/hostname' });
  } else if (!isQualifiedName(term.topologyKey)) {
    checks.push({ path: `${path}.topologyKey`, message: `${JSON.stringify(term.topologyKey)} is not a valid label key: ${QUALIFIED_NAME_RULE}` });
  }
  return checks;
}

// ---- Integer fields: the schema's format (int32, int64) and the API server's ranges.

const INT32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];
const INT64: [number, number] = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
/** 0..4294967295: IsValidUserID, IsValidGroupID (apimachinery pkg/util/validation/validation.go). */
const UNIX_ID: [number, number] = [0, 0xffffffff];
/** 1..65535: IsValidPortNum (apimachinery pkg/util/validation/validation.go). */
const PORT: [number, number] = [1, 65535];
/** 0..0777: fileModeErrorMsg, validateConfigMapVolumeSource, validateSecretVolumeSource, validateKeyToPath. */
const FILE_MODE: [number, number] = [0, 0o777];
const NON_NEGATIVE_INT32: [number, number] = [0, INT32[1]];

/**
 * Every integer field of the kinds this library emits (StatefulSet, Job, Service,
 * PersistentVolumeClaim, PersistentVolume, ConfigMap), by property name, with the range the
 * schema's format (int32, int64) or the API server allows. Property names do not clash: no name
 * is int32 in one place and int64 in another in these kinds' schemas.
 */
// The ranges: ValidateNonnegativeField in validateProbe, ValidateStatefulSetSpec, validateJobSpec;
// validateContainerPorts, validateServicePort, ValidatePodSpec (activeDeadlineSeconds 1..MaxInt32),
// validatePodSpecSecurityContext and ValidateSecurityContext (user and group ids)
const INTEGER_FIELDS: Record<string, [number, number]> = {
  replicas: NON_NEGATIVE_INT32, minReadySeconds: NON_NEGATIVE_INT32, revisionHistoryLimit: INT32, start: NON_NEGATIVE_INT32,
  partition: NON_NEGATIVE_INT32, parallelism: NON_NEGATIVE_INT32, completions: NON_NEGATIVE_INT32, backoffLimit: NON_NEGATIVE_INT32,
  backoffLimitPerIndex: NON_NEGATIVE_INT32, maxFailedIndexes: NON_NEGATIVE_INT32, ttlSecondsAfterFinished: NON_NEGATIVE_INT32,
  initialDelaySeconds: NON_NEGATIVE_INT32, timeoutSeconds: NON_NEGATIVE_INT32, periodSeconds: NON_NEGATIVE_INT32,
  successThreshold: NON_NEGATIVE_INT32, failureThreshold: NON_NEGATIVE_INT32,
  containerPort: PORT, hostPort: [0, 65535], port: PORT, nodePort: [0, 65535], healthCheckNodePort: [0, 65535],
  defaultMode: FILE_MODE, mode: FILE_MODE, weight: [1, 100], maxSkew: [1, INT32[1]], minDomains: [1, INT32[1]],
  priority: INT32, lun: [0, 255], values: INT32,
  runAsUser: UNIX_ID, runAsGroup: UNIX_ID, fsGroup: UNIX_ID, supplementalGroups: UNIX_ID,
  activeDeadlineSeconds: [0, INT64[1]], terminationGracePeriodSeconds: INT64, tolerationSeconds: INT64,
  expirationSeconds: [600, 2 ** 32], deletionGracePeriodSeconds: INT64, generation: INT64, observedGeneration: INT64,
};
/** Maps whose keys are not field names (a label "port: 80" is not a port). */
const NOT_FIELDS = new Set(['labels', 'annotations', 'data', 'binaryData', 'nodeSelector', 'matchLabels', 'selector', 'requests', 'limits', 'capacity', 'status']);

function integerChecks(object: Record<string, unknown>): Check[] {
  const checks: Check[] = [];
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${at}[${index}]`));
      return;
    }
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = joinPath(at, key);
      const range = INTEGER_FIELDS[key];
      if (range && (typeof child === 'number' || Array.isArray(child))) {
        [child].flat().forEach((item, index) => {
          const itemPath = Array.isArray(child) ? `${childPath}[${index}]` : childPath;
          if (typeof item === 'number') checks.push(...integerInRange(item, itemPath, range));
        });
      } else if (!NOT_FIELDS.has(key) || (key === 'selector' && isObject(child) && 'matchLabels' in child)) {
        visit(child, childPath);
      }
    }
  };
  visit(object, '');
  return checks;
}

function integerInRange(value: number, path: string, [min, max]: [number, number]): Check[] {
  if (Number.isInteger(value) && value >= min && value <= max) return [];
  const range = max === FILE_MODE[1] && min === 0 ? `from 0 to 0777 (octal; ${max} decimal)` : `from ${min} to ${max}`;
  return [{ path, message: `${value} is ${Number.isInteger(value) ? 'out of range' : 'not a whole number'}: it must be a whole number ${range}` }];
}

// ---- Kinds

// ValidateService, validateServicePort
function serviceChecks(spec: Record<string, unknown>): Check[] {
  const checks = labelChecks(spec.selector, 'spec.selector');
  const ports = arrayOf(spec.ports);
  const names = new Set<unknown>();
  const pairs = new Set<string>();
  ports.forEach((port, index) => {
    if (!isObject(port)) return;
    const path = `spec.ports[${index}]`;
    if (port.name === undefined) {
      if (ports.length > 1) checks.push({ path: `${path}.name`, message: 'required when a Service has more than one port' });
    } else if (!isDnsLabel(port.name)) {
      checks.push({ path: `${path}.name`, message: `${JSON.stringify(port.name)} is not a valid Service port name: it must be ${NAME_RULES.dnsLabel.rule}` });
    } else if (names.has(port.name)) {
      checks.push({ path: `${path}.name`, message: `duplicate port name "${port.name}"` });
    }
    names.add(port.name);
    checks.push(...protocolChecks(port.protocol, `${path}.protocol`));
    if (port.targetPort !== undefined) checks.push(...portNumOrName(port.targetPort, `${path}.targetPort`));
    const pair = `${port.protocol ?? 'TCP'}/${port.port}`;
    if (pairs.has(pair)) checks.push({ path, message: `duplicate port ${pair}: each protocol and port pair may appear once` });
    pairs.add(pair);
    if ((spec.type ?? 'ClusterIP') === 'ClusterIP' && port.nodePort !== undefined && port.nodePort !== 0) {
      checks.push({ path: `${path}.nodePort`, message: "may not be used when type is 'ClusterIP'" });
    }
  });
  return checks;
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

// supportedPortProtocols in validateContainerPorts and validateServicePort
function protocolChecks(protocol: unknown, path: string): Check[] {
  if (protocol === undefined || PROTOCOLS.includes(protocol as string)) return [];
  return [{ path, message: `${JSON.stringify(protocol)} is not a protocol: it must be one of ${PROTOCOLS.join(', ')}` }];
}

// ValidatePortNumOrName: a number in 1..65535 or an IANA service name (IsValidPortName)
function portNumOrName(port: unknown, path: string): Check[] {
  if (typeof port === 'number') return integerInRange(port, path, PORT);
  if (typeof port === 'string' && !isPortName(port)) {
    return [{ path, message: `${JSON.stringify(port)} is not a port number or name: ${PORT_NAME_RULE}` }];
  }
  return [];
}

const PORT_NAME_RULE = "a name has at most 15 characters of lower-case letters, digits and '-', with at least one letter, no '-' at either end and no '--'";
/** core.MaxSecretSize: the data of a ConfigMap, all keys together. */
const CONFIG_MAP_MAX_BYTES = 1024 * 1024;

// ValidateConfigMap: keys (IsConfigMapKey), no key in both data and binaryData, 1 MiB in all
function configMapChecks(object: Record<string, unknown>): Check[] {
  const checks: Check[] = [];
  let size = 0;
  for (const field of ['data', 'binaryData'] as const) {
    const entries = object[field];
    if (!isObject(entries)) continue;
    for (const [key, value] of Object.entries(entries)) {
      if (!isConfigMapKey(key)) {
        checks.push({ path: joinPath(field, key), message: `"${key}" is not a valid ConfigMap key: at most 253 characters of letters, digits, '-', '_' and '.', not '.' or starting with '..'` });
      }
      if (field === 'data' && isObject(object.binaryData) && key in object.binaryData) {
        checks.push({ path: joinPath(field, key), message: `"${key}" is also a key of binaryData: a key may be in one of them only` });
      }
      if (typeof value === 'string') size += field === 'data' ? Buffer.byteLength(value) : Buffer.from(value, 'base64').length;
    }
  }
  if (size > CONFIG_MAP_MAX_BYTES) {
    checks.push({ path: '(root)', message: `the data holds ${size} bytes; a ConfigMap holds at most ${CONFIG_MAP_MAX_BYTES} (1 MiB)` });
  }
  return checks;
}

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Filesystem', 'Block'];

// supportedAccessModes, supportedVolumeModes and the ReadWriteOncePod rule in ValidatePersistentVolumeSpec
// and ValidatePersistentVolumeClaimSpec
function accessModeChecks(spec: Record<string, unknown>, path: string): Check[] {
  const modes = arrayOf(spec.accessModes);
  const checks: Check[] = [];
  if (modes.length === 0) checks.push({ path: `${path}.accessModes`, message: `required: at least one of ${ACCESS_MODES.join(', ')}` });
  modes.forEach((mode, index) => {
    if (!ACCESS_MODES.includes(mode as string)) {
      checks.push({ path: `${path}.accessModes[${index}]`, message: `${JSON.stringify(mode)} is not an access mode: it must be one of ${ACCESS_MODES.join(', ')}` });
    }
  });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) {
    checks.push({ path: `${path}.accessModes`, message: 'ReadWriteOncePod may not be combined with other access modes' });
  }
  if (spec.volumeMode !== undefined && !VOLUME_MODES.includes(spec.volumeMode as string)) {
    checks.push({ path: `${path}.volumeMode`, message: `${JSON.stringify(spec.volumeMode)} is not a volume mode: it must be ${VOLUME_MODES.join(' or ')}` });
  }
  return checks;
}

// ValidateClassName = NameIsDNSSubdomain, for a non-empty storageClassName
function storageClassChecks(spec: Record<string, unknown>, path: string): Check[] {
  const name = spec.storageClassName;
  if (name === undefined || name === '' || isDnsSubdomain(name)) return [];
  return [{ path: `${path}.storageClassName`, message: `${JSON.stringify(name)} is not a valid storage class name: it must be ${NAME_RULES.subdomain.rule}` }];
}

// ValidatePersistentVolumeClaimSpec: access modes, storage request (positive), class name, selector
function claimSpecChecks(spec: Record<string, unknown>, path: string): Check[] {
  const checks = [...accessModeChecks(spec, path), ...storageClassChecks(spec, path)];
  const storage = dig(spec, ['resources', 'requests', 'storage']);
  if (storage === undefined) {
    checks.push({ path: `${path}.resources.requests.storage`, message: 'required: the size the claim asks for' });
  } else if (quantityValue(storage) === 0) {
    checks.push({ path: `${path}.resources.requests.storage`, message: `${storage} is not a size: it must be greater than zero` });
  }
  if (isObject(spec.selector)) checks.push(...labelSelectorChecks(spec.selector, `${path}.selector`));
  return checks;
}

const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

// ValidatePersistentVolumeSpec: access modes, capacity (storage only, positive), reclaim policy, class name, hostPath
function persistentVolumeChecks(spec: Record<string, unknown>): Check[] {
  const checks = [...accessModeChecks(spec, 'spec'), ...storageClassChecks(spec, 'spec')];
  const capacity = isObject(spec.capacity) ? spec.capacity : {};
  const keys = Object.keys(capacity);
  if (keys.length !== 1 || keys[0] !== 'storage') {
    checks.push({ path: 'spec.capacity', message: `must hold storage and nothing else, not ${keys.length ? keys.join(', ') : 'nothing'}` });
  } else if (quantityValue(capacity.storage) === 0) {
    checks.push({ path: 'spec.capacity.storage', message: `${capacity.storage} is not a size: it must be greater than zero` });
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !RECLAIM_POLICIES.includes(policy as string)) {
    checks.push({ path: 'spec.persistentVolumeReclaimPolicy', message: `${JSON.stringify(policy)} is not a reclaim policy: it must be one of ${RECLAIM_POLICIES.join(', ')}` });
  }
  if (isObject(spec.hostPath)) checks.push(...hostPathChecks(spec.hostPath, 'spec.hostPath'));
  return checks;
}

// validateHostPathVolumeSource: a path, without '..' (validatePathNoBacksteps), of a supported type (validateHostPathType)
function hostPathChecks(hostPath: Record<string, unknown>, path: string): Check[] {
  const checks: Check[] = [];
  if (typeof hostPath.path !== 'string' || hostPath.path === '') {
    checks.push({ path: `${path}.path`, message: 'required: the directory or file on the node' });
  } else if (hasBacksteps(hostPath.path)) {
    checks.push({ path: `${path}.path`, message: `${JSON.stringify(hostPath.path)} must not contain '..'` });
  }
  if (hostPath.type !== undefined && !HOST_PATH_TYPES.includes(hostPath.type as string)) {
    checks.push({ path: `${path}.type`, message: `${JSON.stringify(hostPath.type)} is not a hostPath type: it must be one of ${HOST_PATH_TYPES.filter(Boolean).join(', ')} (or empty)` });
  }
  return checks;
}

/** validatePathNoBacksteps: a '..' element anywhere. */
function hasBacksteps(path: string): boolean {
  return path.split('/').includes('..');
}

// ValidateStatefulSetSpec (pkg/apis/apps/validation): restartPolicy Always, no activeDeadlineSeconds;
// each volumeClaimTemplates entry is a claim (ValidatePersistentVolumeClaimSpec) and a pod volume (ValidateVolumes: a DNS-1123 label)
function statefulSetChecks(object: Record<string, unknown>): Check[] {
  const checks = restartPolicyChecks(object, ['Always']);
  checks.push(...selectorMatchesTemplate(object));
  if (dig(object, ['spec', 'template', 'spec', 'activeDeadlineSeconds']) !== undefined) {
    checks.push({ path: 'spec.template.spec.activeDeadlineSeconds', message: 'must not be set in a StatefulSet' });
  }
  arrayOf(dig(object, ['spec', 'volumeClaimTemplates'])).forEach((template, index) => {
    const path = `spec.volumeClaimTemplates[${index}]`;
    const name = dig(template, ['metadata', 'name']);
    if (name !== undefined && !isDnsLabel(name)) {
      checks.push({ path: `${path}.metadata.name`, message: `${JSON.stringify(name)} is not a valid volume name for the pods: it must be ${NAME_RULES.dnsLabel.rule}` });
    }
    if (isObject(template) && isObject(template.metadata)) {
      checks.push(...labelChecks(template.metadata.labels, `${path}.metadata.labels`));
      checks.push(...annotationChecks(template.metadata.annotations, `${path}.metadata.annotations`));
    }
    const spec = dig(template, ['spec']);
    if (isObject(spec)) checks.push(...claimSpecChecks(spec, `${path}.spec`));
  });
  return checks;
}

// validateJobSpec (pkg/apis/batch/validation): restartPolicy OnFailure or Never; ValidateJobSpec: a
// selector, when given (it is generated when not), matches the template's labels
function jobChecks(object: Record<string, unknown>): Check[] {
  const checks = restartPolicyChecks(object, ['OnFailure', 'Never']);
  if (isObject(dig(object, ['spec', 'selector']))) checks.push(...selectorMatchesTemplate(object));
  return checks;
}

// ValidateStatefulSetSpec (pkg/apis/apps/validation), ValidateJobSpec: a non-empty selector that
// matches the pod template's labels (else the controller would not own its own pods)
function selectorMatchesTemplate(object: Record<string, unknown>): Check[] {
  const selector = dig(object, ['spec', 'selector']);
  if (!isObject(selector)) return [{ path: 'spec.selector', message: `required: the labels that select the ${object.kind}'s pods` }];
  if (Object.keys(isObject(selector.matchLabels) ? selector.matchLabels : {}).length + arrayOf(selector.matchExpressions).length === 0) {
    return [{ path: 'spec.selector', message: `an empty selector would select every pod: give matchLabels that the pod template has` }];
  }
  const labels = dig(object, ['spec', 'template', 'metadata', 'labels']);
  if (selectorMatches(selector, isObject(labels) ? labels : {})) return [];
  return [{ path: 'spec.template.metadata.labels', message: 'do not match spec.selector: the pod template must have the labels the selector asks for' }];
}

function restartPolicyChecks(object: Record<string, unknown>, allowed: string[]): Check[] {
  const policy = dig(object, ['spec', 'template', 'spec', 'restartPolicy']) ?? 'Always';
  if (allowed.includes(policy as string)) return [];
  return [{ path: 'spec.template.spec.restartPolicy', message: `${JSON.stringify(policy)} is not supported in a ${object.kind}: it must be ${allowed.join(' or ')}` }];
}

/** The pod template's metadata and spec, in every kind that has one. */
// ValidatePodTemplateSpec, ValidatePodSpec: the Pod rules, which the API server applies to a
// template's pods only when the controller creates them
function workloadChecks(object: Record<string, unknown>, kind: string): Check[] {
  const podPath = POD_SPEC_PATHS[kind];
  if (!podPath) return [];
  const checks: Check[] = [];
  const templatePath = podPath.slice(0, -1);
  const templateMetadata = dig(object, [...templatePath, 'metadata']);
  if (kind !== 'Pod' && isObject(templateMetadata)) {
    checks.push(...objectMetaChecks(kind, templateMetadata, `${templatePath.join('.')}.metadata`, false));
  }
  // A StatefulSet's pods also get a volume per volumeClaimTemplates entry, by its name.
  const claimTemplates = kind === 'StatefulSet' ? arrayOf(dig(object, ['spec', 'volumeClaimTemplates'])) : [];
  const templateVolumes = claimTemplates.map((template) => dig(template, ['metadata', 'name'])).filter((name): name is string => typeof name === 'string');
  const podSpec = dig(object, podPath);
  if (isObject(podSpec)) checks.push(...podSpecChecks(podSpec, podPath.join('.'), templateVolumes));
  return checks;
}

// ValidatePodSpec: volumes, containers, nodeSelector, tolerations, names of the pod's references
function podSpecChecks(spec: Record<string, unknown>, path: string, templateVolumes: string[]): Check[] {
  const podVolumes = new Set<unknown>();
  const checks = volumeChecks(spec, path, podVolumes);
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
      if (list === 'initContainers') checks.push(...initContainerChecks(container, containerPath));
    });
  }
  checks.push(...labelChecks(spec.nodeSelector, `${path}.nodeSelector`, 'nodeSelector'));
  arrayOf(spec.tolerations).forEach((toleration, index) => {
    if (isObject(toleration)) checks.push(...tolerationChecks(toleration, `${path}.tolerations[${index}]`));
  });
  checks.push(...affinityChecks(spec.affinity, `${path}.affinity`));
  checks.push(...podReferenceChecks(spec, path));
  return checks;
}

// ValidatePodSpec: activeDeadlineSeconds in 1..MaxInt32 (a Job's own is only non-negative),
// hostname and subdomain (ValidateDNS1123Label), serviceAccountName (ValidateServiceAccountName),
// priorityClassName (ValidatePriorityClassName)
function podReferenceChecks(spec: Record<string, unknown>, path: string): Check[] {
  const deadline = spec.activeDeadlineSeconds;
  // a negative one is the integer check's
  const checks = typeof deadline === 'number' && deadline >= 0 ? integerInRange(deadline, `${path}.activeDeadlineSeconds`, [1, INT32[1]]) : [];
  const rules: [string, keyof typeof NAME_RULES, string][] = [
    ['hostname', 'dnsLabel', 'host name'], ['subdomain', 'dnsLabel', 'subdomain'],
    ['serviceAccountName', 'subdomain', 'ServiceAccount name'], ['priorityClassName', 'subdomain', 'PriorityClass name'],
  ];
  for (const [field, ruleName, what] of rules) {
    const value = spec[field];
    const rule = NAME_RULES[ruleName];
    if (value !== undefined && value !== '' && (typeof value !== 'string' || !rule.test(value))) {
      checks.push({ path: `${path}.${field}`, message: `${JSON.stringify(value)} is not a valid ${what}: it must be ${rule.rule}` });
    }
  }
  return checks;
}

// ValidateVolumes: names (DNS-1123 labels, unique), validateVolumeSource: hostPath, file modes
function volumeChecks(spec: Record<string, unknown>, path: string, names: Set<unknown>): Check[] {
  const checks: Check[] = [];
  arrayOf(spec.volumes).forEach((volume, index) => {
    if (!isObject(volume)) return;
    const volumePath = `${path}.volumes[${index}]`;
    const name = volume.name;
    if (name === undefined) {
      // the schema reports the missing name
    } else if (!isDnsLabel(name)) {
      checks.push({ path: `${volumePath}.name`, message: `${JSON.stringify(name)} is not a valid volume name: it must be ${NAME_RULES.dnsLabel.rule}` });
    } else if (names.has(name)) {
      checks.push({ path: `${volumePath}.name`, message: `duplicate volume name "${name}"` });
    }
    names.add(name);
    if (isObject(volume.hostPath)) checks.push(...hostPathChecks(volume.hostPath, `${volumePath}.hostPath`));
    for (const source of ['configMap', 'secret', 'downwardAPI', 'projected'] as const) {
      arrayOf(dig(volume, [source, 'items'])).forEach((item, itemIndex) => {
        const itemPath = dig(item, ['path']);
        // validateKeyToPath, ValidateLocalNonReservedPath: relative, no '..'
        if (typeof itemPath === 'string' && (itemPath.startsWith('/') || hasBacksteps(itemPath) || itemPath.startsWith('..'))) {
          checks.push({ path: `${volumePath}.${source}.items[${itemIndex}].path`, message: `${JSON.stringify(itemPath)} must be a relative path without '..'` });
        }
      });
    }
  });
  return checks;
}

// validateContainerCommon: image, ports, env, mounts, resources, security context; validateProbe and
// friends for the regular containers
function containerChecks(container: Record<string, unknown>, path: string, volumes: Set<unknown>): Check[] {
  const checks = imageChecks(container.image, `${path}.image`);
  checks.push(...containerPortChecks(container, path));
  checks.push(...envChecks(container, path));
  checks.push(...mountChecks(container, path, volumes));
  checks.push(...resourceChecks(container, path));
  checks.push(...securityContextChecks(container.securityContext, `${path}.securityContext`));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    if (isObject(container[probe])) checks.push(...probeChecks(container[probe] as Record<string, unknown>, `${path}.${probe}`, probe));
  }
  return checks;
}

/**
 * The kubelet pulls what the container runtime's reference grammar accepts (a lower-case
 * repository, no spaces); the API server only requires an image and, for pods, no surrounding
 * whitespace. The one grammar is parseImageReference's (lib/container-image.ts).
 */
// validateContainerCommon (image required), validateContainerOnlyForPod (no leading or trailing whitespace)
function imageChecks(image: unknown, path: string): Check[] {
  if (image === undefined || image === '') return [{ path, message: 'required: the image the container runs' }];
  if (typeof image !== 'string') return []; // the schema reports the type
  try {
    parseImageReference(IMAGE_SCOPE, 'image', image);
    return [];
  } catch (error) {
    const prefix = `${IMAGE_SCOPE.node.path}: invalid image ${JSON.stringify(image)}: `;
    const text = (error as Error).message;
    return [{ path, message: `${JSON.stringify(image)} ${text.startsWith(prefix) ? text.slice(prefix.length) : text}` }];
  }
}

/** parseImageReference reports against a construct path; here the failure's path says where. */
const IMAGE_SCOPE = { node: { path: 'manifest' } } as unknown as IConstruct;

// validateContainerPorts: names (IsValidPortName, unique), protocol; the numbers are integer fields
function containerPortChecks(container: Record<string, unknown>, path: string): Check[] {
  const checks: Check[] = [];
  const names = new Set<unknown>();
  arrayOf(container.ports).forEach((port, index) => {
    if (!isObject(port)) return;
    const portPath = `${path}.ports[${index}]`;
    checks.push(...protocolChecks(port.protocol, `${portPath}.protocol`));
    if (port.name === undefined) return;
    if (!isPortName(port.name)) {
      checks.push({ path: `${portPath}.name`, message: `${JSON.stringify(port.name)} is not a valid port name: at most 15 characters of lower-case letters, digits and '-', with at least one letter, no '-' at either end and no '--'` });
    } else if (names.has(port.name)) {
      checks.push({ path: `${portPath}.name`, message: `duplicate port name "${port.name}"` });
    }
    names.add(port.name);
  });
  return checks;
}

// ValidateEnv, ValidateEnvFrom: IsEnvVarName (the rule of 1.28, before RelaxedEnvironmentVariableValidation)
function envChecks(container: Record<string, unknown>, path: string): Check[] {
  const checks: Check[] = [];
  const rule = "letters, digits, '_', '-' and '.', not starting with a digit, not '.' and not starting with '..'";
  arrayOf(container.env).forEach((env, index) => {
    const name = dig(env, ['name']);
    if (name !== undefined && !isEnvVarName(name)) {
      checks.push({ path: `${path}.env[${index}].name`, message: `${JSON.stringify(name)} is not a valid environment variable name: ${rule}` });
    }
  });
  arrayOf(container.envFrom).forEach((source, index) => {
    const prefix = dig(source, ['prefix']);
    if (prefix !== undefined && prefix !== '' && !isEnvVarName(prefix)) {
      checks.push({ path: `${path}.envFrom[${index}].prefix`, message: `${JSON.stringify(prefix)} is not a valid environment variable prefix: ${rule}` });
    }
  });
  return checks;
}

// ValidateVolumeMounts: a declared volume, a mount path unique in the container, subPath relative without '..'
function mountChecks(container: Record<string, unknown>, path: string, volumes: Set<unknown>): Check[] {
  const checks: Check[] = [];
  const mountPaths = new Set<unknown>();
  arrayOf(container.volumeMounts).forEach((mount, index) => {
    if (!isObject(mount)) return;
    const mountPath = `${path}.volumeMounts[${index}]`;
    if (typeof mount.name === 'string' && !volumes.has(mount.name)) {
      checks.push({ path: `${mountPath}.name`, message: `mounts volume "${mount.name}", which the pod does not declare in volumes` });
    }
    if (mountPaths.has(mount.mountPath)) {
      checks.push({ path: `${mountPath}.mountPath`, message: `${JSON.stringify(mount.mountPath)} is mounted twice in this container: each mount path must be unique` });
    }
    mountPaths.add(mount.mountPath);
    for (const field of ['subPath', 'subPathExpr'] as const) {
      const value = mount[field];
      // validateLocalDescendingPath
      if (typeof value === 'string' && value !== '' && (value.startsWith('/') || hasBacksteps(value))) {
        checks.push({ path: `${mountPath}.${field}`, message: `${JSON.stringify(value)} must be a relative path without '..'` });
      }
    }
  });
  return checks;
}

// validateResourceRequirements, validateContainerResourceName, ValidateResourceQuantityValue
function resourceChecks(container: Record<string, unknown>, path: string): Check[] {
  const requests = dig(container, ['resources', 'requests']);
  const limits = dig(container, ['resources', 'limits']);
  const checks: Check[] = [];
  for (const [list, entries] of [['limits', limits], ['requests', requests]] as const) {
    if (!isObject(entries)) continue;
    for (const [resource, quantity] of Object.entries(entries)) {
      const at = joinPath(`${path}.resources.${list}`, resource);
      const nameProblem = resourceNameProblem(resource);
      if (nameProblem) {
        checks.push({ path: at, message: `"${resource}" ${nameProblem}` });
        continue;
      }
      const amount = quantityValue(quantity);
      // IsIntegerResourceName: extended resources come in whole units
      if (amount !== undefined && isExtendedResourceName(resource) && !Number.isInteger(amount)) {
        checks.push({ path: at, message: `${quantity} is not a whole number: an extended resource (${resource}) is counted in whole units` });
      }
      if (list === 'requests') checks.push(...requestAgainstLimit(resource, quantity, isObject(limits) ? limits : {}, at));
    }
  }
  return checks;
}

/**
 * Why a container may not ask for `resource`, or undefined. A name with a kubernetes.io domain
 * passes the API server (IsNativeResource) but names nothing a node offers, so its pods are never
 * scheduled: it is refused here.
 */
// validateContainerResourceName: a qualified name; unprefixed, a standard container resource
// (IsStandardContainerResourceName); prefixed, an extended resource (IsExtendedResourceName)
function resourceNameProblem(resource: string): string | undefined {
  if (!isQualifiedName(resource)) return `is not a resource name: ${QUALIFIED_NAME_RULE}`;
  if (!resource.includes('/')) {
    return isStandardContainerResourceName(resource) ? undefined
      : 'is not a resource a container can ask for: cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource <domain>/<name>';
  }
  if (isNativeResourceName(resource)) return 'is in the kubernetes.io domain, which has no extended resources: use the device plugin\'s own <domain>/<name>';
  return isExtendedResourceName(resource) ? undefined : 'is not an extended resource name: <domain>/<name>, a qualified name also with "requests." before it';
}

// validateResourceRequirements: request <= limit; for resources that cannot be overcommitted
// (extended, hugepages: IsOvercommitAllowed) a limit is required and the request equals it
function requestAgainstLimit(resource: string, request: unknown, limits: Record<string, unknown>, at: string): Check[] {
  const overcommit = isNativeResourceName(resource) && !resource.startsWith('hugepages-');
  const limit = limits[resource];
  if (limit === undefined) {
    return overcommit ? [] : [{ path: at, message: `request ${request} has no limit: ${resource} cannot be overcommitted, so set limits.${resource} equal to it` }];
  }
  const requested = quantityValue(request);
  const allowed = quantityValue(limit);
  if (requested === undefined || allowed === undefined) return [];
  if (!overcommit && requested !== allowed) {
    return [{ path: at, message: `request ${request} differs from the limit ${limit}: ${resource} cannot be overcommitted, so the request must equal the limit` }];
  }
  if (requested > allowed) {
    return [{ path: at, message: `request ${request} is above the limit ${limit}: it must be less than or equal to the limit` }];
  }
  return [];
}

// ValidateSecurityContext: allowPrivilegeEscalation false with privileged or CAP_SYS_ADMIN
// (ids are integer fields: IsValidUserID, IsValidGroupID)
function securityContextChecks(securityContext: unknown, path: string): Check[] {
  if (!isObject(securityContext) || securityContext.allowPrivilegeEscalation !== false) return [];
  const checks: Check[] = [];
  if (securityContext.privileged === true) {
    checks.push({ path: `${path}.allowPrivilegeEscalation`, message: 'cannot be false while privileged is true' });
  }
  const added = arrayOf(dig(securityContext, ['capabilities', 'add']));
  if (added.some((capability) => capability === 'SYS_ADMIN' || capability === 'CAP_SYS_ADMIN')) {
    checks.push({ path: `${path}.allowPrivilegeEscalation`, message: 'cannot be false while capabilities.add includes SYS_ADMIN' });
  }
  return checks;
}

// validateLivenessProbe, validateReadinessProbe, validateStartupProbe, validateProbe, validateHandler
function probeChecks(probe: Record<string, unknown>, path: string, kind: string): Check[] {
  const checks: Check[] = [];
  if (kind !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    checks.push({ path: `${path}.successThreshold`, message: `${probe.successThreshold} is not allowed: a ${kind} must have successThreshold 1` });
  }
  const grace = probe.terminationGracePeriodSeconds;
  if (grace !== undefined && kind === 'readinessProbe') {
    checks.push({ path: `${path}.terminationGracePeriodSeconds`, message: 'must not be set for a readinessProbe' });
  } else if (typeof grace === 'number' && grace <= 0) {
    checks.push({ path: `${path}.terminationGracePeriodSeconds`, message: `${grace} is not allowed: it must be greater than 0` });
  }
  for (const handler of ['httpGet', 'tcpSocket'] as const) {
    const port = dig(probe, [handler, 'port']);
    // a number is an integer field (port: 1..65535)
    if (typeof port === 'string') checks.push(...portNumOrName(port, `${path}.${handler}.port`));
  }
  return checks;
}

// validateInitContainers: no lifecycle or probes unless restartPolicy Always (a sidecar)
function initContainerChecks(container: Record<string, unknown>, path: string): Check[] {
  if (container.restartPolicy === 'Always') return [];
  return ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']
    .filter((field) => container[field] !== undefined)
    .map((field) => ({ path: `${path}.${field}`, message: 'may not be set for init containers without restartPolicy Always' }));
}

const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

// ValidateTolerations: key (ValidateLabelName), operator Exists when the key is empty, value (a label
// value with Equal, empty with Exists), effect (validateTaintEffect), tolerationSeconds only with NoExecute
function tolerationChecks(toleration: Record<string, unknown>, path: string): Check[] {
  const checks: Check[] = [];
  const { key, operator, value, effect } = toleration;
  if (key !== undefined && key !== '' && !isQualifiedName(key)) {
    checks.push({ path: `${path}.key`, message: `${JSON.stringify(key)} is not a valid toleration key: ${QUALIFIED_NAME_RULE}` });
  }
  if ((key === undefined || key === '') && operator !== 'Exists') {
    checks.push({ path: `${path}.operator`, message: 'must be Exists when key is empty (which means "match all keys and values")' });
  }
  if (operator !== undefined && operator !== '' && !TOLERATION_OPERATORS.includes(operator as string)) {
    checks.push({ path: `${path}.operator`, message: `${JSON.stringify(operator)} is not an operator: it must be ${TOLERATION_OPERATORS.join(' or ')}` });
  } else if (operator === 'Exists' && value !== undefined && value !== '') {
    checks.push({ path: `${path}.value`, message: `${JSON.stringify(value)} must be empty when operator is Exists` });
  } else if (operator !== 'Exists' && value !== undefined && !isLabelValue(value)) {
    checks.push({ path: `${path}.value`, message: `${JSON.stringify(value)} is not a valid toleration value: ${LABEL_VALUE_RULE}` });
  }
  if (effect !== undefined && effect !== '' && !TAINT_EFFECTS.includes(effect as string)) {
    checks.push({ path: `${path}.effect`, message: `${JSON.stringify(effect)} is not a taint effect: it must be one of ${TAINT_EFFECTS.join(', ')} (or empty for all)` });
  }
  if (toleration.tolerationSeconds !== undefined && effect !== 'NoExecute') {
    checks.push({ path: `${path}.effect`, message: 'must be NoExecute when tolerationSeconds is set' });
  }
  return checks;
}

/** Quantities the API server requires to be non-negative: resources, capacities, sizes. */
// ValidateNonnegativeQuantity, ValidateResourceQuantityValue, validateVolumeSource (emptyDir sizeLimit)
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
