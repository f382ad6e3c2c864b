// Every vector in every file of crypto/vectors gives exactly its expected result or its
// expected error class, one test per vector named "file:vector".
//
// As in tests/crypto/test_known_answer_vectors.py, intermediate values (ephemeral keys,
// shared secrets, derived keys) are computed directly with libsodium, independently of the
// package, so a vector also checks the derivations written in SPEC.md.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  _deriveMaster,
  blake2b,
  concat,
  confide,
  cryptoModule,
  exactly,
  fromHex,
  replayRandom,
  secretMaterial,
  sodium,
  toHex,
  unbase32,
  utf8,
  vectorFiles,
} from './_support.mjs';
import { attachmentRunners } from './_attachment_runners.mjs';
import { exportRunners } from './_export_runners.mjs';

const { ConversationKey, IdentityKeyPair, KdfParams, PublicIdentity, RecoveryKey, WrappingKey } =
  confide;
const { xwingDecapsulate, xwingPublicKey } = await cryptoModule('_primitives.js');

const publicFields = (identity) => ({
  version: identity.version,
  sign_pk: toHex(identity.signKey),
  enc_pk: toHex(identity.encKey),
  xwing_pk: identity.xwingKey === null ? null : toHex(identity.xwingKey),
  since: identity.since,
  public_identity: toHex(identity.toBytes()),
  fingerprint: toHex(identity.fingerprint()),
});

/** The recipient of an 'unwrap' vector: its public identity is version 2 from 'recipient_since'. */
const recipientOf = (inputs) =>
  new IdentityKeyPair(fromHex(inputs.recipient_secret), inputs.recipient_since ?? null);

const openArguments = (inputs) => [
  fromHex(inputs.wire),
  new ConversationKey(fromHex(inputs.epoch_key)),
  new PublicIdentity(fromHex(inputs.sender_identity)),
  fromHex(inputs.conversation_id),
  inputs.epoch,
  inputs.client_message_id === null ? null : fromHex(inputs.client_message_id),
];

/** A disclosure's description from the `_text` fields of a vector. */
const descriptionOf = (fields) =>
  new confide.DisclosureDescription({
    disclosedOn: fields.disclosed_on_text,
    legalBasis: fields.legal_basis_text,
    recipient: fields.recipient_text,
    information: fields.information_text,
    purpose: fields.purpose_text,
  });

const FLOATS = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': -Infinity };

/** An input that may be written as `name_float` (a number JSON cannot write). */
const number = (inputs, name) =>
  `${name}_float` in inputs ? FLOATS[inputs[`${name}_float`]] : inputs[name];

/** A MessageOrder from a vector's `order` object (hex bytes, JSON numbers). */
const orderOf = (fields) =>
  new confide.MessageOrder({
    chain: fromHex(fields.chain),
    counter: fields.counter,
    sentAt: fields.sent_at,
    previous: fromHex(fields.previous),
  });

const orderFields = (order) =>
  order === null
    ? null
    : {
        chain: toHex(order.chain),
        counter: order.counter,
        sent_at: order.sentAt,
        previous: toHex(order.previous),
      };

const pinOf = (fields) =>
  new confide.Pin({
    userId: fields.user_id,
    fingerprint: fromHex(fields.fingerprint),
    verified: fields.verified,
    at: fields.at,
  });

const pair = (inputs) => [
  new PublicIdentity(fromHex(inputs.identity_a)),
  new PublicIdentity(fromHex(inputs.identity_b)),
];

const recoveryClaim = (inputs) =>
  new confide.RecoveryClaim({
    challenge: fromHex(inputs.challenge),
    email: inputs.email_text,
    salt: fromHex(inputs.salt),
    params: new KdfParams({ opslimit: inputs.opslimit, memlimit: inputs.memlimit }),
    authSecret: fromHex(inputs.auth_secret),
    keyBundle: fromHex(inputs.key_bundle),
  });

/** (file, operation) -> inputs -> result fields, like RUNNERS in the Python test. */
const RUNNERS = {
  attachment: attachmentRunners,
  export: exportRunners,
  identity: {
    generate(inputs) {
      const identity = replayRandom(inputs.random, () => IdentityKeyPair.generate(inputs.since));
      const secret = secretMaterial(identity);
      if (inputs.since !== null) {
        // The X-Wing key as SPEC.md derives it, computed here with libsodium directly.
        const seed = blake2b(secret.subarray(0, 32), utf8('confide/v1/xwing-seed'));
        assert.equal(
          toHex(identity.public.xwingKey),
          toHex(sodium.crypto_kem_xwing_seed_keypair(seed).publicKey),
        );
      }
      return { secret: toHex(secret), ...publicFields(identity.public) };
    },
    parse: (inputs) => publicFields(PublicIdentity.fromBytes(fromHex(inputs.public_identity))),
  },
  kdf: {
    derive(inputs) {
      const params = new KdfParams({ opslimit: inputs.opslimit, memlimit: inputs.memlimit });
      const salt = fromHex(inputs.salt);
      const master = _deriveMaster(inputs.password_text, salt, params);
      const keys = confide.derivePasswordKeys(inputs.password_text, salt, params);
      // The subkeys must be H(master, label), as SPEC.md says, not merely self-consistent.
      assert.equal(toHex(keys.authSecret), toHex(blake2b(master, utf8('confide/v1/auth'))));
      assert.equal(
        toHex(secretMaterial(keys.kek)),
        toHex(blake2b(master, utf8('confide/v1/key-wrap'))),
      );
      return {
        master: toHex(master),
        auth_secret: toHex(keys.authSecret),
        auth_secret_b64: keys.authSecretB64(),
        kek: toHex(secretMaterial(keys.kek)),
      };
    },
    check_served(inputs) {
      const served = confide.checkServedParams(
        new KdfParams({ opslimit: inputs.opslimit, memlimit: inputs.memlimit }),
      );
      return { opslimit: served.opslimit, memlimit: served.memlimit };
    },
  },
  invitation: {
    fragment: (inputs) => ({
      fragment_text: confide.invitationFragment(
        inputs.token_text,
        PublicIdentity.fromBytes(fromHex(inputs.public_identity)),
      ),
    }),
    parse(inputs) {
      const { token, fingerprint } = confide.parseInvitationFragment(inputs.fragment_text);
      return { token_text: token, fingerprint: toHex(fingerprint) };
    },
    check(inputs) {
      confide.checkInvitationTherapist(
        fromHex(inputs.fingerprint),
        PublicIdentity.fromBytes(fromHex(inputs.public_identity)),
      );
      return {};
    },
  },
  bundle: {
    wrap(inputs) {
      const identity = new IdentityKeyPair(fromHex(inputs.secret));
      const key = new WrappingKey(fromHex(inputs.wrapping_key));
      const blob = replayRandom(inputs.random, () =>
        confide.wrapIdentity(identity, key, inputs.kind),
      );
      return { bundle: toHex(blob) };
    },
    unwrap(inputs) {
      const blob = fromHex(inputs.bundle);
      const identity = confide.unwrapIdentity(
        blob,
        new WrappingKey(fromHex(inputs.wrapping_key)),
        new PublicIdentity(fromHex(inputs.expected_identity)),
      );
      return { secret: toHex(secretMaterial(identity)), kind: confide.parseBundle(blob) };
    },
  },
  recovery: {
    generate(inputs) {
      const recovery = replayRandom(inputs.random, () => RecoveryKey.generate());
      const display = recovery.display();
      return {
        key: toHex(secretMaterial(recovery)),
        check: toHex(unbase32(display.replaceAll('-', '')).subarray(32)),
        display_text: display,
        wrapping_key: toHex(secretMaterial(recovery.wrappingKey())),
      };
    },
    from_display: (inputs) => ({
      key: toHex(secretMaterial(RecoveryKey.fromDisplay(inputs.display_text))),
    }),
    prove(inputs) {
      const claim = recoveryClaim(inputs);
      const identity = new IdentityKeyPair(fromHex(inputs.secret));
      const proof = confide.signRecovery(identity, claim);
      const statement = confide.recoveryStatement(claim);
      // The statement as SPEC.md writes it, built here without the package.
      const email = utf8(inputs.email_text);
      const u32 = (value) => {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, value);
        return out;
      };
      assert.equal(
        toHex(statement),
        toHex(
          concat(
            utf8('confide/v1/recovery-proof'),
            Uint8Array.of(1),
            fromHex(inputs.challenge),
            u32(email.length),
            email,
            fromHex(inputs.salt),
            u32(inputs.opslimit),
            u32(inputs.memlimit),
            blake2b(null, fromHex(inputs.auth_secret)),
            fromHex(inputs.key_bundle),
          ),
        ),
      );
      assert.ok(sodium.crypto_sign_verify_detached(proof, statement, identity.signKey));
      return { statement: toHex(statement), proof: toHex(proof) };
    },
    verify_proof(inputs) {
      confide.verifyRecovery(
        new PublicIdentity(fromHex(inputs.public_identity)),
        recoveryClaim(inputs),
        fromHex(inputs.proof),
      );
      return {};
    },
  },
  envelope: {
    wrap(inputs) {
      const recipient = new PublicIdentity(fromHex(inputs.recipient_identity));
      const envelope = replayRandom(inputs.random, () =>
        confide.wrapConversationKey(
          new ConversationKey(fromHex(inputs.epoch_key)),
          fromHex(inputs.conversation_id),
          inputs.epoch,
          recipient,
          new IdentityKeyPair(fromHex(inputs.wrapper_secret)),
          'created_at' in inputs ? inputs.created_at : null,
        ),
      );
      const ephSk = fromHex(inputs.random[0]);
      const ephPk = sodium.crypto_scalarmult_base(ephSk);
      const shared = sodium.crypto_scalarmult(ephSk, recipient.encKey);
      return {
        eph_pk: toHex(ephPk),
        shared_secret: toHex(shared),
        envelope_key: toHex(
          blake2b(shared, concat(utf8('confide/v1/envelope'), ephPk, recipient.encKey)),
        ),
        envelope: toHex(envelope),
      };
    },
    unwrap(inputs) {
      const key = confide.unwrapConversationKey(
        fromHex(inputs.envelope),
        recipientOf(inputs),
        new PublicIdentity(fromHex(inputs.wrapper_identity)),
        fromHex(inputs.conversation_id),
        inputs.epoch,
      );
      return { epoch_key: toHex(secretMaterial(key)) };
    },
    xwing(inputs) {
      // The draft's test vector: the package's derivation of the public key and its
      // decapsulation, and libsodium's deterministic encapsulation giving exactly 'ct'.
      const seed = fromHex(inputs.seed);
      const pk = xwingPublicKey(seed);
      assert.equal(toHex(sodium.crypto_kem_xwing_seed_keypair(seed).publicKey), toHex(pk));
      const encapsulated = sodium.crypto_kem_xwing_enc_deterministic(pk, fromHex(inputs.eseed));
      if (toHex(encapsulated.ciphertext) !== inputs.ct) {
        throw new Error('The deterministic encapsulation does not give the recorded ciphertext');
      }
      const ss = xwingDecapsulate(seed, fromHex(inputs.ct));
      assert.equal(toHex(encapsulated.sharedSecret), toHex(ss));
      return { pk: toHex(pk), ss: toHex(ss) };
    },
    verify(inputs) {
      const info = confide.verifyEnvelope(
        fromHex(inputs.envelope),
        new PublicIdentity(fromHex(inputs.wrapper_identity)),
      );
      return {
        version: info.version,
        conversation_id: toHex(info.conversationId),
        epoch: info.epoch,
        recipient_enc_pk: toHex(info.recipientEncPk),
        wrapper_sign_pk: toHex(info.wrapperSignPk),
        ...(info.version === 1
          ? {}
          : { created_at: info.createdAt, commitment: toHex(info.commitment) }),
      };
    },
  },
  rotation: {
    needs_rotation: (inputs) => ({
      rotate: confide.epochNeedsRotation(
        inputs.messages_in_epoch,
        number(inputs, 'epoch_age_seconds'),
        inputs.keys_changed,
      ),
    }),
  },
  message: {
    seal(inputs) {
      const epochKey = fromHex(inputs.epoch_key);
      const wire = replayRandom(inputs.random, () =>
        confide.sealMessage(
          fromHex(inputs.plaintext),
          new ConversationKey(epochKey),
          fromHex(inputs.conversation_id),
          inputs.epoch,
          new IdentityKeyPair(fromHex(inputs.sender_secret)),
          fromHex(inputs.client_message_id),
          'order' in inputs ? orderOf(inputs.order) : null,
        ),
      );
      // The reference as SPEC.md writes it, computed here without the package.
      const reference = sodium.crypto_generichash(
        32,
        concat(utf8('confide/v1/message-reference'), wire),
        null,
      );
      assert.equal(toHex(confide.messageReference(wire)), toHex(reference));
      return {
        message_key: toHex(blake2b(epochKey, utf8('confide/v1/message-key'))),
        padded_size: confide.parseMessage(wire).paddedSize,
        wire: toHex(wire),
        reference: toHex(reference),
      };
    },
    open: (inputs) => ({ plaintext: toHex(confide.openMessage(...openArguments(inputs))) }),
    open_text: (inputs) => ({ plaintext_text: confide.openText(...openArguments(inputs)) }),
    verify(inputs) {
      const info = confide.verifyMessage(
        fromHex(inputs.wire),
        new PublicIdentity(fromHex(inputs.sender_identity)),
      );
      return {
        version: info.version,
        conversation_id: toHex(info.conversationId),
        epoch: info.epoch,
        sender_sign_pk: toHex(info.senderSignPk),
        client_message_id: toHex(info.clientMessageId),
        padded_size: info.paddedSize,
        order: orderFields(info.order),
      };
    },
  },
  order: {
    check: (inputs) => ({
      notices: confide
        .checkOrder(
          inputs.entries.map(
            (entry) =>
              new confide.OrderEntry({
                seq: entry.seq,
                sender: entry.sender,
                reference: fromHex(entry.reference),
                order: entry.order === null ? null : orderOf(entry.order),
              }),
          ),
          inputs.from_start,
        )
        .map((notice) => ({
          kind: notice.kind,
          seq: notice.seq,
          sender: notice.sender,
          chain: notice.chain === null ? null : toHex(notice.chain),
          first: notice.first,
          last: notice.last,
          after: notice.after,
          before: notice.before,
        })),
    }),
  },
  pins: {
    seal(inputs) {
      const identity = new IdentityKeyPair(fromHex(inputs.secret));
      const record = replayRandom(inputs.random, () =>
        confide.sealPins(identity, inputs.counter, inputs.pins.map(pinOf)),
      );
      return {
        pins_key: toHex(blake2b(fromHex(inputs.secret), utf8('confide/v1/pins'))),
        record: toHex(record),
      };
    },
    open(inputs) {
      const opened = confide.openPins(
        fromHex(inputs.record),
        new IdentityKeyPair(fromHex(inputs.secret)),
      );
      return {
        counter: opened.counter,
        pins: opened.pins.map((pin) => ({
          user_id: pin.userId,
          fingerprint: toHex(pin.fingerprint),
          verified: pin.verified,
          at: pin.at,
        })),
      };
    },
    parse(inputs) {
      const info = confide.parsePins(fromHex(inputs.record));
      return { sign_pk: toHex(info.signPk), counter: info.counter };
    },
  },
  padding: {
    pad: (inputs) => ({ padded: toHex(confide.pad(fromHex(inputs.data))) }),
    padded_size: (inputs) => ({ padded_size: confide.paddedSize(inputs.length) }),
    unpad: (inputs) => ({ data: toHex(confide.unpad(fromHex(inputs.padded))) }),
  },
  succession: {
    sign: (inputs) => {
      const confirmer = new IdentityKeyPair(fromHex(inputs.confirmer_secret));
      const succession = confide.signSuccession(confirmer, {
        userId: inputs.user_id,
        confirmerId: inputs.confirmer_id,
        confirmedAt: inputs.confirmed_at,
        previousIdentity: new PublicIdentity(fromHex(inputs.previous_identity)),
        newIdentity: new PublicIdentity(fromHex(inputs.new_identity)),
      });
      // The body and the signed statement as SPEC.md writes them, built here without the package.
      const u64 = (value) => {
        const out = new Uint8Array(8);
        new DataView(out.buffer).setBigUint64(0, BigInt(value));
        return out;
      };
      const identities = [fromHex(inputs.previous_identity), fromHex(inputs.new_identity)];
      const body = concat(
        Uint8Array.of(identities.every((identity) => identity[0] === 1) ? 1 : 2),
        u64(inputs.user_id),
        u64(inputs.confirmer_id),
        u64(inputs.confirmed_at),
        fromHex(inputs.previous_identity),
        fromHex(inputs.new_identity),
      );
      const statement = concat(utf8('confide/v1/identity-succession'), body);
      assert.deepEqual(succession.subarray(0, body.length), body);
      assert.ok(
        sodium.crypto_sign_verify_detached(succession.subarray(body.length), statement, confirmer.signKey),
        'the signature verifies over the statement',
      );
      return { statement: toHex(statement), succession: toHex(succession) };
    },
    verify: (inputs) => {
      const stated = confide.verifySuccession(
        fromHex(inputs.succession),
        new PublicIdentity(fromHex(inputs.confirmer_identity)),
        {
          userId: inputs.user_id,
          confirmerId: inputs.confirmer_id,
          newIdentity: new PublicIdentity(fromHex(inputs.new_identity)),
        },
      );
      return {
        user_id: stated.userId,
        confirmer_id: stated.confirmerId,
        confirmed_at: stated.confirmedAt,
        previous_identity: toHex(stated.previousIdentity.toBytes()),
        new_identity: toHex(stated.newIdentity.toBytes()),
      };
    },
  },
  safety: {
    compute(inputs) {
      const [a, b] = pair(inputs);
      const number = confide.safetyNumber(a, b);
      return {
        fingerprint_a: toHex(a.fingerprint()),
        fingerprint_b: toHex(b.fingerprint()),
        safety_number_text: number,
        formatted_text: confide.formatSafetyNumber(number),
        qr_payload: toHex(confide.safetyQrPayload(a, b)),
      };
    },
    verify_qr(inputs) {
      const result = confide.verifySafetyQr(fromHex(inputs.qr_payload), ...pair(inputs));
      assert.equal(result, undefined);
      return {};
    },
    identity_number(inputs) {
      const identity = confide.PublicIdentity.fromBytes(fromHex(inputs.identity));
      const number = confide.identityNumber(identity);
      return {
        fingerprint: toHex(identity.fingerprint()),
        identity_number_text: number,
        formatted_text: confide.formatIdentityNumber(number),
        qr_payload: toHex(confide.identityQrPayload(identity)),
      };
    },
    verify_identity_qr(inputs) {
      const identity = confide.PublicIdentity.fromBytes(fromHex(inputs.identity));
      const result = confide.verifyIdentityQr(fromHex(inputs.qr_payload), identity);
      assert.equal(result, undefined);
      return {};
    },
  },
  disclosure: {
    describe: (inputs) => ({ description: toHex(descriptionOf(inputs).toJson()) }),
    seal(inputs) {
      const epochKey = fromHex(inputs.epoch_key);
      const description = descriptionOf(inputs.description);
      const record = replayRandom(inputs.random, () =>
        confide.sealDisclosure(
          description,
          new ConversationKey(epochKey),
          fromHex(inputs.conversation_id),
          inputs.epoch,
          new IdentityKeyPair(fromHex(inputs.recorder_secret)),
          fromHex(inputs.disclosure_id),
        ),
      );
      return {
        disclosure_key: toHex(blake2b(epochKey, utf8('confide/v1/disclosure-key'))),
        padded_size: confide.parseDisclosure(record).paddedSize,
        record: toHex(record),
      };
    },
    open(inputs) {
      const description = confide.openDisclosure(
        fromHex(inputs.record),
        new ConversationKey(fromHex(inputs.epoch_key)),
        new PublicIdentity(fromHex(inputs.recorder_identity)),
        fromHex(inputs.conversation_id),
        inputs.epoch,
        fromHex(inputs.disclosure_id),
        inputs.disclosed_on_text,
        inputs.legal_basis_text,
      );
      return {
        description: {
          disclosed_on_text: description.disclosedOn,
          legal_basis_text: description.legalBasis,
          recipient_text: description.recipient,
          information_text: description.information,
          purpose_text: description.purpose,
        },
      };
    },
    verify(inputs) {
      const info = confide.verifyDisclosure(
        fromHex(inputs.record),
        new PublicIdentity(fromHex(inputs.recorder_identity)),
      );
      return {
        version: info.version,
        conversation_id: toHex(info.conversationId),
        epoch: info.epoch,
        recorder_sign_pk: toHex(info.recorderSignPk),
        disclosure_id: toHex(info.disclosureId),
        padded_size: info.paddedSize,
      };
    },
    open_as_message: (inputs) => ({
      plaintext: toHex(confide.openMessage(...openArguments(inputs))),
    }),
  },
  encoding: {
    round_trip(inputs) {
      const data = fromHex(inputs.data);
      const text = confide.b64encode(data);
      assert.equal(
        toHex(confide.b64decode(text)),
        inputs.data,
        'decoding the text gives the data back',
      );
      return { text };
    },
    decode: (inputs) => ({ data: toHex(confide.b64decode(inputs.text)) }),
  },
};

const files = vectorFiles();

test('every vector file has runners, and every runner a vector file', () => {
  assert.deepEqual(
    files.map(({ file }) => file),
    Object.keys(RUNNERS).sort(),
  );
  for (const { file, document } of files) {
    assert.deepEqual(Object.keys(document).sort(), ['description', 'encoding', 'vectors']);
    for (const vector of document.vectors) {
      assert.ok(
        RUNNERS[file][vector.operation],
        `${file}:${vector.name}: no runner for ${vector.operation}`,
      );
      assert.notEqual('error' in vector, 'expected' in vector, `${file}:${vector.name}`);
      if ('error' in vector) {
        assert.ok(confide[vector.error]?.prototype instanceof confide.CryptoError, vector.error);
      }
    }
  }
});

for (const { file, document } of files) {
  for (const vector of document.vectors) {
    test(`${file}:${vector.name}`, () => {
      const run = RUNNERS[file][vector.operation];
      if ('error' in vector) {
        assert.throws(() => run(vector.inputs), exactly(vector.error));
      } else {
        assert.deepStrictEqual(run(vector.inputs), vector.expected);
      }
    });
  }
}
