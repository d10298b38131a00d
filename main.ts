// The chart's own modules rather than './lib': the index also loads the manifest validator (ajv
// and its schema code), which synth does not use and which would double the modules synth loads.
import { GitOpsApp } from './lib/gitops-app';
import { LegoLocoChart } from './lib/lego-loco-chart';
import { EmulatorOptions } from './lib/qemu-stateful-set';
import { StorageMode } from './lib/storage-mode';

/**
 * The Lego Loco Cluster: nine Windows 98 emulators. The project builds the `qemu-loco` image and
 * loads it into minikube or kind under the `latest` tag (as the chart's values-clean.yaml), so the
 * tag is accepted here on purpose; pin a version tag or a digest for anything shared.
 */
const emulator: EmulatorOptions = {
  image: 'qemu-loco',
  tag: 'latest',
  allowLatestTag: true,
  // Loaded by hand, not pulled: with `latest` the default would be Always, which fails to pull.
  imagePullPolicy: 'IfNotPresent',
  replicas: 9,
};

// GitOps layout: one folder per chart (dist/<chart>/), one file per object named `<Kind>.<name>`,
// and a kustomization.yaml listing them; see docs/gitops.md.
const app = new GitOpsApp();

// Modes A and B keep the nine disks' overlays on one ReadWriteOnce claim, as the chart does;
// sharedClaimOnOneNode keeps the nine pods on the node that has it attached.
new LegoLocoChart(app, 'loco-persistent', {
  mode: StorageMode.PERSISTENT,
  emulator: { ...emulator, sharedClaimOnOneNode: true },
});
new LegoLocoChart(app, 'loco-hybrid', {
  mode: StorageMode.HYBRID,
  emulator: { ...emulator, sharedClaimOnOneNode: true },
});
new LegoLocoChart(app, 'loco-ephemeral', {
  mode: StorageMode.EPHEMERAL,
  emulator,
});

app.synth();
