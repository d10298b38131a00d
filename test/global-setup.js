// Runs once before the test files: brings build/ up to date with the sources (by content hash, see
// scripts/build.js), so that the tests that start the `cdk8s-qemu-loco` command run the compiled
// CLI, as the published package does, rather than compile the TypeScript sources in every process
// (ts-node costs about 1.3 s of CPU per command run, the compiled CLI 0.2 s).
module.exports = async () => {
  require('../scripts/build').ensureBuilt();
};
