// ESLint (flat config), run by `npm run lint` and `npm test` (scripts/lint.js).
//
// @eslint/js and typescript-eslint recommended, plus the project's style rules. Of the type-aware
// rules only the three about promises are on: a promise nobody awaits is how a test harness loses
// a failure or leaves a process running, and they cost about 5 s of CPU (the TypeScript program);
// the rest of recommendedTypeChecked flags mostly tests' reads of synthesized manifests as `any`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What Node's CommonJS scripts (scripts/*.js, bin/, the jest config) use without importing. */
const NODE_GLOBALS = Object.fromEntries(
  ['require', 'module', 'exports', '__dirname', '__filename', 'process', 'console', 'Buffer',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'URL']
    .map((name) => [name, 'readonly']),
);


export default tseslint.config(
  { ignores: ['build/', 'dist/', 'docs/', 'imports/', '.jsii', 'coverage/', '.jest-cache/', '.build-*/', '.build.lock/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      // A construct's props are a named interface (jsii wants interfaces), even when it only narrows another.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // `_name` marks a parameter kept for its position; `{ a, ...rest }` drops `a` on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Where the code is asynchronous (the commands, the harness that starts processes): the typed
    // rules need a TypeScript program, which costs more than all the other rules together.
    files: ['lib/cli/**/*.ts', 'test/harness/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Functions under about 60 lines (constructors under about 50 is the goal), as the project asks.
    files: ['lib/**/*.ts', 'main.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Tests and benchmarks read synthesized manifests and parsed JSON as `any`: the assertion is the check.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Commands and scripts talk to their user on the console.
    files: ['lib/cli/**/*.ts', 'bench/**', 'scripts/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', 'bin/cdk8s-qemu-loco'],
    languageOptions: { sourceType: 'commonjs', globals: NODE_GLOBALS },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
