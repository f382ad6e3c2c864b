// What the web client decides about files (src/app/attachments.js): which may be attached
// (not an empty one, not one over the limit the server gave, not an eleventh), the name and
// media type the format takes, which are shown inline (JPEG, PNG, GIF, WebP up to 10 MiB;
// never SVG), and a message's text in an export. And a message presenting files
// goes the way of a text: sealed once, kept in the outbox as ciphertext, sent again with the
// same bytes after a reconnect, and held with its text and files when it comes back.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, ME, appModule, flush, signedInTab } from './_app_support.mjs';

const {
  PREVIEW_MAX_BYTES,
  attachmentName,
  attachmentType,
  exportedText,
  filesOf,
  formatSize,
  refusalOf,
  shownInline,
} = await appModule('attachments.js');
const { AttachmentSealing, attachmentsOf, messageContent, textOf } = await appModule('keys.js');

test('an empty file, one over the known limit, and an eleventh are refused with words', () => {
  assert.equal(refusalOf({ name: 'empty.txt', size: 0 }), '“empty.txt” is empty, so it was not attached.');
  assert.equal(refusalOf({ name: 'scan.pdf', size: 30 * 1024 * 1024 }), null, 'no limit known: the server decides');
  assert.equal(
    refusalOf({ name: 'scan.pdf', size: 30 * 1024 * 1024 }, { maxBytes: 25 * 1024 * 1024 }),
    '“scan.pdf” is 30 MB: a file can be at most 25 MB, so it was not attached.',
  );
  assert.equal(refusalOf({ name: 'ok.pdf', size: 25 * 1024 * 1024 }, { maxBytes: 25 * 1024 * 1024 }), null);
  assert.match(refusalOf({ name: 'eleventh.png', size: 10 }, { attached: 10 }), /at most 10 files/);
});

test('only JPEG, PNG, GIF and WebP images up to 10 MiB are shown inline; never SVG', () => {
  for (const type of ['image/jpeg', 'image/png', 'image/gif', 'image/webp']) {
    assert.equal(shownInline({ type, size: PREVIEW_MAX_BYTES }), true, type);
    assert.equal(shownInline({ type, size: PREVIEW_MAX_BYTES + 1 }), false, `${type} over 10 MiB`);
  }
  for (const type of ['image/svg+xml', 'application/pdf', 'text/html', 'image/heic', 'application/octet-stream']) {
    assert.equal(shownInline({ type, size: 100 }), false, type);
  }
});

test('a name and a type are made fit for the format, the name kept readable', () => {
  assert.equal(attachmentName('worksheet week 3.pdf'), 'worksheet week 3.pdf');
  assert.equal(attachmentName('a/b\\c\u0007.txt'), 'a_b_c_.txt');
  assert.equal(attachmentName('..'), 'file');
  assert.equal(attachmentName(''), 'file');
  const long = attachmentName(`${'é'.repeat(300)}.jpeg`);
  assert.ok(new TextEncoder().encode(long).length <= 255);
  assert.ok(long.endsWith('é.jpeg'), 'the ending is kept');
  assert.equal(attachmentType({ name: 'x.pdf', type: 'application/pdf' }), 'application/pdf');
  assert.equal(attachmentType({ name: 'IMG_0001.JPG', type: '' }), 'image/jpeg', 'a phone that gives no type');
  assert.equal(attachmentType({ name: 'notes.txt', type: 'Text/Plain; charset=utf-8' }), 'text/plain');
  assert.equal(attachmentType({ name: 'blob', type: '' }), 'application/octet-stream');
});

test('sizes read as people read them', () => {
  assert.deepEqual(
    [1, 740, 1024, 12_500, 1_572_864, 2.5 * 1024 * 1024, 25 * 1024 * 1024].map(formatSize),
    ['1 byte', '740 bytes', '1 KB', '12 KB', '1.5 MB', '2.5 MB', '25 MB'],
  );
});

test('an export holds the text and a line per file', () => {
  const files = [{ name: 'worksheet.pdf', size: 182_000 }, { name: 'photo.jpg', size: 2_400_000 }];
  assert.equal(exportedText('Here it is', files), 'Here it is\nAttachment: worksheet.pdf (178 KB)\nAttachment: photo.jpg (2.3 MB)');
  assert.equal(exportedText('', files.slice(0, 1)), 'Attachment: worksheet.pdf (178 KB)');
  assert.equal(exportedText('Just words', []), 'Just words');
});

/** A reference to a sealed file of `size` bytes, as an upload under `id` would give. */
function referenceTo(id, name = 'journal.png', type = 'image/png', size = 70_000) {
  const sealing = new AttachmentSealing(size, name, type);
  sealing.start();
  for (let done = 0; done < size; done += 65536) sealing.push(new Uint8Array(Math.min(65536, size - done)).fill(done % 251));
  return sealing.reference(id);
}

test('a text stays a string; files make content, whose text and files read back', () => {
  assert.equal(messageContent('only words'), 'only words');
  const reference = referenceTo('11111111-2222-4333-8444-555555555555');
  const content = messageContent('with a photo', [reference]);
  assert.equal(textOf(content), 'with a photo');
  assert.deepEqual(attachmentsOf(content).map((r) => r.attachmentUuid), ['11111111-2222-4333-8444-555555555555']);
  assert.deepEqual(filesOf(attachmentsOf(content)).map(({ id, name, size, type }) => ({ id, name, size, type })), [
    { id: '11111111-2222-4333-8444-555555555555', name: 'journal.png', size: 70_000, type: 'image/png' },
  ]);
  assert.equal(JSON.stringify(content).includes('key'), false, 'no key in what a view could print');
});

test('a message presenting files is sent once, resent with the same bytes after a reconnect, and held with its files', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    const timeline = await tab.open([]);
    const photo = referenceTo('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const form = referenceTo('aaaaaaaa-bbbb-4ccc-8ddd-ffffffffffff', 'completed form.pdf', 'application/pdf', 1000);
    const id = await tab.messenger.sendFiles(CONVERSATION, 'My journal and the form', [photo, form]);
    const [first] = tab.ws.sentOf('send');
    const pending = tab.messenger.pending(CONVERSATION);
    assert.deepEqual(pending.map((p) => [p.text, p.attachments.map((r) => r.name)]), [['My journal and the form', ['journal.png', 'completed form.pdf']]]);
    const stored = JSON.parse(tab.storage.getItem(`confide.outbox.${ME}`));
    assert.deepEqual(Object.keys(stored[0]).sort(), ['ciphertext', 'clientMessageId', 'conversation', 'createdAt', 'epoch']);
    assert.equal(stored[0].ciphertext, first.ciphertext, 'the outbox keeps the sealed content, nothing else');

    await tab.reconnect({ tick: (ms) => t.mock.timers.tick(ms) });
    const sends = tab.ws.sentOf('send');
    assert.equal(sends.length, 1, 'sent again on the new socket');
    assert.deepEqual([sends[0].client_message_id, sends[0].ciphertext], [id, first.ciphertext], 'the same id and bytes');

    tab.ws.deliver(tab.ackOf(sends[0], 1));
    await flush();
    tab.ws.deliver(tab.pushOf(sends[0], 1));
    await flush();
    const held = timeline.get(1);
    assert.equal(held.text, 'My journal and the form');
    assert.deepEqual(held.attachments.map((r) => [r.name, r.type, r.size]), [
      ['journal.png', 'image/png', 70_000],
      ['completed form.pdf', 'application/pdf', 1000],
    ]);
    assert.ok(held.attachments[0].equals(photo), 'the reference comes back whole, key and digest included');
  } finally {
    tab.close();
  }
});

test('a message sent from this tab and opened from the server reads the same: text and files', async () => {
  const tab = await signedInTab();
  try {
    await tab.connect();
    await tab.open([]);
    const photo = referenceTo('12345678-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    await tab.messenger.sendFiles(CONVERSATION, '', [photo]);
    const [send] = tab.ws.sentOf('send');
    const ciphertext = send.ciphertext;
    const content = tab.keys.openContent(ciphertext, tab.mine.public, CONVERSATION, 0, send.client_message_id);
    assert.equal(textOf(content), '', 'a file with no words');
    assert.equal(attachmentsOf(content)[0].name, 'journal.png');
    // The text-only reading refuses content: it is not UTF-8 text.
    assert.throws(() => tab.keys.open(ciphertext, tab.mine.public, CONVERSATION, 0, send.client_message_id), { name: 'FormatError' });
  } finally {
    tab.close();
  }
});
