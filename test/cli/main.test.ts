import { accessSync, constants, readFileSync } from 'fs';
import { join } from 'path';
import { BIN, runCli } from './run-cli';

const PACKAGE = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('package.json "bin" names the launcher, an executable node script', () => {
  expect(PACKAGE.bin).toEqual({ 'cdk8s-qemu-loco': 'bin/cdk8s-qemu-loco' });
  expect(join(__dirname, '..', '..', PACKAGE.bin['cdk8s-qemu-loco'])).toBe(BIN);
  accessSync(BIN, constants.X_OK);
  expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('--help lists every command and exits 0', () => {
  const run = runCli(['--help']);
  expect(run.status).toBe(0);
  for (const command of ['check-image', 'from-helm', 'validate']) {
    expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
  }
});

test('an unknown command prints the usage and exits 2', () => {
  const run = runCli(['frobnicate']);
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^cdk8s-qemu-loco: unknown command 'frobnicate'\n\nUsage: cdk8s-qemu-loco <command>/);
});

test('no command prints the usage and exits 2', () => {
  const run = runCli([]);
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('Usage: cdk8s-qemu-loco <command>');
});

test('--version prints the package version', () => {
  expect(runCli(['--version']).stdout).toBe(`${PACKAGE.version}\n`);
});
