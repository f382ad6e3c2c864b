/**
 * The Confide end-to-end encryption protocol in the browser, on libsodium.js.
 *
 * The browser twin of the Python package crypto/: the same formats, derivations and
 * receiver checks (crypto/SPEC.md), byte for byte, checked against the same known-answer
 * vectors (crypto/vectors). This package is the only browser code that touches libsodium.
 *
 * Every failure throws a subclass of CryptoError. Nonces, ephemeral keys and fresh secrets
 * are made inside the package; no function accepts them. Ids are 16-byte Uint8Arrays or
 * UUID strings. Secret-holding objects (IdentityKeyPair, WrappingKey, PasswordKeys,
 * RecoveryKey, ConversationKey, AttachmentReference, AttachmentSealer) print as
 * `Type(secret=<hidden>)` and offer `wipe()`.
 *
 * Usage: `import * as confide from './crypto/index.js'; await confide.ready();` (importing
 * already waits for libsodium; `ready()` is there to make the dependency explicit).
 *
 * @module
 */

import sodium from './_sodium.js';

export {
  BindingError,
  CryptoError,
  DecryptionError,
  DowngradeError,
  FormatError,
  SignatureError,
  UnsupportedVersionError,
  WeakKeyError,
  WeakParametersError,
} from './errors.js';
export { b64decode, b64encode } from './encoding.js';
export { idToUuid } from './_fields.js';
export {
  IDENTITY_VERSION,
  IDENTITY_VERSION_2,
  PUBLIC_IDENTITY_SIZE,
  PUBLIC_IDENTITY_SIZE_V2,
  IdentityKeyPair,
  PublicIdentity,
} from './identity.js';
export {
  BUNDLE_SIZE,
  BUNDLE_VERSION,
  BundleKind,
  IDENTITY_KEYS_SIZE,
  WrappingKey,
  identityKeys,
  parseBundle,
  unwrapIdentity,
  wrapIdentity,
} from './bundle.js';
export {
  DEFAULT_KDF_PARAMS,
  KdfParams,
  PasswordKeys,
  checkServedParams,
  derivePasswordKeys,
  derivePasswordKeysOffThread,
  newSalt,
  warmPasswordDerivation,
} from './kdf.js';
export {
  RECOVERY_CHALLENGE_SIZE,
  RecoveryClaim,
  RecoveryKey,
  recoveryStatement,
  signRecovery,
  verifyRecovery,
} from './recovery.js';
export {
  ENVELOPE_SIZE,
  ENVELOPE_SIZE_V2,
  ENVELOPE_SIZE_V3,
  ENVELOPE_VERSION,
  ENVELOPE_VERSION_2,
  ENVELOPE_VERSION_3,
  ROTATE_AFTER_MESSAGES,
  DOWNGRADE_GRACE_MS,
  ROTATE_AFTER_SECONDS,
  ConversationKey,
  EnvelopeInfo,
  epochNeedsRotation,
  parseEnvelope,
  unwrapConversationKey,
  verifyEnvelope,
  wrapConversationKey,
} from './conversation.js';
export {
  SUCCESSION_SIZE,
  SUCCESSION_VERSION,
  SUCCESSION_VERSION_2,
  Succession,
  signSuccession,
  verifySuccession,
} from './succession.js';
export { MAX_PLAINTEXT, pad, paddedSize, unpad } from './padding.js';
export {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  ExportMember,
  ExportMessage,
  VerifiedExport,
  exportMessageHash,
  makeExport,
  verifyExport,
} from './export.js';
export {
  DISCLOSURE_VERSION,
  LEGAL_BASES,
  MAX_DESCRIPTION,
  MAX_DISCLOSURE_SIZE,
  DisclosureDescription,
  DisclosureInfo,
  openDisclosure,
  parseDisclosure,
  sealDisclosure,
  verifyDisclosure,
} from './disclosure.js';
export {
  CHAIN_SIZE,
  HEADER_SIZE,
  HEADER_SIZE_V2,
  MESSAGE_OVERHEAD,
  MESSAGE_OVERHEAD_V2,
  MESSAGE_VERSION,
  MESSAGE_VERSION_2,
  MessageInfo,
  MessageOrder,
  messageReference,
  newChain,
  openMessage,
  openText,
  parseMessage,
  sealMessage,
  sealText,
  verifyMessage,
} from './message.js';
export { NOTICE_KINDS, OrderEntry, OrderNotice, checkOrder } from './order.js';
export {
  ATTACHMENT_CHUNK,
  ATTACHMENT_VERSION,
  CONTENT_VERSION,
  MAX_ATTACHMENTS,
  MAX_FILE_SIZE,
  MAX_NAME,
  MAX_TYPE,
  AttachmentOpener,
  AttachmentReference,
  AttachmentSealer,
  MessageContent,
  SealedAttachment,
  attachmentCiphertextSize,
  attachmentDigest,
  attachmentDigestHasher,
  decodeContent,
  encodeContent,
  openAttachment,
  sealAttachment,
} from './attachment.js';
export { MAX_PINS, PINS_VERSION, Pin, PinRecord, openPins, parsePins, sealPins } from './pins.js';
export {
  checkInvitationTherapist,
  fingerprint,
  formatIdentityNumber,
  formatSafetyNumber,
  identityNumber,
  identityQrPayload,
  invitationFragment,
  parseInvitationFragment,
  safetyNumber,
  safetyQrPayload,
  verifyIdentityQr,
  verifySafetyQr,
} from './safety.js';

/**
 * Resolves when libsodium's WebAssembly is initialised (it already is once this module has
 * been imported, through a top-level await).
 * @returns {Promise<void>}
 */
export async function ready() {
  await sodium.ready;
}
