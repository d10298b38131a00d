import { App } from 'cdk8s';
import { EmulatorOptions, LegoLocoChart, StorageMode } from './lib';

/**
 * The Lego Loco Cluster: nine Windows 98 emulators. The project builds the `qemu-loco` image and
 * loads it into minikube or kind under the `latest` tag (as the chart's values-clean.yaml), so the
 * tag is accepted here on purpose; pin a version tag or a digest for anything shared.
 */
const emulator: EmulatorOptions = {
  image: 'qemu-loco',
  tag: 'latest',
  allowLatestTag: true,
  replicas: 9,
};

const app = new App();

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
