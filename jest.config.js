/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Type checking runs once in `npm test` (tsc); with isolatedModules set in tsconfig.json,
  // ts-jest only transpiles, which is much faster.
  transform: { '^.+\\.ts$': 'ts-jest' },
  cacheDirectory: '<rootDir>/.jest-cache',
  globalSetup: '<rootDir>/test/global-setup.js',
  // Most suites spend their time waiting on the processes they start (shells, qemu-img, skopeo,
  // the registry), not on the CPU: on the 2-core machines this project targets, 4 workers take the
  // suite from about 112 s to about 50 s (bench/synth.bench.ts measures it). `--maxWorkers` overrides.
  maxWorkers: 4,
};
