/**
 * The one error hierarchy of the browser crypto modules.
 *
 * Every failure is thrown as a subclass of {@link CryptoError}, with a message that says
 * exactly what was wrong. Nothing returns plaintext, a key or `null` on failure, and
 * nothing falls back silently.
 *
 * The class names are part of the protocol: the known-answer vectors in crypto/vectors
 * name the expected failure by class name, and they match crypto/errors.py one for one.
 * Each class sets `name` on its prototype explicitly so that the names survive any
 * minifier.
 *
 * @module
 */

/** Base class of every error thrown by these modules; never thrown itself. */
export class CryptoError extends Error {}
CryptoError.prototype.name = 'CryptoError';

/**
 * Malformed input: wrong length, truncated, bad encoding or a field with a bad value.
 *
 * Also thrown for arguments of the wrong type or out of range (an epoch that does not fit
 * in 32 bits, an id that is not 16 bytes), so that callers catch one hierarchy only.
 */
export class FormatError extends CryptoError {}
FormatError.prototype.name = 'FormatError';

/** The version byte at the start of a format is not one this implementation knows. */
export class UnsupportedVersionError extends FormatError {}
UnsupportedVersionError.prototype.name = 'UnsupportedVersionError';

/**
 * Argon2id parameters within the format's bounds but cheaper than this client's floor.
 *
 * The floor is the client's own sign-up default. Parameters below it come from a server
 * that wants the password derived cheaply, so that the authentication secret it receives,
 * or the wrapped bundle it keeps, is cheaper to guess the password from.
 */
export class WeakParametersError extends FormatError {}
WeakParametersError.prototype.name = 'WeakParametersError';

/**
 * XChaCha20-Poly1305 authentication failed.
 *
 * The key is wrong, the ciphertext, nonce or tag was altered, or the associated data
 * (which binds format version, ids and keys) differs from what was encrypted. The causes
 * are deliberately indistinguishable.
 */
export class DecryptionError extends CryptoError {}
DecryptionError.prototype.name = 'DecryptionError';

/** An Ed25519 signature does not verify under the expected public key. */
export class SignatureError extends CryptoError {}
SignatureError.prototype.name = 'SignatureError';

/**
 * Well-formed and authentic, but bound to another context than the caller expected.
 *
 * For example a message signed by the expected sender for another conversation, epoch or
 * client message id, or a key bundle that decrypts to keys of another identity.
 */
export class BindingError extends CryptoError {}
BindingError.prototype.name = 'BindingError';

/**
 * A classical (X25519-only) envelope for an epoch that began after its recipient's
 * identity held an X-Wing key: the server offered the wrapper an older identity.
 */
export class DowngradeError extends BindingError {}
DowngradeError.prototype.name = 'DowngradeError';

/** An X25519 public key is a low-order point, so the shared secret would be all zeros. */
export class WeakKeyError extends CryptoError {}
WeakKeyError.prototype.name = 'WeakKeyError';
