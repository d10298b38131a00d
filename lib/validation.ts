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
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** RFC 1123 label: what Kubernetes accepts for most object names. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: names of ConfigMaps, PersistentVolumeClaims and most other objects. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkDnsLabel(scope: IConstruct, property: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || value.length > maxLength || !DNS_1123_LABEL.test(value)) {
    throw invalidProp(scope, property, value,
      `must be a DNS-1123 label: at most ${maxLength} characters of lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
}

export function checkDnsSubdomain(scope: IConstruct, property: string, value: string): void {
  if (typeof value !== 'string' || value.length > 253 || !DNS_1123_SUBDOMAIN.test(value)) {
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
 * Kubernetes resource quantity for storage: a positive decimal with an optional binary (Ki..Ei) or
 * decimal (k, M, G, T, P, E) suffix. `10GB` and negative sizes are rejected here because the API
 * server would reject them only at apply time.
 */
const STORAGE_QUANTITY = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const SUFFIX_BYTES: Record<string, number> = {
  '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/** Parses a storage quantity into bytes, or throws the error naming the property. */
export function parseStorageQuantity(scope: IConstruct, property: string, value: string): number {
  const match = typeof value === 'string' ? STORAGE_QUANTITY.exec(value) : null;
  const bytes = match ? Number(match[1]) * SUFFIX_BYTES[match[3] ?? ''] : NaN;
  if (!match || !(bytes > 0)) {
    throw invalidProp(scope, property, value,
      "must be a positive Kubernetes quantity such as '10Gi', '512Mi' or '20G' (suffixes Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)");
  }
  return bytes;
}
