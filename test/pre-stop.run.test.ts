// The emulator's preStop hook run for real, as the kubelet runs it: the synthesized
// lifecycle.preStop command (sh on pre-stop.sh of the StatefulSet's scripts ConfigMap, mounted
// read-only at /qemu-scripts) in the emulator container's env, user and mounts, under busybox sh
// and dash, against a QMP server on a Unix socket that records what it is asked. socat is the QMP
// client and procps's pgrep finds QEMU (the emulator image ships both); a host process named
// qemu-system-i386 stands in for QEMU, seen through the host's /proc.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { ContainerImage, EmulatorDisk, QemuStatefulSet } from '../lib';
import { shippedScript } from '../lib/disk-seeder';
import { K8sObject, runPod, Shell, SHELLS } from './harness/pod-runner';
import { cleanupDirs, tempDir } from './harness/qcow2';

jest.setTimeout(60_000);
afterAll(cleanupDirs);

const IMAGE = 'qemu-loco:v1';

function emulatorObjects(): K8sObject[] {
  const chart = new Chart(Testing.app(), 'pre-stop');
  new QemuStatefulSet(chart, 'Emulator', { disk: new EmulatorDisk(chart, 'Disk'), image: ContainerImage.fromTag('qemu-loco', 'v1') });
  return Testing.synth(chart) as K8sObject[];
}

/**
 * The objects with the emulator's preStop command as the pod's one init container: the emulator's
 * env (socat first on PATH, the wait shortened to `waitSeconds`) and its mounts but the host
 * devices, plus a volume at /tmp, where QEMU's QMP socket is (pre-stop.sh's default).
 */
function withPreStopHook(objects: K8sObject[], waitSeconds: number): K8sObject[] {
  const copy = JSON.parse(JSON.stringify(objects)) as K8sObject[];
  const pod = copy.find((object) => object.kind === 'StatefulSet')!.spec.template.spec;
  const emulator = pod.containers[0];
  const env = [
    { name: 'PATH', value: '/usr/local/bin:/.harness/bin:/.harness/qemu' },
    ...emulator.env,
    { name: 'POWERDOWN_WAIT_SECONDS', value: String(waitSeconds) },
  ];
  const volumeMounts = [...emulator.volumeMounts.filter((mount: any) => !mount.name.startsWith('dev-')), { name: 'qmp', mountPath: '/tmp' }];
  pod.volumes = [...pod.volumes, { name: 'qmp', emptyDir: {} }];
  pod.initContainers = [{ ...emulator, name: 'pre-stop-hook', command: emulator.lifecycle.preStop.exec.command, env, volumeMounts, lifecycle: undefined }];
  return copy;
}

/** A QMP server on `<dir>/qemu-qmp.sock`: greets, answers every command, records them in order. */
class FakeQmp {
  public static async start(dir: string, onCommand: (command: string) => void = () => {}): Promise<FakeQmp> {
    const qmp = new FakeQmp(onCommand);
    const socket = path.join(dir, 'qemu-qmp.sock');
    await new Promise<void>((resolve, reject) => {
      qmp.server.once('error', reject);
      qmp.server.listen(socket, () => resolve());
    });
    fs.chmodSync(socket, 0o777);
    return qmp;
  }

  public readonly commands: string[] = [];
  private readonly server: net.Server;

  private constructor(onCommand: (command: string) => void) {
    this.server = net.createServer((client) => {
      client.on('error', () => client.destroy());
      client.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\r\n');
      let received = '';
      client.on('data', (chunk) => {
        received += chunk.toString();
        for (let match; (match = /\{"execute":"([a-z_]+)"\}/.exec(received));) {
          received = received.slice(match.index + match[0].length);
          this.commands.push(match[1]);
          onCommand(match[1]);
          client.write('{"return": {}}\r\n');
        }
      });
    });
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A host process whose command line reads `qemu-system-i386 ...`, as pgrep -f qemu-system sees QEMU. */
function fakeQemu(): { process: ChildProcess; exited: Promise<void> } {
  const process = spawn('sleep', ['60'], { argv0: 'qemu-system-i386', stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => process.once('exit', () => resolve()));
  return { process, exited };
}

function runHook(shell: Shell, qmpDir: string, waitSeconds = 5) {
  return runPod({
    objects: withPreStopHook(emulatorObjects(), waitSeconds),
    shell,
    volumes: { disk: tempDir('disk-'), qmp: qmpDir },
    // socat and procps's pgrep, as the emulator image has them (busybox 1.35's applets have no pgrep).
    images: { [IMAGE]: { files: { '/usr/local/bin/socat': '/usr/bin/socat', '/usr/local/bin/pgrep': '/usr/bin/pgrep', '/proc': '/proc' } } },
  });
}

test("the hook is pre-stop.sh of the StatefulSet's scripts ConfigMap, as shipped", () => {
  const objects = emulatorObjects();
  const pod = objects.find((object) => object.kind === 'StatefulSet')!.spec.template.spec;
  expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(['/bin/sh', '/qemu-scripts/pre-stop.sh']);
  const scripts = pod.volumes.find((volume: any) => volume.name === 'qemu-scripts').configMap.name;
  expect(objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === scripts)!.data['pre-stop.sh'])
    .toBe(shippedScript('pre-stop.sh'));
});

describe.each(SHELLS)('under %s', (shell) => {
  let qemu: ReturnType<typeof fakeQemu> | undefined;
  afterEach(async () => {
    qemu?.process.kill('SIGKILL');
    await qemu?.exited;
    qemu = undefined;
  });

  test('no QMP socket (QEMU never started): exits 0 at once', async () => {
    const started = Date.now();
    const result = await runHook(shell, tempDir('qmp-'));
    expect(result.exitCode).toBe(0);
    expect(result.output).toBe('');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('asks the guest to power down, waits while QEMU runs, and sends no quit once it has exited', async () => {
    qemu = fakeQemu();
    const running = qemu;
    // The guest takes 2 s to power down, then QEMU exits.
    const dir = tempDir('qmp-');
    const qmp = await FakeQmp.start(dir, (command) => {
      if (command === 'system_powerdown') setTimeout(() => running.process.kill('SIGTERM'), 2_000);
    });
    try {
      const started = Date.now();
      const result = await runHook(shell, dir, 20);
      expect(result.exitCode).toBe(0);
      expect(qmp.commands).toEqual(['qmp_capabilities', 'system_powerdown']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(running.process.exitCode ?? running.process.signalCode).not.toBeNull();
    } finally {
      await qmp.stop();
    }
  });

  test('a guest that does not power down within POWERDOWN_WAIT_SECONDS: asks QEMU to quit', async () => {
    qemu = fakeQemu();
    const dir = tempDir('qmp-');
    const qmp = await FakeQmp.start(dir);
    try {
      const result = await runHook(shell, dir, 1);
      expect(result.exitCode).toBe(0);
      expect(qmp.commands).toEqual(['qmp_capabilities', 'system_powerdown', 'qmp_capabilities', 'quit']);
    } finally {
      await qmp.stop();
    }
  });
});
