/**
 * The manifest validator's cost: loading and adapting the schema, compiling each kind on first
 * use, and validating objects once compiled (what `npm run validate` and the tests pay).
 * Prints figures; asserts nothing.
 */
import { Testing } from 'cdk8s';
import { ContainerImage, LegoLocoChart, StorageMode, StorageModeKind } from '../lib';
import { ManifestValidator } from '../lib/manifest-validator';

function ms(start: bigint): string {
  return (Number(process.hrtime.bigint() - start) / 1e6).toFixed(1);
}

let start = process.hrtime.bigint();
const validator = new ManifestValidator();
console.log(`load and adapt the 1.28.0 schema: ${ms(start)} ms`);

const modes = [StorageMode.persistent(), StorageMode.hybrid(), StorageMode.ephemeral()];
const objects = modes.flatMap((mode) => Testing.synth(new LegoLocoChart(Testing.app(), `loco-${mode.kind}`, {
  mode,
  emulator: {
    image: ContainerImage.fromTag('qemu-loco', 'v1'), replicas: 9,
    scheduling: { sharedClaimOnOneNode: mode.kind === StorageModeKind.EPHEMERAL ? undefined : true },
  },
})));

start = process.hrtime.bigint();
for (const object of objects) validator.validate(object);
console.log(`first pass over ${objects.length} objects (compiles ${new Set(objects.map((object) => object.kind)).size} kinds): ${ms(start)} ms`);

const rounds = 200;
start = process.hrtime.bigint();
for (let round = 0; round < rounds; round++) {
  for (const object of objects) validator.validate(object);
}
const total = Number(process.hrtime.bigint() - start) / 1e6;
console.log(`compiled: ${(total / (rounds * objects.length) * 1000).toFixed(0)} µs per object (${rounds * objects.length} validations in ${total.toFixed(0)} ms)`);
