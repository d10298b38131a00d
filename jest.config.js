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
};
