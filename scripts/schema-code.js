#!/usr/bin/env node
// Part of the build (scripts/build.js): compiles the schema of each kind the library emits ahead of
// time (ajv standalone) into <dir>/manifest-schemas.js, beside the compiled manifest-validator.js,
// so that the synth-time checks load that code instead of ajv, the 3 MB schema and its compilation.
//
//   node scripts/schema-code.js <compiled lib dir> <schema file>
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, schemaFile] = process.argv.slice(2);
const { EMITTED_KINDS, ManifestValidator, STANDALONE_FILE } = require(path.resolve(dir, 'manifest-validator.js'));
const code = new ManifestValidator(schemaFile).standaloneCode(EMITTED_KINDS);
fs.writeFileSync(path.join(dir, STANDALONE_FILE), code);
