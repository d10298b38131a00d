// The harness itself: what the seeding tests rely on it for (the shell, the tools, the user, the
// read-only root, the volumes, the downward API, kill and timeout) checked from inside a pod.
import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import * as fs from 'fs';
import * as path from 'path';
import { kubeLiteral } from '../../lib/validation';
import { expandReferences, K8sObject, runPod, Shell, startPod, waitFor } from './pod-runner';
import { cleanupDirs, tempDir } from './qcow2';

jest.setTimeout(30_000);
afterAll(cleanupDirs);

/** A Job whose one init container runs `script` with the restricted securityContext of the seeder. */
function job(script: string): K8sObject[] {
  const chart = new Chart(Testing.app(), 'harness');
  const configMap = new k8s.KubeConfigMap(chart, 'Script', { data: { 'probe.sh': script } });
  new k8s.KubeJob(chart, 'Job', {
    metadata: { name: 'probe' },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          securityContext: { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' },
          initContainers: [{
            name: 'probe',
            image: 'probe:v1',
            command: ['/bin/sh', '/scripts/probe.sh'],
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'MESSAGE', value: '$(GREETING) world' },
              { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'MY_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
              { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scripts', mountPath: '/scripts' }],
            securityContext: {
              runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
            },
          }],
          containers: [{ name: 'main', image: 'probe:v1', command: ['/bin/sh', '-c', 'true'] }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'scripts', configMap: { name: configMap.name, defaultMode: 0o555 } }],
        },
      },
    },
  });
  return Testing.synth(chart) as K8sObject[];
}

function run(script: string, shell: Shell = 'busybox', data = tempDir('data-')) {
  return runPod({ objects: job(script), shell, volumes: { data }, pod: { uid: 'uid-1', podIP: '10.1.2.3' } });
}

test.each([['busybox', /^random=\d+$/m], ['dash', /^random=unset$/m]] as const)('/bin/sh is the shell under test: %s', async (shell, expected) => {
  const result = await run('echo "random=${RANDOM:-unset}"', shell);
  expect(result.exitCode).toBe(0);
  expect(result.output).toMatch(expected);
});

test("the script's commands are busybox applets, and qemu-img is on PATH", async () => {
  const result = await run('readlink "$(command -v cp)"; command -v qemu-img; cp --help 2>&1 | head -1', 'dash');
  expect(result.output.split('\n').slice(0, 3)).toEqual(['/.harness/busybox', '/.harness/qemu/qemu-img', expect.stringMatching(/^BusyBox v1\.35/)]);
});

test('runs as runAsUser with the fsGroup, a read-only root and a writable, group-owned volume', async () => {
  const data = tempDir('data-');
  const result = await run('id -u; id -G; touch /tmp/x 2>/dev/null && echo root-writable; touch /data/file && echo volume-writable', 'dash', data);
  expect(result.output.split('\n').slice(0, 3)).toEqual(['1000', '0 2000', 'volume-writable']);
  expect(fs.statSync(path.join(data, 'file')).gid).toBe(2000);
  expect(fs.statSync(data).mode & 0o7777).toBe(0o2775);
});

test('env: values, $(VAR) references and the downward API', async () => {
  const result = await run('echo "$MESSAGE|$MY_POD|$MY_UID|$MY_IP|$HOSTNAME"');
  expect(result.output.trim()).toBe('hello world|probe-0|uid-1|10.1.2.3|probe-0');
});

// The cases of k8s.io/kubernetes third_party/forked/golang/expansion/expand_test.go
// (doExpansionTest), with its context: the harness must expand as the kubelet does.
describe('$(VAR) expansion, rule for rule as the kubelet', () => {
  const context = new Map(Object.entries({ VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' }));
  test.each([
    ['$(VAR_A)', 'A'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_C)_______$(', 'C_______$('],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['--$($($($($--', '--$($($($($--'],
    ['$($($($($--foo$(', '$($($($($--foo$('],
    ['$(foo$$var)', '$(foo$$var)'],
    ['\n', '\n'],
  ])('%j expands to %j', (input, expected) => {
    expect(expandReferences(input, context)).toBe(expected);
  });

  test.each(['$(VAR_A)', '$$(VAR_A)', 'a$b', '$$', '$', '$$$(VAR_B)x$', '$(VAR_A$(VAR_B))', 'cost: $5 (each)', '$((1+2))'])(
    "kubeLiteral(%j) comes out of the kubelet's expansion as written", (text) => {
      expect(expandReferences(kubeLiteral(text), context)).toBe(text);
    });
});

test('env: a value only sees the entries declared before it; the command sees them all, not PATH', async () => {
  const chart = new Chart(Testing.app(), 'harness');
  new k8s.KubeJob(chart, 'Job', {
    metadata: { name: 'order' },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'main', image: 'probe:v1',
            command: ['/bin/sh', '-c', 'echo "$EARLY|$LATE|$1|$2"', 'sh', '$(LATE)', '$(PATH)'],
            env: [{ name: 'EARLY', value: '[$(LATE)]' }, { name: 'LATE', value: 'late' }],
          }],
        },
      },
    },
  });
  const result = await runPod({ objects: Testing.synth(chart) as K8sObject[], shell: 'dash' });
  expect(result.output.trim()).toBe('[$(LATE)]|late|late|$(PATH)');
});

test('ConfigMap volumes carry the synthesized data with its defaultMode', async () => {
  const result = await run('stat -c %a /scripts/probe.sh; cat /scripts/probe.sh | head -1');
  expect(result.output.split('\n').slice(0, 2)).toEqual(['555', 'stat -c %a /scripts/probe.sh; cat /scripts/probe.sh | head -1']);
});

test('read-only binds are read-only: the ConfigMap volume, the libraries, the shell', async () => {
  const result = await run('for f in /scripts/x /usr/lib/x /bin/sh; do (true > $f) 2>/dev/null && echo "$f writable" || echo "$f read-only"; done', 'dash');
  expect(result.output.split('\n').slice(0, 3)).toEqual(['/scripts/x read-only', '/usr/lib/x read-only', '/bin/sh read-only']);
});

test('kill() kills the whole process group, background jobs included', async () => {
  const pod = startPod({ objects: job('sleep 30 & sleep 30 & wait'), shell: 'busybox', volumes: { data: tempDir('data-') } });
  await waitFor(() => pod.processes().filter((p) => p.comm === 'sleep').length === 2, 10_000, 'two sleeps');
  const pids = pod.processes().map((p) => p.pid);
  const started = Date.now();
  pod.kill();
  const result = await pod.done;
  expect(result.killed).toBe(true);
  expect(result.exitCode).toBeNull();
  expect(Date.now() - started).toBeLessThan(5_000);
  // Gone, once init has reaped them.
  await waitFor(() => pids.every((pid) => !fs.existsSync(`/proc/${pid}`)), 5_000, 'the killed processes to disappear');
});

test('a container that runs past the timeout is killed and reported', async () => {
  const result = await runPod({ objects: job('sleep 30'), shell: 'dash', volumes: { data: tempDir('data-') }, timeoutMs: 500 });
  expect(result.containers[0]).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
});

/** A Job with two init containers: `first` appends to /data/first.log, then `second` runs `script`. */
function twoStepJob(script: string): K8sObject[] {
  const chart = new Chart(Testing.app(), 'harness');
  const configMap = new k8s.KubeConfigMap(chart, 'Script', { data: { 'second.sh': script } });
  const step = (name: string, command: string[]) => ({
    name, image: 'probe:v1', command,
    env: [{ name: 'MY_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }],
    volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scripts', mountPath: '/scripts' }],
  });
  new k8s.KubeJob(chart, 'Job', {
    metadata: { name: 'steps' },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          initContainers: [
            step('first', ['/bin/sh', '-c', 'echo "first $MY_UID" >> /data/first.log']),
            step('second', ['/bin/sh', '/scripts/second.sh']),
          ],
          containers: [{ name: 'main', image: 'probe:v1', command: ['/bin/sh', '-c', 'true'] }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'scripts', configMap: { name: configMap.name, defaultMode: 0o555 } }],
        },
      },
    },
  });
  return Testing.synth(chart) as K8sObject[];
}

describe('restartFailed: the kubelet restarts a failed init container alone', () => {
  // Fails on its first run, succeeds on the next: what an init container killed midway does.
  const failOnce = 'if [ -e /data/ran ]; then echo "second again $MY_UID"; else : > /data/ran; echo "second fails $MY_UID"; exit 3; fi';

  test('a failed container runs again in the same pod; the ones before it do not', async () => {
    const data = tempDir('data-');
    const result = await runPod({ objects: twoStepJob(failOnce), shell: 'dash', volumes: { data }, pod: { uid: 'uid-7' }, restartFailed: 2 });

    expect(result.containers.map((c) => [c.name, c.restartCount, c.exitCode])).toEqual([
      ['first', 0, 0], ['second', 0, 3], ['second', 1, 0], ['main', 0, 0],
    ]);
    expect(result.attempts('second').map((c) => c.stdout)).toEqual(['second fails uid-7\n', 'second again uid-7\n']);
    expect(result.container('second').restartCount).toBe(1);
    expect(fs.readFileSync(path.join(data, 'first.log'), 'utf8')).toBe('first uid-7\n');
    expect(result.exitCode).toBe(0);
  });

  test('a container killed with a signal is restarted alone, and the pod goes on', async () => {
    const data = tempDir('data-');
    const sleepOnce = 'if [ -e /data/ran ]; then echo restarted; else : > /data/ran; sleep 30; fi';
    const seen: string[][] = [];
    const pod = startPod({
      objects: twoStepJob(sleepOnce), shell: 'busybox', volumes: { data }, restartFailed: 1,
      beforeRestart: (failed) => seen.push([failed.name, String(failed.signal), fs.readdirSync(data).sort().join(' ')]),
    });
    await waitFor(() => pod.currentContainer === 'second' && pod.processes().some((p) => p.comm === 'sleep'), 10_000, 'the sleep');
    pod.signal('SIGKILL');
    const result = await pod.done;

    expect(result.containers.map((c) => [c.name, c.restartCount, c.signal])).toEqual([
      ['first', 0, null], ['second', 0, 'SIGKILL'], ['second', 1, null], ['main', 0, null],
    ]);
    expect(result.container('second').stdout).toBe('restarted\n');
    // beforeRestart saw the volume as the killed run left it.
    expect(seen).toEqual([['second', 'SIGKILL', 'first.log ran']]);
    expect(fs.readFileSync(path.join(data, 'first.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.killed).toBe(false);
  });

  test('without restartFailed, or past its count, the run stops at the failure', async () => {
    const alwaysFails = 'echo "try $MY_UID"; exit 4';
    const once = await runPod({ objects: twoStepJob(alwaysFails), shell: 'dash', volumes: { data: tempDir('data-') } });
    expect(once.containers.map((c) => [c.name, c.exitCode])).toEqual([['first', 0], ['second', 4]]);
    const twice = await runPod({ objects: twoStepJob(alwaysFails), shell: 'dash', volumes: { data: tempDir('data-') }, restartFailed: 1 });
    expect(twice.containers.map((c) => [c.name, c.restartCount, c.exitCode])).toEqual([['first', 0, 0], ['second', 0, 4], ['second', 1, 4]]);
    expect(twice.exitCode).toBe(4);
  });
});
