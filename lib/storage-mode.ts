/**
 * Where the emulator's disk image (`win98.qcow2`) lives and how it gets there: the three modes of
 * the design document "Emulator Storage Strategy & Deployment Options".
 */
export enum StorageMode {
  /**
   * Option A, fully persistent. Best for core development where you have the `win98.qcow2` file.
   *
   * The disk lives on a PersistentVolumeClaim and survives pod restarts and rescheduling. An init
   * container copies the image built into the emulator image
   * (`/opt/builtin-images/win98.qcow2.builtin`) onto the claim the first time; later starts keep
   * the disk on the claim as it is.
   *
   * Requires: the emulator image MUST contain the built-in image (check it with
   * `cdk8s-qemu-loco check-image`). The emulator runs with `USE_PREBUILT_SNAPSHOT=false`.
   */
  PERSISTENT = 'persistent',

  /**
   * Option B, persistent with a cloud snapshot (hybrid). Best for new developers who do not have
   * the private `win98.qcow2` file.
   *
   * The disk lives on a PersistentVolumeClaim as in option A, but the seeder is permissive: it
   * fetches the snapshot image (`ghcr.io/mroie/qemu-snapshots:win98-base` by default) when the
   * claim is empty, and uses the built-in image only as an offline fallback when the emulator
   * image has one. The emulator overlays the disk the seeder placed (`USE_PREBUILT_SNAPSHOT=false`,
   * `DISK=/images/win98.qcow2`); `SNAPSHOT_REGISTRY` and `SNAPSHOT_TAG` name the snapshot for
   * information.
   */
  HYBRID = 'hybrid',

  /**
   * Option C, ephemeral. Best for CI/CD or a quick verification without persistence.
   *
   * The disk is an emptyDir: nothing persists, all state is lost when the pod goes. No seeder
   * runs; the emulator's entrypoint downloads the snapshot at start (`USE_PREBUILT_SNAPSHOT=true`).
   * With LegoLocoChart's `seedEphemeralDisk` a seeder places the verified snapshot first and the
   * emulator overlays it (`USE_PREBUILT_SNAPSHOT=false`), as in option B.
   */
  EPHEMERAL = 'ephemeral',
}

/** What each storage mode persists, for documentation and for tests that check the charts. */
export function storageModePersists(mode: StorageMode): boolean {
  return mode !== StorageMode.EPHEMERAL;
}
