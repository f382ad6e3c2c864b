// Attachments (crypto/SPEC.md, "Attachments"): a file comes back byte for byte, whole or fed
// in pieces of any size, never more of it than the chunks wholly received; any one-byte
// change, truncation or extension of its stream is refused; and its key shows in no text of
// the objects that hold it. The twin of tests/crypto/test_attachments_open_only_as_sealed.py.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { format, inspect } from 'node:util';

import { confide, exactly, leaks, substituteRandomSource, toHex } from './_support.mjs';

const {
  ATTACHMENT_CHUNK,
  AttachmentOpener,
  AttachmentSealer,
  MessageContent,
  attachmentCiphertextSize,
  attachmentDigest,
  decodeContent,
  encodeContent,
  openAttachment,
  sealAttachment,
} = confide;

const SIZES = [1, 65535, 65536, 65537, 200_000];
const PREFIX = 1 + 24 + 512 + 17; // version, header, metadata chunk
const CHUNK = ATTACHMENT_CHUNK + 17;

/** A small seeded generator (mulberry32), so that a failure names pieces one can replay. */
function generator(seed) {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

/** The file's bytes in the chunks that end within the stream's first `received` bytes. */
function authenticated(size, received) {
  const ends = [];
  for (let opened = 0, end = PREFIX; opened < size; ) {
    const length = Math.min(ATTACHMENT_CHUNK, size - opened);
    end += length + 17;
    opened += length;
    ends.push([end, opened]);
  }
  let bytes = 0;
  for (const [end, opened] of ends) if (end <= received) bytes = opened;
  return bytes;
}

const sealed = new Map(
  SIZES.map((size) => {
    const file = new Uint8Array(randomBytes(size));
    const made = sealAttachment(file, `page ${size}.bin`, 'application/octet-stream');
    return [size, { file, stream: made.stream, sealer: made.sealer, reference: made.reference(randomUUID()) }];
  }),
);

/** Feed `stream` in pieces of the sizes `next` gives, checking every output; the file. */
function feedInPieces(stream, reference, file, next) {
  const opener = new AttachmentOpener(reference);
  const out = new Uint8Array(file.length);
  let returned = 0;
  let offset = 0;
  while (offset < stream.length) {
    const length = next();
    const piece = opener.feed(stream.subarray(offset, offset + length));
    offset = Math.min(offset + length, stream.length);
    // Exactly the bytes of the chunks wholly received: never one not yet authenticated.
    assert.equal(
      returned + piece.length,
      authenticated(file.length, offset),
      `after ${offset} bytes of the stream`,
    );
    assert.deepEqual(piece, file.subarray(returned, returned + piece.length));
    out.set(piece, returned);
    returned += piece.length;
  }
  opener.finish();
  return out;
}

for (const size of SIZES) {
  test(`a file of ${size} bytes opens whole and fed in random pieces`, () => {
    const { file, stream, reference } = sealed.get(size);
    assert.equal(stream.length, attachmentCiphertextSize(size));
    assert.equal(stream.length, PREFIX + size + 17 * Math.ceil(size / ATTACHMENT_CHUNK));
    assert.equal(reference.streamSize, stream.length);
    assert.deepEqual(reference.digest, attachmentDigest(stream));
    assert.deepEqual(openAttachment(stream, reference), file);

    const lengths = [1, 7, 17, 24, 25, 529, 4096, CHUNK - 1, CHUNK, CHUNK + 1, 100_000];
    for (const seed of [1, 2, 3, size]) {
      const random = generator(seed);
      const mixed = () => (random(2) ? lengths[random(lengths.length)] : 1 + random(3 * CHUNK));
      assert.deepEqual(feedInPieces(stream, reference, file, mixed), file, `seed ${seed}`);
    }
    // One byte at a time, for the files of at most one chunk and a half.
    if (size < CHUNK + CHUNK / 2) {
      assert.deepEqual(feedInPieces(stream, reference, file, () => 1), file);
    }
    // Empty pieces change nothing.
    const opener = new AttachmentOpener(reference);
    assert.equal(opener.feed(new Uint8Array(0)).length, 0);
    assert.deepEqual(opener.feed(stream), file);
    assert.equal(opener.feed(new Uint8Array(0)).length, 0);
    opener.finish();
  });
}

test('a sealer takes the file a chunk at a time and names its stream', () => {
  const file = new Uint8Array(randomBytes(3 * ATTACHMENT_CHUNK + 5));
  const sealer = new AttachmentSealer(file.length, 'form.pdf', 'application/pdf');
  assert.throws(() => sealer.push(file.subarray(0, ATTACHMENT_CHUNK)), exactly('FormatError'));
  const parts = [sealer.start()];
  assert.throws(() => sealer.start(), exactly('FormatError'));
  assert.throws(() => sealer.reference(randomUUID()), exactly('FormatError'));
  assert.throws(() => sealer.digest, exactly('FormatError'));
  assert.throws(() => sealer.push(file.subarray(0, 10)), exactly('FormatError'));
  for (let offset = 0; offset < file.length; offset += ATTACHMENT_CHUNK) {
    parts.push(sealer.push(file.subarray(offset, offset + ATTACHMENT_CHUNK)));
  }
  assert.throws(() => sealer.push(Uint8Array.of(1)), exactly('FormatError'));
  const stream = Buffer.concat(parts);
  assert.equal(stream.length, sealer.streamSize);
  assert.deepEqual(sealer.digest, attachmentDigest(stream));
  const reference = sealer.reference(randomUUID());
  assert.deepEqual(openAttachment(new Uint8Array(stream), reference), file);
  assert.deepEqual(reference.key, sealer.key);
});

/** Every offset of the prefix and around each chunk boundary, and every `stride`-th. */
function offsets(stream, size, stride) {
  const chosen = new Set();
  for (let offset = 0; offset < Math.min(PREFIX + 20, stream.length); offset += 1) chosen.add(offset);
  for (let end = PREFIX; end < stream.length; end += CHUNK) {
    for (let offset = end - 20; offset < end + 20; offset += 1) chosen.add(offset);
  }
  for (let offset = stream.length - 20; offset < stream.length; offset += 1) chosen.add(offset);
  for (let offset = 0; offset < stream.length; offset += stride) chosen.add(offset);
  return [...chosen].filter((offset) => offset >= 0 && offset < stream.length).sort((a, b) => a - b);
}

for (const size of SIZES) {
  test(`every one-byte change to the stream of ${size} bytes is refused, whole and in pieces`, () => {
    const { stream, reference } = sealed.get(size);
    const random = generator(size);
    const stride = size < 1000 ? 1 : 211;
    for (const offset of offsets(stream, size, stride)) {
      const changed = new Uint8Array(stream);
      changed[offset] ^= 1 + random(255);
      // The version byte is read first; any other change makes a chunk fail to open.
      const error = offset === 0 ? 'UnsupportedVersionError' : 'DecryptionError';
      assert.throws(() => openAttachment(changed, reference), exactly(error), `offset ${offset}`);
      const opener = new AttachmentOpener(reference);
      assert.throws(
        () => {
          for (let at = 0; at < changed.length; at += 40_000) {
            opener.feed(changed.subarray(at, at + 40_000));
          }
          opener.finish();
        },
        exactly(error),
        `offset ${offset}, in pieces`,
      );
      // A failed opener is spent.
      assert.throws(() => opener.feed(new Uint8Array(0)), exactly('FormatError'));
      assert.throws(() => opener.finish(), exactly('FormatError'));
    }
  });

  test(`the stream of ${size} bytes truncated or extended is refused`, () => {
    const { file, stream, reference } = sealed.get(size);
    const cuts = [1, 17, 18, stream.length - PREFIX, stream.length - 25, stream.length - 1];
    if (size > ATTACHMENT_CHUNK) cuts.push(stream.length - PREFIX - CHUNK, (size % ATTACHMENT_CHUNK || ATTACHMENT_CHUNK) + 17);
    for (const cut of cuts) {
      const short = stream.subarray(0, stream.length - cut);
      assert.throws(() => openAttachment(short, reference), exactly('FormatError'), `cut ${cut}`);
      const opener = new AttachmentOpener(reference);
      const first = opener.feed(short);
      assert.equal(first.length, authenticated(size, short.length));
      assert.throws(() => opener.finish(), exactly('FormatError'), `cut ${cut}, fed`);
      // A truncated stream may still be completed: the download resumes where it stopped.
      const rest = opener.feed(stream.subarray(short.length));
      opener.finish();
      assert.deepEqual(Buffer.concat([first, rest]), Buffer.from(file));
    }
    for (const extra of [Uint8Array.of(0), stream.subarray(PREFIX), stream.subarray(stream.length - 17)]) {
      const long = Buffer.concat([stream, extra]);
      assert.throws(() => openAttachment(long, reference), exactly('FormatError'));
      const opener = new AttachmentOpener(reference);
      assert.throws(() => opener.feed(long), exactly('FormatError'));
      const whole = new AttachmentOpener(reference);
      whole.feed(stream);
      assert.throws(() => whole.feed(extra), exactly('FormatError'));
    }
    assert.throws(() => openAttachment(new Uint8Array(0), reference), exactly('FormatError'));
  });
}

test('a stream swapped for another of the same file, or named otherwise, is refused', () => {
  const file = new TextEncoder().encode('the same bytes');
  const first = sealAttachment(file, 'a.txt', 'text/plain');
  const second = sealAttachment(file, 'a.txt', 'text/plain');
  const reference = first.reference(randomUUID());
  assert.throws(() => openAttachment(second.stream, reference), exactly('DecryptionError'));
  const fields = {
    attachmentId: reference.attachmentId,
    key: reference.key,
    digest: reference.digest,
    size: reference.size,
    name: reference.name,
    type: reference.type,
  };
  const forged = new confide.AttachmentReference({ ...fields, digest: attachmentDigest(second.stream) });
  assert.throws(() => openAttachment(first.stream, forged), exactly('BindingError'));
  const renamed = new confide.AttachmentReference({ ...fields, name: 'b.txt' });
  assert.throws(() => openAttachment(first.stream, renamed), exactly('BindingError'));
});

test('content round-trips, and text alone is its UTF-8', () => {
  const text = 'héllo 👋';
  assert.deepEqual(encodeContent(new MessageContent({ text })), new TextEncoder().encode(text));
  assert.equal(decodeContent(new TextEncoder().encode(text)).text, text);
  const { reference } = sealed.get(1);
  const encoded = encodeContent(new MessageContent({ text: 'Here it is', attachments: [reference] }));
  assert.equal(encoded[0], 0xff);
  const decoded = decodeContent(encoded);
  assert.equal(decoded.text, 'Here it is');
  assert.equal(decoded.attachments.length, 1);
  assert.ok(decoded.attachments[0].equals(reference));
  assert.deepEqual(decoded.attachments[0].toBytes(), reference.toBytes());
});

/** Every way an object is commonly turned into text. */
const renderings = (obj) => [
  String(obj),
  `${obj}`,
  JSON.stringify(obj),
  JSON.stringify({ nested: [obj] }),
  inspect(obj),
  inspect(obj, { showHidden: true, depth: Infinity, getters: true }),
  format('%s %o %O %j', obj, obj, obj, obj),
  JSON.stringify({ ...obj }),
];

test('the file key shows in no text of a reference, a sealer, a sealed file or content', () => {
  const made = sealAttachment(new TextEncoder().encode('secret file'), 'a.txt', 'text/plain');
  const reference = made.reference(randomUUID());
  const key = reference.key;
  assert.deepEqual(made.sealer.key, key);
  assert.ok(leaks(`x${toHex(key)}x`, key), 'the leak detector detects a leak');
  const content = new MessageContent({ text: 'see attached', attachments: [reference] });
  for (const obj of [reference, made.sealer, made, new AttachmentOpener(reference), content]) {
    for (const text of renderings(obj)) {
      assert.ok(!leaks(text, key), `the key leaked through: ${text}`);
    }
    // Nor does the file's name, in what a log would print.
    for (const text of [String(obj), JSON.stringify(obj), inspect(obj)]) {
      assert.ok(!text.includes('a.txt'), `the file's name shows in: ${text}`);
    }
  }
  assert.match(String(reference), /^AttachmentReference\(.*secret=<hidden>\)$/);
  assert.match(String(made.sealer), /^AttachmentSealer\(size=11, pushed=11, secret=<hidden>\)$/);
  assert.equal(JSON.stringify(reference), JSON.stringify(String(reference)));
  assert.equal(JSON.stringify(made.sealer), JSON.stringify(String(made.sealer)));

  // wipe() zeroes the key and makes both unusable.
  reference.wipe();
  made.sealer.wipe();
  assert.match(String(reference), /secret=<wiped>\)$/);
  assert.throws(() => reference.key, exactly('FormatError'));
  assert.throws(() => reference.toBytes(), exactly('FormatError'));
  assert.throws(() => made.sealer.key, exactly('FormatError'));
  assert.throws(() => made.reference(randomUUID()), exactly('FormatError'));
});

test('arguments are checked before anything is drawn', (t) => {
  // A draw would throw an Error that is no CryptoError, which exactly() refuses.
  t.after(
    substituteRandomSource(() => {
      throw new Error('randomness was drawn before the arguments were checked');
    }),
  );
  for (const [data, name, type] of [
    [new Uint8Array(0), 'a.txt', 'text/plain'],
    [Uint8Array.of(1), '', 'text/plain'],
    [Uint8Array.of(1), 'é'.repeat(128), 'text/plain'],
    [Uint8Array.of(1), 'a/b', 'text/plain'],
    [Uint8Array.of(1), '..', 'text/plain'],
    [Uint8Array.of(1), 'a\ud800', 'text/plain'],
    [Uint8Array.of(1), 'a.txt', 'Text/Plain'],
    [Uint8Array.of(1), 'a.txt', 'text/plain; charset=utf-8'],
    ['not bytes', 'a.txt', 'text/plain'],
  ]) {
    assert.throws(() => sealAttachment(data, name, type), exactly('FormatError'));
  }
  for (const size of [0, -1, 1.5, 2 ** 40 + 1, true, '1', 1n, null]) {
    assert.throws(() => attachmentCiphertextSize(size), exactly('FormatError'));
    assert.throws(() => new AttachmentSealer(size, 'a.txt', 'text/plain'), exactly('FormatError'));
  }
  assert.equal(attachmentCiphertextSize(2 ** 40), 554 + 2 ** 40 + 17 * 2 ** 24);
});
