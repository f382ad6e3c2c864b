// A file attached in the web client (src/app/attachments.js) is sealed as it is read and
// sent in parts of the server's part size, each as soon as it is full; a part whose
// request fails is sent again after a pause unless the server says it holds it already;
// the upload is completed with the stream's digest. A download resumes with Range after a
// dropped connection, and what it gives is the file only once the whole stream opened as
// the message names it: a changed, cut or swapped stream gives nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const {
  ATTACHMENT_CHUNK,
  PartCutter,
  UnreadableAttachmentError,
  downloadAttachment,
  missingParts,
  partCount,
  uploadAttachment,
} = await appModule('attachments.js');
const { ApiError } = await appModule('api.js');
const { AttachmentSealing } = await appModule('keys.js');

const CONVERSATION = '6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b';
const UPLOAD = '3d5b9c1e-7a2f-4e6b-8c0d-1f2e3a4b5c6d';
const PART = 1024 * 1024;

/** `n` bytes that are not all alike. */
function fileBytes(n, seed = 1) {
  const bytes = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** The bytes of a download's parts (Uint8Arrays and the Blobs they were folded into). */
const bytesOf = async (parts) => new Uint8Array(await new Blob(parts).arrayBuffer());

const concat = (pieces) => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
};

/**
 * The server's attachment endpoints, in memory: parts stored by number, a PUT that can be
 * made to fail (`failPut(n)`: the connection drops before the answer, the part stored or
 * not), and the requests it saw.
 */
class FakeServer {
  constructor({ partSize = PART } = {}) {
    this.partSize = partSize;
    this.parts = new Map();
    this.size = 0;
    this.digest = null;
    this.requests = [];
    this.failures = new Map();
    this.maxBytes = null;
  }

  failPut(number, { storedAnyway = false } = {}) {
    this.failures.set(number, storedAnyway);
  }

  state() {
    return {
      attachment: {
        id: UPLOAD,
        size: this.size,
        part_size: this.partSize,
        parts: partCount(this.size, this.partSize),
        stored: [...this.parts.keys()].sort((a, b) => a - b),
        complete: this.digest !== null,
      },
    };
  }

  get http() {
    return {
      post: async (path, body) => {
        this.requests.push(['POST', path, body]);
        if (path === `/api/conversations/${CONVERSATION}/attachments`) {
          if (this.maxBytes !== null) {
            throw new ApiError('attachment_too_large', 'too large', 413, { max_bytes: this.maxBytes });
          }
          this.size = body.size;
          return this.state();
        }
        if (path === `/api/attachments/${UPLOAD}/complete`) {
          const missing = missingParts(this.state().attachment);
          if (missing.length) throw new ApiError('attachment_incomplete', 'missing', 409, { missing_parts: missing });
          this.digest = body.digest;
          return this.state();
        }
        throw new Error(`unexpected POST ${path}`);
      },
      get: async (path) => {
        this.requests.push(['GET', path]);
        assert.equal(path, `/api/attachments/${UPLOAD}`);
        return this.state();
      },
      putBytes: async (path, bytes) => {
        const number = Number(path.split('/').at(-1));
        this.requests.push(['PUT', number, bytes.length]);
        assert.equal(path, `/api/attachments/${UPLOAD}/parts/${number}`);
        if (this.failures.has(number)) {
          const stored = this.failures.get(number);
          this.failures.delete(number);
          if (stored) this.parts.set(number, bytes.slice());
          throw new ApiError('network', 'The server could not be reached.', 0);
        }
        const expected = number === partCount(this.size, this.partSize) - 1 ? this.size - number * this.partSize : this.partSize;
        assert.equal(bytes.length, expected, `part ${number} is ${expected} bytes`);
        this.parts.set(number, bytes.slice());
        return this.state();
      },
    };
  }

  stream() {
    return concat([...this.parts.keys()].sort((a, b) => a - b).map((n) => this.parts.get(n)));
  }

  /**
   * `fetch` for the content: with `Range: bytes=N-` from byte N; `cutAfter` bytes into the
   * first answer the connection drops.
   */
  fetcher({ stream = this.stream(), cutAfter = null, honourRange = true } = {}) {
    const asked = [];
    let cut = cutAfter;
    const fetcher = async (url, init) => {
      const range = init.headers.Range ?? null;
      asked.push(range);
      assert.equal(url, `/api/attachments/${UPLOAD}/content`);
      const first = range && honourRange ? Number(/bytes=(\d+)-/.exec(range)[1]) : 0;
      const body = stream.subarray(first);
      const dropAt = cut;
      cut = null;
      let sent = 0;
      return {
        ok: true,
        status: range && honourRange ? 206 : 200,
        body: {
          getReader: () => ({
            read: async () => {
              if (dropAt !== null && sent >= dropAt) throw new TypeError('network error');
              if (sent >= body.length) return { done: true, value: undefined };
              const end = Math.min(body.length, sent + 40_000, dropAt ?? Infinity);
              const value = body.slice(sent, end);
              sent = end;
              return { done: false, value };
            },
          }),
        },
      };
    };
    return { fetcher, asked };
  }
}

const noWait = async () => {};

async function upload(server, bytes, options = {}) {
  return uploadAttachment({
    conversation: CONVERSATION,
    file: new Blob([bytes]),
    name: 'journal page.png',
    type: 'image/png',
    http: server.http,
    wait: noWait,
    ...options,
  });
}

test('the stream is cut into parts of the part size, the last one the rest, as it is written', () => {
  const cutter = new PartCutter(10);
  assert.deepEqual(cutter.push(Uint8Array.of(1, 2, 3)), []);
  const full = cutter.push(new Uint8Array(15).fill(7));
  assert.deepEqual(full.map((p) => [p.number, p.bytes.length]), [[0, 10]]);
  assert.deepEqual([...full[0].bytes.subarray(0, 4)], [1, 2, 3, 7]);
  assert.deepEqual(cutter.push(new Uint8Array(20)).map((p) => p.number), [1, 2]);
  const last = cutter.finish();
  assert.deepEqual([last.number, last.bytes.length], [3, 8]);
  assert.equal(cutter.finish(), null, 'nothing begun, nothing more');
  const exact = new PartCutter(4);
  assert.equal(exact.push(new Uint8Array(8)).length, 2);
  assert.equal(exact.finish(), null, 'a stream that ends on a part boundary has no short part');
});

test('a resumed upload sends the parts the server does not list, in order', () => {
  assert.deepEqual(missingParts({ parts: 3, stored: [] }), [0, 1, 2]);
  assert.deepEqual(missingParts({ parts: 3, stored: [0, 2] }), [1]);
  assert.deepEqual(missingParts({ parts: 3, stored: [2, 0, 1] }), []);
  assert.equal(partCount(1, PART), 1);
  assert.equal(partCount(PART, PART), 1);
  assert.equal(partCount(PART + 1, PART), 2);
});

test('a file of 2.5 MiB goes up in three parts, each sent once, and opens whole', async () => {
  const bytes = fileBytes(2.5 * 1024 * 1024);
  const server = new FakeServer();
  const progress = [];
  const reference = await upload(server, bytes, { onProgress: (p) => progress.push(p) });
  const stream = server.stream();
  assert.equal(stream.length, new AttachmentSealing(bytes.length, 'x', 'image/png').streamSize);
  assert.deepEqual(server.requests.filter((r) => r[0] === 'PUT').map((r) => r[1]), [0, 1, 2]);
  assert.equal(server.requests.at(-1)[1], `/api/attachments/${UPLOAD}/complete`);
  assert.equal(progress.at(-1).done, stream.length);
  assert.ok(progress.every((p, i) => i === 0 || p.done >= progress[i - 1].done), 'progress only grows');
  assert.deepEqual([reference.name, reference.type, reference.size, reference.attachmentUuid], ['journal page.png', 'image/png', bytes.length, UPLOAD]);
  const { fetcher } = server.fetcher();
  const pieces = await downloadAttachment(reference, { fetcher, wait: noWait });
  assert.deepEqual(await bytesOf(pieces), bytes);
});

test('a part whose request dropped goes again; one the server stored anyway does not', async () => {
  const bytes = fileBytes(2.5 * 1024 * 1024, 2);
  const server = new FakeServer();
  server.failPut(1);
  server.failPut(2, { storedAnyway: true });
  const retrying = [];
  const reference = await upload(server, bytes, { onProgress: (p) => p.retrying && retrying.push(p.done) });
  const puts = server.requests.filter((r) => r[0] === 'PUT').map((r) => r[1]);
  assert.deepEqual(puts, [0, 1, 1, 2], 'part 1 twice; part 2 once, found stored on asking');
  assert.equal(server.requests.filter((r) => r[0] === 'GET').length, 2, 'the server was asked after each failure');
  assert.equal(retrying.length, 2, 'the person sees it trying again');
  const { fetcher } = server.fetcher();
  assert.deepEqual(await bytesOf(await downloadAttachment(reference, { fetcher, wait: noWait })), bytes);
});

test('a cancelled upload stops where it is and completes nothing', async () => {
  const server = new FakeServer();
  const controller = new AbortController();
  const http = server.http;
  const put = http.putBytes;
  http.putBytes = async (path, bytes) => {
    const answer = await put(path, bytes);
    if (path.endsWith('/parts/0')) controller.abort();
    return answer;
  };
  await assert.rejects(
    uploadAttachment({
      conversation: CONVERSATION, file: new Blob([fileBytes(2 * PART)]), name: 'form.pdf', type: 'application/pdf',
      http, wait: noWait, signal: controller.signal,
    }),
    { name: 'AbortError' },
  );
  assert.deepEqual(server.requests.filter((r) => r[0] === 'PUT').map((r) => r[1]), [0]);
  assert.equal(server.digest, null);
});

test('a file over the server limit is refused with the limit, before any part', async () => {
  const server = new FakeServer();
  server.maxBytes = 1000;
  await assert.rejects(upload(server, fileBytes(5000)), (error) => error.code === 'attachment_too_large' && error.data.max_bytes === 1000);
  assert.deepEqual(server.requests.filter((r) => r[0] === 'PUT'), []);
});

test('a download cut off goes on from the byte it reached, with Range', async () => {
  const bytes = fileBytes(300_000, 3);
  const server = new FakeServer();
  const reference = await upload(server, bytes);
  const { fetcher, asked } = server.fetcher({ cutAfter: 120_000 });
  const pieces = await downloadAttachment(reference, { fetcher, wait: noWait });
  assert.deepEqual(await bytesOf(pieces), bytes);
  assert.deepEqual(asked, [null, 'bytes=120000-']);
  // A server that answers the whole stream again is read past what was received.
  const whole = server.fetcher({ cutAfter: 80_000, honourRange: false });
  assert.deepEqual(await bytesOf(await downloadAttachment(reference, { fetcher: whole.fetcher, wait: noWait })), bytes);
});

test('a changed, cut or swapped stream gives nothing: the file is not the one the message named', async () => {
  const bytes = fileBytes(200_000, 4);
  const server = new FakeServer();
  const reference = await upload(server, bytes);
  const stream = server.stream();
  const changed = stream.slice();
  changed[150_000] ^= 1;
  const unreadable = (error) => error instanceof UnreadableAttachmentError &&
    error.message === 'This file could not be opened: it was changed or is not the one the message named.';
  await assert.rejects(downloadAttachment(reference, { fetcher: server.fetcher({ stream: changed }).fetcher, wait: noWait }), unreadable);
  const longer = concat([stream, Uint8Array.of(0)]);
  await assert.rejects(downloadAttachment(reference, { fetcher: server.fetcher({ stream: longer }).fetcher, wait: noWait }), unreadable);
  // Another upload of the same file: another key, so another stream under this reference.
  const other = new FakeServer();
  await upload(other, bytes);
  await assert.rejects(downloadAttachment(reference, { fetcher: other.fetcher().fetcher, wait: noWait }), unreadable);
  // Cut short, and the server cannot serve the rest (416): nothing.
  const short = stream.subarray(0, stream.length - 10);
  const cut = async (url, init) => {
    if (init.headers.Range) {
      return { ok: false, status: 416, headers: { get: () => 'application/json' }, json: async () => ({ error: { code: 'range_not_satisfiable', message: 'no' } }) };
    }
    return server.fetcher({ stream: short }).fetcher(url, init);
  };
  await assert.rejects(downloadAttachment(reference, { fetcher: cut, wait: noWait }), unreadable);
});

test('pieces of the file are handed on in chunks of 64 KiB, never as stream', async () => {
  const bytes = fileBytes(3 * ATTACHMENT_CHUNK + 5, 5);
  const server = new FakeServer();
  const reference = await upload(server, bytes);
  const pieces = await downloadAttachment(reference, { fetcher: server.fetcher().fetcher, wait: noWait });
  assert.equal(pieces.reduce((n, p) => n + p.length, 0), bytes.length, 'the file only: no header, tag or MAC');
});

test('a large download is handed to Blobs as it comes, not held whole in the page', async () => {
  const bytes = fileBytes(9 * 1024 * 1024, 5);
  const server = new FakeServer();
  const reference = await upload(server, bytes);
  const { fetcher } = server.fetcher();
  const parts = await downloadAttachment(reference, { fetcher, wait: noWait });
  const folded = parts.filter((part) => part instanceof Blob);
  assert.equal(folded.length, 2, 'two Blobs of 4 MiB or more');
  const loose = parts.filter((part) => !(part instanceof Blob)).reduce((n, part) => n + part.length, 0);
  assert.ok(loose < 4 * 1024 * 1024, `at most 4 MiB left loose (${loose})`);
  assert.deepEqual(await bytesOf(parts), bytes);
});
