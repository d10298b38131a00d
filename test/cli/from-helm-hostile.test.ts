// Hostile values files through the command as it ships: each ends quickly with exit 1 and one
// line naming the file and what is wrong, never a stack trace, a hang or gigabytes of memory.
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCli } from './run-cli';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'from-helm-hostile-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const VALID_START = 'emulator:\n  image: qemu-loco\n  tag: v1\n';

/** An alias bomb: each level lists the previous one ten times (10^9 values when expanded). */
function aliasBomb(): string {
  const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level <= 9; level++) {
    lines.push(`l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(', ')}]`);
  }
  return `${VALID_START}${lines.join('\n')}\n`;
}

/** A merge-key bomb: each level merges the previous one and nests it under 40 new keys. */
function mergeBomb(): string {
  const lines = ['m0: &m0 {a: 1, b: 2}'];
  for (let level = 1; level <= 60; level++) {
    const keys = Array.from({ length: 40 }, (_, i) => `k${level}_${i}: *m${level - 1}`).join(', ');
    lines.push(`m${level}: &m${level} {<<: *m${level - 1}, ${keys}}`);
  }
  return `${VALID_START}${lines.join('\n')}\n`;
}

const HOSTILE: [string, () => string, RegExp][] = [
  ['40,000 repeats of one key', () => `${VALID_START}${'replicas: 1\n'.repeat(40_000)}`,
    /^from-helm: hostile\.yaml:\d+: repeats keys more than 100 times \(replicas on lines 4, 5, 6, \.\.\.\); a values file repeats a key by mistake, not by the hundred$/],
  ['an alias bomb', aliasBomb,
    /^from-helm: hostile\.yaml:\d+: expands to more than 100000 values \(aliases and merge keys count each time they are used\); a values file this large is not a chart's$/],
  ['a merge-key bomb', mergeBomb,
    /^from-helm: hostile\.yaml:\d+: expands to more than 100000 values \(aliases and merge keys count each time they are used\); a values file this large is not a chart's$/],
  ['an anchor that contains itself', () => `${VALID_START}loop: &loop [a, *loop]\n`,
    /^from-helm: hostile\.yaml:4: anchor 'loop' value contains itself$/],
  ['an unknown anchor', () => `${VALID_START}x: *nowhere\n`,
    /^from-helm: hostile\.yaml:4: unknown anchor 'nowhere' referenced$/],
  ['100,000 nested lists', () => `${VALID_START}deep: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
    /^from-helm: hostile\.yaml(:\d+)?: (nested more than 64 levels deep; values files are a few levels deep|cannot be parsed: nested too deeply|not valid YAML: nested too deeply)$/],
  ['nesting through aliases past the limit', () => `${VALID_START}${Array.from({ length: 70 }, (_, i) => (i === 0 ? 'n0: &n0 [x]' : `n${i}: &n${i} [*n${i - 1}]`)).join('\n')}\n`,
    /^from-helm: hostile\.yaml:\d+: nested more than 64 levels deep \(aliases included\); values files are a few levels deep$/],
  ['more than 1 MiB', () => `${VALID_START}big: "${'x'.repeat(1 << 20)}"\n`,
    /^from-helm: hostile\.yaml: is \d+ bytes; a values file may have at most 1048576 bytes$/],
  ['a !!set', () => `${VALID_START}  nodeSelector: !!set {a, b}\n`,
    /^from-helm: hostile\.yaml:4: the tag !!set is not supported: a values file holds plain mappings, lists, strings, numbers, booleans and null \(Helm would not read !!set as written\); remove the tag$/],
  ['a custom tag on a scalar', () => `${VALID_START}  imagePullPolicy: !vault secret/policy\n`,
    /^from-helm: hostile\.yaml:4: the tag !vault is not supported: .*; remove the tag$/],
  ['a .nan value', () => `${VALID_START}replicas: .nan\n`,
    /^from-helm: hostile\.yaml:4: replicas is \.nan, which Helm cannot read \(JSON has no NaN or infinity\): quote it$/],
  ['a null key', () => `${VALID_START}~: x\n`,
    /^from-helm: hostile\.yaml:4: a null key \(empty, ~ or null\) is refused by Helm: quote it$/],
  ['a list as a key', () => `${VALID_START}? [a, b]\n: x\n`,
    /^from-helm: hostile\.yaml:4: a mapping key must be a plain value, not a mapping or a list \(Helm refuses it too\)$/],
  ['an !!int that is not one', () => `${VALID_START}replicas: !!int many\n`,
    /^from-helm: hostile\.yaml:4: cannot decode !!str `many` as a !!int$/],
];

test.each(HOSTILE)('%s: exit 1, one line, no stack trace, quickly', (_, build, expected) => {
  const file = join(work, 'hostile.yaml');
  writeFileSync(file, build());
  const started = Date.now();
  const run = runCli(['from-helm', file], { timeoutMs: 30_000 });
  // A hang guard, not a benchmark: about a second here (most of it starting node on the sources),
  // loose for a loaded CI machine; the old reader took a minute or ran out of memory.
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(run.stderr).not.toMatch(/^\s+at /m);
});

test('a __proto__ key is reported like any other unknown key and pollutes nothing', () => {
  const file = join(work, 'proto.yaml');
  writeFileSync(file, `${VALID_START}  diskPVC: win98-disk\n  __proto__: {polluted: true}\n__proto__:\n  emulator: {image: smuggled-image}\nconstructor: {prototype: {polluted: true}}\n`);
  const run = runCli(['from-helm', file]);
  expect(run.status).toBe(0);
  expect(run.stderr).toContain('from-helm: warning: not understood, so not migrated: __proto__, constructor, emulator.__proto__;');
  // The emulator section is the file's own, not one smuggled in through a prototype.
  expect(run.stdout).toContain('image: qemu-loco:v1');
  expect(run.stdout).not.toContain('smuggled-image');
});
