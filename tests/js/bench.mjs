// Timings of the browser crypto package under Node (WebAssembly, as in a browser):
//   node tests/js/bench.mjs
// Not a test file (the runner picks up *.test.mjs only). Prints the median of several runs
// of each operation; each run times a batch and reports the time per operation.

import { randomUUID } from 'node:crypto';

import { confide } from './_support.mjs';

const { ConversationKey, IdentityKeyPair } = confide;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median over `runs` runs of the time per call (ms), each run `batch` calls. */
function measure(runs, batch, operation) {
  operation(); // warm-up
  const times = [];
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    for (let i = 0; i < batch; i += 1) operation();
    times.push((performance.now() - start) / batch);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), runs, batch };
}

// Version-2 identities (X-Wing keys) and, beside them, the version-1 form of the client's.
const client = IdentityKeyPair.generate();
const therapist = IdentityKeyPair.generate();
const classicalClient = IdentityKeyPair.generate(null);
const createdAt = Date.now();
const key = ConversationKey.generate();
const conversation = randomUUID();
const plaintext = new Uint8Array(1024).fill(0x61);
const salt = confide.newSalt();

const results = {
  'argon2id default (opslimit 3, 64 MiB)': measure(7, 1, () =>
    confide
      .derivePasswordKeys('correct horse battery staple', salt, confide.DEFAULT_KDF_PARAMS)
      .wipe(),
  ),
  'seal 1 KiB': measure(9, 200, () =>
    confide.sealMessage(plaintext, key, conversation, 1, client, randomUUID()),
  ),
};
const wire = confide.sealMessage(plaintext, key, conversation, 1, client, randomUUID());
results['open 1 KiB'] = measure(9, 200, () =>
  confide.openMessage(wire, key, client.public, conversation, 1),
);
results['identity key generation (version 2)'] = measure(9, 50, () => IdentityKeyPair.generate().wipe());
results['PublicIdentity.fromBytes, version 2'] = measure(9, 200, () =>
  confide.PublicIdentity.fromBytes(client.public.toBytes()),
);
results['wrap, X25519 (version 2 envelope)'] = measure(9, 200, () =>
  confide.wrapConversationKey(key, conversation, 1, classicalClient.public, therapist, createdAt),
);
const classical = confide.wrapConversationKey(key, conversation, 1, classicalClient.public, therapist, createdAt);
results['unwrap, X25519 (version 2 envelope)'] = measure(9, 200, () =>
  confide.unwrapConversationKey(classical, classicalClient, therapist.public, conversation, 1).wipe(),
);
results['wrap, X-Wing (version 3 envelope)'] = measure(9, 200, () =>
  confide.wrapConversationKey(key, conversation, 1, client.public, therapist, createdAt),
);
const envelope = confide.wrapConversationKey(key, conversation, 1, client.public, therapist, createdAt);
results['unwrap, X-Wing (version 3 envelope)'] = measure(9, 200, () =>
  confide.unwrapConversationKey(envelope, client, therapist.public, conversation, 1).wipe(),
);

console.log(`node ${process.version} (${process.arch})`);
for (const [name, { median: m, min, max, runs, batch }] of Object.entries(results)) {
  console.log(
    `${name.padEnd(40)} median ${m.toFixed(3).padStart(9)} ms  (min ${min.toFixed(3)}, max ${max.toFixed(3)}; ${runs} runs x ${batch})`,
  );
}
