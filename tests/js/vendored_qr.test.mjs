// The vendored QR library is exactly what frontend/VENDOR.md records, imports nothing, and
// only src/app/qr.js imports it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const VENDOR_MD = new URL('../../frontend/VENDOR.md', import.meta.url);
const QR_URL = new URL('../../frontend/static/frontend/vendor/qr/', import.meta.url);
const SRC_URL = new URL('../../frontend/static/frontend/src/', import.meta.url);

function recordedHashes() {
  const text = readFileSync(VENDOR_MD, 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith('qr (QR codes)'));
  assert.ok(section, 'VENDOR.md has a qr section');
  const hashes = {};
  for (const line of section.split('\n')) {
    const match = /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/.exec(line);
    if (match) hashes[match[1]] = match[2];
  }
  return hashes;
}

test('every vendored qr file is listed in VENDOR.md with its sha256, and nothing else is there', () => {
  const recorded = recordedHashes();
  const present = readdirSync(fileURLToPath(QR_URL)).sort();
  assert.deepEqual(Object.keys(recorded).sort(), present);
  for (const name of present) {
    const digest = createHash('sha256').update(readFileSync(new URL(name, QR_URL))).digest('hex');
    assert.equal(digest, recorded[name], `${name} differs from VENDOR.md`);
  }
});

test('the library imports nothing', () => {
  const text = readFileSync(new URL('index.js', QR_URL), 'utf8');
  assert.doesNotMatch(text, /^\s*import\b|\bimport\s*\(|^\s*export\s*[\w{}\s,*]*\s*from\s/m);
});

test('only src/app/qr.js imports it', () => {
  const importers = readdirSync(fileURLToPath(SRC_URL), { recursive: true })
    .filter((path) => path.endsWith('.js'))
    .filter((path) => readFileSync(new URL(path, SRC_URL), 'utf8').includes('vendor/qr/'));
  assert.deepEqual(importers, ['app/qr.js']);
});
