import { spawnSync } from 'child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, posix } from 'path';

/**
 * Real OCI images for tests, built without a Docker engine: each layer is a tar made by the
 * system tar from a staging directory and appended with `umoci raw add-layer` (which gzips it),
 * in an OCI image layout that skopeo reads as `oci:<dir>:<tag>`.
 *
 *   const layout = OciLayout.create();
 *   const qcow2 = createQcow2(layout.workDir, 'disk.qcow2', { dataMiB: 2 });
 *   layout.build('emulator', [
 *     { files: [{ path: '/etc/os-release', content: 'ID=test\n' }] },                  // a base layer
 *     { files: [{ path: '/opt/builtin-images/win98.qcow2.builtin', source: qcow2 }] },
 *   ]);
 *   layout.build('emulator-deleted', [{ delete: ['/opt/builtin-images/win98.qcow2.builtin'] }], { from: 'emulator' });
 *   layout.build('snapshot', [{ files: [{ path: '/snapshot.qcow2', source: qcow2 }] }]);  // FROM scratch
 *   skopeo ... layout.reference('snapshot')            // 'oci:/tmp/oci-.../layout:snapshot'
 *   layout.dispose();                                  // in afterAll
 *
 * Layers are reproducible (sorted names, mtime 0, owner 0:0), so the same content gives the same
 * digests. `layout.layers(tag)` gives each layer's digest and size, e.g. to corrupt one in a
 * registry after pushing.
 */

/** A file, link or directory in a layer. Exactly one of content, source, symlinkTo, hardlinkTo, directory. */
export interface LayerFile {
  /** Absolute path inside the image. */
  readonly path: string;
  /** The file's content. */
  readonly content?: string | Buffer;
  /** A file on this machine to copy in (for large files, e.g. a qcow2 image). */
  readonly source?: string;
  /** Make a symbolic link to this target (absolute or relative, as in the image). */
  readonly symlinkTo?: string;
  /** Make a hard link to this other path of the same layer (absolute in the image). */
  readonly hardlinkTo?: string;
  /** Make an empty directory. */
  readonly directory?: boolean;
  /**
   * Permission bits.
   * @default 0o644 for files, 0o755 for directories
   */
  readonly mode?: number;
}

/** One layer: files added, and paths deleted from the layers below. */
export interface LayerSpec {
  /** Files, links and directories the layer adds. */
  readonly files?: LayerFile[];
  /** Paths the layer deletes (a whiteout `.wh.<name>` beside each). */
  readonly delete?: string[];
  /** Directories whose earlier contents the layer hides (an opaque whiteout `.wh..wh..opq` in each). */
  readonly opaque?: string[];
}

/** Options of OciLayout.build. */
export interface BuildOptions {
  /**
   * Start from this tag of the same layout (its layers and config), like `FROM`.
   * @default - an empty image (FROM scratch)
   */
  readonly from?: string;
}

/** An OCI content descriptor. */
export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: { [key: string]: string };
}

/** An OCI image manifest. */
export interface OciManifest {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly config: OciDescriptor;
  readonly layers: OciDescriptor[];
}

/** An OCI image layout in a temporary directory, and a scratch directory beside it. */
export class OciLayout {
  /** Creates an empty layout in a new temporary directory (under `parentDir` if given). */
  public static create(parentDir: string = tmpdir()): OciLayout {
    const root = mkdtempSync(join(parentDir, 'oci-'));
    const layout = new OciLayout(root);
    run('umoci', ['init', '--layout', layout.path]);
    return layout;
  }

  /** The layout directory (holds `index.json`, `oci-layout`, `blobs/`). */
  public readonly path: string;
  /** A scratch directory for the test's own files (qcow2 images...), removed with the layout. */
  public readonly workDir: string;
  private readonly root: string;
  private layerCount = 0;

  private constructor(root: string) {
    this.root = root;
    this.path = join(root, 'layout');
    this.workDir = join(root, 'work');
    mkdirSync(this.workDir);
  }

  /**
   * Builds image `tag` from `options.from` (or from scratch) plus the given layers, one layer per
   * spec, and returns its manifest.
   */
  public build(tag: string, layers: LayerSpec[], options: BuildOptions = {}): OciManifest {
    if (options.from !== undefined) {
      run('umoci', ['tag', '--image', `${this.path}:${options.from}`, tag]);
    } else {
      run('umoci', ['new', '--image', `${this.path}:${tag}`]);
    }
    for (const spec of layers) {
      const tar = this.layerTar(spec);
      run('umoci', ['raw', 'add-layer', '--image', `${this.path}:${tag}`, '--history.created_by', `test layer ${this.layerCount}`, tar]);
      rmSync(tar, { force: true });
    }
    return this.manifest(tag);
  }

  /** The skopeo reference of a tag: `oci:<layout>:<tag>`. */
  public reference(tag: string): string {
    return `oci:${this.path}:${tag}`;
  }

  /** The tags in the layout. */
  public tags(): string[] {
    return this.index().manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '').filter((t) => t !== '');
  }

  /** The manifest of a tag. */
  public manifest(tag: string): OciManifest {
    const descriptor = this.index().manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (!descriptor) throw new Error(`no tag '${tag}' in ${this.path} (tags: ${this.tags().join(', ')})`);
    return JSON.parse(readFileSync(this.blobPath(descriptor.digest), 'utf8'));
  }

  /** The layers of a tag, bottom first. */
  public layers(tag: string): OciDescriptor[] {
    return this.manifest(tag).layers;
  }

  /** The file of a blob in the layout. */
  public blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    return join(this.path, 'blobs', algorithm, hex);
  }

  /** Removes the layout and the scratch directory. */
  public dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private index(): { manifests: OciDescriptor[] } {
    return JSON.parse(readFileSync(join(this.path, 'index.json'), 'utf8'));
  }

  /** Stages the layer's files and whiteouts and packs them into an uncompressed tar. */
  private layerTar(spec: LayerSpec): string {
    const stage = join(this.root, `stage-${this.layerCount}`);
    const tar = join(this.root, `layer-${this.layerCount}.tar`);
    this.layerCount++;
    mkdirSync(stage);
    const inStage = (path: string) => {
      if (!path.startsWith('/') || posix.normalize(path) !== path || path === '/') {
        throw new Error(`layer paths must be absolute and normal, not '${path}'`);
      }
      const target = join(stage, path);
      mkdirSync(dirname(target), { recursive: true });
      return target;
    };
    for (const file of spec.files ?? []) {
      const target = inStage(file.path);
      const kinds = [file.content !== undefined, file.source !== undefined, file.symlinkTo !== undefined,
        file.hardlinkTo !== undefined, file.directory === true].filter(Boolean).length;
      if (kinds !== 1) throw new Error(`${file.path}: give exactly one of content, source, symlinkTo, hardlinkTo, directory`);
      if (file.symlinkTo !== undefined) {
        symlinkSync(file.symlinkTo, target);
        continue;
      }
      if (file.directory) {
        mkdirSync(target, { recursive: true });
      } else if (file.hardlinkTo !== undefined) {
        // Packed as a hard link by tar, since both names share one inode in the stage.
        run('ln', [join(stage, file.hardlinkTo), target]);
      } else if (file.source !== undefined) {
        copyFileSync(file.source, target);
      } else {
        writeFileSync(target, file.content!);
      }
      chmodSync(target, file.mode ?? (file.directory ? 0o755 : 0o644));
    }
    for (const path of spec.delete ?? []) {
      writeFileSync(inStage(posix.join(posix.dirname(path), `.wh.${posix.basename(path)}`)), '');
    }
    for (const path of spec.opaque ?? []) {
      writeFileSync(inStage(posix.join(path, '.wh..wh..opq')), '');
    }
    const entries = readdirSync(stage).sort();
    run('tar', ['-cf', tar, '-C', stage, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--', ...entries]);
    rmSync(stage, { recursive: true, force: true });
    return tar;
  }
}

/** Options of createQcow2. */
export interface Qcow2Options {
  /**
   * Virtual size in MiB, for an empty image (`qemu-img create`).
   * @default 64
   */
  readonly sizeMiB?: number;
  /**
   * Fill the image with this many MiB of random data instead (a raw file converted by
   * `qemu-img convert`), so that truncating it damages real clusters.
   * @default - an empty image
   */
  readonly dataMiB?: number;
}

/** Makes a real qcow2 image with qemu-img in `dir` and returns its path. */
export function createQcow2(dir: string, name: string, options: Qcow2Options = {}): string {
  const path = join(dir, name);
  if (options.dataMiB !== undefined) {
    const raw = `${path}.raw`;
    run('head', ['-c', `${options.dataMiB}M`, '/dev/urandom'], raw);
    run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, path]);
    rmSync(raw, { force: true });
  } else {
    run('qemu-img', ['create', '-q', '-f', 'qcow2', path, `${options.sizeMiB ?? 64}M`]);
  }
  return path;
}

/** Copies `source` to `dir/name` cut to `bytes` bytes: a truncated image. */
export function truncatedCopy(source: string, dir: string, name: string, bytes: number): string {
  const path = join(dir, name);
  writeFileSync(path, readFileSync(source).subarray(0, bytes));
  return path;
}

function run(command: string, args: string[], stdoutFile?: string): string {
  const result = spawnSync(command, args, { encoding: stdoutFile ? 'buffer' : 'utf8', maxBuffer: 1024 * 1024 * 1024 }) as ReturnType<typeof spawnSync>;
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? String(result.stderr)}`);
  }
  if (stdoutFile) {
    writeFileSync(stdoutFile, result.stdout as Buffer);
    return '';
  }
  return String(result.stdout);
}
