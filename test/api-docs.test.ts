import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

// docs/api/ is the API reference generated from the jsii assembly, one page per language
// (scripts/docs.js, jsii-docgen). These tests regenerate it and fail when the committed copy is
// stale, and hold the assembly's docs (the TSDoc, as jsii read it) to the project's standard.

const ROOT = join(__dirname, '..');
const COMMITTED = join(ROOT, 'docs/api');

/** The jsii assembly's type model: only what these tests read. */
interface Docs { summary?: string; default?: string }
interface TypeRef { fqn?: string; primitive?: string; collection?: { elementtype: TypeRef }; union?: { types: TypeRef[] } }
interface Member { name: string; docs?: Docs; optional?: boolean; type?: TypeRef }
interface Type {
  fqn: string; name: string; kind: 'class' | 'interface' | 'enum'; datatype?: boolean; docs?: Docs;
  properties?: Member[]; methods?: Member[]; members?: Member[];
}

let work: string;
let types: Type[];

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

beforeAll(() => {
  // global-setup built the package, .jsii included.
  types = Object.values(JSON.parse(readFileSync(join(ROOT, '.jsii'), 'utf8')).types);
  work = mkdtempSync(join(tmpdir(), 'loco-api-docs-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/docs.js'), join(work, 'api')], {
      cwd: ROOT, encoding: 'utf8', stdio: 'pipe', timeout: 300_000,
    });
  } catch (error: any) {
    throw new Error(`scripts/docs.js failed:\n${error.stdout}${error.stderr}`);
  }
}, 310_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the committed docs/api/ is what `npm run docs` generates from the assembly', () => {
  const fresh = filesUnder(join(work, 'api'));
  const committed = existsSync(COMMITTED) ? filesUnder(COMMITTED) : [];
  const stale = [...new Set([...fresh, ...committed])].filter((file) => !fresh.includes(file) || !committed.includes(file)
    || !readFileSync(join(work, 'api', file)).equals(readFileSync(join(COMMITTED, file))));
  if (stale.length > 0) {
    throw new Error(`docs/api/ is stale (${stale.join(', ')}): run \`npm run docs\` and commit docs/api/`);
  }
});

test('one page per language jsii-docgen documents, each showing the constructs in that language', () => {
  const pages = filesUnder(join(work, 'api'));
  expect(pages).toEqual(['README.md', 'csharp.md', 'go.md', 'java.md', 'python.md', 'typescript.md']);
  const page = (language: string) => readFileSync(join(work, 'api', `${language}.md`), 'utf8');
  expect(page('python')).toContain('import cdk8s_qemu_loco');
  expect(page('java')).toContain('import io.github.mroie.cdk8s.qemu.loco.LegoLocoChart;');
  expect(page('csharp')).toContain('using Mroie.Cdk8s.QemuLoco;');
  expect(page('go')).toContain('import "github.com/mroie/cdk8s-qemu-loco-go/cdk8sqemuloco"');
  expect(page('typescript')).toContain("import { LegoLocoChart } from 'cdk8s-qemu-loco'");
});

test('documents the three constructs and the chart', () => {
  expect(types.map((type) => type.name)).toEqual(expect.arrayContaining(['EmulatorDisk', 'DiskSeeder', 'QemuStatefulSet', 'LegoLocoChart', 'StorageMode']));
});

test('every type and every member has a summary', () => {
  // Initializers are documented by their class and props interface.
  const bare = types.flatMap((type) => [
    ...(type.docs?.summary ? [] : [type.fqn]),
    ...[...type.properties ?? [], ...type.methods ?? [], ...type.members ?? []]
      .filter((member) => !member.docs?.summary).map((member) => `${type.fqn}.${member.name}`),
  ]);
  expect(bare).toEqual([]);
});

test('every optional property of a props or options struct says its @default', () => {
  // The structs named *Props or *Options, and every struct their properties use.
  const byFqn = new Map(types.map((type) => [type.fqn, type]));
  const referenced = (ref?: TypeRef): string[] => !ref ? [] : [
    ...(ref.fqn ? [ref.fqn] : []),
    ...referenced(ref.collection?.elementtype),
    ...(ref.union?.types ?? []).flatMap(referenced),
  ];
  const inputs = new Set(types.filter((type) => type.datatype && /(Props|Options)$/.test(type.name)));
  for (const input of inputs) {
    for (const fqn of (input.properties ?? []).flatMap((property) => referenced(property.type))) {
      const target = byFqn.get(fqn);
      if (target?.datatype) inputs.add(target);
    }
  }
  const withoutDefault = [...inputs].flatMap((input) => (input.properties ?? [])
    .filter((property) => property.optional && property.docs?.default === undefined)
    .map((property) => `${input.name}.${property.name}`));
  expect(inputs.size).toBeGreaterThanOrEqual(4);
  expect(withoutDefault).toEqual([]);
});

/** The first fenced block of a language after a heading of the README. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(heading);
  const match = at < 0 ? null : new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  if (!match) throw new Error(`README.md: no ${language} block after ${heading}`);
  return match[1];
}

test("the README's Python example is jsii-rosetta's translation of its TypeScript example, which compiles", () => {
  // The translations scripts/docs.js made (beforeAll): rosetta translates the README's examples
  // through the assembly, so the Python has the binding's names and keyword arguments.
  const tablet = JSON.parse(readFileSync(join(ROOT, '.jsii.tabl.json'), 'utf8')) as {
    snippets: Record<string, { translations: Record<string, { source: string }>; didCompile?: boolean }>;
  };
  const typescript = readmeBlock('### Using them in your cdk8s app', 'ts').trim();
  const snippet = Object.values(tablet.snippets).find((candidate) => candidate.translations.$.source.trim() === typescript);
  expect(snippet?.didCompile).toBe(true);
  const python = readmeBlock('### From Python, Java, Go and .NET', 'python');
  expect(python).toContain('LegoLocoChart(app, "loco",');
  expect(python.trim()).toBe(snippet!.translations.python.source.trim());
});
