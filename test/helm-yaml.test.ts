// Scalars read as Helm 3 reads them. The expected values are derived by hand from the rules of
// go-yaml v2's resolve.go (sigs.k8s.io/yaml goyaml.v2/resolve.go: resolveTable, resolveMap,
// strconv.ParseInt/ParseUint with base 0, yamlStyleFloat + ParseFloat, big.Int), its decoder
// (timestamps decoded into untyped values stay text) and sigs.k8s.io/yaml's JSON conversion
// (every number becomes a float64; keys become strings, floats with FormatFloat(f, 'g', -1, 32)),
// not from running Helm.
import { parseHelmValues, propsFromHelmValues } from '../lib/tools';
import { goFormatFloat, resolvePlainScalar } from '../lib/helm-yaml';

const valueOf = (yaml: string) => parseHelmValues(`v: ${yaml}\n`, 'scalars.yaml').values.v;
const keyOf = (yaml: string) => Object.keys(parseHelmValues(`${yaml}: x\n`, 'keys.yaml').values)[0];

describe('values', () => {
  test.each([
    // Strings the YAML 1.1 float pattern of the yaml package would turn into NaN: a first
    // character that is no sign, digit or '.' makes a string in go-yaml.
    ['E1', 'E1'], ['E5', 'E5'], ['e3', 'e3'], ['Inf', 'Inf'], ['NaN', 'NaN'],
    // Integers: ParseInt with base 0 after '_' is removed.
    ['12', 12], ['+12', 12], ['-12', -12], ['1_000', 1000], ['0x1F', 31], ['0X1f', 31], ['0o17', 15], ['017', 15],
    ['0b101', 5], ['-0x8000000000000000', -9223372036854775808], ['0', 0], ['1__2', 12],
    // Past int64: ParseUint (a uint64), then JSON's float64.
    ['9223372036854775808', 9223372036854775808],
    // Floats: yamlStyleFloat then ParseFloat; '08' is no octal integer but a float.
    ['1e3', 1000], ['1E5', 100000], ['1.5', 1.5], ['-1.5e-3', -0.0015], ['1.', 1], ['08', 8], ['1_0.5', 10.5],
    ['.5', 0.5], ['-.5', -0.5], ['.5e2', 50],
    // Past float64: ParseFloat's range error leaves the text.
    ['1e400', '1e400'],
    // '.' then ParseFloat on the text as written: an '_' there is a syntax error.
    ['.5_0', '.5_0'], ['.', '.'],
    // Past uint64 in hex: big.Int, then float64.
    ['0x10000000000000000', 18446744073709551616],
    // Negative and past int64 in hex: ParseUint refuses the sign, so no big.Int: a string.
    ['-0x10000000000000000', '-0x10000000000000000'],
    // Booleans: the table, exactly as written.
    ['yes', true], ['Yes', true], ['YES', true], ['y', true], ['Y', true], ['on', true], ['On', true], ['ON', true],
    ['true', true], ['True', true], ['no', false], ['n', false], ['N', false], ['off', false], ['OFF', false], ['False', false],
    ['yEs', 'yEs'], ['tRUE', 'tRUE'], ['nope', 'nope'],
    // Null.
    ['~', null], ['null', null], ['Null', null], ['NULL', null], ['', null], ['nULL', 'nULL'],
    // No sexagesimal numbers (YAML 1.1 would read 12:30 as 750), and timestamps stay text.
    ['12:30', '12:30'], ['2001-12-14', '2001-12-14'], ['2001-12-14t21:59:43.10-05:00', '2001-12-14t21:59:43.10-05:00'],
    ['1.0.0', '1.0.0'], ['_1', '_1'], ['0x', '0x'], ['+', '+'],
    // Quoted and block scalars are strings; explicit tags resolve as go-yaml's resolve(tag, in).
    ['"yes"', 'yes'], ["'12'", '12'], ['"E1"', 'E1'], ['!!str 12', '12'], ['!!str yes', 'yes'], ['! 12', '12'],
    ['!!int "12"', 12], ['!!float 1', 1], ['!!float "1.5"', 1.5], ['!!bool "on"', true], ['!!null ~', null],
    ['|\n  12', '12\n'],
  ] as [string, unknown][])('%j is %j', (yaml, expected) => {
    expect(valueOf(yaml)).toEqual(expected);
  });
});

describe('keys, as sigs.k8s.io/yaml makes them strings', () => {
  test.each([
    ['E1', 'E1'], ['E5', 'E5'], ['1e3', '1000'], ['0x1F', '31'], ['017', '15'], ['12', '12'], ['-0', '0'],
    ['yes', 'true'], ['on', 'true'], ['off', 'false'], ['n', 'false'],
    ['1.5', '1.5'], ['0.1', '0.1'], ['3.14159265358979', '3.1415927'], ['1e20', '1e+20'], ['1000000.5', '1.0000005e+06'],
    ['123456.0', '123456'], ['-0.0', '-0'], ['1e-5', '1e-05'], ['.inf', '.inf'], ['-.inf', '-.inf'], ['.nan', '.nan'],
    ['"1e3"', '1e3'], ["'yes'", 'yes'], ['12:30', '12:30'], ['2001-12-14', '2001-12-14'],
  ])('%j becomes %j', (yaml, expected) => {
    expect(keyOf(yaml)).toBe(expected);
  });

  test('E1 and E5 stay two env entries, not one named NaN', () => {
    const migration = propsFromHelmValues('emulator:\n  image: q\n  tag: v1\n  env:\n    E1: a\n    E5: b\n');
    expect(migration.chartProps.emulator.env).toEqual({ E1: 'a', E5: 'b' });
  });

  test('numbers in env values print as Helm prints a float64 (%v)', () => {
    const migration = propsFromHelmValues('emulator:\n  image: q\n  tag: v1\n  env:\n    BIG: 1000000\n    MID: 123456\n    SMALL: 0.0001\n    TINY: 0.00001\n    ODD: 1234567\n');
    expect(migration.chartProps.emulator.env).toEqual({ BIG: '1e+06', MID: '123456', SMALL: '0.0001', TINY: '1e-05', ODD: '1.234567e+06' });
  });
});

describe('the number formatting of Go (strconv.FormatFloat with g and -1)', () => {
  test.each([
    [64, 0.1, '0.1'], [64, 1 / 3, '0.3333333333333333'], [64, 1e21, '1e+21'], [64, 100000, '100000'], [64, -2.5e-7, '-2.5e-07'],
    [64, 1e100, '1e+100'], [32, 0.1, '0.1'], [32, 1 / 3, '0.33333334'], [32, 16777217, '1.6777216e+07'], [32, 1e39, '+Inf'],
  ] as [32 | 64, number, string][])('%i bits: %d is %j', (bits, value, expected) => {
    expect(goFormatFloat(value, bits)).toBe(expected);
  });

  test('resolvePlainScalar tells the Go types apart', () => {
    expect(resolvePlainScalar('9223372036854775807')).toEqual({ kind: 'int', value: 9223372036854775807n, type: 'int' });
    expect(resolvePlainScalar('18446744073709551615')).toEqual({ kind: 'int', value: 18446744073709551615n, type: 'uint64' });
    expect(resolvePlainScalar('0x1ffffffffffffffff')).toEqual({ kind: 'int', value: 0x1ffffffffffffffffn, type: 'big.Int' });
  });
});
