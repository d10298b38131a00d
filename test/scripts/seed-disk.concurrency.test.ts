// Invariant 5: several seeders on one volume. Exactly one copies (counted from the kernel's
// inotify events on the volume, not from the script's word), the others wait and succeed; a dead
// holder does not block forever; a live one is waited for, within a bound, with a clear error.
// Invariant 7's progress lines are checked on a copy held still with SIGSTOP.
import * as fs from 'fs';
import * as path from 'path';
import { ContainerProcess, RunningPod, SHELLS, waitFor } from '../harness/pod-runner';
import { cleanupDirs, qemuImgCheckPasses, sha256Of } from '../harness/qcow2';
import { DISK, emulatorImage, failureLine, freshVolume, leftovers, seed, seederChart, startSeed } from './seeding';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const STAGING = /^\.win98\.qcow2\.seeding\.[^.]+\.\d+\.[0-9a-f]+$/;

test('8 seeders started together on one volume: one copy, one valid image, all exit 0', async () => {
  const objects = seederChart();
  // A copy that takes a moment, so that the eight really race for the lock.
  const image = emulatorImage({ bytes: 6 << 20 });
  const volume = freshVolume();
  const created = new Set<string>();
  const watcher = fs.watch(volume, (_event, name) => {
    if (name && STAGING.test(String(name))) created.add(String(name));
  });

  const pods = Array.from({ length: 8 }, (_, i) => startSeed(objects, SHELLS[i % 2], volume, image.dir, {
    pod: { name: `loco-emulator-${i}`, uid: `uid-${i}` },
  }));
  const results = await Promise.all(pods.map((pod) => pod.done));
  await new Promise((resolve) => setTimeout(resolve, 50));
  watcher.close();

  expect(results.map((result) => result.exitCode)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
  expect(qemuImgCheckPasses(path.join(volume, DISK))).toBe(true);
  expect(leftovers(volume)).toEqual([]);
  // One staging file was ever created on the volume: one copy.
  expect([...created]).toHaveLength(1);
  const copiers = results.filter((result) => result.output.includes('builtin: copying /opt/builtin-images/win98.qcow2.builtin'));
  expect(copiers).toHaveLength(1);
  // The kernel's record and the logs agree on who copied: the staging file carries its pod name.
  expect([...created][0]).toContain(`.loco-emulator-${results.indexOf(copiers[0])}.`);
  for (const result of results.filter((r) => r !== copiers[0])) {
    expect(result.output).toMatch(/another seeder placed \/images\/win98\.qcow2 while this one waited|disk image already present, keeping it as it is/);
  }
});

describe.each(SHELLS)('under %s', (shell) => {
  test('a lock whose holder died on another node is taken over once its heartbeat has been silent for lockStaleSeconds', async () => {
    const objects = seederChart({ lockStaleSeconds: 3 });
    const image = emulatorImage();
    const volume = freshVolume();
    const lock = path.join(volume, `.${DISK}.lock`);
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'owner'), 'pod=loco-emulator-3 uid=other-node-pod id=loco-emulator-3.1.cafe beat=7\n');
    fs.writeFileSync(path.join(volume, `.${DISK}.seeding.loco-emulator-3.1.cafe`), 'half a copy');
    const started = Date.now();

    const result = await seed(objects, shell, volume, image.dir);

    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(0);
    // At least lockStaleSeconds; the waiter checks once a second, so on a loaded machine it may see a few more.
    expect(result.output).toMatch(/taking over the seeding lock: no heartbeat for [3-6] s \(pod=loco-emulator-3 uid=other-node-pod/);
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(10);
    expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
    expect(leftovers(volume)).toEqual([]);
  });

  test('a live holder is waited for up to lockTimeoutSeconds, then a clear error; its copy logs progress and completes', async () => {
    // Big enough that the copy is still running when the test looks for it, even on a busy machine.
    const image = emulatorImage({ bytes: 128 << 20 });
    // Hold the copy still (as a slow network volume would): the holder's shell and heartbeat go on.
    // The copier: cp here (the image is dense), qemu-img convert for a sparse one; not qemu-img's
    // check at the commit. On a loaded machine the copy can be over before it is seen: then the
    // holder is stopped and started again on a fresh volume (the case needs a copy in progress).
    const isCopier = (p: { pid: number; comm: string }) => p.comm === 'cp' || (p.comm === 'qemu-img' && commandLine(p.pid).includes('convert'));
    let caught: { holder: RunningPod; volume: string; copy: ContainerProcess } | undefined;
    for (let attempt = 1; attempt <= 5 && !caught; attempt++) {
      const volume = freshVolume();
      const holder = startSeed(seederChart({ progressIntervalSeconds: 1 }), shell, volume, image.dir, { pod: { name: 'loco-emulator-0' } });
      await waitFor(() => fs.readdirSync(volume).some((name) => STAGING.test(name)) || fs.existsSync(path.join(volume, DISK)), 10_000, 'the holder to start copying');
      await waitFor(() => holder.processes().some(isCopier) || fs.existsSync(path.join(volume, DISK)) || holder.currentContainer === undefined, 10_000, 'the copy process');
      const copy = holder.processes().find(isCopier);
      if (copy) {
        process.kill(copy.pid, 'SIGSTOP');
        caught = { holder, volume, copy };
      } else {
        holder.kill();
        await holder.done;
      }
    }
    if (!caught) throw new Error('the copy was over before it could be held, 5 times');
    const { holder, volume, copy } = caught;
    try {
      const waiter = await seed(seederChart({ lockTimeoutSeconds: 2, lockStaleSeconds: 3 }), shell, volume, image.dir, { pod: { name: 'loco-emulator-1' } });

      expect(waiter.exitCode).toBe(1);
      expect(failureLine(waiter)).toMatch(/^seed-disk: FAILED: waited [2-5] s for the seeding lock \/images\/\.win98\.qcow2\.lock, still held by a live seeder \(pod=loco-emulator-0 uid=\S+ id=loco-emulator-0\.\d+\.[0-9a-f]+ beat=\d+\); it is still copying or verifying\. What to do: let the pod restart and wait longer, or raise lockTimeoutSeconds/);
      expect(fs.existsSync(path.join(volume, DISK))).toBe(false);
    } finally {
      process.kill(copy.pid, 'SIGCONT');
    }
    const held = await holder.done;

    expect(held.exitCode).toBe(0);
    const progress = [...held.output.matchAll(/builtin: copying: (\d+) of (\d+) bytes \((\d+)%, \d+ MiB of \d+ MiB\) after \d+ s/g)];
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const [, done, total, percent] = progress[0];
    expect(Number(done)).toBeLessThan(Number(total));
    expect(Number(percent)).toBe(Math.floor(Number(done) * 100 / Number(total)));
    expect(sha256Of(path.join(volume, DISK))).toBe(sha256Of(image.builtin));
    expect(leftovers(volume)).toEqual([]);
  });
});

/** A process's arguments ('' once it has gone). */
function commandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
