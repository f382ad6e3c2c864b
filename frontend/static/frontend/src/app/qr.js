/**
 * QR codes (ISO/IEC 18004) for the screens that show one: the safety number's payload and
 * an authenticator app's `otpauth://` URI. The symbol is made by the vendored `qr` library
 * (frontend/VENDOR.md), the only module that imports it; this one draws it.
 *
 * Error correction level M, byte mode, the smallest version that holds the data (up to
 * version 40, 2,331 bytes at level M).
 *
 * @module
 */

import encodeQR from '../../vendor/qr/index.js';

/**
 * The dark (true) and light modules of the symbol for `data`, without its quiet zone.
 * @param {Uint8Array|string} data bytes as they are, or text as UTF-8
 * @returns {boolean[][]}
 */
export function qrModules(data) {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  // The library takes text; its `textEncoder` hands it the bytes themselves. A border of
  // one module (it refuses none) is cut off again.
  const withBorder = encodeQR('', 'raw', {
    ecc: 'medium',
    encoding: 'byte',
    textEncoder: () => bytes,
    border: 1,
  });
  return withBorder.slice(1, -1).map((row) => row.slice(1, -1));
}

/**
 * Draw a symbol to a canvas, `scale` pixels per module, with the 4-module quiet zone.
 * @param {HTMLCanvasElement} canvas
 * @param {boolean[][]} modules
 * @param {number} scale
 */
export function drawQr(canvas, modules, scale) {
  const quiet = 4;
  const side = (modules.length + 2 * quiet) * scale;
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, side, side);
  context.fillStyle = '#000000';
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) context.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
    });
  });
}
