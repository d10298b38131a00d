import { ImagePullPolicy } from 'cdk8s-plus-28';
import { ContainerImage, EmulatorOptions, GitOpsApp, LegoLocoChart, StorageMode } from './lib';

/**
 * The Lego Loco Cluster: nine Windows 98 emulators. The project builds the `qemu-loco` image and
 * loads it into minikube or kind under the `latest` tag (as the chart's values-clean.yaml), so the
 * tag is accepted here on purpose; pin a version tag or a digest for anything shared.
 */
const emulator: EmulatorOptions = {
  // Loaded by hand, not pulled: with `latest` the default would be Always, which fails to pull.
  image: ContainerImage.fromTag('qemu-loco', 'latest', { allowLatestTag: true, pullPolicy: ImagePullPolicy.IF_NOT_PRESENT }),
  replicas: 9,
};

// GitOps layout: one folder per chart (dist/<chart>/), one file per object named `<Kind>.<name>`,
// and a kustomization.yaml listing them; see docs/gitops.md.
const app = new GitOpsApp();

// Modes A and B keep the nine disks' overlays on one ReadWriteOnce claim, as the chart does;
// sharedClaimOnOneNode keeps the nine pods on the node that has it attached.
const onOneNode: EmulatorOptions = { ...emulator, scheduling: { sharedClaimOnOneNode: true } };
new LegoLocoChart(app, 'loco-persistent', { mode: StorageMode.persistent(), emulator: onOneNode });
new LegoLocoChart(app, 'loco-hybrid', { mode: StorageMode.hybrid(), emulator: onOneNode });
new LegoLocoChart(app, 'loco-ephemeral', { mode: StorageMode.ephemeral(), emulator });

app.synth();
