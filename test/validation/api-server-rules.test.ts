import { apiServerFailures, formatFailure, validateManifest } from '../../lib/manifest-validator';

// Each rule of the API server's own validation (lib/manifest-validator.ts apiServerChecks), on a
// small valid object of each kind the library emits: one change the API server accepts, one it
// refuses, and the whole failure line. The refused line must come from the schema-free rules alone
// (apiServerFailures, what synth runs) and from the full validator, and be the only failure.

function statefulSet(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'loco', namespace: 'games', labels: { app: 'loco' } },
    spec: {
      serviceName: 'loco',
      replicas: 1,
      selector: { matchLabels: { app: 'loco' } },
      template: {
        metadata: { labels: { app: 'loco' } },
        spec: {
          initContainers: [{ name: 'seed', image: 'busybox:1.35', volumeMounts: [{ name: 'disk', mountPath: '/images' }] }],
          containers: [{
            name: 'emulator',
            image: 'ghcr.io/mroie/qemu-loco:1.4.0',
            ports: [{ name: 'vnc', containerPort: 5901, protocol: 'TCP' }],
            env: [{ name: 'DISK', value: '/images/win98.qcow2' }],
            livenessProbe: { httpGet: { path: '/', port: 8080 } },
            resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
            volumeMounts: [{ name: 'disk', mountPath: '/images' }, { name: 'script', mountPath: '/script' }],
          }],
          volumes: [{ name: 'script', configMap: { name: 'seed', defaultMode: 0o555 } }, { name: 'tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } }],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'disk' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } }],
    },
  };
}

function job(): any {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'seed' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'seed', image: 'busybox:1.35' }] } } },
  };
}

function service(): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'loco' },
    spec: { clusterIP: 'None', selector: { app: 'loco' }, ports: [{ name: 'vnc', port: 5901, targetPort: 5901, protocol: 'TCP' }] },
  };
}

function claim(): any {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'win98-disk' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
  };
}

function volume(): any {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'games-win98-disk-pv' },
    spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' }, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/var/lib/loco/win98', type: 'DirectoryOrCreate' } },
  };
}

function configMap(): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seed' }, data: { 'seed-disk.sh': '#!/bin/sh\n' } };
}

const container = (o: any) => o.spec.template.spec.containers[0];
const podSpec = (o: any) => o.spec.template.spec;
const C = 'StatefulSet/loco: spec.template.spec.containers[0]';

type Change = (object: any) => void;
type Case = [rule: string, make: () => any, accepted: Change, refused: Change, line: string];

const SUBDOMAIN = "a DNS-1123 subdomain: at most 253 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
const LABEL = "a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-', starting and ending with a letter or digit";
const QUALIFIED = "[prefix/]name, the prefix a DNS-1123 subdomain and the name at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
const LABEL_VALUE = "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)";
const IMAGE_RULE = 'must be an image reference [registry/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository and no spaces, e.g. ghcr.io/mroie/qemu-snapshots:win98-base';
const ENV_RULE = "letters, digits, '_', '-' and '.', not starting with a digit, not '.' and not starting with '..'";

const NAMES: Case[] = [
  ['ConfigMap names are DNS-1123 subdomains (cdk8s ids keep "_")', configMap, (o) => { o.metadata.name = 'seed.v1'; }, (o) => { o.metadata.name = 'seed_v1'; },
    `ConfigMap/seed_v1: metadata.name: "seed_v1" is not a valid ConfigMap name: it must be ${SUBDOMAIN}`],
  ['claim names are DNS-1123 subdomains', claim, (o) => { o.metadata.name = 'win98.disk'; }, (o) => { o.metadata.name = 'Win98-disk'; },
    `PersistentVolumeClaim/Win98-disk: metadata.name: "Win98-disk" is not a valid PersistentVolumeClaim name: it must be ${SUBDOMAIN}`],
  ['PersistentVolume names are DNS-1123 subdomains', volume, (o) => { o.metadata.name = 'a.b-pv'; }, (o) => { o.metadata.name = 'a_b-pv'; },
    `PersistentVolume/a_b-pv: metadata.name: "a_b-pv" is not a valid PersistentVolume name: it must be ${SUBDOMAIN}`],
  ['subdomains have at most 253 characters', configMap, (o) => { o.metadata.name = 'a'.repeat(253); }, (o) => { o.metadata.name = 'a'.repeat(254); },
    `ConfigMap/${'a'.repeat(254)}: metadata.name: "${'a'.repeat(254)}" is not a valid ConfigMap name: it must be ${SUBDOMAIN}`],
  ['Service names are DNS-1035 labels', service, (o) => { o.metadata.name = 'loco9'; }, (o) => { o.metadata.name = 'loco.emulator'; },
    "Service/loco.emulator: metadata.name: \"loco.emulator\" is not a valid Service name: it must be a DNS-1035 label: at most 63 characters of lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"],
  ['Job names fit the job-name label of its pods', job, (o) => { o.metadata.name = 'j'.repeat(63); }, (o) => { o.metadata.name = 'j'.repeat(64); },
    `Job/${'j'.repeat(64)}: metadata.name: "${'j'.repeat(64)}" has 64 characters; a Job name may have at most 63, since its pods get the label job-name=<name> (63 at most)`],
  ['namespaces are DNS-1123 labels', configMap, (o) => { o.metadata.namespace = 'games-1'; }, (o) => { o.metadata.namespace = 'games.example'; },
    `ConfigMap/seed: metadata.namespace: "games.example" is not a valid namespace: it must be ${LABEL}`],
  ['label keys are qualified names with a lower-case prefix', claim, (o) => { o.metadata.labels = { 'example.com/Tier': 'a' }; }, (o) => { o.metadata.labels = { 'Example.com/tier': 'a' }; },
    `PersistentVolumeClaim/win98-disk: metadata.labels["Example.com/tier"]: "Example.com/tier" is not a valid label key: ${QUALIFIED}`],
  ['label values', statefulSet, (o) => { o.spec.template.metadata.labels.tier = 'a.b_c'; }, (o) => { o.spec.template.metadata.labels.tier = '-a'; },
    `StatefulSet/loco: spec.template.metadata.labels.tier: "-a" is not a valid label value: ${LABEL_VALUE}`],
  ['annotation keys are qualified names, case aside', job, (o) => { o.metadata.annotations = { 'Example.com/Note': 'x' }; }, (o) => { o.metadata.annotations = { 'example.com/a/b': 'x' }; },
    `Job/seed: metadata.annotations["example.com/a/b"]: "example.com/a/b" is not a valid annotation key: ${QUALIFIED}`],
  ['annotations hold at most 256 KiB', configMap, (o) => { o.metadata.annotations = { note: 'x'.repeat(262144 - 4) }; }, (o) => { o.metadata.annotations = { note: 'x'.repeat(262144 - 3) }; },
    'ConfigMap/seed: metadata.annotations: the annotations hold 262145 bytes (keys and values); the API server allows at most 262144'],
  ['volumeClaimTemplates names are pod volume names (DNS-1123 labels)', statefulSet, (o) => { o.spec.volumeClaimTemplates[0].metadata.name = 'disk-1'; o.spec.template.spec.initContainers[0].volumeMounts = []; container(o).volumeMounts[0].name = 'disk-1'; },
    (o) => { o.spec.volumeClaimTemplates[0].metadata.name = 'disk.v1'; o.spec.template.spec.initContainers[0].volumeMounts = []; container(o).volumeMounts[0].name = 'disk.v1'; },
    `StatefulSet/loco: spec.volumeClaimTemplates[0].metadata.name: "disk.v1" is not a valid volume name for the pods: it must be ${LABEL}`],
  ['pod host names are DNS-1123 labels', job, (o) => { podSpec(o).hostname = 'seed-0'; }, (o) => { podSpec(o).hostname = 'Seed'; },
    `Job/seed: spec.template.spec.hostname: "Seed" is not a valid host name: it must be ${LABEL}`],
];

const INTEGERS: Case[] = [
  ['replicas: non-negative int32', statefulSet, (o) => { o.spec.replicas = 0; }, (o) => { o.spec.replicas = -1; },
    'StatefulSet/loco: spec.replicas: -1 is out of range: it must be a whole number from 0 to 2147483647'],
  ['container ports: 1..65535', statefulSet, (o) => { container(o).ports[0].containerPort = 65535; }, (o) => { container(o).ports[0].containerPort = 65536; },
    `${C}.ports[0].containerPort: 65536 is out of range: it must be a whole number from 1 to 65535`],
  ['probe seconds: non-negative int32', statefulSet, (o) => { container(o).livenessProbe.periodSeconds = 2147483647; }, (o) => { container(o).livenessProbe.periodSeconds = 2147483648; },
    `${C}.livenessProbe.periodSeconds: 2147483648 is out of range: it must be a whole number from 0 to 2147483647`],
  ['file modes: 0..0777', statefulSet, (o) => { podSpec(o).volumes[0].configMap.defaultMode = 0o777; }, (o) => { podSpec(o).volumes[0].configMap.defaultMode = 0o1000; },
    'StatefulSet/loco: spec.template.spec.volumes[0].configMap.defaultMode: 512 is out of range: it must be a whole number from 0 to 0777 (octal; 511 decimal)'],
  ['runAsUser: int64 in the schema, a Unix user id (0..4294967295) for the API server', statefulSet,
    (o) => { container(o).securityContext = { runAsUser: 4294967295 }; }, (o) => { container(o).securityContext = { runAsUser: 4294967296 }; },
    `${C}.securityContext.runAsUser: 4294967296 is out of range: it must be a whole number from 0 to 4294967295`],
  ['fsGroup: a Unix group id', statefulSet, (o) => { podSpec(o).securityContext = { fsGroup: 0 }; }, (o) => { podSpec(o).securityContext = { fsGroup: -1 }; },
    'StatefulSet/loco: spec.template.spec.securityContext.fsGroup: -1 is out of range: it must be a whole number from 0 to 4294967295'],
  ['supplementalGroups: Unix group ids, each', statefulSet, (o) => { podSpec(o).securityContext = { supplementalGroups: [0, 1000] }; }, (o) => { podSpec(o).securityContext = { supplementalGroups: [1000, -5] }; },
    'StatefulSet/loco: spec.template.spec.securityContext.supplementalGroups[1]: -5 is out of range: it must be a whole number from 0 to 4294967295'],
  ['a pod\'s activeDeadlineSeconds: 1..MaxInt32', job, (o) => { podSpec(o).activeDeadlineSeconds = 1; }, (o) => { podSpec(o).activeDeadlineSeconds = 0; },
    'Job/seed: spec.template.spec.activeDeadlineSeconds: 0 is out of range: it must be a whole number from 1 to 2147483647'],
  ['Job counts: non-negative int32', job, (o) => { o.spec.backoffLimit = 0; }, (o) => { o.spec.parallelism = -1; },
    'Job/seed: spec.parallelism: -1 is out of range: it must be a whole number from 0 to 2147483647'],
  ['Service ports: 1..65535', service, (o) => { o.spec.ports[0].port = 1; }, (o) => { o.spec.ports[0].port = 0; },
    'Service/loco: spec.ports[0].port: 0 is out of range: it must be a whole number from 1 to 65535'],
];

const POD: Case[] = [
  ['tolerations: operator Equal or Exists', statefulSet, (o) => { podSpec(o).tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'loco', effect: 'NoSchedule' }]; },
    (o) => { podSpec(o).tolerations = [{ key: 'dedicated', operator: 'In', value: 'loco' }]; },
    'StatefulSet/loco: spec.template.spec.tolerations[0].operator: "In" is not an operator: it must be Equal or Exists'],
  ['tolerations: no value with Exists', statefulSet, (o) => { podSpec(o).tolerations = [{ key: 'dedicated', operator: 'Exists' }]; },
    (o) => { podSpec(o).tolerations = [{ key: 'dedicated', operator: 'Exists', value: 'loco' }]; },
    'StatefulSet/loco: spec.template.spec.tolerations[0].value: "loco" must be empty when operator is Exists'],
  ['tolerations: an empty key only with Exists', statefulSet, (o) => { podSpec(o).tolerations = [{ operator: 'Exists' }]; },
    (o) => { podSpec(o).tolerations = [{ operator: 'Equal', value: 'loco' }]; },
    'StatefulSet/loco: spec.template.spec.tolerations[0].operator: must be Exists when key is empty (which means "match all keys and values")'],
  ['tolerations: tolerationSeconds only with NoExecute', statefulSet, (o) => { podSpec(o).tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]; },
    (o) => { podSpec(o).tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }]; },
    'StatefulSet/loco: spec.template.spec.tolerations[0].effect: must be NoExecute when tolerationSeconds is set'],
  ['tolerations: a taint effect', job, (o) => { podSpec(o).tolerations = [{ key: 'gpu', operator: 'Exists', effect: 'PreferNoSchedule' }]; },
    (o) => { podSpec(o).tolerations = [{ key: 'gpu', operator: 'Exists', effect: 'NoRun' }]; },
    'Job/seed: spec.template.spec.tolerations[0].effect: "NoRun" is not a taint effect: it must be one of NoSchedule, PreferNoSchedule, NoExecute (or empty for all)'],
  ['tolerations: the key is a qualified name, the value a label value', job, (o) => { podSpec(o).tolerations = [{ key: 'example.com/gpu', value: 'a100' }]; },
    (o) => { podSpec(o).tolerations = [{ key: 'example.com/gpu', value: 'a 100' }]; },
    `Job/seed: spec.template.spec.tolerations[0].value: "a 100" is not a valid toleration value: ${LABEL_VALUE}`],
  ['nodeSelector keys are qualified names', statefulSet, (o) => { podSpec(o).nodeSelector = { 'kubernetes.io/arch': 'amd64' }; }, (o) => { podSpec(o).nodeSelector = { 'kubernetes.io/arch/x': 'amd64' }; },
    `StatefulSet/loco: spec.template.spec.nodeSelector["kubernetes.io/arch/x"]: "kubernetes.io/arch/x" is not a valid nodeSelector key: ${QUALIFIED}`],
  ['nodeSelector values are label values', job, (o) => { podSpec(o).nodeSelector = { disk: '' }; }, (o) => { podSpec(o).nodeSelector = { disk: 'fast ssd' }; },
    `Job/seed: spec.template.spec.nodeSelector.disk: "fast ssd" is not a valid nodeSelector value: ${LABEL_VALUE}`],
  ['resource names: standard ones unprefixed', statefulSet, (o) => { container(o).resources.limits['ephemeral-storage'] = '1Gi'; }, (o) => { container(o).resources.limits.gpu = '1'; },
    `${C}.resources.limits.gpu: "gpu" is not a resource a container can ask for: cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource <domain>/<name>`],
  ['resource names: extended ones outside kubernetes.io', statefulSet,
    (o) => { container(o).resources.limits['devices.kubevirt.io/kvm'] = '1'; },
    (o) => { container(o).resources.limits['devices.kubernetes.io/kvm'] = '1'; },
    `${C}.resources.limits["devices.kubernetes.io/kvm"]: "devices.kubernetes.io/kvm" is in the kubernetes.io domain, which has no extended resources: use the device plugin's own <domain>/<name>`],
  ['extended resources are whole numbers', statefulSet, (o) => { container(o).resources.limits['devices.kubevirt.io/kvm'] = '2'; },
    (o) => { container(o).resources.limits['devices.kubevirt.io/kvm'] = '500m'; },
    `${C}.resources.limits["devices.kubevirt.io/kvm"]: 500m is not a whole number: an extended resource (devices.kubevirt.io/kvm) is counted in whole units`],
  ['extended resources: a request equals its limit', statefulSet,
    (o) => { Object.assign(container(o).resources.requests, { 'devices.kubevirt.io/kvm': '1' }); Object.assign(container(o).resources.limits, { 'devices.kubevirt.io/kvm': '1' }); },
    (o) => { Object.assign(container(o).resources.requests, { 'devices.kubevirt.io/kvm': '1' }); Object.assign(container(o).resources.limits, { 'devices.kubevirt.io/kvm': '2' }); },
    `${C}.resources.requests["devices.kubevirt.io/kvm"]: request 1 differs from the limit 2: devices.kubevirt.io/kvm cannot be overcommitted, so the request must equal the limit`],
  ['extended resources: a request needs a limit', statefulSet, (o) => { container(o).resources.limits['devices.kubevirt.io/kvm'] = '1'; },
    (o) => { container(o).resources.requests['devices.kubevirt.io/kvm'] = '1'; },
    `${C}.resources.requests["devices.kubevirt.io/kvm"]: request 1 has no limit: devices.kubevirt.io/kvm cannot be overcommitted, so set limits.devices.kubevirt.io/kvm equal to it`],
  ['standard resources: a request at most its limit', statefulSet, (o) => { container(o).resources.requests.cpu = '2'; }, (o) => { container(o).resources.requests.cpu = '2500m'; },
    `${C}.resources.requests.cpu: request 2500m is above the limit 2: it must be less than or equal to the limit`],
  ['environment variable names (IsEnvVarName of 1.28)', statefulSet, (o) => { container(o).env[0].name = 'my.env-name'; }, (o) => { container(o).env[0].name = '..DISK'; },
    `${C}.env[0].name: "..DISK" is not a valid environment variable name: ${ENV_RULE}`],
  ['envFrom prefixes', statefulSet, (o) => { container(o).envFrom = [{ prefix: 'LOCO_', configMapRef: { name: 'seed' } }]; }, (o) => { container(o).envFrom = [{ prefix: '1LOCO_', configMapRef: { name: 'seed' } }]; },
    `${C}.envFrom[0].prefix: "1LOCO_" is not a valid environment variable prefix: ${ENV_RULE}`],
  ['mount paths are unique in a container', statefulSet, (o) => { container(o).volumeMounts[1].mountPath = '/images/script'; }, (o) => { container(o).volumeMounts[1].mountPath = '/images'; },
    `${C}.volumeMounts[1].mountPath: "/images" is mounted twice in this container: each mount path must be unique`],
  ['subPath is relative, without ..', statefulSet, (o) => { container(o).volumeMounts[1].subPath = 'bin/seed.sh'; }, (o) => { container(o).volumeMounts[1].subPath = '../seed.sh'; },
    `${C}.volumeMounts[1].subPath: "../seed.sh" must be a relative path without '..'`],
  ['host paths have no .. element', statefulSet, (o) => { podSpec(o).volumes[1].hostPath.path = '/dev/net/..tun'; }, (o) => { podSpec(o).volumes[1].hostPath.path = '/dev/net/../tun'; },
    'StatefulSet/loco: spec.template.spec.volumes[1].hostPath.path: "/dev/net/../tun" must not contain \'..\''],
  ['host path types', statefulSet, (o) => { podSpec(o).volumes[1].hostPath.type = ''; }, (o) => { podSpec(o).volumes[1].hostPath.type = 'CharDev'; },
    'StatefulSet/loco: spec.template.spec.volumes[1].hostPath.type: "CharDev" is not a hostPath type: it must be one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice (or empty)'],
  ['volume item paths are relative, without ..', statefulSet, (o) => { podSpec(o).volumes[0].configMap.items = [{ key: 'a', path: 'bin/a' }]; },
    (o) => { podSpec(o).volumes[0].configMap.items = [{ key: 'a', path: '/bin/a' }]; },
    'StatefulSet/loco: spec.template.spec.volumes[0].configMap.items[0].path: "/bin/a" must be a relative path without \'..\''],
  ['images: a lower-case repository', statefulSet, (o) => { container(o).image = 'ghcr.io/mroie/qemu-loco@sha256:' + 'a'.repeat(64); }, (o) => { container(o).image = 'ghcr.io/mroie/QEMU-loco:1.4.0'; },
    `${C}.image: "ghcr.io/mroie/QEMU-loco:1.4.0" ${IMAGE_RULE}`],
  ['images: no spaces, in init containers too', statefulSet, (o) => { podSpec(o).initContainers[0].image = 'localhost:5000/busybox:1.35'; }, (o) => { podSpec(o).initContainers[0].image = 'busybox:1.35 '; },
    `StatefulSet/loco: spec.template.spec.initContainers[0].image: "busybox:1.35 " ${IMAGE_RULE}`],
  ['images: in Jobs, required', job, (o) => { container(o).image = 'docker.io/library/busybox:1.35'; }, (o) => { container(o).image = ''; },
    'Job/seed: spec.template.spec.containers[0].image: required: the image the container runs'],
  ['liveness probes: successThreshold 1', statefulSet, (o) => { container(o).livenessProbe.successThreshold = 1; }, (o) => { container(o).livenessProbe.successThreshold = 2; },
    `${C}.livenessProbe.successThreshold: 2 is not allowed: a livenessProbe must have successThreshold 1`],
  ['probe ports: a number or an IANA name', statefulSet, (o) => { container(o).livenessProbe.httpGet.port = 'vnc'; }, (o) => { container(o).livenessProbe.httpGet.port = 'VNC'; },
    `${C}.livenessProbe.httpGet.port: "VNC" is not a port number or name: a name has at most 15 characters of lower-case letters, digits and '-', with at least one letter, no '-' at either end and no '--'`],
  ['probe port numbers: 1..65535, reported once', statefulSet, (o) => { container(o).livenessProbe.httpGet.port = 65535; }, (o) => { container(o).livenessProbe.httpGet.port = 0; },
    `${C}.livenessProbe.httpGet.port: 0 is out of range: it must be a whole number from 1 to 65535`],
  ['readiness probes: no terminationGracePeriodSeconds', statefulSet, (o) => { container(o).livenessProbe.terminationGracePeriodSeconds = 10; },
    (o) => { container(o).readinessProbe = { exec: { command: ['true'] }, terminationGracePeriodSeconds: 10 }; },
    `${C}.readinessProbe.terminationGracePeriodSeconds: must not be set for a readinessProbe`],
  ['init containers: probes only with restartPolicy Always', statefulSet,
    (o) => { Object.assign(podSpec(o).initContainers[0], { restartPolicy: 'Always', startupProbe: { exec: { command: ['true'] } } }); },
    (o) => { Object.assign(podSpec(o).initContainers[0], { startupProbe: { exec: { command: ['true'] } } }); },
    'StatefulSet/loco: spec.template.spec.initContainers[0].startupProbe: may not be set for init containers without restartPolicy Always'],
  ['container port protocols', job, (o) => { container(o).ports = [{ containerPort: 80, protocol: 'SCTP' }]; }, (o) => { container(o).ports = [{ containerPort: 80, protocol: 'tcp' }]; },
    'Job/seed: spec.template.spec.containers[0].ports[0].protocol: "tcp" is not a protocol: it must be one of TCP, UDP, SCTP'],
  ['selectors: matchExpressions operators', statefulSet, (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'In', values: ['loco'] }]; },
    (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'Equals', values: ['loco'] }]; },
    'StatefulSet/loco: spec.selector.matchExpressions[0].operator: "Equals" is not a selector operator: it must be one of In, NotIn, Exists, DoesNotExist'],
  ['selectors: no values with Exists', statefulSet, (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'Exists' }]; },
    (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'Exists', values: ['loco'] }]; },
    'StatefulSet/loco: spec.selector.matchExpressions[0].values: must be empty when operator is Exists'],
  ['a StatefulSet\'s selector matches its pod template', statefulSet, (o) => { o.spec.template.metadata.labels.tier = 'emulator'; }, (o) => { o.spec.selector.matchLabels.app = 'loco2'; },
    'StatefulSet/loco: spec.template.metadata.labels: do not match spec.selector: the pod template must have the labels the selector asks for'],
  ['a StatefulSet\'s selector is not empty', statefulSet, (o) => { o.spec.selector = { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] }; }, (o) => { o.spec.selector = {}; },
    'StatefulSet/loco: spec.selector: an empty selector would select every pod: give matchLabels that the pod template has'],
  ['pod affinity: a topologyKey', statefulSet,
    (o) => { podSpec(o).affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'loco' } }, topologyKey: 'kubernetes.io/hostname' }] } }; },
    (o) => { podSpec(o).affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'loco' } }, topologyKey: '' }] } }; },
    'StatefulSet/loco: spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: required: the node label whose value groups the nodes, e.g. kubernetes.io/hostname'],
  ['pod anti-affinity: label selector values', statefulSet,
    (o) => { podSpec(o).affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['loco'] }] }, topologyKey: 'topology.kubernetes.io/zone' } }] } }; },
    (o) => { podSpec(o).affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['loco emulator'] }] }, topologyKey: 'topology.kubernetes.io/zone' } }] } }; },
    `StatefulSet/loco: spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchExpressions[0].values[0]: "loco emulator" is not a valid label value: ${LABEL_VALUE}`],
  ['affinity weights: 1..100', statefulSet,
    (o) => { podSpec(o).affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } }; },
    (o) => { podSpec(o).affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } }; },
    'StatefulSet/loco: spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: 0 is out of range: it must be a whole number from 1 to 100'],
  ['node affinity: Gt and Lt with one value', job,
    (o) => { podSpec(o).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] } } }; },
    (o) => { podSpec(o).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4', '8'] }] }] } } }; },
    'Job/seed: spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: must hold exactly one value when operator is Gt'],
  ['node affinity: at least one required term', job,
    (o) => { podSpec(o).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }] } } }; },
    (o) => { podSpec(o).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } }; },
    'Job/seed: spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: required: at least one node selector term'],
  ['StatefulSet pods restart Always', statefulSet, (o) => { podSpec(o).restartPolicy = 'Always'; }, (o) => { podSpec(o).restartPolicy = 'OnFailure'; },
    'StatefulSet/loco: spec.template.spec.restartPolicy: "OnFailure" is not supported in a StatefulSet: it must be Always'],
  ['Job pods restart OnFailure or Never', job, (o) => { podSpec(o).restartPolicy = 'OnFailure'; }, (o) => { delete podSpec(o).restartPolicy; },
    'Job/seed: spec.template.spec.restartPolicy: "Always" is not supported in a Job: it must be OnFailure or Never'],
];

const OTHER_KINDS: Case[] = [
  ['ConfigMap keys', configMap, (o) => { o.data['seed_disk.v2.sh'] = ''; }, (o) => { o.data['seed disk.sh'] = ''; },
    'ConfigMap/seed: data["seed disk.sh"]: "seed disk.sh" is not a valid ConfigMap key: at most 253 characters of letters, digits, \'-\', \'_\' and \'.\', not \'.\' or starting with \'..\''],
  ['ConfigMap keys do not start with ..', configMap, (o) => { o.data['.seed'] = ''; }, (o) => { o.data['..seed'] = ''; },
    'ConfigMap/seed: data["..seed"]: "..seed" is not a valid ConfigMap key: at most 253 characters of letters, digits, \'-\', \'_\' and \'.\', not \'.\' or starting with \'..\''],
  ['ConfigMaps hold at most 1 MiB', configMap, (o) => { o.data['seed-disk.sh'] = 'x'.repeat(1048576); }, (o) => { o.data['seed-disk.sh'] = 'x'.repeat(1048577); },
    'ConfigMap/seed: (root): the data holds 1048577 bytes; a ConfigMap holds at most 1048576 (1 MiB)'],
  ['storage class names are DNS-1123 subdomains (claims)', claim, (o) => { o.spec.storageClassName = 'fast.ssd'; }, (o) => { o.spec.storageClassName = 'Fast_SSD'; },
    `PersistentVolumeClaim/win98-disk: spec.storageClassName: "Fast_SSD" is not a valid storage class name: it must be ${SUBDOMAIN}`],
  ['storage class names (volumes)', volume, (o) => { o.spec.storageClassName = ''; }, (o) => { o.spec.storageClassName = 'local path'; },
    `PersistentVolume/games-win98-disk-pv: spec.storageClassName: "local path" is not a valid storage class name: it must be ${SUBDOMAIN}`],
  ['storage class names (volumeClaimTemplates)', statefulSet, (o) => { o.spec.volumeClaimTemplates[0].spec.storageClassName = 'standard'; }, (o) => { o.spec.volumeClaimTemplates[0].spec.storageClassName = 'Standard'; },
    `StatefulSet/loco: spec.volumeClaimTemplates[0].spec.storageClassName: "Standard" is not a valid storage class name: it must be ${SUBDOMAIN}`],
  ['claims: access modes', claim, (o) => { o.spec.accessModes = ['ReadWriteOncePod']; }, (o) => { o.spec.accessModes = ['ReadWriteOnce', 'ReadWriteOncePod']; },
    'PersistentVolumeClaim/win98-disk: spec.accessModes: ReadWriteOncePod may not be combined with other access modes'],
  ['claims: a storage request above zero', claim, (o) => { o.spec.resources.requests.storage = '1'; }, (o) => { o.spec.resources.requests.storage = '0'; },
    'PersistentVolumeClaim/win98-disk: spec.resources.requests.storage: 0 is not a size: it must be greater than zero'],
  ['volumes: capacity is storage only', volume, (o) => { o.spec.capacity = { storage: '1Ti' }; }, (o) => { o.spec.capacity.cpu = '1'; },
    'PersistentVolume/games-win98-disk-pv: spec.capacity: must hold storage and nothing else, not storage, cpu'],
  ['volumes: a reclaim policy', volume, (o) => { o.spec.persistentVolumeReclaimPolicy = 'Delete'; }, (o) => { o.spec.persistentVolumeReclaimPolicy = 'Keep'; },
    'PersistentVolume/games-win98-disk-pv: spec.persistentVolumeReclaimPolicy: "Keep" is not a reclaim policy: it must be one of Delete, Recycle, Retain'],
  ['volumes: host paths have no .. element', volume, (o) => { o.spec.hostPath.path = '/var/lib/loco/..win98'; }, (o) => { o.spec.hostPath.path = '/var/lib/loco/../win98'; },
    'PersistentVolume/games-win98-disk-pv: spec.hostPath.path: "/var/lib/loco/../win98" must not contain \'..\''],
  ['Service target ports: a number or an IANA name', service, (o) => { o.spec.ports[0].targetPort = 'vnc'; }, (o) => { o.spec.ports[0].targetPort = 'vnc_display'; },
    'Service/loco: spec.ports[0].targetPort: "vnc_display" is not a port number or name: a name has at most 15 characters of lower-case letters, digits and \'-\', with at least one letter, no \'-\' at either end and no \'--\''],
  ['Service ports: each protocol and port once', service, (o) => { o.spec.ports.push({ name: 'vnc-udp', port: 5901, protocol: 'UDP' }); },
    (o) => { o.spec.ports.push({ name: 'vnc2', port: 5901 }); },
    'Service/loco: spec.ports[1]: duplicate port TCP/5901: each protocol and port pair may appear once'],
  ['Service ports: no nodePort for ClusterIP', service, (o) => { o.spec.type = 'NodePort'; delete o.spec.clusterIP; o.spec.ports[0].nodePort = 30901; },
    (o) => { o.spec.ports[0].nodePort = 30901; },
    'Service/loco: spec.ports[0].nodePort: may not be used when type is \'ClusterIP\''],
];

describe.each([
  ['names, namespaces, labels, annotations', NAMES],
  ['integer fields', INTEGERS],
  ['the Pod rules, applied to pod templates', POD],
  ['ConfigMaps, claims, volumes, Services', OTHER_KINDS],
])('%s', (_, cases) => {
  test.each(cases)('%s', (_rule, make, accept, refuse, line) => {
    const base = make();
    expect(validateManifest(base).map(formatFailure)).toEqual([]);
    const accepted = make();
    accept(accepted);
    expect(validateManifest(accepted).map(formatFailure)).toEqual([]);
    const refused = make();
    refuse(refused);
    expect(apiServerFailures(refused).map(formatFailure)).toEqual([line]);
    expect(validateManifest(refused).map(formatFailure)).toEqual([line]);
  });
});

describe('apiServerFailures', () => {
  test('leaves what is not an object with a kind to validate()', () => {
    expect(apiServerFailures([])).toEqual([]);
    expect(apiServerFailures({ apiVersion: 'v1' })).toEqual([]);
  });

  test('refuses a fraction in an integer field, alone; the full validator reports the schema\'s type error there instead', () => {
    const object = statefulSet();
    object.spec.minReadySeconds = 10;
    expect(validateManifest(object)).toEqual([]);
    object.spec.minReadySeconds = 1.5;
    expect(apiServerFailures(object).map(formatFailure)).toEqual(['StatefulSet/loco: spec.minReadySeconds: 1.5 is not a whole number: it must be a whole number from 0 to 2147483647']);
    expect(validateManifest(object).map(formatFailure)).toEqual(['StatefulSet/loco: spec.minReadySeconds: must be integer, not number 1.5']);
  });

  test('accepts a PersistentVolume with a namespace: the API server clears it for cluster-scoped kinds', () => {
    const pv = volume();
    pv.metadata.namespace = 'games';
    expect(apiServerFailures(pv)).toEqual([]);
  });

  test('checks integer fields only where they are fields, not label keys or ConfigMap data', () => {
    const cm = configMap();
    cm.metadata.labels = { port: '0' };
    cm.data.replicas = '-1';
    expect(apiServerFailures(cm)).toEqual([]);
  });
});
