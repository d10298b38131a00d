import { Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Node, Pair, parseDocument, Scalar } from 'yaml';

/**
 * Reading a values file as Helm 3 does, within bounds. Helm reads values with sigs.k8s.io/yaml:
 * go-yaml v2 (its fork sigs.k8s.io/yaml/goyaml.v2) decodes the YAML into Go values, which are
 * converted to JSON (non-string keys become strings) and decoded back, so every number becomes a
 * float64. The `yaml` package only parses here (failsafe schema: every scalar stays text); what
 * a scalar means is decided below by go-yaml v2's rules, not by the package's YAML 1.1 schema
 * (which reads `E1` or `E5` as NaN).
 */

/** The bounds that keep a hostile values file from taking minutes or gigabytes. */
export const HELM_VALUES_LIMITS = {
  /** Bytes of one values file (the chart's own files are a few KB). */
  maxBytes: 1 << 20,
  /** Values produced, aliases and merge keys counted as often as they are expanded. */
  maxValues: 100_000,
  /** Nesting of mappings and lists, aliases included. */
  maxDepth: 64,
  /** Keys repeated within one mapping, over the whole file. */
  maxRepeatedKeys: 100,
};

/** A thrown error whose message is one line, naming the file (and line) at fault. */
export class HelmYamlError extends Error {}

/** What a scalar resolves to under go-yaml v2's rules. */
export type ResolvedScalar =
  | { readonly kind: 'str'; readonly text: string }
  | { readonly kind: 'null' }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** A whole number; `type` is the Go type go-yaml gives it. */
  | { readonly kind: 'int'; readonly value: bigint; readonly type: 'int' | 'uint64' | 'big.Int' }
  | { readonly kind: 'float'; readonly value: number };

// go-yaml v2 resolve.go (sigs.k8s.io/yaml goyaml.v2/resolve.go, resolveMapList): the words it
// reads as booleans, null and special floats, exactly as written (case variants listed there).
const RESOLVE_MAP: { [text: string]: ResolvedScalar } = Object.assign(Object.create(null), {
  ...Object.fromEntries(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((t) => [t, { kind: 'bool', value: true }])),
  ...Object.fromEntries(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((t) => [t, { kind: 'bool', value: false }])),
  ...Object.fromEntries(['', '~', 'null', 'Null', 'NULL'].map((t) => [t, { kind: 'null' }])),
  ...Object.fromEntries(['.nan', '.NaN', '.NAN'].map((t) => [t, { kind: 'float', value: NaN }])),
  ...Object.fromEntries(['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((t) => [t, { kind: 'float', value: Infinity }])),
  ...Object.fromEntries(['-.inf', '-.Inf', '-.INF'].map((t) => [t, { kind: 'float', value: -Infinity }])),
});
/** resolve.go's yamlStyleFloat. */
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** What Go's strconv.ParseFloat accepts of a text that starts with '.': `.5`, `.5e3`. */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Resolves an untagged plain scalar as go-yaml v2's `resolve("", in)` does: the first character
 * decides what it may be (resolveTable: sign, digit, one of `yYnNtTfFoO~`, '.'; anything else is
 * a string); words from the table above; then for a sign or digit, with '_' removed,
 * strconv.ParseInt(s, 0, 64) (so `0x1F`, `0o17`, `017` octal, `0b101`), ParseUint, the
 * yamlStyleFloat pattern with ParseFloat (an overflow such as `1e400` stays a string), and a
 * big.Int when ParseUint overflowed. Timestamps (`2001-12-14`) are left out on purpose: decoded
 * into Helm's untyped values they stay the text as written, which is what a string gives here.
 */
export function resolvePlainScalar(text: string): ResolvedScalar {
  const hint = text === '' ? 'M' : /^[-+]/.test(text) ? 'S' : /^[0-9]/.test(text) ? 'D' : /^[yYnNtTfFoO~]/.test(text) ? 'M' : text[0] === '.' ? '.' : '';
  if (hint === '') return { kind: 'str', text };
  const known = RESOLVE_MAP[text];
  if (known) return known;
  if (hint === '.') {
    const value = Number(text);
    return DOT_FLOAT.test(text) && Number.isFinite(value) ? { kind: 'float', value } : { kind: 'str', text };
  }
  if (hint === 'M') return { kind: 'str', text };
  const plain = text.replace(/_/g, '');
  const signed = parseGoInteger(plain, true, INT64_MAX);
  if (typeof signed === 'bigint') return { kind: 'int', value: signed, type: 'int' };
  const unsigned = parseGoInteger(plain, false, UINT64_MAX);
  if (typeof unsigned === 'bigint') return { kind: 'int', value: unsigned, type: 'uint64' };
  if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) {
    return { kind: 'float', value: Number(plain) };
  }
  if (unsigned === 'range') {
    const big = parseGoInteger(plain, false, undefined);
    if (typeof big === 'bigint') return { kind: 'int', value: big, type: 'big.Int' };
  }
  return { kind: 'str', text };
}

/**
 * strconv.ParseInt / ParseUint with base 0 (prefixes 0x, 0o, 0b, a leading 0 for octal): the
 * value, or which error Go returns. As in Go, the digits are read left to right and the first
 * overflow is a range error even if a bad digit follows; `max` undefined reads without a limit.
 */
function parseGoInteger(text: string, signed: boolean, max: bigint | undefined): bigint | 'syntax' | 'range' {
  let s = text;
  let negative = false;
  if (signed && (s.startsWith('+') || s.startsWith('-'))) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '') return 'syntax';
  let base = 10n;
  if (s[0] === '0') {
    const prefix = s.length >= 3 ? s[1].toLowerCase() : '';
    base = prefix === 'b' ? 2n : prefix === 'x' ? 16n : 8n;
    s = prefix === 'b' || prefix === 'o' || prefix === 'x' ? s.slice(2) : s.slice(1);
  }
  // Signed: the magnitude may reach 2^63 when negative.
  const limit = max === undefined ? undefined : signed && negative ? max + 1n : max;
  let value = 0n;
  for (const c of s) {
    const digit = parseInt(c, 36);
    if (Number.isNaN(digit) || BigInt(digit) >= base) return 'syntax';
    value = value * base + BigInt(digit);
    if (limit !== undefined && value > limit) return 'range';
  }
  return negative ? -value : value;
}

/**
 * Go's strconv.FormatFloat(x, 'g', -1, bits): the shortest digits that read back as the same
 * float32 or float64, in exponent form when the decimal exponent is below -4 or at least 6 (the
 * rule of Go's shortest 'g': 1000000 is `1e+06`, 123456 stays `123456`). This is how Helm prints
 * a number (fmt's %v of the float64 every number becomes), and, with 32 bits, how
 * sigs.k8s.io/yaml turns a float key into a string.
 */
export function goFormatFloat(x: number, bits: 32 | 64): string {
  const value = bits === 32 ? Math.fround(x) : x;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let exponential = value.toExponential();
  if (bits === 32) {
    for (let digits = 0; digits <= 8; digits++) {
      exponential = value.toExponential(digits);
      if (Math.fround(Number(exponential)) === value) break;
    }
  }
  const [, sign, first, rest, exp] = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exponential)!;
  const digits = `${first}${rest ?? ''}`.replace(/0+$/, '') || '0';
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const point = exponent + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A key written more than once in one mapping. */
export interface RepeatedKey {
  readonly path: string;
  readonly lines: number[];
  readonly value: unknown;
}

/** The values of a parsed file and the keys it repeats. */
export interface DecodedHelmValues {
  readonly value: unknown;
  /** Per repeated key: its path, the lines of its occurrences and the value that won. */
  readonly repeated: RepeatedKey[];
}

/**
 * Parses and decodes a values file as Helm does, or throws a HelmYamlError with a one-line
 * message `<source>[:<line>]: ...`.
 */
export function decodeHelmYaml(text: string, source: string): DecodedHelmValues {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > HELM_VALUES_LIMITS.maxBytes) {
    throw new HelmYamlError(`${source}: is ${bytes} bytes; a values file may have at most ${HELM_VALUES_LIMITS.maxBytes} bytes`);
  }
  const lineCounter = new LineCounter();
  let document;
  try {
    document = parseDocument(text, { version: '1.1', schema: 'failsafe', merge: false, uniqueKeys: false, lineCounter, prettyErrors: false });
  } catch (error) {
    // The parser recurses per nesting level: a file of thousands of '[' ends here.
    throw new HelmYamlError(`${source}: cannot be parsed: ${error instanceof RangeError ? 'nested too deeply' : (error as Error).message.split('\n')[0]}`);
  }
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const line = lineCounter.linePos(error.pos[0]).line;
    // The parser catches its own stack overflow on thousands of nested '[' and reports it here.
    const message = /Maximum call stack/.test(error.message) ? 'nested too deeply' : error.message.split('\n')[0];
    throw new HelmYamlError(`${source}${line ? `:${line}` : ''}: not valid YAML: ${message}`);
  }
  const decoder = new Decoder(source, lineCounter, aliasTargets(document.contents, source, lineCounter));
  const value = document.contents === null ? null : decoder.decode(document.contents, '', 0, false);
  return { value, repeated: decoder.repeated };
}

const TAG = 'tag:yaml.org,2002:';

/**
 * The node each alias names: the latest anchor of that name before it in the text, as go-yaml's
 * parser records anchors while it reads. One pass without recursion (the nesting is checked here,
 * before anything recurses over it).
 */
function aliasTargets(root: unknown, source: string, lines: LineCounter): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (depth > HELM_VALUES_LIMITS.maxDepth) {
      throw new HelmYamlError(`${source}${lineSuffix(node, lines)}: nested more than ${HELM_VALUES_LIMITS.maxDepth} levels deep; values files are a few levels deep`);
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) throw new HelmYamlError(`${source}${lineSuffix(node, lines)}: unknown anchor '${node.source}' referenced`);
      targets.set(node, target);
      continue;
    }
    const anchor = (node as Node).anchor;
    if (anchor) anchors.set(anchor, node as Node);
    const children: unknown[] = isMap(node) || isSeq(node)
      ? (node.items as unknown[]).flatMap((item) => (isPair(item) ? [item.key, item.value] : [item]))
      : isPair(node) ? [node.key, node.value] : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1]);
  }
  return targets;
}

function lineSuffix(node: unknown, lines: LineCounter): string {
  const range = (node as Node | undefined)?.range;
  return range ? `:${lines.linePos(range[0]).line}` : '';
}

/** Sets an own property, even `__proto__`, without touching any prototype. */
export function setOwn(object: { [key: string]: unknown }, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** go-yaml v2's decoder into Helm's untyped values, then sigs.k8s.io/yaml's JSON conversion. */
class Decoder {
  public readonly repeated: RepeatedKey[] = [];
  private values = 0;
  private repeatedCount = 0;
  private readonly expanding = new Set<Node>();

  constructor(private readonly source: string, private readonly lines: LineCounter, private readonly targets: Map<Alias, Node>) {}

  /** `aliased`: inside an alias's expansion, whose repeated keys were reported where it was written. */
  public decode(node: unknown, path: string, depth: number, aliased: boolean): unknown {
    if (++this.values > HELM_VALUES_LIMITS.maxValues) {
      throw this.error(node, `expands to more than ${HELM_VALUES_LIMITS.maxValues} values (aliases and merge keys count each time they are used); a values file this large is not a chart's`);
    }
    if (depth > HELM_VALUES_LIMITS.maxDepth) {
      throw this.error(node, `nested more than ${HELM_VALUES_LIMITS.maxDepth} levels deep (aliases included); values files are a few levels deep`);
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = this.follow(node);
      this.expanding.add(target);
      const value = this.decode(target, path, depth + 1, true);
      this.expanding.delete(target);
      return value;
    }
    if (isScalar(node)) return this.scalarValue(node, path);
    if (isMap(node)) {
      this.checkCollectionTag(node, 'map');
      return this.mapping(node.items as unknown[], path, depth, aliased);
    }
    if (isSeq(node)) {
      this.checkCollectionTag(node, 'seq');
      return node.items.map((item, index) => (isPair(item)
        ? this.mapping([item], `${path}[${index}]`, depth + 1, aliased)
        : this.decode(item, `${path}[${index}]`, depth + 1, aliased)));
    }
    throw this.error(node, 'holds a YAML node Helm does not read');
  }

  private follow(alias: Alias): Node {
    const target = this.targets.get(alias)!;
    if (this.expanding.has(target)) throw this.error(alias, `anchor '${alias.source}' value contains itself`);
    return target;
  }

  /** A mapping: keys in order, the last occurrence winning; `<<` merges as go-yaml v2's decoder.merge. */
  private mapping(pairs: unknown[], path: string, depth: number, aliased: boolean): { [key: string]: unknown } {
    const result: { [key: string]: unknown } = {};
    const seen = new Map<string, number[]>();
    for (const pair of pairs as Pair[]) {
      if (isScalar(pair.key) && pair.key.type === 'PLAIN' && pair.key.tag === undefined && pair.key.value === '<<') {
        this.merge(result, pair.value, path, depth);
        continue;
      }
      const key = this.keyText(pair.key);
      const childPath = path ? `${path}.${key}` : key;
      setOwn(result, key, this.decode(pair.value, childPath, depth + 1, aliased));
      if (!aliased) this.noteKey(seen, key, path, this.line(pair.key));
    }
    for (const [key, lines] of seen) {
      if (lines.length > 1) this.repeated.push({ path: path ? `${path}.${key}` : key, lines, value: result[key] });
    }
    return result;
  }

  /** Counts a key written in a mapping; past the limit of repeats, the file is refused at once. */
  private noteKey(seen: Map<string, number[]>, key: string, path: string, line: number): void {
    const lines = seen.get(key);
    if (!lines) {
      seen.set(key, [line]);
      return;
    }
    lines.push(line);
    if (++this.repeatedCount > HELM_VALUES_LIMITS.maxRepeatedKeys) {
      throw new HelmYamlError(`${this.source}:${line}: repeats keys more than ${HELM_VALUES_LIMITS.maxRepeatedKeys} times ` +
        `(${path ? `${path}.` : ''}${key} on lines ${lines.slice(0, 3).join(', ')}, ...); a values file repeats a key by mistake, not by the hundred`);
    }
  }

  private merge(result: { [key: string]: unknown }, value: unknown, path: string, depth: number): void {
    const wantMap = () => this.error(value, 'map merge requires map or sequence of maps as the value');
    const mapOf = (node: unknown) => {
      const target = isAlias(node) ? this.follow(node) : node;
      if (!isMap(target)) throw wantMap();
      return node;
    };
    // As go-yaml v2: a list merges from its last entry to its first, so earlier entries win.
    const sources = isSeq(value) ? [...value.items].reverse().map(mapOf) : [mapOf(value)];
    for (const node of sources) {
      const merged = this.decode(node, path, depth + 1, true) as { [key: string]: unknown };
      for (const [key, entry] of Object.entries(merged)) setOwn(result, key, entry);
    }
  }

  /** A key as sigs.k8s.io/yaml's convertToJSONableObject makes it a string. */
  private keyText(node: unknown): string {
    let keyNode = node;
    if (isAlias(keyNode)) keyNode = this.follow(keyNode);
    this.values++;
    if (!isScalar(keyNode)) throw this.error(node, 'a mapping key must be a plain value, not a mapping or a list (Helm refuses it too)');
    const resolved = this.resolve(keyNode);
    switch (resolved.kind) {
      case 'str': return resolved.text;
      case 'bool': return String(resolved.value);
      case 'float': {
        const text = goFormatFloat(resolved.value, 32);
        return text === '+Inf' ? '.inf' : text === '-Inf' ? '-.inf' : text === 'NaN' ? '.nan' : text;
      }
      case 'int':
        if (resolved.type === 'int') return resolved.value.toString();
        throw this.error(node, `key ${String(keyNode.value)} is a ${resolved.type}, which Helm cannot use as a key: quote it`);
      default:
        throw this.error(node, 'a null key (empty, ~ or null) is refused by Helm: quote it');
    }
  }

  /** A scalar value after Helm's JSON round trip: numbers are float64, NaN and infinities refused. */
  private scalarValue(node: Scalar, path: string): unknown {
    const resolved = this.resolve(node);
    switch (resolved.kind) {
      case 'str': return resolved.text;
      case 'null': return null;
      case 'bool': return resolved.value;
      case 'int': return Number(resolved.value);
      default:
        if (!Number.isFinite(resolved.value)) {
          throw this.error(node, `${path || 'the value'} is ${String(node.value)}, which Helm cannot read (JSON has no NaN or infinity): quote it`);
        }
        return resolved.value;
    }
  }

  /** go-yaml v2's scalar resolution with the tags it resolves; any other tag is refused. */
  private resolve(node: Scalar): ResolvedScalar {
    const text = String(node.value);
    const tag = node.tag;
    if (tag === undefined) {
      return node.type === 'PLAIN' ? resolvePlainScalar(text) : { kind: 'str', text };
    }
    if (tag === '!' || tag === `${TAG}str`) return { kind: 'str', text };
    const wanted = tag.startsWith(TAG) ? tag.slice(TAG.length) : '';
    if (!['int', 'float', 'bool', 'null'].includes(wanted)) throw this.unsupportedTag(node, tag);
    const resolved = resolvePlainScalar(text);
    if (resolved.kind === wanted) return resolved;
    if (wanted === 'float' && resolved.kind === 'int') return { kind: 'float', value: Number(resolved.value) };
    throw this.error(node, `cannot decode !!${resolved.kind} \`${text}\` as a !!${wanted}`);
  }

  private checkCollectionTag(node: Node, kind: 'map' | 'seq'): void {
    if (node.tag !== undefined && node.tag !== '!' && node.tag !== `${TAG}${kind}`) throw this.unsupportedTag(node, node.tag);
  }

  private unsupportedTag(node: Node, tag: string): HelmYamlError {
    const shown = tag.startsWith(TAG) ? `!!${tag.slice(TAG.length)}` : tag;
    return this.error(node, `the tag ${shown} is not supported: a values file holds plain mappings, lists, strings, numbers, booleans and null (Helm would not read ${shown} as written); remove the tag`);
  }

  private line(node: unknown): number {
    const range = (node as Node | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : 0;
  }

  private error(node: unknown, message: string): HelmYamlError {
    return new HelmYamlError(`${this.source}${lineSuffix(node, this.lines)}: ${message}`);
  }
}
