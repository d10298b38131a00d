/**
 * Compile-time tests: inputs that API 2.0's types refuse, which used to be run-time errors. Nothing
 * here runs; `tsc -p tsconfig.json` (part of `npm test`) checks the file, and each
 * `@ts-expect-error` fails the type check as soon as the type it guards accepts the input again.
 * One section per area, each in its own function, so that the sections merge apart.
 */

// ---- LegoLoco, LegoLocoChart and the storage modes (test/lego-loco.test.ts, test/validation/bad-inputs.test.ts, test/topologies.test.ts) ----

// A namespace import, so that this section's names cannot clash with another section's imports.
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
