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

// Modes A and B keep the nine disks' overlays on one ReadWriteOnce claim, as the chart does;
// sharedClaimOnOneNode keeps the nine pods on the node that has it attached.
const onOneNode: EmulatorOptions = { ...emulator, scheduling: { sharedClaimOnOneNode: true } };
const modes = {
  'loco-persistent': { mode: StorageMode.persistent(), emulator: onOneNode },
  'loco-hybrid': { mode: StorageMode.hybrid(), emulator: onOneNode },
  'loco-ephemeral': { mode: StorageMode.ephemeral(), emulator },
};

// GitOps layout: one folder per chart (dist/<chart>/), one file per object named `<Kind>.<name>`,
// and a kustomization.yaml listing them; see docs/gitops.md. The three modes are alternatives,
// installed one at a time under the same names, so each is an App of its own: synth checks that
// nothing collides within what is installed together.
for (const [id, props] of Object.entries(modes)) {
  const app = new GitOpsApp();
  new LegoLocoChart(app, id, props);
  app.synth();
}
