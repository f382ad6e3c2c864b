/**
 * Exports: a conversation decrypted on a member's side, as a signed, printable document.
 *
 * The browser twin of crypto/export.py (crypto/SPEC.md, "Exports"): the same file, byte
 * for byte, for the same messages.
 *
 *     file          = document || "<!--confide-export-manifest\n" || manifest || "\n-->\n"
 *     message_hash  = SHA-256("confide/v1/export-message" || conversation_id || u64(seq)
 *                             || role || u64(time) || opened || signer(32)
 *                             || u32(len(text)) || text)
 *     manifest      = canonical JSON of the fields and "signature"
 *     signature     = Ed25519-Sign(exporter_sign_sk, "confide/v1/export" || canonical JSON
 *                                  of the fields without "signature")
 *
 * @module
 */

import * as labels from './_labels.js';
import { coerceId, concat, equalBytes, idToUuid, requireBytes, requireType, typeName, u32, u64 } from './_fields.js';
import { PUBLIC_KEY_SIZE, SIGNATURE_SIZE, sha256, verifyDetached } from './_primitives.js';
import { b64decode, b64encode } from './encoding.js';
import { BindingError, FormatError, UnsupportedVersionError } from './errors.js';
import { IdentityKeyPair, PublicIdentity, _sign } from './identity.js';
import { formatIdentityNumber, formatSafetyNumber, identityNumber, safetyNumber } from './safety.js';

export const EXPORT_FORMAT = 'confide-export';
export const EXPORT_VERSION = 1;
/** 9999-12-31T23:59:59.999Z: the last instant both implementations write as a date. */
export const MAX_EXPORT_TIME = 253_402_300_799_999;
export const MAX_NAME_LENGTH = 200;
const ROLES = /** @type {const} */ (['client', 'therapist']);
const ROLE_BYTE = { client: 0x01, therapist: 0x02 };

const START = '<!--confide-export-manifest\n';
const END = '\n-->\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ELEMENT = /<li\b[^>]*?\bid="m([0-9]{1,16})"[^>]*>[\s\S]*?<\/li>\n/g;
const TEXT = /<p class="text">([^<]*)<\/p><\/li>\n$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNOPENED = 'This message could not be opened when this record was made.';
const encoder = new TextEncoder();

const STYLE = [
  "body{font:12pt/1.45 Georgia,'Times New Roman',serif;color:#111;background:#fff;" +
    'max-width:44em;margin:2em auto;padding:0 1em}',
  'h1{font-size:1.45em;margin:0 0 .4em}',
  '.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:1em 0}',
  '.facts dt{font-weight:bold}',
  '.facts dd{margin:0;overflow-wrap:anywhere}',
  '.note{font-size:.9em;color:#444}',
  '.messages{list-style:none;margin:1.5em 0;padding:0}',
  '.message{border-top:1px solid #bbb;padding:.5em 0;break-inside:avoid;' +
    'page-break-inside:avoid}',
  '.from-therapist{padding-left:1.5em}',
  '.meta{margin:0;font-size:.85em;color:#444}',
  '.seq{font-variant-numeric:tabular-nums}',
  '.sender{font-weight:bold;color:#111}',
  '.text{margin:.25em 0 0;white-space:pre-wrap;overflow-wrap:anywhere}',
  '.unopened{margin:.25em 0 0;font-style:italic;color:#555}',
  'footer{border-top:2px solid #111;margin-top:1.5em;font-size:.9em}',
  '@page{margin:2cm}',
  '@media print{body{max-width:none;margin:0;padding:0;font-size:11pt}' + '.note{color:#000}}',
].join('\n');

/** One of the conversation's two members: their name, and their public identity now. */
export class ExportMember {
  /** @param {{name: string, identity: PublicIdentity}} fields */
  constructor({ name, identity }) {
    this.name = name;
    this.identity = identity;
    Object.freeze(this);
  }
}

/**
 * One message of an export: `sender` 'client' or 'therapist'; `time` when it was written
 * (milliseconds since 1970: its sender's signed time, else the server's); `signer` the
 * Ed25519 key whose signature verified; `text`. A message that could not be opened has
 * `text` and `signer` null.
 */
export class ExportMessage {
  /**
   * @param {{seq: number, sender: string, time: number, signer: Uint8Array|null,
   *          text: string|null}} fields
   */
  constructor({ seq, sender, time, signer, text }) {
    this.seq = seq;
    this.sender = sender;
    this.time = time;
    this.signer = signer;
    this.text = text;
    Object.freeze(this);
  }
}

/** What a verified export says, every word of it checked. */
export class VerifiedExport {
  /**
   * @param {{conversationId: string, exporter: string, exportedAt: number,
   *          client: ExportMember, therapist: ExportMember, safetyNumber: string,
   *          documentHash: Uint8Array, messages: ExportMessage[]}} fields
   */
  constructor(fields) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

// --- checks ---------------------------------------------------------------------------------

/** @param {unknown} value @param {string} what @param {number} low @param {number} high */
function integer(value, what, low, high) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new FormatError(`${what} must be an integer from ${low} to ${high}, not ${String(value)}`);
  }
  return value;
}

/** @param {unknown} value @param {string} what @returns {'client'|'therapist'} */
function role(value, what) {
  if (value !== 'client' && value !== 'therapist') {
    throw new FormatError(`${what} must be 'client' or 'therapist', not ${String(value)}`);
  }
  return value;
}

/** @param {unknown} value @param {string} what @returns {string} */
function text(value, what) {
  if (typeof value !== 'string') throw new FormatError(`${what} must be a string, not ${typeName(value)}`);
  if (LONE_SURROGATE.test(value)) throw new FormatError(`${what} is not valid Unicode (a lone surrogate)`);
  return value;
}

/** @param {unknown} value @param {string} what */
function name(value, what) {
  const checked = text(value, what);
  const length = [...checked].length;
  if (length < 1 || length > MAX_NAME_LENGTH) {
    throw new FormatError(`${what} must be 1 to ${MAX_NAME_LENGTH} characters long`);
  }
  return checked;
}

/** @param {unknown} message @param {number} number @returns {ExportMessage} */
function checkMessage(message, number) {
  const what = `Message ${number} of the export`;
  const item = requireType(message, ExportMessage, what);
  const body = item.text;
  integer(item.seq, `${what}: its number`, 1, Number.MAX_SAFE_INTEGER);
  role(item.sender, `${what}: its sender`);
  integer(item.time, `${what}: its time`, 0, MAX_EXPORT_TIME);
  if ((body === null) !== (item.signer === null)) {
    throw new FormatError(`${what}: a text and a signer come together, or neither`);
  }
  if (body !== null) {
    text(body, `${what}: its text`);
    const signer = requireBytes(item.signer, `${what}: its signer`);
    if (signer.length !== PUBLIC_KEY_SIZE) {
      throw new FormatError(`${what}: its signer must be ${PUBLIC_KEY_SIZE} bytes`);
    }
  }
  return item;
}

// --- the canonical parts --------------------------------------------------------------------

/**
 * The 32-byte SHA-256 a manifest lists for `message` (crypto/SPEC.md, "Exports").
 * @param {string|Uint8Array} conversationId
 * @param {ExportMessage} message
 * @returns {Uint8Array}
 */
export function exportMessageHash(conversationId, message) {
  return messageHash(coerceId(conversationId, 'The conversation id'), checkMessage(message, 1));
}

/** @param {Uint8Array} conversation @param {ExportMessage} item */
function messageHash(conversation, item) {
  const body = item.text;
  const bytes = body === null ? new Uint8Array(0) : encoder.encode(body);
  return sha256(
    concat(
      labels.EXPORT_MESSAGE,
      conversation,
      u64(item.seq),
      Uint8Array.of(ROLE_BYTE[/** @type {'client'|'therapist'} */ (item.sender)]),
      u64(item.time),
      Uint8Array.of(body === null ? 0x00 : 0x01),
      item.signer ?? new Uint8Array(PUBLIC_KEY_SIZE),
      u32(bytes.length),
      bytes,
    ),
  );
}

/**
 * JSON with sorted keys, no spaces, every character outside printable ASCII and `< > &`
 * written as `\u` escapes in lowercase hex (what Python's `json.dumps(..., ensure_ascii=True,
 * sort_keys=True)` writes, with those three replaced).
 * @param {unknown} value
 * @returns {string}
 */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${canonical(key)}:${canonical(/** @type {any} */ (value)[key])}`).join(',')}}`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff<>&]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  return JSON.stringify(value);
}

/** @param {string} value */
function escape(value) {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** @param {string} value */
function unescape(value) {
  return value
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

/** @param {number} ms */
const iso = (ms) => new Date(ms).toISOString();
/** @param {number} ms */
const readable = (ms) => `${iso(ms).slice(0, 10)} ${iso(ms).slice(11, 16)} UTC`;

/** @param {ExportMessage} item @param {string} sender */
function element(item, sender) {
  const body = item.text;
  const signer = item.signer === null ? '' : b64encode(item.signer);
  const shown =
    body === null ? `<p class="unopened">${UNOPENED}</p>` : `<p class="text">${escape(body)}</p>`;
  return (
    `<li class="message from-${item.sender}" id="m${item.seq}" data-seq="${item.seq}"` +
    ` data-sender="${item.sender}" data-time="${item.time}" data-signer="${signer}">` +
    `<p class="meta"><span class="seq">#${item.seq}</span> <span class="sender">` +
    `${escape(sender)}</span> <time datetime="${iso(item.time)}">${readable(item.time)}` +
    `</time></p>${shown}</li>\n`
  );
}

/**
 * @param {string} conversation
 * @param {'client'|'therapist'} exporter
 * @param {number} exportedAt
 * @param {{client: ExportMember, therapist: ExportMember}} members
 * @param {string} number
 * @param {ExportMessage[]} messages
 */
function documentText(conversation, exporter, exportedAt, members, number, messages) {
  const client = escape(members.client.name);
  const therapist = escape(members.therapist.name);
  const count = messages.length;
  const counted = count === 1 ? '1 message' : `${count} messages`;
  return [
    '<!DOCTYPE html>\n',
    '<html lang="en">\n',
    '<head>\n',
    '<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">\n`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<meta name="generator" content="${EXPORT_FORMAT} ${EXPORT_VERSION}">\n`,
    `<title>Messages between ${client} and ${therapist}</title>\n`,
    `<style>\n${STYLE}\n</style>\n`,
    '</head>\n',
    '<body>\n',
    '<header>\n',
    `<h1>Messages between ${client} and ${therapist}</h1>\n`,
    '<dl class="facts">\n',
    `<dt>Client</dt><dd>${client}</dd>\n`,
    `<dt>Therapist</dt><dd>${therapist}</dd>\n`,
    `<dt>Exported by</dt><dd>${escape(members[exporter].name)} (${exporter})</dd>\n`,
    `<dt>Exported on</dt><dd><time datetime="${iso(exportedAt)}">${readable(exportedAt)}</time></dd>\n`,
    `<dt>Messages</dt><dd>${count}</dd>\n`,
    `<dt>Conversation</dt><dd><code>${conversation}</code></dd>\n`,
    `<dt>Safety number</dt><dd><code>${formatSafetyNumber(number)}</code></dd>\n`,
    '</dl>\n',
    "<p class=\"note\">Decrypted on the exporter's own device and signed with their key." +
      ' The signed list at the end of this file names every message; anyone can check' +
      ' that none was changed, removed or added with <code>confide-chat verify-export' +
      ' FILE</code>. Times are in UTC.</p>\n',
    '</header>\n',
    '<main>\n',
    '<ol class="messages">\n',
    ...messages.map((item) => element(item, members[/** @type {'client'|'therapist'} */ (item.sender)].name)),
    '</ol>\n',
    '</main>\n',
    `<footer><p>End of the record: ${counted}.</p></footer>\n`,
    '</body>\n',
    '</html>\n',
  ].join('');
}

// --- making ---------------------------------------------------------------------------------

/**
 * The export file of `messages` (in increasing `seq`), signed by `exporter`, who must be
 * one of the two members (by their keys). Throws FormatError for an argument of the wrong
 * type or out of range, messages out of order, or an exporter who is neither member.
 * @param {IdentityKeyPair} exporter
 * @param {string|Uint8Array} conversationId
 * @param {{client: ExportMember, therapist: ExportMember, messages: ExportMessage[],
 *          exportedAt: number}} contents
 * @returns {Uint8Array}
 */
export function makeExport(exporter, conversationId, { client, therapist, messages, exportedAt }) {
  const signer = requireType(exporter, IdentityKeyPair, 'The exporter');
  const conversation = idToUuid(coerceId(conversationId, 'The conversation id'));
  const members = {
    client: requireType(client, ExportMember, 'The client'),
    therapist: requireType(therapist, ExportMember, 'The therapist'),
  };
  for (const key of ROLES) {
    name(members[key].name, `The ${key}'s name`);
    requireType(members[key].identity, PublicIdentity, `The ${key}'s identity`);
  }
  integer(exportedAt, "The export's time", 0, MAX_EXPORT_TIME);
  if (!Array.isArray(messages)) throw new FormatError('The messages must be an array of ExportMessage');
  const items = messages.map((message, index) => checkMessage(message, index + 1));
  for (let i = 1; i < items.length; i += 1) {
    if (items[i].seq <= items[i - 1].seq) {
      throw new FormatError(`Message ${items[i].seq} comes after message ${items[i - 1].seq}: not in order`);
    }
  }
  const own = signer.public.fingerprint();
  const exporterRole = ROLES.find((key) => equalBytes(members[key].identity.fingerprint(), own));
  if (!exporterRole) throw new FormatError('The exporter is neither member of the conversation');
  const number = safetyNumber(members.client.identity, members.therapist.identity);
  const document = encoder.encode(documentText(conversation, exporterRole, exportedAt, members, number, items));
  const body = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    conversation,
    exporter: exporterRole,
    exported_at: exportedAt,
    members: Object.fromEntries(
      ROLES.map((key) => [key, { name: members[key].name, identity: b64encode(members[key].identity.toBytes()) }]),
    ),
    safety_number: number,
    document: b64encode(sha256(document)),
    messages: items.map((item) => ({
      seq: item.seq,
      sender: item.sender,
      time: item.time,
      signer: item.signer === null ? '' : b64encode(item.signer),
      hash: b64encode(messageHash(coerceId(conversation, 'The conversation id'), item)),
    })),
  };
  const signature = _sign(signer, concat(labels.EXPORT, encoder.encode(canonical(body))));
  const manifest = canonical({ ...body, signature: b64encode(signature) });
  return concat(document, encoder.encode(START + manifest + END));
}

// --- verifying ------------------------------------------------------------------------------

const TOP = [
  'conversation',
  'document',
  'exported_at',
  'exporter',
  'format',
  'members',
  'messages',
  'safety_number',
  'signature',
  'version',
];

/**
 * @param {unknown} value
 * @param {string[]} keys sorted
 * @param {string} what
 * @returns {Record<string, any>}
 */
function object(value, keys, what) {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.keys(value).sort().join(',') !== keys.join(',')
  ) {
    throw new FormatError(`The manifest's ${what} must be an object of exactly ${keys.join(', ')}`);
  }
  return /** @type {Record<string, any>} */ (value);
}

/** @param {unknown} value @param {number|null} size @param {string} what */
function b64(value, size, what) {
  if (typeof value !== 'string') throw new FormatError(`The manifest's ${what} must be base64url text`);
  const data = b64decode(value);
  if (size !== null && data.length !== size) {
    throw new FormatError(`The manifest's ${what} must be ${size} bytes`);
  }
  return data;
}

/** @param {Uint8Array} data @param {Uint8Array} suffix */
function endsWith(data, suffix) {
  return data.length >= suffix.length && equalBytes(data.subarray(data.length - suffix.length), suffix);
}

/** @param {Uint8Array} data @param {Uint8Array} part @returns {number} the last index, or -1 */
function lastIndexOf(data, part) {
  outer: for (let i = data.length - part.length; i >= 0; i -= 1) {
    for (let j = 0; j < part.length; j += 1) if (data[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}

/** @param {Uint8Array} data */
function split(data) {
  const end = encoder.encode(END);
  if (!endsWith(data, end)) {
    throw new FormatError(
      'This is not a Confide export, or it was cut short: it does not end with its signed manifest',
    );
  }
  const start = lastIndexOf(data, encoder.encode(START));
  if (start < 0) throw new FormatError('This is not a Confide export: it has no signed manifest');
  return [data.subarray(0, start), data.subarray(start + START.length, data.length - end.length)];
}

/** @param {Uint8Array} bytes */
function readManifest(bytes) {
  for (const byte of bytes) if (byte > 0x7e) throw new FormatError("The export's manifest is not JSON");
  const raw = new TextDecoder().decode(bytes);
  let manifest;
  try {
    manifest = JSON.parse(raw);
  } catch {
    throw new FormatError("The export's manifest is not JSON");
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new FormatError("The export's manifest is not a JSON object");
  }
  if (manifest.format !== EXPORT_FORMAT) {
    throw new FormatError('This is not a Confide export: its manifest names another format');
  }
  if (typeof manifest.version !== 'number' || !Number.isInteger(manifest.version)) {
    throw new FormatError("The export's manifest has no version");
  }
  if (manifest.version !== EXPORT_VERSION) {
    throw new UnsupportedVersionError(`Unsupported export format version ${manifest.version}`);
  }
  if (canonical(manifest) !== raw) throw new FormatError("The export's manifest is not in its canonical form");
  return object(manifest, TOP, 'top level');
}

/** @param {unknown} item @param {number} number */
function listed(item, number) {
  const fields = object(item, ['hash', 'sender', 'seq', 'signer', 'time'], `message ${number}`);
  return {
    seq: integer(fields.seq, "A listed message's number", 1, Number.MAX_SAFE_INTEGER),
    sender: role(fields.sender, "A listed message's sender"),
    time: integer(fields.time, "A listed message's time", 0, MAX_EXPORT_TIME),
    signer: fields.signer === '' ? null : b64(fields.signer, PUBLIC_KEY_SIZE, 'signer'),
    hash: b64(fields.hash, 32, 'message hash'),
  };
}

/**
 * @param {PublicIdentity} exporter
 * @param {string} number
 * @param {Iterable<PublicIdentity>} trusted
 * @param {Iterable<Uint8Array>} fingerprints
 * @param {Iterable<string>} safetyNumbers
 */
function trusts(exporter, number, trusted, fingerprints, safetyNumbers) {
  const own = exporter.fingerprint();
  for (const identity of trusted) {
    if (equalBytes(requireType(identity, PublicIdentity, 'A trusted identity').fingerprint(), own)) return true;
  }
  for (const fp of fingerprints) {
    if (equalBytes(requireBytes(fp, 'A trusted fingerprint'), own)) return true;
  }
  for (const given of safetyNumbers) {
    if (typeof given !== 'string') throw new FormatError('A safety number must be text');
    const digits = given.split(/\s+/).join('');
    formatSafetyNumber(digits);
    if (digits === number) return true;
  }
  return false;
}

/**
 * Check an export file and return what it says (crypto/SPEC.md, "Exports"). The exporter
 * must be trusted: their identity among `trusted`, their fingerprint among `fingerprints`,
 * or the members' safety number among `safetyNumbers` (60 digits, spaces allowed).
 * Throws, for the first check that fails: FormatError, UnsupportedVersionError, the
 * members' identities' own errors, SignatureError (the manifest was changed), or
 * BindingError naming the signer nobody trusts, or each message changed, missing or added,
 * or a document changed elsewhere.
 * @param {Uint8Array} data
 * @param {{trusted?: Iterable<PublicIdentity>, fingerprints?: Iterable<Uint8Array>,
 *          safetyNumbers?: Iterable<string>}} [trust]
 * @returns {VerifiedExport}
 */
export function verifyExport(data, { trusted = [], fingerprints = [], safetyNumbers = [] } = {}) {
  const raw = requireBytes(data, 'The export');
  const [document, manifestBytes] = split(raw);
  const manifest = readManifest(manifestBytes);
  if (typeof manifest.conversation !== 'string' || !UUID.test(manifest.conversation)) {
    throw new FormatError("The manifest's conversation must be a UUID in lowercase");
  }
  const conversation = manifest.conversation;
  const exporter = role(manifest.exporter, "The manifest's exporter");
  const exportedAt = integer(manifest.exported_at, "The export's time", 0, MAX_EXPORT_TIME);
  const listedMembers = object(manifest.members, ['client', 'therapist'], 'members');
  /** @type {Record<string, ExportMember>} */
  const members = {};
  for (const key of ROLES) {
    const entry = object(listedMembers[key], ['identity', 'name'], key);
    const shown = name(entry.name, `The ${key}'s name`);
    members[key] = new ExportMember({ name: shown, identity: new PublicIdentity(b64(entry.identity, null, 'identity')) });
  }
  const both = /** @type {{client: ExportMember, therapist: ExportMember}} */ (members);
  const number = safetyNumber(both.client.identity, both.therapist.identity);
  if (manifest.safety_number !== number) {
    throw new FormatError("The manifest's safety number is not that of its two members");
  }
  const documentHash = b64(manifest.document, 32, 'document hash');
  if (!Array.isArray(manifest.messages)) throw new FormatError("The manifest's messages must be a list");
  const entries = manifest.messages.map((item, index) => listed(item, index + 1));
  for (let i = 1; i < entries.length; i += 1) {
    if (entries[i].seq <= entries[i - 1].seq) {
      throw new FormatError("The manifest's messages are not in increasing order");
    }
  }
  const signature = b64(manifest.signature, SIGNATURE_SIZE, 'signature');
  const signer = both[exporter].identity;
  const body = Object.fromEntries(Object.entries(manifest).filter(([key]) => key !== 'signature'));
  verifyDetached(
    signer.signKey,
    concat(labels.EXPORT, encoder.encode(canonical(body))),
    signature,
    "The export's manifest was changed after it was signed: its signature does not verify",
  );
  if (!trusts(signer, number, trusted, fingerprints, safetyNumbers)) {
    throw new BindingError(
      `The export was signed by an identity you do not know: the ${exporter} ` +
        `${JSON.stringify(both[exporter].name)}, identity number ` +
        `${formatIdentityNumber(identityNumber(signer))}. Compare it with them in person, ` +
        'or give the safety number you compared.',
    );
  }
  const messages = checkDocument(coerceId(conversation, 'The conversation id'), both, entries, document);
  if (!equalBytes(sha256(document), documentHash)) {
    throw new BindingError(
      'The export was changed after it was signed: its document differs outside the messages ' +
        '(heading, names or layout)',
    );
  }
  const expected = encoder.encode(documentText(conversation, exporter, exportedAt, both, number, messages));
  if (!equalBytes(expected, document)) {
    throw new BindingError("The export's document is not the one its manifest describes");
  }
  return new VerifiedExport({
    conversationId: conversation,
    exporter,
    exportedAt,
    client: both.client,
    therapist: both.therapist,
    safetyNumber: number,
    documentHash,
    messages,
  });
}

/**
 * The messages of the document, each checked against its listing; a BindingError naming
 * every message changed, missing or added.
 * @param {Uint8Array} conversation
 * @param {{client: ExportMember, therapist: ExportMember}} members
 * @param {ReturnType<typeof listed>[]} entries
 * @param {Uint8Array} document
 */
function checkDocument(conversation, members, entries, document) {
  const decoded = new TextDecoder().decode(document);
  /** @type {Map<number, string[]>} */
  const found = new Map();
  for (const match of decoded.matchAll(ELEMENT)) {
    const seq = Number(match[1]);
    found.set(seq, [...(found.get(seq) ?? []), match[0]]);
  }
  const problems = [];
  const messages = [];
  for (const entry of entries) {
    const elements = found.get(entry.seq) ?? [];
    if (elements.length === 0) {
      problems.push(`message ${entry.seq} is missing`);
      continue;
    }
    if (elements.length > 1) {
      problems.push(`message ${entry.seq} appears ${elements.length} times`);
      continue;
    }
    const message = readElement(conversation, members, entry, elements[0]);
    if (message === null) problems.push(`message ${entry.seq} was changed`);
    else messages.push(message);
  }
  const known = new Set(entries.map((entry) => entry.seq));
  for (const seq of [...found.keys()].filter((seq) => !known.has(seq)).sort((a, b) => a - b)) {
    problems.push(`message ${seq} was added`);
  }
  if (problems.length) {
    throw new BindingError(`The export was changed after it was signed: ${problems.join('; ')}`);
  }
  return messages;
}

/**
 * @param {Uint8Array} conversation
 * @param {{client: ExportMember, therapist: ExportMember}} members
 * @param {ReturnType<typeof listed>} entry
 * @param {string} shown
 */
function readElement(conversation, members, entry, shown) {
  let body = null;
  if (entry.signer !== null) {
    const match = TEXT.exec(shown);
    if (!match) return null;
    body = unescape(match[1]);
  }
  const message = new ExportMessage({ ...entry, text: body });
  if (element(message, members[entry.sender].name) !== shown) return null;
  if (!equalBytes(messageHash(conversation, message), entry.hash)) return null;
  return message;
}
