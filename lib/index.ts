// The public API, by name: the constructs, their props and options, their enums and value classes.
// The manifest validator and the Helm values migration are in 'cdk8s-qemu-loco/tools', so that
// importing the constructs does not load ajv, its schema and the YAML parser.
export { ContainerImage } from './container-image';
export type { ContainerImageOptions, ImageReference } from './container-image';
export { CloneSource, CloneSourceKind, DiskAccessMode, DiskVolume, EmptyDirMedium, EmulatorDisk, EmulatorDiskKind } from './emulator-disk';
export type {
  ClaimOptions, EmptyDirDiskOptions, EmulatorDiskProps, ExistingClaimOptions, HostPathVolumeOptions, NewClaimOptions, PerReplicaClaim,
  SharedBaseOptions,
} from './emulator-disk';
export { DiskSeeder, SeedSource, SeedSourceKind, SeedVerification, SnapshotMethod, SnapshotMethodKind } from './disk-seeder';
export type {
  BuiltinSourceOptions, DiskSeederProps, KubeletPullOptions, RegistryClientOptions, SeedingOptions, SnapshotSourceOptions,
} from './disk-seeder';
export { ClaimRetention, Device, DeviceSource, PodManagementPolicy, QemuStatefulSet, SnapshotMode } from './qemu-stateful-set';
export type {
  ClaimRetentionPolicy, EmulatorDevices, EmulatorOptions, EmulatorPorts, EmulatorProbes, EmulatorResources, EmulatorScheduling,
  EmulatorSecurity, HealthProbeOptions, OverlayOptions, QemuStatefulSetProps,
} from './qemu-stateful-set';
export { LegoLoco, LegoLocoChart, StorageMode, StorageModeKind } from './lego-loco';
export type {
  EphemeralModeOptions, EphemeralSeederOptions, HybridModeOptions, LegoLocoChartProps, LegoLocoProps, PersistentModeOptions, SeederOptions,
} from './lego-loco';
export { GitOpsApp } from './gitops-app';
export { ManifestChecks } from './synth-checks';
export type { GitOpsAppProps } from './gitops-app';
