import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { formatFailure, ManifestValidator, SCHEMA_FILE, validateManifest } from '../lib/manifest-validator';

const SCHEMAS = join(__dirname, '..', 'schemas');

/** A small StatefulSet the API server accepts; each known-bad case below breaks one thing in it. */
function validStatefulSet(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'loco-emulator', labels: { 'app.kubernetes.io/name': 'loco' } },
    spec: {
      serviceName: 'loco-emulator',
      replicas: 2,
      selector: { matchLabels: { app: 'loco' } },
      template: {
        metadata: { labels: { app: 'loco' } },
        spec: {
          containers: [{
            name: 'emulator',
            image: 'qemu-loco:v1',
            ports: [{ name: 'vnc', containerPort: 5901, protocol: 'TCP' }],
            readinessProbe: { httpGet: { path: '/', port: 8080 } },
            livenessProbe: { httpGet: { path: '/', port: 'health' } },
            resources: { requests: { 'cpu': '500m', 'memory': '1Gi', 'devices.kubevirt.io/kvm': '1' }, limits: { 'cpu': 4, 'memory': '2Gi', 'devices.kubevirt.io/kvm': '1' } },
            volumeMounts: [{ name: 'disk', mountPath: '/images' }],
          }],
          volumes: [{ name: 'disk', emptyDir: { sizeLimit: '20Gi' } }],
        },
      },
    },
  };
}

function failuresOf(object: unknown): string[] {
  return validateManifest(object).map(formatFailure);
}

describe('the schema data', () => {
  test('is the published Kubernetes 1.28.0 document, unmodified, with its licence and notice beside it', () => {
    const hash = createHash('sha256').update(readFileSync(join(SCHEMAS, SCHEMA_FILE))).digest('hex');
    expect(hash).toBe('26005b7e779ea2fcbd87e4f23d76dc565eef8381c2287e149c676c03d48b0df6');
    expect(readFileSync(join(SCHEMAS, 'README.md'), 'utf8')).toContain(hash);
    expect(readFileSync(join(SCHEMAS, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(readFileSync(join(SCHEMAS, 'NOTICE'), 'utf8')).toContain('kubernetes-schemas/v1.28.0/_definitions.json');
    expect(existsSync(join(SCHEMAS, 'LICENSE'))).toBe(true);
  });

  test('gives the validator every kind this library synthesizes, by apiVersion and kind', () => {
    expect(ManifestValidator.shared().knownKinds).toEqual(expect.arrayContaining([
      'apps/v1/StatefulSet', 'v1/Service', 'v1/PersistentVolumeClaim', 'v1/PersistentVolume', 'v1/ConfigMap', 'batch/v1/Job',
    ]));
  });
});

describe('ManifestValidator', () => {
  test('is shared, so each kind compiles once per process', () => {
    expect(ManifestValidator.shared()).toBe(ManifestValidator.shared());
  });

  test('accepts a valid object: maps stay open (labels, resource names), int-or-string takes both, quantities as strings or numbers', () => {
    expect(failuresOf(validStatefulSet())).toEqual([]);
  });

  test.each([
    ['10Gi'], ['500m'], ['1.5Gi'], ['1e3'], ['2E-2'], ['+1'], ['0'], ['.5'], ['12'], ['1Ei'],
  ])('accepts the quantity %s', (quantity) => {
    const object = validStatefulSet();
    object.spec.template.spec.volumes[0].emptyDir.sizeLimit = quantity;
    expect(failuresOf(object)).toEqual([]);
  });

  // Each case breaks one thing; the validator must name it, at the right path, and nothing else.
  test.each<[string, (object: any) => void, string]>([
    ['an unknown top-level field', (o) => { o.status2 = {}; },
      'StatefulSet/loco-emulator: status2: unknown field "status2"'],
    ['an unknown field in a container', (o) => { o.spec.template.spec.containers[0].imagePullPolicyy = 'Always'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].imagePullPolicyy: unknown field "imagePullPolicyy"'],
    ['an unknown field in a security context', (o) => { o.spec.template.spec.containers[0].securityContext = { privilegd: true }; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].securityContext.privilegd: unknown field "privilegd"'],
    ['a string where an integer is required', (o) => { o.spec.replicas = '2'; },
      'StatefulSet/loco-emulator: spec.replicas: must be integer, not string "2"'],
    ['a string container port', (o) => { o.spec.template.spec.containers[0].ports[0].containerPort = '5901'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].ports[0].containerPort: must be integer, not string "5901"'],
    ['an integer out of int32 range', (o) => { o.spec.replicas = 2 ** 31; },
      'StatefulSet/loco-emulator: spec.replicas: 2147483648 is out of range: it must be a whole number from 0 to 2147483647'],
    ['a malformed quantity (10GB)', (o) => { o.spec.template.spec.containers[0].resources.limits.memory = '10GB'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].resources.limits.memory: "10GB" is not a quantity'],
    ['a malformed sizeLimit', (o) => { o.spec.template.spec.volumes[0].emptyDir.sizeLimit = '20 Gi'; },
      'StatefulSet/loco-emulator: spec.template.spec.volumes[0].emptyDir.sizeLimit: "20 Gi" is not a quantity'],
    ['a negative quantity', (o) => { o.spec.template.spec.volumes[0].emptyDir.sizeLimit = '-1Gi'; },
      'StatefulSet/loco-emulator: spec.template.spec.volumes[0].emptyDir.sizeLimit: -1Gi is negative'],
    ['a request above its limit', (o) => { o.spec.template.spec.containers[0].resources.requests.memory = '3Gi'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].resources.requests.memory: request 3Gi is above the limit 2Gi'],
    ['an int-or-string of another type', (o) => { o.spec.template.spec.containers[0].readinessProbe.httpGet.port = true; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].readinessProbe.httpGet.port: must be string or integer, not boolean true'],
    ['a bad object name', (o) => { o.metadata.name = 'Loco_Emulator'; },
      'StatefulSet/Loco_Emulator: metadata.name: "Loco_Emulator" is not a valid StatefulSet name: it must be a DNS-1123 subdomain'],
    ['a StatefulSet name too long for its pods\' revision label', (o) => { o.metadata.name = 'x'.repeat(53); },
      `StatefulSet/${'x'.repeat(53)}: metadata.name: "${'x'.repeat(53)}" has 53 characters; a StatefulSet name may have at most 52`],
    ['a bad namespace', (o) => { o.metadata.namespace = 'Games'; },
      'StatefulSet/loco-emulator: metadata.namespace: "Games" is not a valid namespace'],
    ['a bad label value', (o) => { o.spec.template.metadata.labels.tier = 'loco emulator'; },
      'StatefulSet/loco-emulator: spec.template.metadata.labels.tier: "loco emulator" is not a valid label value'],
    ['a bad label key', (o) => { o.metadata.labels['-bad/key'] = 'x'; },
      'StatefulSet/loco-emulator: metadata.labels["-bad/key"]: "-bad/key" is not a valid label key'],
    ['a missing required field', (o) => { delete o.spec.template.spec.containers[0].name; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].name: required field "name" is missing'],
    ['a bad container name', (o) => { o.spec.template.spec.containers[0].name = 'Emulator'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].name: "Emulator" is not a valid container name'],
    ['a port name longer than 15 characters', (o) => { o.spec.template.spec.containers[0].ports[0].name = 'vnc-display-port'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].ports[0].name: "vnc-display-port" is not a valid port name'],
    ['a mount of an undeclared volume', (o) => { o.spec.template.spec.containers[0].volumeMounts[0].name = 'disks'; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].volumeMounts[0].name: mounts volume "disks", which the pod does not declare'],
    ['a bad environment variable name', (o) => { o.spec.template.spec.containers[0].env = [{ name: '1DISK', value: 'x' }]; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].env[0].name: "1DISK" is not a valid environment variable name'],
    ['allowPrivilegeEscalation false with privileged', (o) => { o.spec.template.spec.containers[0].securityContext = { privileged: true, allowPrivilegeEscalation: false }; },
      'StatefulSet/loco-emulator: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: cannot be false while privileged is true'],
    ['a kind misspelt', (o) => { o.kind = 'Statefulset'; },
      'Statefulset/loco-emulator: apiVersion: Kubernetes 1.28.0 has no kind Statefulset in apiVersion apps/v1 (it has apps/v1 StatefulSet)'],
    ['a removed apiVersion', (o) => { o.apiVersion = 'apps/v1beta2'; },
      'StatefulSet/loco-emulator: apiVersion: Kubernetes 1.28.0 has no kind StatefulSet in apiVersion apps/v1beta2 (it has apps/v1 StatefulSet)'],
  ])('rejects %s, at its path', (_, breakIt, expected) => {
    const object = validStatefulSet();
    breakIt(object);
    const failures = failuresOf(object);
    expect(failures).toHaveLength(1);
    expect(failures[0].startsWith(expected)).toBe(true);
  });

  test('counts a StatefulSet\'s volumeClaimTemplates as volumes its containers may mount', () => {
    const object = validStatefulSet();
    object.spec.template.spec.volumes = [];
    object.spec.volumeClaimTemplates = [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'disk' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } }];
    expect(failuresOf(object)).toEqual([]);
    object.spec.volumeClaimTemplates[0].metadata.name = 'overlay';
    expect(failuresOf(object)).toEqual([expect.stringContaining('spec.template.spec.containers[0].volumeMounts[0].name: mounts volume "disk", which the pod does not declare')]);
  });

  test('names Services by the stricter DNS-1035 rule: no leading digit', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: '9loco' }, spec: { ports: [{ port: 80 }] } };
    expect(failuresOf(service)).toEqual([expect.stringContaining('Service/9loco: metadata.name: "9loco" is not a valid Service name: it must be a DNS-1035 label')]);
    expect(failuresOf({ ...service, metadata: { name: 'loco9' } })).toEqual([]);
  });

  test('checks maps of every kind, not only workloads: a ConfigMap value must be a string', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seed' }, data: { 'seed-disk.sh': 1 } };
    expect(failuresOf(configMap)).toEqual(['ConfigMap/seed: data["seed-disk.sh"]: must be string, not the integer 1']);
  });

  test('reports every failure of an object, not only the first', () => {
    const object = validStatefulSet();
    object.spec.replicas = 'two';
    object.spec.template.spec.containers[0].foo = 1;
    object.metadata.name = 'Bad';
    expect(failuresOf(object)).toHaveLength(3);
  });

  test('refuses what is not an object', () => {
    expect(failuresOf([])).toEqual(['?: (root): a Kubernetes object must be a mapping, not an array']);
    expect(failuresOf({ kind: 'ConfigMap' })).toEqual(['ConfigMap/?: (root): apiVersion and kind are required strings']);
  });

  test('validates a YAML stream document by document, skipping empty documents and reporting syntax errors', () => {
    const good = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n';
    const result = ManifestValidator.shared().validateYaml(`${good}---\n---\n${good.replace('name: a', 'name: B')}---\nkind: [unclosed\n`);
    expect(result.objects).toBe(2);
    expect(result.failures.map((failure) => [failure.document, failure.object, failure.path])).toEqual([
      [3, 'ConfigMap/B', 'metadata.name'],
      [4, '?', '(root)'],
    ]);
    expect(result.failures[1].message).toMatch(/^YAML: /);
  });
});
