import * as ts from 'typescript';
import { call, Code, constant, evaluateCode, importsOf, printCode } from '../lib/helm-code';

// A real library for the evaluator: the built-ins the printed code can name here.
const LIBRARY = { Math, Number, JSON, Array };

/** What the printed code computes when it runs, as a module (ES2015+ keeps a computed `['__proto__']` key a property). */
function run(code: Code): unknown {
  const js = ts.transpileModule(`export default ${printCode(code)};`, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const module = { exports: {} as { default?: unknown } };
  new Function('module', 'exports', js)(module, module.exports);
  return module.exports.default;
}

describe('printCode', () => {
  test('numbers print as numbers, strings single-quoted, booleans and null as written', () => {
    expect(printCode({ replicas: 2, ratio: 0.5, big: 1000000, port: 5901, name: 'qemu-loco', on: false, none: null }))
      .toBe("{ replicas: 2, ratio: 0.5, big: 1000000, port: 5901, name: 'qemu-loco', on: false, none: null }");
    expect(printCode('1e+06')).toBe("'1e+06'");
    expect(() => printCode(NaN)).toThrow('a migrated value is not a finite number: NaN');
  });

  test('quotes, backslashes, newlines and non-ASCII are escaped, and the text comes back as it was', () => {
    const hostile = "it's \\ a \"test\"\n\r\t${x} `y` */ \u2028 ü \u0000 </script>";
    expect(printCode(hostile)).toBe("'it\\'s \\\\ a \"test\"\\n\\r\\t${x} `y` */ \\u2028 \\u00fc \\u0000 </script>'");
    expect(run({ [hostile]: hostile })).toEqual({ [hostile]: hostile });
  });

  test('keys that are not identifiers are quoted; __proto__ stays a property', () => {
    const env: { [key: string]: Code } = { A: '1', 'a-b': '2', '0x': '3' };
    Object.defineProperty(env, '__proto__', { value: 'p', enumerable: true });
    expect(printCode(env)).toBe("{ A: '1', 'a-b': '2', '0x': '3', ['__proto__']: 'p' }");
    const result = run(env) as object;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toBe('p');
  });

  test('undefined properties and trailing undefined arguments are left out', () => {
    expect(printCode({ a: undefined, b: call('Math.max', 1, undefined, 2, undefined) })).toBe('{ b: Math.max(1, undefined, 2) }');
    expect(printCode({ empty: {}, list: [] })).toBe('{ empty: {}, list: [] }');
  });

  test('past the line width, one item per line, a call\'s last object argument opening on the call\'s line', () => {
    const code = {
      image: call('ContainerImage.fromTag', 'qemu-loco', 'latest', { allowLatestTag: true, pullPolicy: constant('ImagePullPolicy.IF_NOT_PRESENT') }),
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'emulators', effect: 'NoSchedule' }, { key: 'gpu', operator: 'Exists' }],
    };
    expect(printCode(code, '  ')).toBe([
      '{',
      "    image: ContainerImage.fromTag('qemu-loco', 'latest', {",
      '      allowLatestTag: true,',
      '      pullPolicy: ImagePullPolicy.IF_NOT_PRESENT,',
      '    }),',
      '    tolerations: [',
      "      { key: 'dedicated', operator: 'Equal', value: 'emulators', effect: 'NoSchedule' },",
      "      { key: 'gpu', operator: 'Exists' },",
      '    ],',
      '  }',
    ].join('\n'));
    expect(printCode({ mode: call('StorageMode.hybrid', { disk: call('DiskVolume.newClaim', { claimName: 'x'.repeat(60) }) }) })).toBe([
      '{',
      '  mode: StorageMode.hybrid({',
      `    disk: DiskVolume.newClaim({ claimName: '${'x'.repeat(60)}' }),`,
      '  }),',
      '}',
    ].join('\n'));
  });

  test('a deeply nested value prints in time linear in its depth', () => {
    let deep: Code = { leaf: 'x'.repeat(100) };
    for (let i = 0; i < 64; i++) deep = { [`level${i}`]: [deep] };
    const started = Date.now();
    const text = printCode(deep);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(run(deep)).toEqual(evaluateCode(deep, LIBRARY));
    expect(text.split('\n').length).toBeGreaterThan(128);
  });
});

describe('importsOf and evaluateCode', () => {
  const code = { max: call('Math.max', 1, 7, 3), pi: constant('Math.PI'), list: [call('JSON.stringify', { a: [1] })], big: constant('Number.MAX_SAFE_INTEGER') };

  test('the imports are the exported names the code uses, once each, sorted', () => {
    expect(importsOf(code)).toEqual(['JSON', 'Math', 'Number']);
    expect(importsOf({ a: 1, b: ['x'] })).toEqual([]);
  });

  test('evaluating the code gives what running the printed code gives', () => {
    const globals = `const { ${Object.keys(LIBRARY).join(', ')} } = globalThis;`;
    expect(evaluateCode(code, LIBRARY)).toEqual({ max: 7, pi: Math.PI, list: ['{"a":[1]}'], big: Number.MAX_SAFE_INTEGER });
    expect(new Function(`${globals} return ${printCode(code)};`)()).toEqual(evaluateCode(code, LIBRARY));
  });

  test('a name the library does not have is an error naming it', () => {
    expect(() => evaluateCode(call('Math.nothing'), LIBRARY)).toThrow('the migration uses Math.nothing, which the library does not have');
    expect(() => evaluateCode(constant('Nothing.here'), LIBRARY)).toThrow('the migration uses Nothing.here, which the library does not have');
  });
});
