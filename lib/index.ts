export * from './storage-mode';
export * from './emulator-disk';
export * from './disk-seeder';
export * from './qemu-stateful-set';
export * from './snapshot-reference';
export * from './lego-loco-chart';
export * from './gitops-app';
