// kill -9 of the seeder at random points, 30 times, each followed by a clean re-run (the kubelet
// restarting the init container in the same pod): after every kill the target is absent or a
// complete image, after every re-run it is complete and valid, and nothing is left behind.
import * as fs from 'fs';
import * as path from 'path';
import { SHELLS } from '../harness/pod-runner';
import { cleanupDirs, qemuImgCheckPasses, sha256Of } from '../harness/qcow2';
import { DISK, emulatorImage, freshVolume, leftovers, seed, seederChart, startSeed } from './seeding';

jest.setTimeout(180_000);
afterAll(cleanupDirs);

const ITERATIONS = 30;

/** What a kill left on the volume. */
type Phase = 'nothing' | 'lock only' | 'partial copy' | 'full copy, not linked' | 'disk in place' | 'finished before the kill';

test(`${ITERATIONS} kills at random points, each followed by a clean re-run`, async () => {
  const objects = seederChart();
  const image = emulatorImage({ bytes: 16 << 20 });
  const expected = sha256Of(image.builtin);
  const sourceSize = fs.statSync(image.builtin).size;
  const phases: Phase[] = [];

  for (let i = 0; i < ITERATIONS; i++) {
    const shell = SHELLS[i % SHELLS.length];
    const volume = freshVolume();
    const uid = `pod-uid-${i}`;
    const pod = startSeed(objects, shell, volume, image.dir, { pod: { uid } });
    // Three kinds of random point: anywhere in the run; when the copy has reached a random
    // fraction of the image; a random moment after the copy (verify, flush, link, record).
    if (i % 3 === 0) {
      await sleep(Math.random() * 150);
    } else if (i % 3 === 1) {
      const fraction = Math.random();
      await waitUntil(() => stagingSize(volume) >= fraction * sourceSize || fs.existsSync(path.join(volume, DISK)), 10_000);
    } else {
      await waitUntil(() => stagingSize(volume) >= sourceSize - SLACK || fs.existsSync(path.join(volume, DISK)), 10_000);
      await sleep(Math.random() * 20);
    }
    pod.kill();
    const killed = await pod.done;

    // After the kill: the target is absent or complete.
    const disk = path.join(volume, DISK);
    const names = fs.readdirSync(volume);
    const staging = names.filter((name) => /^\.win98\.qcow2\.seeding\.[^.]+\.\d+\.[0-9a-f]+$/.test(name));
    if (fs.existsSync(disk)) {
      expect(sha256Of(disk)).toBe(expected);
      phases.push(killed.exitCode === 0 ? 'finished before the kill' : 'disk in place');
    } else if (staging.length > 0) {
      phases.push(copiedBytes(path.join(volume, staging[0])) < sourceSize - SLACK ? 'partial copy' : 'full copy, not linked');
    } else {
      phases.push(names.length > 0 ? 'lock only' : 'nothing');
    }

    // The clean re-run: same pod, so the dead attempt's lock is taken over at once.
    const rerun = await seed(objects, shell, volume, image.dir, { pod: { uid } });
    // On failure, show what the re-run printed and how it ended.
    const outcome = rerun.exitCode === 0 ? {} : { output: rerun.output, signal: rerun.containers.at(-1)?.signal, timedOut: rerun.containers.at(-1)?.timedOut };
    expect({ iteration: i, exitCode: rerun.exitCode, ...outcome }).toEqual({ iteration: i, exitCode: 0 });
    expect(sha256Of(disk)).toBe(expected);
    expect(qemuImgCheckPasses(disk)).toBe(true);
    expect(leftovers(volume)).toEqual([]);
    fs.rmSync(volume, { recursive: true, force: true });
  }

  const counts = phases.reduce<Record<string, number>>((acc, phase) => ({ ...acc, [phase]: (acc[phase] ?? 0) + 1 }), {});
  // eslint-disable-next-line no-console
  console.log(`kill points over ${ITERATIONS} iterations: ${JSON.stringify(counts)}`);
  // The kills landed in the copy itself, the moment a non-atomic seeder would corrupt the disk.
  expect(counts['partial copy'] ?? 0).toBeGreaterThan(0);
});

/**
 * The copy keeps holes (seed-disk.sh's sparse copier), so a complete staging file may have up to
 * this many bytes fewer allocated than the source: the zero parts of the qcow2 metadata clusters.
 */
const SLACK = 1 << 20;

/** Bytes written to a file so far: the smaller of its size and its allocation (a sparse copier sets the size first). */
function copiedBytes(file: string): number {
  const stat = fs.statSync(file);
  return Math.min(stat.size, stat.blocks * 512);
}

/** Bytes copied to the staging file on the volume (0 when there is none). */
function stagingSize(volume: string): number {
  for (const name of fs.readdirSync(volume)) {
    if (/^\.win98\.qcow2\.seeding\.[^.]+\.\d+\.[0-9a-f]+$/.test(name)) {
      try {
        return copiedBytes(path.join(volume, name));
      } catch {
        return 0;
      }
    }
  }
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls without yielding to timers (a setTimeout round trip is too slow for a copy of milliseconds). */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
