/**
 * A small QR code encoder (ISO/IEC 18004) for the safety number's 65-byte payload.
 *
 * Byte mode, error correction level M, versions 1 to 6 (up to 106 bytes; the payload
 * needs version 5), so no version-information block is needed. The mask is chosen by the
 * standard's penalty rules. Written for this one use: it encodes bytes, nothing else.
 *
 * @module
 */

/** Per version at level M: error-correction codewords per block, and the block sizes. */
const LEVEL_M = /** @type {Record<number, {ec: number, blocks: number[]}>} */ ({
  1: { ec: 10, blocks: [16] },
  2: { ec: 16, blocks: [28] },
  3: { ec: 26, blocks: [44] },
  4: { ec: 18, blocks: [32, 32] },
  5: { ec: 24, blocks: [43, 43] },
  6: { ec: 16, blocks: [27, 27, 27, 27] },
});
const FORMAT_BITS_M = 0;

/**
 * GF(256) multiplication modulo x^8 + x^4 + x^3 + x^2 + 1.
 * @param {number} x
 * @param {number} y
 */
function multiply(x, y) {
  let z = 0;
  for (let i = 7; i >= 0; i -= 1) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z;
}

/** @param {number} degree */
function rsDivisor(degree) {
  const result = new Array(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i += 1) {
    for (let j = 0; j < degree; j += 1) {
      result[j] = multiply(result[j], root);
      if (j + 1 < degree) result[j] ^= result[j + 1];
    }
    root = multiply(root, 0x02);
  }
  return result;
}

/**
 * @param {number[]} data
 * @param {number[]} divisor
 */
function rsRemainder(data, divisor) {
  const result = new Array(divisor.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ /** @type {number} */ (result.shift());
    result.push(0);
    divisor.forEach((coefficient, i) => {
      result[i] ^= multiply(coefficient, factor);
    });
  }
  return result;
}

/**
 * The data codewords (mode, count, bytes, terminator, padding) for `version`.
 * @param {Uint8Array} bytes
 * @param {number} capacity data codewords
 */
function dataCodewords(bytes, capacity) {
  /** @type {number[]} */
  const bits = [];
  /** @param {number} value @param {number} length */
  const put = (value, length) => {
    for (let i = length - 1; i >= 0; i -= 1) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4);
  put(bytes.length, 8);
  for (const byte of bytes) put(byte, 8);
  put(0, Math.min(4, capacity * 8 - bits.length));
  while (bits.length % 8) bits.push(0);
  const words = [];
  for (let i = 0; i < bits.length; i += 8) {
    words.push(bits.slice(i, i + 8).reduce((acc, bit) => (acc << 1) | bit, 0));
  }
  for (let pad = 0xec; words.length < capacity; pad ^= 0xec ^ 0x11) words.push(pad);
  return words;
}

/**
 * Encode bytes as a QR code: a square matrix of booleans (true is dark), without the
 * quiet zone. Throws RangeError if the data does not fit version 6-M.
 * @param {Uint8Array} bytes
 * @returns {boolean[][]}
 */
export function encodeQr(bytes) {
  let version = 1;
  for (; version <= 6; version += 1) {
    const capacity = LEVEL_M[version].blocks.reduce((a, b) => a + b, 0);
    if (4 + 8 + bytes.length * 8 <= capacity * 8) break;
  }
  if (version > 6) throw new RangeError('Too much data for this QR encoder');
  const { ec, blocks } = LEVEL_M[version];
  const words = dataCodewords(bytes, blocks.reduce((a, b) => a + b, 0));
  const divisor = rsDivisor(ec);
  const dataBlocks = [];
  let offset = 0;
  for (const size of blocks) {
    dataBlocks.push(words.slice(offset, offset + size));
    offset += size;
  }
  const ecBlocks = dataBlocks.map((block) => rsRemainder(block, divisor));
  /** @type {number[]} */
  const stream = [];
  for (let i = 0; i < Math.max(...blocks); i += 1) {
    for (const block of dataBlocks) if (i < block.length) stream.push(block[i]);
  }
  for (let i = 0; i < ec; i += 1) for (const block of ecBlocks) stream.push(block[i]);

  const size = 17 + 4 * version;
  const grid = new QrGrid(size);
  grid.drawFunctionPatterns(version);
  grid.placeData(stream);
  let best = null;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask += 1) {
    const candidate = grid.copy();
    candidate.applyMask(mask);
    candidate.drawFormat(mask);
    const penalty = candidate.penalty();
    if (penalty < bestPenalty) {
      bestPenalty = penalty;
      best = candidate;
    }
  }
  return /** @type {QrGrid} */ (best).modules;
}

class QrGrid {
  /** @param {number} size */
  constructor(size) {
    this.size = size;
    /** @type {boolean[][]} */
    this.modules = Array.from({ length: size }, () => new Array(size).fill(false));
    /** @type {boolean[][]} */
    this.reserved = Array.from({ length: size }, () => new Array(size).fill(false));
  }

  copy() {
    const other = new QrGrid(this.size);
    other.modules = this.modules.map((row) => row.slice());
    other.reserved = this.reserved;
    return other;
  }

  /** @param {number} x column @param {number} y row @param {boolean} dark */
  setFunction(x, y, dark) {
    this.modules[y][x] = dark;
    this.reserved[y][x] = true;
  }

  /** @param {number} version */
  drawFunctionPatterns(version) {
    const { size } = this;
    for (let i = 0; i < size; i += 1) {
      this.setFunction(6, i, i % 2 === 0);
      this.setFunction(i, 6, i % 2 === 0);
    }
    for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
      for (let dy = -4; dy <= 4; dy += 1) {
        for (let dx = -4; dx <= 4; dx += 1) {
          const x = cx + dx;
          const y = cy + dy;
          if (x < 0 || y < 0 || x >= size || y >= size) continue;
          const distance = Math.max(Math.abs(dx), Math.abs(dy));
          this.setFunction(x, y, distance !== 2 && distance !== 4);
        }
      }
    }
    if (version >= 2) {
      const centre = size - 7;
      for (let dy = -2; dy <= 2; dy += 1) {
        for (let dx = -2; dx <= 2; dx += 1) {
          this.setFunction(centre + dx, centre + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
        }
      }
    }
    this.drawFormat(0); // reserve the format areas; redrawn for the chosen mask
  }

  /** @param {number[]} stream */
  placeData(stream) {
    const { size } = this;
    let i = 0;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      const upward = ((right + 1) & 2) === 0;
      for (let vertical = 0; vertical < size; vertical += 1) {
        for (let j = 0; j < 2; j += 1) {
          const x = right - j;
          const y = upward ? size - 1 - vertical : vertical;
          if (this.reserved[y][x] || i >= stream.length * 8) continue;
          this.modules[y][x] = ((stream[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i += 1;
        }
      }
    }
  }

  /** @param {number} mask */
  applyMask(mask) {
    const tests = [
      (/** @type {number} */ x, /** @type {number} */ y) => (x + y) % 2 === 0,
      (/** @type {number} */ _x, /** @type {number} */ y) => y % 2 === 0,
      (/** @type {number} */ x) => x % 3 === 0,
      (/** @type {number} */ x, /** @type {number} */ y) => (x + y) % 3 === 0,
      (/** @type {number} */ x, /** @type {number} */ y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
      (/** @type {number} */ x, /** @type {number} */ y) => ((x * y) % 2) + ((x * y) % 3) === 0,
      (/** @type {number} */ x, /** @type {number} */ y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
      (/** @type {number} */ x, /** @type {number} */ y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
    ];
    const test = tests[mask];
    for (let y = 0; y < this.size; y += 1) {
      for (let x = 0; x < this.size; x += 1) {
        if (!this.reserved[y][x] && test(x, y)) this.modules[y][x] = !this.modules[y][x];
      }
    }
  }

  /** @param {number} mask */
  drawFormat(mask) {
    const data = (FORMAT_BITS_M << 3) | mask;
    let remainder = data;
    for (let i = 0; i < 10; i += 1) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
    const bits = ((data << 10) | remainder) ^ 0x5412;
    const bit = (/** @type {number} */ i) => ((bits >>> i) & 1) === 1;
    const { size } = this;
    for (let i = 0; i <= 5; i += 1) this.setFunction(8, i, bit(i));
    this.setFunction(8, 7, bit(6));
    this.setFunction(8, 8, bit(7));
    this.setFunction(7, 8, bit(8));
    for (let i = 9; i < 15; i += 1) this.setFunction(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i += 1) this.setFunction(size - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i += 1) this.setFunction(8, size - 15 + i, bit(i));
    this.setFunction(8, size - 8, true);
  }

  /** The standard's penalty score (lower is easier to scan). */
  penalty() {
    const { size, modules } = this;
    let score = 0;
    const lines = [];
    for (let i = 0; i < size; i += 1) {
      lines.push(modules[i]);
      lines.push(modules.map((row) => row[i]));
    }
    const finder = [true, false, true, true, true, false, true];
    for (const line of lines) {
      let run = 1;
      for (let i = 1; i <= size; i += 1) {
        if (i < size && line[i] === line[i - 1]) run += 1;
        else {
          if (run >= 5) score += 3 + (run - 5);
          run = 1;
        }
      }
      for (let i = 0; i + 7 <= size; i += 1) {
        if (!finder.every((dark, k) => line[i + k] === dark)) continue;
        const light = (/** @type {number} */ from) =>
          [0, 1, 2, 3].every((k) => from + k < 0 || from + k >= size || !line[from + k]);
        if (light(i - 4) || light(i + 7)) score += 40;
      }
    }
    let dark = 0;
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        if (modules[y][x]) dark += 1;
        if (
          x + 1 < size &&
          y + 1 < size &&
          modules[y][x] === modules[y][x + 1] &&
          modules[y][x] === modules[y + 1][x] &&
          modules[y][x] === modules[y + 1][x + 1]
        ) {
          score += 3;
        }
      }
    }
    const total = size * size;
    score += Math.max(0, Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1) * 10;
    return score;
  }
}

/**
 * Draw a matrix to a canvas, `scale` pixels per module, with the 4-module quiet zone.
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
