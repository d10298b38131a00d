import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

// docs/api/ is the API reference generated from the TSDoc of everything lib/index.ts exports
// (typedoc with typedoc-plugin-markdown, typedoc.json). These tests regenerate it and fail when the
// committed copy is stale, and hold the TSDoc itself to the project's standard.

const ROOT = join(__dirname, '..');
const COMMITTED = join(ROOT, 'docs/api');

/** typedoc's JSON model: only what these tests read. */
interface Reflection {
  id: number;
  name: string;
  kind: number;
  flags?: { isOptional?: boolean };
  comment?: { summary: { text: string }[]; blockTags?: { tag: string }[] };
  signatures?: Reflection[];
  getSignature?: Reflection;
  children?: Reflection[];
  type?: any;
}
const KIND = { Interface: 256, Constructor: 512, Property: 1024 };

let work: string;
let model: Reflection;

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'loco-api-docs-'));
  try {
    // treatWarningsAsErrors with validation.notDocumented (typedoc.json): an export without TSDoc
    // fails here.
    execFileSync(join(ROOT, 'node_modules/.bin/typedoc'), ['--out', join(work, 'api'), '--json', join(work, 'api.json')], {
      cwd: ROOT, encoding: 'utf8', stdio: 'pipe', timeout: 120_000,
    });
  } catch (error: any) {
    throw new Error(`typedoc failed (an export without TSDoc, or a broken {@link}):\n${error.stdout}${error.stderr}`);
  }
  model = JSON.parse(readFileSync(join(work, 'api.json'), 'utf8'));
}, 130_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the committed docs/api/ is what `npm run docs` generates from the current TSDoc', () => {
  const fresh = filesUnder(join(work, 'api'));
  const committed = existsSync(COMMITTED) ? filesUnder(COMMITTED) : [];
  const stale = [...new Set([...fresh, ...committed])].filter((file) => !fresh.includes(file) || !committed.includes(file)
    || !readFileSync(join(work, 'api', file)).equals(readFileSync(join(COMMITTED, file))));
  if (stale.length > 0) {
    throw new Error(`docs/api/ is stale (${stale.join(', ')}): run \`npm run docs\` and commit docs/api/`);
  }
});

test('documents the three constructs and the chart', () => {
  const names = (model.children ?? []).map((child) => child.name);
  expect(names).toEqual(expect.arrayContaining(['EmulatorDisk', 'DiskSeeder', 'QemuStatefulSet', 'LegoLocoChart', 'StorageMode']));
});

test('every export and every member has a summary, not only tags', () => {
  const bare: string[] = [];
  const visit = (reflection: Reflection, path: string): void => {
    const comment = reflection.comment ?? reflection.signatures?.[0]?.comment ?? reflection.getSignature?.comment;
    const summary = (comment?.summary ?? []).map((part) => part.text).join('').trim();
    // Constructors are documented by their class and props interface.
    if (reflection.kind !== KIND.Constructor && summary === '') bare.push(`${path} (kind ${reflection.kind})`);
    for (const child of reflection.children ?? []) visit(child, `${path}.${child.name}`);
  };
  for (const child of model.children ?? []) visit(child, child.name);
  expect(bare).toEqual([]);
});

test('every optional property of a props or options interface says its @default', () => {
  // The interfaces named *Props or *Options, and every interface their properties use.
  const byId = new Map((model.children ?? []).map((child) => [child.id, child]));
  const inputs = new Set((model.children ?? [])
    .filter((child) => child.kind === KIND.Interface && /(Props|Options)$/.test(child.name)));
  const referenced = (type: any): number[] => !type || typeof type !== 'object' ? [] : [
    ...(type.type === 'reference' && typeof type.target === 'number' ? [type.target] : []),
    ...Object.values(type).flatMap((value) => Array.isArray(value) ? value.flatMap(referenced) : referenced(value)),
  ];
  for (const input of inputs) {
    for (const property of input.children ?? []) {
      for (const id of referenced(property.type)) {
        const target = byId.get(id);
        if (target?.kind === KIND.Interface) inputs.add(target);
      }
    }
  }
  const withoutDefault = [...inputs].flatMap((input) => (input.children ?? [])
    .filter((property) => property.kind === KIND.Property && property.flags?.isOptional)
    .filter((property) => !(property.comment?.blockTags ?? []).some((tag) => tag.tag === '@default'))
    .map((property) => `${input.name}.${property.name}`));
  expect(inputs.size).toBeGreaterThanOrEqual(4);
  expect(withoutDefault).toEqual([]);
});
