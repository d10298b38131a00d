/**
 * Compile-time tests: inputs that API 2.0's types refuse, which used to be run-time errors. Nothing
 * here runs; `tsc -p tsconfig.json` (part of `npm test`) checks the file, and each
 * `@ts-expect-error` fails the type check as soon as the type it guards accepts the input again.
 * One section per area, each in its own function, so that the sections merge apart.
 */

// ---- Snapshot download methods (the runs: test/snapshot/download-methods.test.ts) ----

import { Chart } from 'cdk8s';
import {
  ContainerImage, LegoLocoChart, SeedSource, SnapshotMethod, StorageMode,
} from '../lib';

export function downloadMethodsApiTypes(chart: Chart): void {
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
