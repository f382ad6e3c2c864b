// The runners of crypto/vectors/attachment.json (crypto/SPEC.md, "Attachments" and "Message
// content"), for known_answer_vectors.test.mjs; the twin of tests/crypto/attachment_runners.py.
// The stream's length and digest are computed here from SPEC.md's formulas with libsodium
// directly, independently of the package.

import assert from 'node:assert/strict';

import { concat, confide, fromHex, replayRandom, sodium, toHex, utf8 } from './_support.mjs';

const { AttachmentOpener, AttachmentReference, MessageContent } = confide;

const reference = (fields) =>
  new AttachmentReference({
    attachmentId: fromHex(fields.attachment_id),
    key: fromHex(fields.key),
    digest: fromHex(fields.digest),
    size: fields.size,
    name: fields.name_text,
    type: fields.type_text,
  });

const fields = (ref) => ({
  attachment_id: toHex(ref.attachmentId),
  key: toHex(ref.key),
  digest: toHex(ref.digest),
  size: ref.size,
  name_text: ref.name,
  type_text: ref.type,
});

export const attachmentRunners = {
  seal(inputs) {
    const file = fromHex(inputs.file);
    const sealed = replayRandom(inputs.random, () =>
      confide.sealAttachment(file, inputs.name_text, inputs.type_text),
    );
    const { stream } = sealed;
    const digest = sodium.crypto_generichash(
      32,
      concat(utf8('confide/v1/attachment-digest'), stream),
      null,
    );
    assert.equal(toHex(sealed.sealer.digest), toHex(digest));
    assert.equal(
      stream.length,
      1 + 24 + 512 + 17 + file.length + 17 * Math.ceil(file.length / 65536),
    );
    return {
      key: toHex(sealed.sealer.key),
      digest: toHex(digest),
      stream_size: stream.length,
      stream: toHex(stream),
    };
  },
  open(inputs) {
    const stream = fromHex(inputs.stream);
    const ref = reference(inputs.reference);
    if (!('pieces' in inputs)) return { file: toHex(confide.openAttachment(stream, ref)) };
    const opener = new AttachmentOpener(ref);
    const out = [];
    let offset = 0;
    for (const length of [...inputs.pieces, stream.length]) {
      out.push(opener.feed(stream.subarray(offset, offset + length)));
      offset += length;
    }
    opener.finish();
    return { file: toHex(concat(...out)) };
  },
  ciphertext_size: (inputs) => ({ stream_size: confide.attachmentCiphertextSize(inputs.size) }),
  encode_content: (inputs) => ({
    content: toHex(
      confide.encodeContent(
        new MessageContent({ text: inputs.text_text, attachments: inputs.attachments.map(reference) }),
      ),
    ),
  }),
  decode_content(inputs) {
    const content = confide.decodeContent(fromHex(inputs.content));
    return { text_text: content.text, attachments: content.attachments.map(fields) };
  },
};
