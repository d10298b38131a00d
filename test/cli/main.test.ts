import { spawnSync } from 'child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
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

test('a reader that closes the pipe early (| head) ends the command quietly, with its status', () => {
  const work = mkdtempSync(join(tmpdir(), 'cli-epipe-'));
  try {
    // 3000 invalid objects: far more output than a pipe buffer holds.
    writeFileSync(join(work, 'many.yaml'), 'apiVersion: v1\nkind: Frob\nmetadata: {name: a}\n---\n'.repeat(3000));
    const run = spawnSync('sh', ['-c', '{ "$0" "$1" validate many.yaml 2>err; echo $? >status; } | head -c 1 >/dev/null', process.execPath, BIN],
      { cwd: work, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(readFileSync(join(work, 'err'), 'utf8')).not.toMatch(/EPIPE|^\s+at /m);
    expect(readFileSync(join(work, 'status'), 'utf8')).toBe('1\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
