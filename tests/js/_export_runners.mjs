// The runners of crypto/vectors/export.json (crypto/SPEC.md, "Exports"), for
// known_answer_vectors.test.mjs. The hashes are computed here with libsodium directly,
// from the encodings SPEC.md writes, independently of the package.

import assert from 'node:assert/strict';

import { concat, confide, fromHex, sodium, toHex, utf8 } from './_support.mjs';

const START = '<!--confide-export-manifest\n';
const ROLE = { client: 1, therapist: 2 };

const u64 = (value) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
};
const u32 = (value) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
};

const message = (fields) =>
  new confide.ExportMessage({
    seq: fields.seq,
    sender: fields.sender,
    time: fields.time,
    signer: fields.signer === null ? null : fromHex(fields.signer),
    text: fields.text_text,
  });

const member = (fields) =>
  new confide.ExportMember({
    name: fields.name_text,
    identity: new confide.PublicIdentity(fromHex(fields.identity)),
  });

/** message_hash as SPEC.md writes it, without the package. */
function hash(conversation, fields) {
  const text = fields.text_text === null ? new Uint8Array(0) : utf8(fields.text_text);
  return sodium.crypto_hash_sha256(
    concat(
      utf8('confide/v1/export-message'),
      conversation,
      u64(fields.seq),
      Uint8Array.of(ROLE[fields.sender]),
      u64(fields.time),
      Uint8Array.of(fields.text_text === null ? 0 : 1),
      fields.signer === null ? new Uint8Array(32) : fromHex(fields.signer),
      u32(text.length),
      text,
    ),
  );
}

export const exportRunners = {
  make(inputs) {
    const exporter = new confide.IdentityKeyPair(fromHex(inputs.exporter_secret), inputs.exporter_since);
    const conversation = fromHex(inputs.conversation_id);
    const made = confide.makeExport(exporter, conversation, {
      client: member(inputs.client),
      therapist: member(inputs.therapist),
      messages: inputs.messages.map(message),
      exportedAt: inputs.exported_at,
    });
    const text = new TextDecoder('utf-8', { fatal: true }).decode(made);
    const start = text.lastIndexOf(START);
    const manifest = JSON.parse(text.slice(start + START.length, -5));
    const documentBytes = made.subarray(0, utf8(text.slice(0, start)).length);
    assert.equal(toHex(confide.b64decode(manifest.document)), toHex(sodium.crypto_hash_sha256(documentBytes)));
    const hashes = inputs.messages.map((fields) => toHex(hash(conversation, fields)));
    assert.deepEqual(
      manifest.messages.map((item) => toHex(confide.b64decode(item.hash))),
      hashes,
    );
    return {
      file_text: text,
      document_hash_b64: manifest.document,
      message_hashes: hashes,
      signature_b64: manifest.signature,
    };
  },
  verify(inputs) {
    const data = 'file' in inputs ? fromHex(inputs.file) : utf8(inputs.file_text);
    const verified = confide.verifyExport(data, {
      trusted: inputs.trusted.map((hex) => new confide.PublicIdentity(fromHex(hex))),
      fingerprints: inputs.fingerprints.map(fromHex),
      safetyNumbers: inputs.safety_numbers,
    });
    return {
      conversation_id: verified.conversationId.replaceAll('-', ''),
      exporter: verified.exporter,
      exported_at: verified.exportedAt,
      safety_number_text: verified.safetyNumber,
      messages: verified.messages.map((item) => ({
        seq: item.seq,
        sender: item.sender,
        time: item.time,
        signer: item.signer === null ? null : toHex(item.signer),
        text_text: item.text,
      })),
    };
  },
};
