/**
 * The vendored libsodium.js (sumo build), initialised.
 *
 * This is the only module that imports the library; every other module gets it from here.
 * The top-level await means that no module of the package can run before the WebAssembly
 * instance is ready, so no function has to check for it.
 *
 * @module
 */

import sodium from '../../vendor/libsodium/libsodium-wrappers.mjs';

await sodium.ready;

export default sodium;
