// kill -9 of ONE init container at a random point, restarted alone as the kubelet does (the init
// containers that completed before it do not run again; pod-runner's restartFailed), in every
// seeding configuration: the pod must converge to the disk an uninterrupted run seeds, from the
// source it should come from (built-in and snapshot images differ, so a restart that quietly
// seeds the wrong one is caught). After each kill the target is absent or complete; at the end
// nothing is left beside the disk and its record.
//
// Random points: a seeded PRNG draws the container (seed-tools in 15% of the draws: it has one
// step; a pod killed in a later container starts from that container, on copies of the volumes an
// uninterrupted run of the earlier ones left under the same shell), the
// shell (busybox or dash, drawn each time) and the moment: a delay within 60% of the container's
// recent run time (RunTimes: it follows the machine's speed), the instant a staging file appears
// (the copy or fetch itself), or a delay after the seeding lock appears (verify, flush, link).
// Draws whose container ended before its kill are not counted. Rerun a failure with KILL_SEED=<the printed seed>.
import { execFile } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { StorageMode } from '../../lib';
import { OciLayout } from '../harness/oci-image';
import { ContainerResult, PodRunOptions, RunningPod, runPod, SHELLS, startPod } from '../harness/pod-runner';
import { cleanupDirs, makeQcow2, sha256Of, tempDir } from '../harness/qcow2';
import { LocalRegistry } from '../harness/registry';
import {
  hybridChart, initContainers, kubeletPullPod, publishSnapshot, pullAsKubelet, registryClientChart, registryClientPod, seededEphemeralChart,
} from '../snapshot/snapshot-fixtures';
import { DISK, emulatorImage, freshVolume, leftovers, locoChart, podOptions, recordOf } from './seeding';

// A hang guard, not a goal: the suite takes about a minute alone, several under a full suite on 2 cores.
jest.setTimeout(300_000);

/** Kills that must land (the container was running) per configuration. */
const KILLS = 30;
const SEED = Number(process.env.KILL_SEED ?? Date.now() % 2_147_483_647);

/** mulberry32: a small seeded PRNG, so that a failing sequence of draws can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Configuration {
  readonly name: string;
  /** Pod-runner options for a fresh volume (the `disk` volume) and a shell. */
  readonly pod: (volume: string, shell: typeof SHELLS[number]) => PodRunOptions;
  /** The init containers, in order. */
  readonly containers: string[];
  /** sha256 of the image the disk must be, and the record's source. */
  readonly expected: { sha256: string; source: string };
}

/** How one configuration went. */
interface Figures {
  name: string;
  /** Pods started with a kill drawn (some ended before their kill came). */
  draws: number;
  kills: number;
  converged: number;
  perContainer: Record<string, number>;
  /** The last line the killed container printed: where the kills landed. */
  landedAfter: Record<string, number>;
  failures: string[];
}

let registry: LocalRegistry;
let layout: OciLayout;
let configurations: Configuration[];

beforeAll(async () => {
  registry = await LocalRegistry.start();
  layout = OciLayout.create();
  // Tiny and distinct: the built-in image and the snapshot have different contents.
  const image = emulatorImage({ bytes: 3 << 20 });
  const builtin = { sha256: sha256Of(image.builtin), source: 'builtin' };
  const snapshotFile = path.join(tempDir('snapshot-'), 'snapshot.qcow2');
  makeQcow2(snapshotFile, 2 << 20);
  const snapshot = publishSnapshot(registry, layout, 'qemu-snapshots:win98-kill', { qcow2: snapshotFile });
  const staged = { sha256: snapshot.sha256!, source: 'staged snapshot' };
  const fetched = { sha256: snapshot.sha256!, source: 'snapshot' };

  const hybrid = hybridChart(snapshot.reference);
  const ephemeral = seededEphemeralChart(snapshot.reference);
  const snapshotImage = initContainers(hybrid).find((c) => c.name === 'seed-snapshot').image;
  const rootfs = pullAsKubelet(registry, snapshotImage);
  const modeA = locoChart(StorageMode.persistent());
  const client = registryClientChart(snapshot.reference, { builtinFallback: true });
  const names = (objects: any[]) => initContainers(objects).map((c: any) => c.name);

  configurations = [
    { name: 'mode A (builtin)', containers: names(modeA), expected: builtin,
      pod: (volume, shell) => podOptions(modeA, shell, volume, image.dir) },
    { name: 'mode B kubelet-pull (snapshot, builtin fallback present)', containers: names(hybrid), expected: staged,
      pod: (volume, shell) => kubeletPullPod(hybrid, shell, volume, image.dir, snapshotImage, rootfs) },
    { name: 'mode C with a seeder, kubelet-pull (snapshot only)', containers: names(ephemeral), expected: staged,
      pod: (volume, shell) => kubeletPullPod(ephemeral, shell, volume, emulatorImage({ withBuiltin: false }).dir, snapshotImage, rootfs) },
    { name: 'registry-client (snapshot, builtin fallback present)', containers: names(client), expected: fetched,
      pod: (volume, shell) => registryClientPod(client, shell, volume, image.dir) },
  ];
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  layout?.dispose();
  cleanupDirs();
});

test(`${KILLS} kills of one init container per configuration, each restarted alone, all converge`, async () => {
  // eslint-disable-next-line no-console
  console.log(`kill test seed: ${SEED} (rerun with KILL_SEED=${SEED})`);
  const started = Date.now();
  const figures = await Promise.all(configurations.map((configuration, i) => killLoop(configuration, prng(SEED + i))));
  const table = figures.map((f) => `${f.name}: ${f.kills} kills in ${f.draws} pods (${Object.entries(f.perContainer).map(([c, n]) => `${c} ${n}`).join(', ')}), `
    + `converged ${f.converged}/${f.kills} (${Math.round((100 * f.converged) / f.kills)}%); killed after: ${JSON.stringify(f.landedAfter)}`);
  // eslint-disable-next-line no-console
  console.log(`seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s:\n${table.join('\n')}`);

  expect(figures.flatMap((f) => f.failures)).toEqual([]);
  for (const f of figures) {
    expect({ name: f.name, kills: f.kills, converged: f.converged }).toEqual({ name: f.name, kills: KILLS, converged: KILLS });
    // Every container of the configuration was killed at least once.
    expect(Object.keys(f.perContainer).sort()).toEqual(configurations.find((c) => c.name === f.name)!.containers.slice().sort());
  }
  // Some kills landed in the middle of a copy or fetch: the moment a careless seeder corrupts a disk.
  const midCopy = figures.flatMap((f) => Object.entries(f.landedAfter)).filter(([line]) => /copying|fetching|taking/.test(line));
  expect(midCopy.length).toBeGreaterThan(0);
});

/** One random kill point: which container, under which shell, when. */
interface Draw {
  container: string;
  shell: typeof SHELLS[number];
  /** delay: after `share` of the container's run time; staging: when its staging file appears;
   * lock: `share` of half its run time after it took the seeding lock (verify, flush, link). */
  when: 'delay' | 'staging' | 'lock';
  /** From 0 to 1: the drawn point as a share of the container's run time. */
  share: number;
}

/**
 * The recent run times of each container (ms), from the calibration and then from every container
 * that ran to its end: kill delays follow the machine's speed as it changes during the run (a full
 * suite on 2 cores makes a container several times slower than when it runs alone), so that a
 * drawn point still falls inside the run instead of after it.
 */
class RunTimes {
  private readonly recent = new Map<string, number[]>();

  public record(containers: readonly ContainerResult[]): void {
    for (const container of containers) {
      if (container.exitCode !== 0 || container.signal !== null) continue;
      const times = [...(this.recent.get(container.name) ?? []), container.durationMs].slice(-5);
      this.recent.set(container.name, times);
    }
  }

  /** The median of the last five runs of the container (100 ms when none has run yet). */
  public of(container: string): number {
    const times = [...(this.recent.get(container) ?? [100])].sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }
}

/** Workers per configuration: pods in flight at once (each on its own volume). */
const WORKERS = 2;

async function killLoop(configuration: Configuration, random: () => number): Promise<Figures> {
  const figures: Figures = { name: configuration.name, draws: 0, kills: 0, converged: 0, perContainer: {}, landedAfter: {}, failures: [] };
  // Calibration: an uninterrupted run gives the disk to converge to and each container's run time.
  const calibrationOptions = configuration.pod(freshVolume(), 'dash');
  const calibration = await run(configuration, calibrationOptions, () => undefined);
  if (calibration.result.exitCode !== 0 || calibration.sha256 !== configuration.expected.sha256) {
    figures.failures.push(`${configuration.name}: the uninterrupted run did not seed the expected disk: ${calibration.result.output}`);
    return figures;
  }
  const runTimes = new RunTimes();
  runTimes.record(calibration.result.containers);
  const before = await statesBefore(configuration);

  // The draws come first, from the seeded PRNG alone: the same seed replays the same sequence.
  const draws: Draw[] = [];
  // Generous: on a loaded machine more draws come after their container ended (not kills).
  for (let i = 0; i < 12 * KILLS; i++) {
    const pick = random();
    const hasTools = configuration.containers.includes('seed-tools');
    // seed-tools is a small share of the draws when there is one: it has one kill point that
    // matters (its copy and links), the others have many.
    const container = hasTools && pick < 0.15 ? 'seed-tools'
      : configuration.containers.filter((c) => c !== 'seed-tools')[Math.floor(random() * (configuration.containers.length - (hasTools ? 1 : 0)))];
    const shell = SHELLS[Math.floor(random() * SHELLS.length)];
    const kind = random();
    const when: Draw['when'] = container === 'seed-tools' || kind < 1 / 3 ? 'delay' : kind < 2 / 3 ? 'staging' : 'lock';
    draws.push({ container, shell, when, share: random() });
  }

  let next = 0;
  const worker = async () => {
    while (figures.kills < KILLS && next < draws.length) {
      const index = next++;
      figures.draws++;
      const draw = draws[index];
      const options = await podFrom(configuration, before.get(`${draw.container} ${draw.shell}`), draw);
      const limit = runTimes.of(draw.container);
      const delayMs = Math.round(draw.share * (draw.when === 'lock' ? limit / 2 : 0.6 * limit));
      const outcome = await run(configuration, options, (pod, volume) => killAt(pod, volume, draw, delayMs));
      runTimes.record(outcome.result.containers);
      const killed = outcome.result.attempts(draw.container)[0];
      if (outcome.result.killed || killed?.signal !== 'SIGKILL' || figures.kills >= KILLS) continue; // it had finished: not a kill
      figures.kills++;
      figures.perContainer[draw.container] = (figures.perContainer[draw.container] ?? 0) + 1;
      const landed = lastLogLine(killed);
      figures.landedAfter[landed] = (figures.landedAfter[landed] ?? 0) + 1;
      const problems = [
        ...outcome.afterKill,
        ...(outcome.result.exitCode !== 0 ? [`the pod did not converge (exit ${outcome.result.exitCode}): ${outcome.result.output.slice(-1500)}`] : []),
        ...(outcome.sha256 !== configuration.expected.sha256 ? [`the disk is ${outcome.sha256 ?? 'missing'}, expected ${configuration.expected.sha256} (${configuration.expected.source})`] : []),
        ...(outcome.source !== configuration.expected.source ? [`the record names source ${outcome.source}, expected ${configuration.expected.source}`] : []),
        ...(outcome.leftovers.length > 0 ? [`left on the volume: ${outcome.leftovers.join(' ')}`] : []),
        ...(outcome.sound ? [] : ['the disk fails qemu-img check']),
      ];
      if (problems.length === 0) {
        figures.converged++;
      } else {
        figures.failures.push(`${configuration.name}, draw ${index} ${JSON.stringify({ ...draw, delayMs })} (killed after "${landed}"): ${problems.join('; ')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return figures;
}

/** The volumes as the init containers before one left them, in an uninterrupted run under one shell. */
interface StateBefore {
  readonly disk: string;
  readonly tools?: string;
}

/**
 * For each init container after the first and each shell: the volumes as the ones before it left
 * them, from one uninterrupted run of those. A pod killed in a later container starts there and
 * runs from that container on (the earlier ones completed, as in a pod restarted alone), instead
 * of running the earlier ones again for every draw; they are killed on their own draws.
 */
async function statesBefore(configuration: Configuration): Promise<Map<string, StateBefore>> {
  const states = new Map<string, StateBefore>();
  for (const [index, container] of configuration.containers.entries()) {
    if (index === 0) continue;
    for (const shell of SHELLS) {
      const options = configuration.pod(freshVolume(), shell);
      const result = await runPod({ ...options, initContainers: configuration.containers.slice(0, index) });
      if (result.exitCode !== 0) throw new Error(`${configuration.name}: the containers before ${container} failed: ${result.output}`);
      states.set(`${container} ${shell}`, { disk: options.volumes!.disk, tools: options.volumes!['seed-tools'] });
    }
  }
  return states;
}

/**
 * Child processes without blocking the event loop: the kills of the other pods in flight are
 * timers on it, and a synchronous cp or qemu-img here made them land late, after their container.
 */
const run$ = promisify(execFile);

/** The drawn pod: whole, or from the drawn container on, its volumes a copy of the state before it. */
async function podFrom(configuration: Configuration, before: StateBefore | undefined, draw: Draw): Promise<PodRunOptions> {
  const base = configuration.pod(freshVolume(), draw.shell);
  if (!before) return base;
  // cp -a: the files keep the owners and modes the earlier containers gave them.
  const disk = path.join(tempDir('disk-before-'), 'disk');
  await run$('cp', ['-a', before.disk, disk]);
  return {
    ...base,
    initContainers: configuration.containers.slice(configuration.containers.indexOf(draw.container)),
    volumes: { ...base.volumes, disk, ...(before.tools ? { 'seed-tools': before.tools } : {}) },
  };
}

interface Outcome {
  result: Awaited<RunningPod['done']>;
  sha256?: string;
  source?: string;
  leftovers: string[];
  sound: boolean;
  /** What was wrong on the volume right after the kill, before the restart. */
  afterKill: string[];
}

/** One pod, init containers restarted once when they fail; `act` may kill one. */
async function run(configuration: Configuration, options: PodRunOptions,
  act: (pod: RunningPod, volume: string) => Promise<void> | void): Promise<Outcome> {
  const volume = options.volumes!.disk;
  const disk = path.join(volume, DISK);
  const afterKill: string[] = [];
  const pod = startPod({
    ...options,
    restartFailed: 1,
    // Right after the kill: the target is absent or the complete image (never a partial one).
    beforeRestart: () => {
      if (fs.existsSync(disk) && sha256Of(disk) !== configuration.expected.sha256) afterKill.push('after the kill the target held an incomplete or wrong image');
    },
  });
  await act(pod, volume);
  const result = await pod.done;
  const present = fs.existsSync(disk);
  const outcome: Outcome = {
    result,
    sha256: present ? sha256Of(disk) : undefined,
    source: fs.existsSync(`${disk}.seed-info`) ? recordOf(volume).source : undefined,
    leftovers: leftovers(volume),
    sound: present && await run$('qemu-img', ['check', '-q', '-f', 'qcow2', disk]).then(() => true, () => false),
    afterKill,
  };
  await fs.promises.rm(volume, { recursive: true, force: true });
  return outcome;
}

/** A staging file (or the registry-client's fetch directory), not the lock or probe made under the same prefix. */
const STAGING_NAME = /^\.win98\.qcow2\.seeding\.[^.]+\.\d+\.[0-9a-f]+(\.fetch)?$/;

/** Kills the drawn container (SIGKILL to its process group) at the drawn moment, if it is still running. */
async function killAt(pod: RunningPod, volume: string, draw: Draw, delayMs: number): Promise<void> {
  const running = () => pod.currentContainer === draw.container;
  if (!(await poll(() => running() || pod.currentContainer === undefined, 20_000)) || !running()) return;
  const has = (test: (name: string) => boolean) => () => !running() || fs.readdirSync(volume).some(test);
  if (draw.when === 'staging') {
    await poll(has((name) => STAGING_NAME.test(name)), 5_000);
  } else if (draw.when === 'lock') {
    await poll(has((name) => name === `.${DISK}.lock`), 5_000);
  }
  if (draw.when !== 'staging' && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  // Too late: the container has ended, so this draw is no kill; the rest of the pod need not run.
  if (running()) pod.signal('SIGKILL'); else pod.kill();
}

/**
 * Polls every millisecond (a copy of a few MiB takes some milliseconds); false on timeout. Not
 * setImmediate: eight loops spinning on it kept a core busy and starved the pods they watch.
 */
async function poll(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
}

/** The last line the container logged, up to its first numbers (where the kill landed). */
function lastLogLine(result: ContainerResult): string {
  const lines = result.stdout.split('\n').filter(Boolean);
  const last = lines[lines.length - 1];
  if (!last) return '(before any output)';
  return last.replace(/^(seed-disk|install-seed-tools|fetch-snapshot): /, '').replace(/[/(\d].*$/, '').trim() || last.slice(0, 40);
}
