import { ChildProcess, spawn, spawnSync } from 'child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'fs';
import { request } from 'http';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * A real OCI registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1, for tests.
 *
 * Each registry has its own free port and temporary directory (storage, config, log), so test files
 * running in parallel never collide. Always stop it, in `afterAll`:
 *
 *   let registry: LocalRegistry;
 *   beforeAll(async () => { registry = await LocalRegistry.start(); });
 *   afterAll(() => registry?.stop());
 *
 *   const pushed = registry.push(layout.reference('snap'), 'qemu-snapshots:win98-base');
 *   // pushed.reference: '127.0.0.1:PORT/qemu-snapshots:win98-base'; pushed.digest: manifest digest
 *   // skopeo flags to read it back: registry.skopeoArgs('src') -> ['--src-tls-verify=false', ...]
 *
 * What the snapshot-download tests need:
 * - authentication: `LocalRegistry.start({ users: { alice: 's3cret' } })` requires HTTP basic auth
 *   against a bcrypt htpasswd file (made with `htpasswd` from apache2-utils); `push` and
 *   `skopeoArgs` then pass the first user's credentials unless told otherwise;
 * - a damaged blob: `registry.corruptBlob(digest)` flips bytes of the stored blob in place (same
 *   size), `registry.truncateBlob(digest, bytes)` shortens it; `registry.blobPath(digest)` is the
 *   file itself;
 * - what was served: `registry.accessLog()` lists every request the registry completed (method,
 *   path, status, bytes written, digest...), `registry.blobBytesServed(digest)` sums the bytes of
 *   blob GETs; `await registry.waitForAccessLog(predicate)` waits for a request's entry, which the
 *   registry logs just after the response.
 */

/** Options of LocalRegistry.start. */
export interface LocalRegistryOptions {
  /**
   * Users and passwords; when given, every request needs HTTP basic auth (htpasswd, bcrypt).
   * @default - no authentication
   */
  readonly users?: { readonly [user: string]: string };
  /**
   * Milliseconds to wait for the registry to answer.
   * @default 15000
   */
  readonly startTimeoutMs?: number;
}

/** One request the registry completed, from its log. */
export interface AccessLogEntry {
  /** HTTP method. */
  readonly method: string;
  /** Request path with query, e.g. `/v2/repo/blobs/sha256:...`. */
  readonly path: string;
  /** HTTP status of the response. */
  readonly status: number;
  /** Bytes of response body written. */
  readonly bytes: number;
  /** Repository the request was about, if any. */
  readonly repository?: string;
  /** Blob digest of a blob request, if any. */
  readonly digest?: string;
  /** Tag or digest of a manifest request, if any. */
  readonly reference?: string;
  /** The client's User-Agent. */
  readonly userAgent?: string;
}

/** What push returns. */
export interface PushedImage {
  /** `127.0.0.1:PORT/repository:tag`. */
  readonly reference: string;
  /** Digest of the manifest as the registry stores it. */
  readonly digest: string;
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const running = new Set<ChildProcess>();
// A test that forgets stop() must not leave a registry behind its jest worker.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** A docker-registry process serving 127.0.0.1:port from a temporary directory. */
export class LocalRegistry {
  /**
   * Starts a registry on a free port of 127.0.0.1 and waits until it answers.
   * Throws, with the end of its log, when it does not start in time.
   */
  public static async start(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'registry-'));
    try {
      let lastError: Error | undefined;
      // The port is free when chosen; another process may take it before the registry binds it.
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = await freePort();
        const registry = new LocalRegistry(dir, port, options);
        try {
          await registry.waitUntilServing(options.startTimeoutMs ?? 15_000);
          return registry;
        } catch (error) {
          await registry.stopProcess();
          lastError = error as Error;
          if (!/address already in use/.test(registry.logText())) break;
        }
      }
      throw lastError;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** `127.0.0.1:PORT`, the registry part of image references. */
  public readonly host: string;
  /** The TCP port. */
  public readonly port: number;
  /** The temporary directory holding config, log and storage (removed by stop). */
  public readonly dir: string;
  /** The storage root (`storage.filesystem.rootdirectory`). */
  public readonly storageRoot: string;
  /** The registry's log file (its stderr: access log and messages). */
  public readonly logFile: string;
  /** The users it accepts, when authentication is on. */
  public readonly users?: { readonly [user: string]: string };

  private readonly child: ChildProcess;
  private exited = false;

  private constructor(dir: string, port: number, options: LocalRegistryOptions) {
    this.dir = dir;
    this.port = port;
    this.host = `127.0.0.1:${port}`;
    this.storageRoot = join(dir, 'storage');
    this.logFile = join(dir, `registry-${port}.log`);
    this.users = options.users;

    let auth = '';
    if (options.users && Object.keys(options.users).length > 0) {
      const htpasswd = join(dir, 'htpasswd');
      writeFileSync(htpasswd, Object.entries(options.users).map(([user, password]) => htpasswdLine(user, password)).join(''));
      auth = `auth:\n  htpasswd:\n    realm: test-registry\n    path: ${htpasswd}\n`;
    }
    const config = join(dir, `config-${port}.yml`);
    writeFileSync(config, [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: false',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${this.storageRoot}`,
      '  delete:',
      '    enabled: true',
      // No background upload purging, no cache: what is on disk is what gets served.
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      'health:',
      '  storagedriver:',
      '    enabled: false',
      '',
    ].join('\n') + auth);

    const log = openSync(this.logFile, 'a');
    this.child = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    running.add(this.child);
    this.child.once('exit', () => {
      this.exited = true;
      running.delete(this.child);
    });
  }

  /** `127.0.0.1:PORT/<repositoryAndTag>`. */
  public reference(repositoryAndTag: string): string {
    return `${this.host}/${repositoryAndTag}`;
  }

  /**
   * skopeo flags for this registry, for a `src` or `dest` image (or `''` for `skopeo inspect`):
   * plain HTTP, and the credentials of `user` (default: the first user) when auth is on.
   */
  public skopeoArgs(side: 'src' | 'dest' | '', user?: string): string[] {
    const prefix = side ? `--${side}-` : '--';
    const args = [`${prefix}tls-verify=false`];
    const credentials = this.credentials(user);
    if (credentials) args.push(`${prefix}creds`, credentials);
    return args;
  }

  /** `user:password` of `user` (default: the first user), or undefined without auth. */
  public credentials(user?: string): string | undefined {
    if (!this.users) return undefined;
    const name = user ?? Object.keys(this.users)[0];
    if (this.users[name] === undefined) throw new Error(`registry has no user '${name}'`);
    return `${name}:${this.users[name]}`;
  }

  /**
   * Pushes an image (any skopeo source, e.g. `oci:/path/layout:tag`) as `repositoryAndTag`
   * (e.g. `qemu-snapshots:win98-base`), with skopeo over plain HTTP.
   */
  public push(source: string, repositoryAndTag: string, options: { user?: string } = {}): PushedImage {
    const digestFile = join(this.dir, `digest-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    const reference = this.reference(repositoryAndTag);
    const result = spawnSync('skopeo', ['copy', '--quiet', ...this.skopeoArgs('dest', options.user), '--digestfile', digestFile,
      source, `docker://${reference}`], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) {
      throw new Error(`skopeo copy ${source} to ${reference} failed: ${result.stderr || result.error}`);
    }
    const digest = readFileSync(digestFile, 'utf8').trim();
    rmSync(digestFile, { force: true });
    return { reference, digest };
  }

  /** The file in the registry's storage that holds the blob. */
  public blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    if (!algorithm || !hex) throw new Error(`not a digest: ${digest}`);
    return join(this.storageRoot, 'docker', 'registry', 'v2', 'blobs', algorithm, hex.slice(0, 2), hex, 'data');
  }

  /**
   * Damages a stored blob in place, keeping its size: `length` bytes from `offset` (default: the
   * middle of the blob) are inverted. Clients that verify digests then refuse it.
   */
  public corruptBlob(digest: string, options: { offset?: number; length?: number } = {}): void {
    const file = this.blobPath(digest);
    const size = statSync(file).size;
    const length = Math.max(1, Math.min(options.length ?? 16, size));
    const offset = Math.min(options.offset ?? Math.floor((size - length) / 2), size - length);
    const fd = openSync(file, 'r+');
    try {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, offset);
      for (let i = 0; i < length; i++) buffer[i] ^= 0xff;
      writeSync(fd, buffer, 0, length, offset);
    } finally {
      closeSync(fd);
    }
  }

  /** Shortens a stored blob to `bytes` bytes. */
  public truncateBlob(digest: string, bytes: number): void {
    const file = this.blobPath(digest);
    const content = readFileSync(file);
    writeFileSync(file, content.subarray(0, bytes));
  }

  /** The registry's log so far. */
  public logText(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Every request the registry has answered so far, oldest first (its access log, in the common
   * log format, which also has the requests refused before any handler, such as 401s).
   */
  public accessLog(): AccessLogEntry[] {
    const entries: AccessLogEntry[] = [];
    const pattern = /^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"/;
    for (const line of this.logText().split('\n')) {
      const match = pattern.exec(line);
      if (!match) continue;
      const path = match[2];
      const route = /^\/v2\/(.+)\/(blobs|manifests)\/([^/?]+)/.exec(path.split('?')[0]);
      entries.push({
        method: match[1],
        path,
        status: Number(match[3]),
        bytes: match[4] === '-' ? 0 : Number(match[4]),
        repository: route?.[1],
        digest: route?.[2] === 'blobs' && route[3].includes(':') ? decodeURIComponent(route[3]) : undefined,
        reference: route?.[2] === 'manifests' ? decodeURIComponent(route[3]) : undefined,
        userAgent: match[5] || undefined,
      });
    }
    return entries;
  }

  /**
   * Waits until the access log has an entry matching `predicate` (the registry logs a request just
   * after its response), and returns the whole log.
   */
  public async waitForAccessLog(predicate: (entry: AccessLogEntry) => boolean, timeoutMs = 5_000): Promise<AccessLogEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const entries = this.accessLog();
      if (entries.some(predicate)) return entries;
      if (Date.now() > deadline) throw new Error(`no matching access log entry after ${timeoutMs} ms; log:\n${this.logText().slice(-2000)}`);
      await sleep(50);
    }
  }

  /** Bytes of blob bodies the registry sent (GET requests answered 200 or 206), for one digest or all. */
  public blobBytesServed(digest?: string): number {
    return this.accessLog()
      .filter((entry) => entry.method === 'GET' && (entry.status === 200 || entry.status === 206) && entry.digest !== undefined)
      .filter((entry) => digest === undefined || entry.digest === digest)
      .reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Stops the registry (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  public async stop(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async stopProcess(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`docker-registry exited at start; log:\n${this.logText().slice(-2000)}`);
      }
      const status = await httpStatus(`http://${this.host}/v2/`);
      if (status === 200 || status === 401) return;
      await sleep(50);
    }
    throw new Error(`docker-registry did not answer on ${this.host} within ${timeoutMs} ms; log:\n${this.logText().slice(-2000)}`);
  }
}

/** A bcrypt htpasswd line, as docker-registry's htpasswd auth requires. */
function htpasswdLine(user: string, password: string): string {
  const result = spawnSync('htpasswd', ['-nbB', user, password], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`htpasswd failed (${result.error?.message ?? result.stderr.trim()}); install apache2-utils (scripts/install-test-deps.sh)`);
  }
  return `${result.stdout.trim()}\n`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
