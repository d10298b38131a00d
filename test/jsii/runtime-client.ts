import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { join } from 'path';

// A client of @jsii/runtime, the process every jsii language binding (Python, Java, Go, .NET) talks
// to: one JSON document per line on its stdin (requests) and stdout (replies). It speaks only the
// protocol, as those bindings do; nothing of the loaded libraries runs in this process.
//
// The kernel answers one request at a time. While it runs a request it may call back into the
// client (a method or property the client overrode); the reply to the request comes after the
// client has completed every such callback.

const RUNTIME = join(__dirname, '../../node_modules/@jsii/runtime/bin/jsii-runtime');

/** A reference to an object that lives in the kernel. */
export interface ObjRef { readonly '$jsii.byref': string; readonly '$jsii.interfaces'?: string[] }
/** An enum member on the wire. */
export interface EnumRef { readonly '$jsii.enum': string }
/** A method (or property) of a created object that the kernel calls back into the client for. */
export interface Override { readonly method?: string; readonly property?: string; readonly cookie?: string }
/** What the kernel asks the client to run: a call of an overridden method, or a property read or write. */
export interface Callback {
  readonly cbid: string;
  readonly cookie?: string;
  readonly invoke?: { readonly objref: ObjRef; readonly method: string; readonly args?: unknown[] };
  readonly get?: { readonly objref: ObjRef; readonly property: string };
  readonly set?: { readonly objref: ObjRef; readonly property: string; readonly value: unknown };
}
/** Runs a callback and returns its result; a throw is reported to the kernel as the callback's error. */
export type CallbackHandler = (callback: Callback) => unknown;

/** The kernel's `{"error": …}` reply to a request: the library threw, or the request was wrong. */
export class JsiiError extends Error {
  constructor(public readonly api: string, message: string, public readonly kernelStack?: string) {
    super(`${api}: ${message}`);
  }
}

/** An enum member, by the enum's fully qualified name and the member's name. */
export function enumRef(fqn: string, member: string): EnumRef {
  return { '$jsii.enum': `${fqn}/${member}` };
}

/** A struct value with its type named, the explicit form of a plain JSON object argument. */
export function struct(fqn: string, data: Record<string, unknown>): { '$jsii.struct': { fqn: string; data: Record<string, unknown> } } {
  return { '$jsii.struct': { fqn, data } };
}

export interface RuntimeClientOptions {
  /** Longest wait for any one reply (the kernel is local: seconds, not minutes). */
  readonly timeoutMs?: number;
  /** Runs the callbacks of overridden members; without it, a callback fails. */
  readonly onCallback?: CallbackHandler;
}

type Reply = { ok: any } | { error: string; stack?: string } | { callback: Callback } | { hello: string };

export class JsiiRuntimeClient {
  /** Starts the runtime and waits for its hello. */
  static async start(options: RuntimeClientOptions = {}): Promise<JsiiRuntimeClient> {
    const client = new JsiiRuntimeClient(options);
    const hello = await client.next('hello');
    if (!('hello' in hello)) throw new Error(`jsii runtime: expected a hello, got ${JSON.stringify(hello)}`);
    client.hello = hello.hello;
    return client;
  }

  /** What the runtime said it is, e.g. `@jsii/runtime@1.22.0`. */
  public hello = '';
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly timeoutMs: number;
  private readonly onCallback?: CallbackHandler;
  private buffered = '';
  private readonly lines: string[] = [];
  private waiting?: () => void;
  private stderr = '';
  private exited?: string;

  private constructor(options: RuntimeClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.onCallback = options.onCallback;
    this.child = spawn(process.execPath, [RUNTIME], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      const parts = this.buffered.split('\n');
      this.buffered = parts.pop()!;
      this.lines.push(...parts.filter((line) => line.trim() !== ''));
      this.waiting?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.child.on('exit', (code, signal) => {
      this.exited = `exited (${signal ?? `status ${code}`})`;
      this.waiting?.();
    });
    this.child.on('error', (error) => {
      this.exited = `failed to start: ${error.message}`;
      this.waiting?.();
    });
  }

  /** Loads a library from its npm tarball (its dependencies first). */
  load(name: string, version: string, tarball: string): Promise<{ assembly: string; types: number }> {
    return this.request('load', { name, version, tarball });
  }

  /** `new fqn(...args)`, with the given members overridden by this client's callbacks. */
  create(fqn: string, args: unknown[] = [], overrides: Override[] = []): Promise<ObjRef> {
    return this.request('create', { fqn, args, overrides });
  }

  async invoke(objref: ObjRef, method: string, args: unknown[] = []): Promise<any> {
    return (await this.request('invoke', { objref, method, args })).result;
  }

  async sinvoke(fqn: string, method: string, args: unknown[] = []): Promise<any> {
    return (await this.request('sinvoke', { fqn, method, args })).result;
  }

  async get(objref: ObjRef, property: string): Promise<any> {
    return (await this.request('get', { objref, property })).value;
  }

  async sget(fqn: string, property: string): Promise<any> {
    return (await this.request('sget', { fqn, property })).value;
  }

  async set(objref: ObjRef, property: string, value: unknown): Promise<void> {
    await this.request('set', { objref, property, value });
  }

  async del(objref: ObjRef): Promise<void> {
    await this.request('del', { objref });
  }

  /** Asks the runtime to exit, and kills it when it has not within the timeout. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(`${JSON.stringify({ exit: 0 })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Sends a request, completes the callbacks it makes, and returns its `ok` value. */
  private async request(api: string, fields: Record<string, unknown>): Promise<any> {
    this.write({ api, ...fields });
    for (;;) {
      const reply = await this.next(api);
      if ('ok' in reply) return reply.ok;
      if ('error' in reply) throw new JsiiError(api, reply.error, reply.stack);
      if ('callback' in reply) {
        this.write({ complete: this.complete(reply.callback) });
        continue;
      }
      throw new Error(`jsii runtime: unexpected reply to ${api}: ${JSON.stringify(reply)}`);
    }
  }

  private complete(callback: Callback): { cbid: string; result?: unknown; err?: string } {
    try {
      if (!this.onCallback) throw new Error('this client has no callback handler');
      return { cbid: callback.cbid, result: this.onCallback(callback) };
    } catch (error: any) {
      return { cbid: callback.cbid, err: error?.message ?? String(error) };
    }
  }

  private write(message: object): void {
    if (this.exited) throw new Error(`jsii runtime ${this.exited}${this.diagnostics()}`);
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** The next reply, within the timeout; the runtime is killed when it does not come. */
  private async next(what: string): Promise<Reply> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.lines.length === 0) {
      if (this.exited) throw new Error(`jsii runtime ${this.exited} before replying to ${what}${this.diagnostics()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        this.child.kill('SIGKILL');
        throw new Error(`jsii runtime: no reply to ${what} within ${this.timeoutMs} ms (killed)${this.diagnostics()}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => { clearTimeout(timer); resolve(); };
      });
      this.waiting = undefined;
    }
    return JSON.parse(this.lines.shift()!);
  }

  /** What the runtime wrote on stderr: the library's own output, base64 in `{"stderr": …}` lines. */
  private diagnostics(): string {
    const text = this.stderr.split('\n').filter((line) => line !== '').map((line) => {
      try {
        const wrapped = JSON.parse(line);
        return Buffer.from(wrapped.stderr ?? wrapped.stdout ?? '', 'base64').toString('utf8');
      } catch {
        return line;
      }
    }).join('').trim();
    return text === '' ? '' : `; its stderr:\n${text.slice(-4000)}`;
  }
}
