/**
 * Disk topologies at scale (issue 6): seeds N = 1, 3 and 9 replicas from a 1 GiB base holding
 * random data, for each topology, running the synthesized init containers (and the seeding Job)
 * with test/harness/pod-runner, under both pod management policies: OrderedReady (Kubernetes'
 * default: one replica after the other) and Parallel (all replicas at once). Prints the bytes the
 * seeders wrote (allocated on the volumes afterwards) and the wall time. Goal for the shared
 * read-only base: bytes at most base + N x 1 MiB, and N = 9 at most 1.2x the time of N = 1.
 *
 * Golden clone: the claims arrive filled by the storage driver (simulated here with a reflink or
 * copy that is not counted), so the seeders write nothing; its time is the seeders' check alone.
 *
 * Run as root: `npm run bench`, or `node -r ts-node/register/transpile-only bench/topologies.bench.ts`.
 * TOPOLOGY_BENCH_MIB changes the base size (default 1024).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { CloneSource, ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, EmulatorDiskKind, PodManagementPolicy, QemuStatefulSet } from '../lib';
import { K8sObject, runPod } from '../test/harness/pod-runner';
import { allocatedBytes, makeQcow2 } from '../test/harness/qcow2';

const MIB = Number(process.env.TOPOLOGY_BENCH_MIB ?? 1024);
const IMAGE = 'qemu-loco:v1';
const COUNTS = [1, 3, 9];

const TOPOLOGIES: { name: string; kind: EmulatorDiskKind; volume: DiskVolume }[] = [
  { name: 'shared claim', kind: EmulatorDiskKind.CLAIM, volume: DiskVolume.newClaim() },
  { name: 'claim per replica', kind: EmulatorDiskKind.CLAIM_PER_REPLICA, volume: DiskVolume.claimPerReplica() },
  { name: 'shared read-only base', kind: EmulatorDiskKind.SHARED_BASE, volume: DiskVolume.sharedBase() },
  { name: 'golden clone', kind: EmulatorDiskKind.GOLDEN_CLONE, volume: DiskVolume.goldenClone(CloneSource.fromClaim('golden')) },
];

function chart(volume: DiskVolume, replicas: number, podManagementPolicy: PodManagementPolicy): K8sObject[] {
  const scope = new Chart(Testing.app(), 'bench');
  const disk = new EmulatorDisk(scope, 'Disk', { volume });
  const seeder = new DiskSeeder(scope, 'Seeder', { disk, image: ContainerImage.fromReference(IMAGE) });
  new QemuStatefulSet(scope, 'Emulator', {
    disk, seeder, image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas,
    scheduling: { podManagementPolicy, sharedClaimOnOneNode: disk.kind === EmulatorDiskKind.CLAIM ? true : undefined },
  });
  return Testing.synth(scope) as K8sObject[];
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-bench-'));
  try {
    const builtinDir = path.join(root, 'image');
    fs.mkdirSync(builtinDir);
    const builtin = path.join(builtinDir, 'win98.qcow2.builtin');
    makeQcow2(builtin, MIB << 20);
    const baseBytes = allocatedBytes(builtinDir);
    const images = { [IMAGE]: { files: { '/opt/builtin-images': builtinDir } } };
    console.log(`base: ${(baseBytes / 2 ** 20).toFixed(0)} MiB of random data in a qcow2`);
    console.log('topology               | pods         |  N | seeders wrote (MiB) | limit base+N MiB | wall time (s)');

    const times: Record<string, Record<number, number>> = {};
    for (const policy of [PodManagementPolicy.ORDERED_READY, PodManagementPolicy.PARALLEL]) for (const topology of TOPOLOGIES) {
      const key = `${topology.name}, ${policy}`;
      times[key] = {};
      for (const n of COUNTS) {
        const runDir = fs.mkdtempSync(path.join(root, 'run-'));
        const objects = chart(topology.volume, n, policy);
        const volumes: string[] = [];
        const newVolume = (name: string) => {
          const dir = path.join(runDir, name);
          fs.mkdirSync(dir);
          volumes.push(dir);
          return dir;
        };
        // Claims cloned by the storage driver exist, filled, before any pod starts: not timed, not counted.
        const cloned: string[] = [];
        if (topology.kind === EmulatorDiskKind.GOLDEN_CLONE) {
          for (let ordinal = 0; ordinal < n; ordinal++) {
            const dir = path.join(runDir, `clone-${ordinal}`);
            fs.mkdirSync(dir);
            execFileSync('cp', ['--reflink=auto', builtin, path.join(dir, 'win98.qcow2')]);
            cloned.push(dir);
          }
        }
        const shared = topology.kind === EmulatorDiskKind.CLAIM ? newVolume('shared') : undefined;
        const base = topology.kind === EmulatorDiskKind.SHARED_BASE ? newVolume('base') : undefined;

        const started = process.hrtime.bigint();
        if (base) {
          const jobName = objects.find((object) => object.kind === 'Job')!.metadata.name!;
          const job = await runPod({ objects, workload: jobName, shell: 'busybox', volumes: { base }, images, timeoutMs: 600_000 });
          if (job.exitCode !== 0) throw new Error(`seeding Job failed: ${job.output}`);
        }
        const replica = async (ordinal: number) => {
          const disk = shared ?? cloned[ordinal] ?? newVolume(`replica-${ordinal}`);
          const result = await runPod({
            objects, workload: 'qemu-emulator', shell: 'busybox', images, timeoutMs: 600_000,
            volumes: base ? { base, disk } : { disk },
            pod: { name: `qemu-emulator-${ordinal}` },
          });
          if (result.exitCode !== 0) throw new Error(`replica ${ordinal} failed: ${result.output}`);
        };
        const ordinals = [...Array(n).keys()];
        if (policy === PodManagementPolicy.PARALLEL) {
          await Promise.all(ordinals.map(replica));
        } else {
          for (const ordinal of ordinals) await replica(ordinal);
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const written = volumes.reduce((sum, dir) => sum + allocatedBytes(dir), 0);
        times[key][n] = seconds;
        const limit = topology.kind === EmulatorDiskKind.SHARED_BASE ? `${((baseBytes + n * 2 ** 20) / 2 ** 20).toFixed(0)}` : '-';
        console.log(`${topology.name.padEnd(22)} | ${policy.padEnd(12)} | ${String(n).padStart(2)} | ${(written / 2 ** 20).toFixed(1).padStart(19)} | ${limit.padStart(16)} | ${seconds.toFixed(2).padStart(13)}`);
        fs.rmSync(runDir, { recursive: true, force: true });
      }
    }
    for (const policy of [PodManagementPolicy.ORDERED_READY, PodManagementPolicy.PARALLEL]) {
      const sharedBase = times[`shared read-only base, ${policy}`];
      console.log(`shared read-only base, ${policy}: N=9 / N=1 wall time = ${(sharedBase[9] / sharedBase[1]).toFixed(2)}x (goal <= 1.2x)`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
