import { setOwn } from './helm-yaml';

/**
 * The migrated props as one value that is both printed (the TypeScript `from-helm --typescript`
 * writes) and evaluated (the props the migration returns and checks by building the chart), so
 * that the code and the objects cannot disagree: plain data, plus calls of the library's
 * factories and references to its constants, named as the package root exports them.
 */
export type Code = string | number | boolean | null | undefined | LibraryCall | LibraryConstant | Code[] | CodeObject;

/** An object literal; undefined properties are left out. */
export interface CodeObject { [key: string]: Code }

/** `ContainerImage.fromTag('qemu-loco', 'v1')`: a static method of an exported class. */
export class LibraryCall {
  constructor(
    /** `<exported name>.<static method>` */
    public readonly callee: string,
    public readonly args: Code[]) {}
}

/** `ImagePullPolicy.NEVER`: a member of an exported enum (or a static property). */
export class LibraryConstant {
  constructor(
    /** `<exported name>.<member>` */
    public readonly name: string) {}
}

export function call(callee: string, ...args: Code[]): LibraryCall {
  // Trailing undefined arguments are the defaults: left out of the code.
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return new LibraryCall(callee, args.slice(0, end));
}

export function constant(name: string): LibraryConstant {
  return new LibraryConstant(name);
}

/** The exported names the code uses, sorted: what it imports from the package. */
export function importsOf(code: Code): string[] {
  const names = new Set<string>();
  const visit = (value: Code): void => {
    if (value instanceof LibraryCall) {
      names.add(value.callee.split('.')[0]);
      value.args.forEach(visit);
    } else if (value instanceof LibraryConstant) {
      names.add(value.name.split('.')[0]);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (isCodeObject(value)) {
      Object.values(value).forEach(visit);
    }
  };
  visit(code);
  return [...names].sort();
}

/** Line width past which a list, an object or a call's arguments go one per line. */
const WIDTH = 110;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The code as a TypeScript expression; `indent` is the indentation of the line it starts on. */
export function printCode(code: Code, indent = ''): string {
  const flat = printFlat(code);
  if (indent.length + flat.length <= WIDTH || !isComposite(code)) return flat;
  return printLines(code, indent);
}

/** A list, an object or a call one item per line, each ending in a comma; a call's last object argument opens on the call's line. */
function printLines(code: Code, indent: string): string {
  const inner = `${indent}  `;
  const lines = (items: string[], open: string, close: string) =>
    `${open}\n${items.map((item) => `${inner}${item},\n`).join('')}${indent}${close}`;
  if (code instanceof LibraryCall) {
    const last = code.args[code.args.length - 1];
    if (isCodeObject(last) && isComposite(last)) {
      const head = `${code.callee}(${code.args.slice(0, -1).map((arg) => `${printFlat(arg)}, `).join('')}`;
      if (indent.length + head.length <= WIDTH) return `${head}${printLines(last, indent)})`;
    }
    return lines(code.args.map((arg) => printCode(arg, inner)), `${code.callee}(`, ')');
  }
  if (Array.isArray(code)) return lines(code.map((item) => printCode(item, inner)), '[', ']');
  return lines(definedEntries(code as CodeObject).map(([key, value]) => `${printKey(key)}: ${printCode(value, inner)}`), '{', '}');
}

/** The code on one line. */
function printFlat(code: Code): string {
  if (code === undefined) return 'undefined';
  if (code === null) return 'null';
  if (typeof code === 'string') return quote(code);
  if (typeof code === 'number') return printNumber(code);
  if (typeof code === 'boolean') return String(code);
  if (code instanceof LibraryConstant) return code.name;
  if (code instanceof LibraryCall) return `${code.callee}(${code.args.map(printFlat).join(', ')})`;
  if (Array.isArray(code)) return `[${code.map(printFlat).join(', ')}]`;
  const entries = definedEntries(code);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([key, value]) => `${printKey(key)}: ${printFlat(value)}`).join(', ')} }`;
}

function isComposite(code: Code): boolean {
  if (code instanceof LibraryCall) return code.args.length > 0;
  if (Array.isArray(code)) return code.length > 0;
  return isCodeObject(code) && definedEntries(code).length > 0;
}

function definedEntries(code: CodeObject): [string, Code][] {
  return Object.entries(code).filter(([, value]) => value !== undefined);
}

function printKey(key: string): string {
  // `__proto__: x` in an object literal would set the prototype, not a property (quoted too).
  if (key === '__proto__') return `[${quote(key)}]`;
  return IDENTIFIER.test(key) ? key : quote(key);
}

function printNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`a migrated value is not a finite number: ${value}`);
  return Object.is(value, -0) ? '0' : String(value);
}

/** A single-quoted TypeScript string; anything that is not printable ASCII is escaped. */
function quote(text: string): string {
  const escapes: { [c: string]: string } = { '\\': '\\\\', '\'': '\\\'', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return `'${text.replace(/[\\'\n\r\t]|[^\x20-\x7e]/g, (c) => escapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

/**
 * The value the code stands for, with the factories and constants taken from `library` (the
 * exported names): what running the printed code computes.
 */
export function evaluateCode(code: Code, library: { readonly [name: string]: object }): unknown {
  if (code instanceof LibraryCall || code instanceof LibraryConstant) {
    const [name, member] = (code instanceof LibraryCall ? code.callee : code.name).split('.');
    const owner = (Object.prototype.hasOwnProperty.call(library, name) ? library[name] : undefined) as { [member: string]: unknown } | undefined;
    const value = owner !== undefined && member in owner ? owner[member] : undefined;
    if (value === undefined || (code instanceof LibraryCall && typeof value !== 'function')) {
      throw new Error(`the migration uses ${name}.${member}, which the library does not have`);
    }
    return code instanceof LibraryCall
      ? (value as (...args: unknown[]) => unknown).apply(owner, code.args.map((arg) => evaluateCode(arg, library)))
      : value;
  }
  if (Array.isArray(code)) return code.map((item) => evaluateCode(item, library));
  if (isCodeObject(code)) {
    const result: { [key: string]: unknown } = {};
    for (const [key, value] of definedEntries(code)) setOwn(result, key, evaluateCode(value, library));
    return result;
  }
  return code;
}

function isCodeObject(value: Code): value is CodeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    && !(value instanceof LibraryCall) && !(value instanceof LibraryConstant);
}
