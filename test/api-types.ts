/**
 * Compile-time tests: inputs that API 2.0's types refuse, which used to be run-time errors. Nothing
 * here runs; `tsc -p tsconfig.json` (part of `npm test`) checks the file, and each
 * `@ts-expect-error` fails the type check as soon as the type it guards accepts the input again.
 * One section per area, each in its own function, so that the sections merge apart.
 */

// ---- EmulatorDisk, DiskSeeder, QemuStatefulSet, ContainerImage (the units) ----

// Imports under names of this section only, so that the sections' imports cannot clash when merged.
import { Chart as UnitsChart } from 'cdk8s';
import * as units from '../lib';

export function unitsApiTypes(chart: UnitsChart): void {
  const {
    ContainerImage, DiskSeeder, DiskVolume, EmulatorDisk, EmulatorDiskKind, QemuStatefulSet, SeedSource, SeedSourceKind, SnapshotMethod,
  } = units;
  const image = ContainerImage.fromTag('qemu-loco', 'v1');
  const disk = new EmulatorDisk(chart, 'Disk');

  // Disk options belong to their disk kind: what one kind takes is not there on another.
  // @ts-expect-error claim settings on an emptyDir disk (was: invalid claimName ... does not apply to disk kind empty-dir)
  DiskVolume.emptyDir({ claimName: 'win98-disk' });
  // @ts-expect-error an emptyDir has no storage class
  DiskVolume.emptyDir({ storageClassName: 'fast' });
  // @ts-expect-error a claim has a size, not a sizeLimit
  DiskVolume.newClaim({ sizeLimit: '4Gi' });
  // @ts-expect-error an existing claim is not created, so it has no size
  DiskVolume.existingClaim('saved-games', { size: '10Gi' });
  // @ts-expect-error an existing claim has no hostPath PersistentVolume of this construct
  DiskVolume.existingClaim('saved-games', { hostPathVolume: { acknowledgeNodeLocal: true } });
  // @ts-expect-error an existing claim needs its name
  DiskVolume.existingClaim();
  // @ts-expect-error per-replica claims are named by the StatefulSet, not by claimName
  DiskVolume.claimPerReplica({ claimName: 'win98-disk' });
  // @ts-expect-error overlays exist only on a shared base
  DiskVolume.newClaim({ overlaySize: '2Gi' });
  // @ts-expect-error a golden clone needs its source
  DiskVolume.goldenClone();
  // @ts-expect-error the old props: the kind is the factory now
  new EmulatorDisk(chart, 'OldDisk', { kind: EmulatorDiskKind.EMPTY_DIR });

  // Images are ContainerImage values, whose tag and pull policy are its own.
  // @ts-expect-error a string is not an image
  new DiskSeeder(chart, 'StringImage', { disk, image: 'qemu-loco:v1' });
  // @ts-expect-error fromTag needs the tag
  ContainerImage.fromTag('qemu-loco');
  // @ts-expect-error images come from the factories
  new ContainerImage('qemu-loco:v1');
  // @ts-expect-error the pull policy is the image's option
  new DiskSeeder(chart, 'PullPolicy', { disk, image, imagePullPolicy: 'Never' });
  // @ts-expect-error the tag is part of the image
  new QemuStatefulSet(chart, 'Tag', { disk, image, tag: 'v1' });
  // @ts-expect-error allowLatestTag is the image's option
  new QemuStatefulSet(chart, 'Latest', { disk, image, allowLatestTag: true });
  // @ts-expect-error a prebuilt snapshot is an image too
  new QemuStatefulSet(chart, 'StringSnapshot', { disk, image, prebuiltSnapshot: 'ghcr.io/mroie/qemu-snapshots:win98-base' });

  // Seeding: each source and method carries only its own options.
  // @ts-expect-error the snapshot source without a snapshot image (was: invalid snapshotImage (not set))
  SeedSource.snapshot();
  // @ts-expect-error sources are SeedSource values, not the kinds
  new DiskSeeder(chart, 'Kinds', { disk, image, sources: [SeedSourceKind.SNAPSHOT, SeedSourceKind.BUILTIN] });
  // @ts-expect-error the snapshot image is the snapshot source's
  new DiskSeeder(chart, 'SnapshotImage', { disk, image, snapshotImage: 'ghcr.io/mroie/qemu-snapshots:win98-base' });
  // @ts-expect-error registry credentials with kubelet-pull, where the pod's imagePullSecrets apply
  SnapshotMethod.kubeletPull({ authSecret: 'pull-secret' });
  // @ts-expect-error TLS settings with kubelet-pull, where the node's runtime pulls
  SnapshotMethod.kubeletPull({ tlsVerify: false });
  // @ts-expect-error a tools image with the registry client, which needs none
  SnapshotMethod.registryClient({ toolsImage: image });
  // @ts-expect-error a built-in path on the snapshot source
  SeedSource.snapshot(image, { builtinImagePath: '/opt/x' });
  // @ts-expect-error the built-in source takes no method
  SeedSource.builtin({ method: SnapshotMethod.kubeletPull() });

  // The StatefulSet's settings live in their groups.
  // @ts-expect-error disk and image are required
  new QemuStatefulSet(chart, 'Empty', {});
  // @ts-expect-error privileged is a security setting
  new QemuStatefulSet(chart, 'Privileged', { disk, image, privileged: true });
  // @ts-expect-error the node selector is a scheduling setting
  new QemuStatefulSet(chart, 'NodeSelector', { disk, image, nodeSelector: { kvm: 'true' } });
  // @ts-expect-error the shared-claim acknowledgement is a scheduling setting
  new QemuStatefulSet(chart, 'OneNode', { disk, image, sharedClaimOnOneNode: true });
  // @ts-expect-error the reset is an overlays setting
  new QemuStatefulSet(chart, 'Reset', { disk, image, snapshotReset: true });
  // @ts-expect-error devices are grouped
  new QemuStatefulSet(chart, 'Kvm', { disk, image, kvm: {} });
  // @ts-expect-error the old `kvm: {}` (a device plugin) is no Device: Device.devicePlugin()
  new QemuStatefulSet(chart, 'KvmObject', { disk, image, devices: { kvm: {} } });
}

// ---- LegoLoco, LegoLocoChart and the storage modes (test/lego-loco.test.ts, test/validation/bad-inputs.test.ts, test/topologies.test.ts) ----

// Imports under names of this section only, so that the sections' imports cannot clash when merged.
import * as charts from '../lib';

export function chartsApiTypes(): void {
  const { ContainerImage, DiskVolume, EmulatorDiskKind, LegoLoco, SeedSource, SnapshotMethod, StorageMode } = charts;

  // Mode C keeps the disk on an emptyDir and takes only the emptyDir's options.
  // @ts-expect-error bad-inputs "mode C given a claim" (was: loco: invalid disk.kind "claim": mode ephemeral keeps nothing and takes an emptyDir disk)
  StorageMode.ephemeral({ volume: DiskVolume.newClaim() });
  // @ts-expect-error bad-inputs "mode C given a claim name" (was: loco/Disk: invalid claimName "win98-disk": does not apply to disk kind empty-dir)
  StorageMode.ephemeral({ emptyDir: { claimName: 'win98-disk' } });
  // @ts-expect-error lego-loco-chart "mode C, ephemeral: refuses a claim", its claimName (was: loco-ephemeral/Disk: invalid claimName "win98-disk")
  StorageMode.ephemeral({ disk: { claimName: 'win98-disk' } });
  // @ts-expect-error lego-loco-chart "mode C, ephemeral: refuses a claim", its disk kind (was: loco-ephemeral: invalid disk.kind "claim")
  StorageMode.ephemeral({ emptyDir: { kind: EmulatorDiskKind.CLAIM } });

  // Mode C's seeder settings exist only inside its seeder, and a snapshot is its only source.
  // @ts-expect-error bad-inputs "mode C given seed sources" (was: loco: invalid seedSources ["snapshot"]: mode ephemeral has no seeder)
  StorageMode.ephemeral({ seeder: { sources: [SeedSource.snapshot(LegoLoco.SNAPSHOT_IMAGE)] } });
  // @ts-expect-error bad-inputs "maxVirtualSize in mode C without a seeder" (was: loco: invalid maxVirtualSize "8Gi": is a setting of the seeder)
  StorageMode.ephemeral({ maxVirtualSize: '8Gi' });
  // @ts-expect-error lego-loco-chart "refuses toolsImage in mode C without a seeder": the tools image is the kubelet-pull method's, in the seeder
  StorageMode.ephemeral({ method: SnapshotMethod.kubeletPull({ toolsImage: ContainerImage.fromReference('busybox:1.36') }) });
  // @ts-expect-error lego-loco-chart "seedEphemeralDisk is refused in the persistent modes, which always seed" (was: loco-hybrid: invalid seedEphemeralDisk true)
  StorageMode.hybrid({ seedEphemeralDisk: true });

  // Enumerated settings take the enum's values only.
  // @ts-expect-error bad-inputs "an unknown pull policy" (was: loco/Emulator: invalid imagePullPolicy "Sometimes")
  ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: 'Sometimes' });
  // @ts-expect-error bad-inputs "a seeder pull policy in lower case" (was: loco/Seeder: invalid imagePullPolicy "always")
  ContainerImage.fromTag('qemu-loco', 'v1', { pullPolicy: 'always' });
  // @ts-expect-error bad-inputs "an unknown snapshot mode" (was: test/Emulator: invalid snapshotMode "sometimes")
  const overlays: charts.OverlayOptions = { snapshotMode: 'sometimes' };
  void overlays;

  // @ts-expect-error topologies "golden clone needs a source" (was: test/Disk: invalid cloneFrom (not set): is required for a golden-clone disk)
  DiskVolume.goldenClone();
}

// ---- Snapshot download methods (the runs: test/snapshot/download-methods.test.ts) ----

// Imports under names of this section only, so that the sections' imports cannot clash when merged.
import { Chart as DownloadsChart } from 'cdk8s';
import * as downloads from '../lib';

export function downloadMethodsApiTypes(chart: DownloadsChart): void {
  const { ContainerImage, LegoLocoChart, SeedSource, SnapshotMethod, StorageMode } = downloads;
  const image = ContainerImage.fromTag('qemu-loco', 'v1');
  const snapshot = ContainerImage.fromReference('ghcr.io/mroie/qemu-snapshots:win98-base');

  // The registry client's options are not the kubelet pull's.
  // @ts-expect-error credentials of the kubelet pull are the pod's imagePullSecrets (was: invalid registryAuthSecret "pull-secret": applies only to snapshotMethod registry-client)
  SnapshotMethod.kubeletPull({ authSecret: 'pull-secret' });
  // @ts-expect-error the node's runtime decides TLS for a kubelet pull (was: invalid registryTlsVerify false: applies only to snapshotMethod registry-client)
  SnapshotMethod.kubeletPull({ tlsVerify: false });
  // @ts-expect-error mode B's registry settings are the method's, on its snapshot source (was: loco/Seeder: invalid registryAuthSecret "snapshot-pull" with kubelet-pull)
  StorageMode.hybrid({ seeder: { sources: [SeedSource.snapshot(snapshot)], registryAuthSecret: 'snapshot-pull' } });

  // Mode C without a seeder has no seeder settings to give.
  // @ts-expect-error was: loco: invalid registryAuthSecret "snapshot-pull": is a setting of the seeder, and mode ephemeral has none unless seedEphemeralDisk is set
  new LegoLocoChart(chart, 'NoSeederAuth', { mode: StorageMode.ephemeral({ registryAuthSecret: 'snapshot-pull' }), emulator: { image } });
  // @ts-expect-error was: loco: invalid registryTlsVerify false: is a setting of the seeder, and mode ephemeral has none unless seedEphemeralDisk is set
  new LegoLocoChart(chart, 'NoSeederTls', { mode: StorageMode.ephemeral({ registryTlsVerify: false }), emulator: { image } });
  // @ts-expect-error the ephemeral seeder takes the method, whose options hold the registry settings
  StorageMode.ephemeral({ seeder: { method: SnapshotMethod.registryClient(), authSecret: 'snapshot-pull' } });
}
