import { IConstruct } from 'constructs';

/**
 * Builds the one error every bad input gets: the construct path, the property, the bad value and
 * what is allowed, so a user can fix it without reading this library's source.
 */
export function invalidProp(scope: IConstruct, property: string, value: unknown, allowed: string): Error {
  return new Error(`${scope.node.path}: invalid ${property} ${describe(value)}: ${allowed}`);
}

function describe(value: unknown): string {
  if (value === undefined) return '(not set)';
  // JSON would print NaN and Infinity as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// The name rules of Kubernetes' apimachinery (k8s.io/apimachinery/pkg/util/validation), shared by
// the construct checks below and by the manifest validator.

/** RFC 1123 label: what Kubernetes accepts for most object names. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: names of ConfigMaps, PersistentVolumeClaims and most other objects. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** RFC 1035 label: Service names (they become DNS labels that must not start with a digit). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Name part of a qualified name (label and annotation keys). */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** A label value: empty, or at most 63 characters starting and ending with an alphanumeric. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Environment variable names the API server accepts. */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Whether `value` is a DNS-1123 label of at most `maxLength` (63) characters. */
export function isDnsLabel(value: unknown, maxLength = 63): value is string {
  return typeof value === 'string' && value.length <= maxLength && DNS_1123_LABEL.test(value);
}

/** Whether `value` is a DNS-1123 subdomain (at most 253 characters). */
export function isDnsSubdomain(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 253 && DNS_1123_SUBDOMAIN.test(value);
}

/** Whether `value` is a DNS-1035 label (at most 63 characters, starting with a letter). */
export function isDns1035Label(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 63 && DNS_1035_LABEL.test(value);
}

/** Whether `value` is a label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function isQualifiedName(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const parts = value.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && (parts[0].length === 0 || !isDnsSubdomain(parts[0]))) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** Whether `value` is a label value. */
export function isLabelValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Whether `value` is an IANA service name, as container and Service port names must be: at most
 * 15 characters of lower-case letters, digits and '-', at least one letter, no '-' at either end
 * and no '--'.
 */
export function isPortName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 15
    && /^[-a-z0-9]+$/.test(value) && /[a-z]/.test(value)
    && !value.startsWith('-') && !value.endsWith('-') && !value.includes('--');
}

/** '.', '..' and names starting with '..' (hasChDirPrefix, k8s.io/apimachinery/pkg/util/validation). */
function hasChDirPrefix(value: string): boolean {
  return value === '.' || value.startsWith('..');
}

/**
 * Whether `value` is an environment variable name the API server accepts: `[-._a-zA-Z][-._a-zA-Z0-9]*`,
 * not '.', '..' or starting with '..'.
 */
// IsEnvVarName (k8s.io/apimachinery/pkg/util/validation/validation.go)
export function isEnvVarName(value: unknown): value is string {
  return typeof value === 'string' && ENV_VAR_NAME.test(value) && !hasChDirPrefix(value);
}

/** Whether `value` is a ConfigMap or Secret key: at most 253 of letters, digits, '-', '_', '.', not '.', '..' or '..'-prefixed. */
// IsConfigMapKey (k8s.io/apimachinery/pkg/util/validation/validation.go)
export function isConfigMapKey(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(value) && !hasChDirPrefix(value);
}

/** Resource names of the kubernetes.io namespace: unprefixed ones and `*kubernetes.io/...`. */
// IsNativeResource (pkg/apis/core/helper/helpers.go)
export function isNativeResourceName(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** The resources a container may request without a domain: cpu, memory, ephemeral-storage, hugepages-<size>. */
// IsStandardContainerResourceName (pkg/apis/core/helper/helpers.go)
export function isStandardContainerResourceName(name: string): boolean {
  return ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
}

/**
 * Whether `name` is an extended resource (a device plugin's): `<domain>/<name>` outside
 * kubernetes.io, a qualified name even with the quota prefix `requests.` put before it.
 */
// IsExtendedResourceName (pkg/apis/core/helper/helpers.go)
export function isExtendedResourceName(name: unknown): name is string {
  return typeof name === 'string' && !isNativeResourceName(name) && !name.startsWith('requests.')
    && isQualifiedName(`requests.${name}`);
}

export function checkDnsLabel(scope: IConstruct, property: string, value: string, maxLength = 63): void {
  if (!isDnsLabel(value, maxLength)) {
    throw invalidProp(scope, property, value,
      `must be a DNS-1123 label: at most ${maxLength} characters of lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
}

export function checkDnsSubdomain(scope: IConstruct, property: string, value: string): void {
  if (!isDnsSubdomain(value)) {
    throw invalidProp(scope, property, value,
      "must be a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");
  }
}

export function checkInteger(scope: IConstruct, property: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw invalidProp(scope, property, value, `must be a whole number ${range}`);
  }
}

/**
 * The Kubernetes quantity grammar (k8s.io/apimachinery/pkg/api/resource):
 * `<sign>?<digits>[.<digits>]<suffix>` where the suffix is a binary SI suffix (Ki..Ei), a decimal
 * SI suffix (m, k, M, G, T, P, E, or none) or a decimal exponent (e3, E-2).
 */
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
const SUFFIX_FACTOR: Record<string, number> = {
  '': 1, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/**
 * The value of a Kubernetes quantity (`'10Gi'` is 10737418240, `'500m'` is 0.5), or `undefined`
 * when the string is not a quantity at all (`'10GB'`, `'1.5.2'`, `''`). Numbers are returned as
 * they are (JSON manifests may carry a quantity as a number).
 */
export function quantityValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return parseQuantity(value)?.value;
}

/** A quantity split by the one grammar (QUANTITY): its sign, its suffix and its value. */
function parseQuantity(value: unknown): { negative: boolean; suffix: string; value: number } | undefined {
  const match = typeof value === 'string' ? QUANTITY.exec(value) : null;
  if (!match) return undefined;
  const suffix = match[3] ?? '';
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX_FACTOR[suffix];
  const magnitude = Number(match[2]) * factor;
  return { negative: match[1] === '-', suffix, value: match[1] === '-' ? -magnitude : magnitude };
}

/**
 * Parses a storage quantity into bytes, or throws the error naming the property. Storage sizes
 * take no milli suffix and no exponent (bytes come in whole units); `10GB` and negative sizes are
 * rejected here because the API server would reject them only at apply time.
 */
export function parseStorageQuantity(scope: IConstruct, property: string, value: string): number {
  const quantity = parseQuantity(value);
  if (quantity === undefined || quantity.suffix === 'm' || /^[eE]/.test(quantity.suffix) || !(quantity.value > 0)) {
    throw invalidProp(scope, property, value,
      "must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)");
  }
  return quantity.value;
}

/** Checks a compute resource quantity (a request or a limit): any quantity but a negative one. */
export function checkResourceQuantity(scope: IConstruct, property: string, value: string): void {
  const quantity = parseQuantity(value);
  if (quantity === undefined || quantity.negative) {
    throw invalidProp(scope, property, value, "must be a Kubernetes quantity such as '500m', '2' or '1Gi'");
  }
}

// The path grammar every path prop goes through (one place, so that the rules cannot drift).

/** A path segment is refused when it is empty, '.', '..' or holds a control character. */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const BAD_SEGMENT = /^(\.\.?)?$|[\u0000-\u001f\u007f]/;
const ABSOLUTE_PATH_RULE = "must be an absolute path: '/' then names separated by single '/', none of them empty, '.' or '..', no control characters (NUL, line breaks), at most 4096 characters, not '/' itself";

/** Whether `value` is an absolute, normalized path other than `/` (see ABSOLUTE_PATH_RULE). */
export function isAbsolutePath(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 4096 || !value.startsWith('/')) return false;
  return value.slice(1).split('/').every((segment) => !BAD_SEGMENT.test(segment));
}

/**
 * Checks an absolute path prop: '/'-separated names, none empty, '.' or '..' (Kubernetes refuses
 * '..' in mount and host paths; the others would let two spellings name one place and dodge the
 * clash checks), no control characters, not the root itself.
 */
export function checkAbsolutePath(scope: IConstruct, property: string, value: string): void {
  if (!isAbsolutePath(value)) {
    throw invalidProp(scope, property, value, ABSOLUTE_PATH_RULE);
  }
}

/** Checks a plain file name: no '/', not '.' or '..', no control characters, at most 255 characters. */
export function checkFileName(scope: IConstruct, property: string, value: string): void {
  if (typeof value !== 'string' || value.length > 255 || value.includes('/') || BAD_SEGMENT.test(value)) {
    throw invalidProp(scope, property, value,
      "must be a plain file name: no '/', not empty, '.' or '..', no control characters (NUL, line breaks), at most 255 characters");
  }
}

/** Whether one of two absolute paths is the other or lies inside it. */
export function pathsOverlap(a: string, b: string): boolean {
  const inside = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);
  return inside(a, b) || inside(b, a);
}

/**
 * Checks that `path` is neither one of the container's other mounts nor inside or around one:
 * the kubelet would mount one volume over the other, or refuse the pod.
 */
export function checkNoMountClash(scope: IConstruct, property: string, path: string, mounts: { path: string; what: string }[]): void {
  const clash = mounts.find((mount) => pathsOverlap(path, mount.path));
  if (clash) {
    throw invalidProp(scope, property, path,
      `clashes with ${clash.what} mounted at ${clash.path} in the same container: choose a path that is neither it, inside it, nor around it`);
  }
}

/**
 * A literal string as it must be written in a container's env `value`, `command` or `args`: the
 * kubelet expands `$(NAME)` there and turns `$$` into `$` (k8s.io/kubernetes
 * third_party/forked/golang/expansion). Every run of '$' that is followed by '(' or is longer
 * than one is doubled, so the process sees exactly `value`; other text is left as it is.
 */
export function kubeLiteral(value: string): string {
  return value.replace(/\$+(?=\()|\${2,}/g, (run) => run + run);
}

/** The env entries with every literal `value` passed through kubeLiteral (valueFrom entries as they are). */
export function literalEnv<T extends { value?: string }>(env: T[]): T[] {
  return env.map((entry) => (entry.value === undefined ? entry : { ...entry, value: kubeLiteral(entry.value) }));
}

/** The object without its undefined fields, so that a spread of it keeps the defaults it would hide. */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A value as an error quotes it: JSON, cut at 60 characters. */
export function summarize(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * What a value is, for an error: null, a list or a mapping in the words of the document's format
 * (YAML values files, JSON manifests), else its type and the value.
 */
export function describeType(value: unknown, format: 'yaml' | 'json'): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return format === 'yaml' ? 'a list' : 'an array';
  if (typeof value === 'object' && !(value instanceof Date)) return format === 'yaml' ? 'a mapping' : 'an object';
  if (format === 'json' && typeof value === 'number' && Number.isInteger(value)) return `the integer ${value}`;
  return `${typeof value} ${summarize(value)}`;
}
