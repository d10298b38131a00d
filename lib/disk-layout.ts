// Where the disk lives, as the emulator image and its entrypoint expect it: written once here.

/** The name of the pod volume an EmulatorDisk provides. */
export const DISK_VOLUME_NAME = 'disk';
/** The name of the shared base volume of a shared-base disk. */
export const BASE_VOLUME_NAME = 'base';
/** Where the disk is mounted in the emulator (the image's `/images`). */
export const IMAGES_MOUNT_PATH = '/images';
/** Where a shared-base disk's base is mounted in the emulator (read-only). */
export const BASE_MOUNT_PATH = `${IMAGES_MOUNT_PATH}/base`;
/** Where the entrypoint keeps per-instance overlays unless told otherwise (`SNAPSHOT_DIR`). */
export const DEFAULT_SNAPSHOT_DIR = `${IMAGES_MOUNT_PATH}/snapshots`;
/** File name of the disk image on the volume. */
export const DEFAULT_IMAGE_FILE_NAME = 'win98.qcow2';
/** Where the emulator image carries its built-in disk image. */
export const DEFAULT_BUILTIN_IMAGE_PATH = `/opt/builtin-images/${DEFAULT_IMAGE_FILE_NAME}.builtin`;
/** Where the snapshot image carries its qcow2. */
export const DEFAULT_SNAPSHOT_PATH = '/snapshot.qcow2';
