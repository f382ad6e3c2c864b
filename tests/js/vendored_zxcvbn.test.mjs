// The vendored zxcvbn-ts is exactly what frontend/VENDOR.md records (every file, and the
// published bytes of the seven whose imports were rewritten), imports nothing by package
// name, and loads in a bare Node 20 with no node_modules.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const VENDOR_MD = new URL('../../frontend/VENDOR.md', import.meta.url);
const ZXCVBN_URL = new URL('../../frontend/static/frontend/vendor/zxcvbn/', import.meta.url);
const ROOT = fileURLToPath(ZXCVBN_URL);

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function section() {
  const text = readFileSync(VENDOR_MD, 'utf8');
  const found = text.split(/^## /m).find((part) => part.startsWith('zxcvbn-ts'));
  assert.ok(found, 'VENDOR.md has a zxcvbn-ts section');
  return found;
}

/** `path -> sha256` from the "vendored file" table. */
function recordedHashes() {
  const hashes = {};
  for (const line of section().split('\n')) {
    const match = /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/.exec(line);
    if (match) hashes[match[1]] = match[2];
  }
  return hashes;
}

/** `path -> sha256 as published` from the "rewritten file" table. */
function publishedHashes() {
  const hashes = {};
  for (const line of section().split('\n')) {
    const match = /^\| `([^`]+)` \| `([0-9a-f]{64})` \|/.exec(line);
    if (match) hashes[match[1]] = match[2];
  }
  return hashes;
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, `${entry.parentPath ?? entry.path}/${entry.name}`))
    .sort();
}

// The rewrites VENDOR.md describes, undone: vendored import -> the import as published.
const UNDO = [
  ["from '../../fastest-levenshtein/mod.js'", "from 'fastest-levenshtein'"],
  ["from '../dictionary-compression/decompress.mjs'", "from '@zxcvbn-ts/dictionary-compression/decompress'"],
];

test('every vendored zxcvbn file is listed in VENDOR.md with its sha256, and nothing else is there', () => {
  const recorded = recordedHashes();
  const present = filesUnder(ROOT);
  assert.deepEqual(Object.keys(recorded).sort(), present);
  for (const path of present) {
    assert.equal(sha256(readFileSync(new URL(path, ZXCVBN_URL))), recorded[path], `${path} differs from VENDOR.md`);
  }
});

test('the rewritten files differ from the published ones by their imports only', () => {
  const published = publishedHashes();
  assert.equal(Object.keys(published).length, 7);
  for (const [path, digest] of Object.entries(published)) {
    let text = readFileSync(new URL(path, ZXCVBN_URL), 'utf8');
    for (const [ours, theirs] of UNDO) text = text.replaceAll(ours, theirs);
    assert.equal(sha256(text), digest, `${path} is not the published file with its import rewritten`);
  }
});

test('the vendored modules import nothing by package name', () => {
  for (const path of filesUnder(ROOT).filter((name) => /\.m?js$/.test(name))) {
    const text = readFileSync(new URL(path, ZXCVBN_URL), 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:\bimport\s*[\w{}\s,*]*\s*from\s*|\bexport\s*[\w{}\s,*]*\s*from\s*|\bimport\s*\(\s*)["']([^"']+)["']/g),
    ].map((match) => match[1]);
    for (const specifier of specifiers) {
      assert.ok(specifier.startsWith('./') || specifier.startsWith('../'), `${path} imports ${specifier}`);
    }
  }
});

test('a fresh Node process outside the repository loads the library and scores a password', () => {
  const url = (path) => JSON.stringify(new URL(path, ZXCVBN_URL).href);
  const script = `
    import { ZxcvbnFactory } from ${url('core/index.mjs')};
    import * as common from ${url('language-common/index.mjs')};
    import * as en from ${url('language-en/index.mjs')};
    const zxcvbn = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
    });
    console.log(zxcvbn.check('password').score, zxcvbn.check('a calm river at dawn').score);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
  });
  assert.equal(output.trim(), '0 4');
});
