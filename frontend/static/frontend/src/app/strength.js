/**
 * How hard a new password is to guess, estimated in this browser with zxcvbn-ts (the
 * maintained port of Dropbox's zxcvbn; frontend/VENDOR.md), and a meter that says so in
 * words while the person types. The password never leaves the page for this.
 *
 * The rule (docs/web-client.md, "Password strength"): at least `MIN_LENGTH` characters and
 * a zxcvbn score of at least `MIN_SCORE` (3: about 10^8 guesses or more). The meter's words
 * always agree with the rule: a password the rule refuses never shows "Strong".
 *
 * For any form that sets a password (sign-up, a forgotten password, onboarding):
 *
 *     const meter = attachStrengthMeter(passwordInput, {
 *       userInputs: () => [nameInput.value, emailInput.value],
 *     });
 *     // on submit:
 *     const refusal = meter.refusal();
 *     if (refusal) { showError(refusal); passwordInput.focus(); return; }
 *
 * @module
 */

import { ZxcvbnFactory } from '../../vendor/zxcvbn/core/index.mjs';
import * as common from '../../vendor/zxcvbn/language-common/index.mjs';
import * as english from '../../vendor/zxcvbn/language-en/index.mjs';
import { h } from './dom.js';

/** Fewer characters than this are refused, whatever the score. */
export const MIN_LENGTH = 10;
/** The lowest zxcvbn score accepted (0 to 4). */
export const MIN_SCORE = 3;
/** What the meter says for each level, 0 to 4. */
export const WORDS = Object.freeze(['Too weak', 'Weak', 'Fair', 'Strong', 'Very strong']);
/** Milliseconds after the last keystroke before the meter is updated. */
const DELAY_MS = 150;

/**
 * @typedef {object} Strength
 * @property {0|1|2|3|4} level zxcvbn's score, held below `MIN_SCORE` when the password is
 *   shorter than `MIN_LENGTH`
 * @property {string} words `WORDS[level]`
 * @property {boolean} strongEnough whether the rule accepts it (`level >= MIN_SCORE`)
 * @property {string} warning zxcvbn's warning, in English ('' when it has none)
 * @property {string[]} suggestions zxcvbn's suggestions, in English
 */

/** @type {ZxcvbnFactory | null} */
let estimator = null;

// The ranked dictionaries are built on the first estimate, not when the page loads.
function zxcvbn() {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
  return estimator;
}

/**
 * What the person is known by, as words a password should not be built from: each input
 * whole, and its parts (an email's name and domain, a name's words).
 * @param {Iterable<string>} inputs
 * @returns {string[]}
 */
function userWords(inputs) {
  const words = new Set();
  for (const input of inputs) {
    const text = String(input ?? '').trim().toLowerCase();
    if (!text) continue;
    words.add(text);
    for (const part of text.split(/[^\p{L}\p{N}]+/u)) if (part.length >= 3) words.add(part);
  }
  return [...words];
}

/**
 * Estimate a password's strength.
 * @param {string} password
 * @param {Iterable<string>} [userInputs] the person's name, email, practice and the like
 * @returns {Strength}
 */
export function assess(password, userInputs = []) {
  const result = zxcvbn().check(password, userWords(userInputs));
  const score = /** @type {0|1|2|3|4} */ (result.score);
  const level = /** @type {0|1|2|3|4} */ (
    [...password].length < MIN_LENGTH ? Math.min(score, MIN_SCORE - 1) : score
  );
  return {
    level,
    words: WORDS[level],
    strongEnough: level >= MIN_SCORE,
    warning: result.feedback.warning ?? '',
    suggestions: [...result.feedback.suggestions],
  };
}

/**
 * Whether the rule accepts a new password. Forms refuse to submit when it does not.
 * @param {string} password
 * @param {Iterable<string>} [userInputs] the person's name, email, practice and the like
 * @returns {boolean}
 */
export function isStrongEnough(password, userInputs = []) {
  return assess(password, userInputs).strongEnough;
}

/**
 * Why a password is refused, in a sentence for the form's error, or null if it is not.
 * @param {string} password
 * @param {Iterable<string>} [userInputs]
 * @returns {string | null}
 */
export function refusalFor(password, userInputs = []) {
  return explain(password, assess(password, userInputs));
}

/**
 * @param {string} password
 * @param {Strength} strength its estimate
 */
function explain(password, strength) {
  if (strength.strongEnough) return null;
  if ([...password].length < MIN_LENGTH) {
    return `The password needs at least ${MIN_LENGTH} characters.`;
  }
  const advice = strength.warning || strength.suggestions[0] || 'Add another word or two.';
  return `This password is too easy to guess (${strength.words}). ${advice}`;
}

let meters = 0;

/**
 * Attach a strength meter to a new-password input: a `<meter>` and the words for its
 * level, zxcvbn's warning and suggestions below it, updated a moment after each keystroke.
 * The words and the warning are a polite live region (a screen reader says them when they
 * change, after the person pauses), and the input is described by them.
 *
 * @param {HTMLInputElement} input the new password's input
 * @param {object} [options]
 * @param {() => Iterable<string>} [options.userInputs] read at each estimate: what else
 *   the person typed or is known by (name, email, practice); a password made of them is
 *   weaker
 * @param {Element} [options.container] where the meter goes (appended); by default right
 *   after the input
 * @returns {{element: HTMLElement, check: () => Strength, refusal: () => string | null,
 *   detach: () => void}} `check` estimates now (and updates the meter), `refusal` is
 *   `refusalFor` the input's current value, `detach` removes the meter and its listener
 */
export function attachStrengthMeter(input, { userInputs = () => [], container } = {}) {
  meters += 1;
  const id = `strength-${meters}`;
  const meter = /** @type {HTMLMeterElement} */ (
    h('meter', { min: 0, max: 5, low: 2.5, high: 3.5, optimum: 5, value: 0, 'aria-label': 'Password strength' })
  );
  const words = h('p', { class: 'strength-words', id: `${id}-words`, 'aria-live': 'polite' });
  const advice = h('ul', { class: 'strength-advice', id: `${id}-advice` });
  const element = h('div', { class: 'strength', hidden: true }, meter, words, advice);
  const describedBy = input.getAttribute('aria-describedby');
  input.setAttribute('aria-describedby', [describedBy, words.id, advice.id].filter(Boolean).join(' '));
  if (container) container.append(element);
  else input.after(element);

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  let shown = '';

  const check = () => {
    clearTimeout(pending);
    const strength = assess(input.value, userInputs());
    if (!input.value) {
      element.hidden = true;
      element.dataset.level = '';
      words.textContent = shown = '';
      advice.replaceChildren();
      return strength;
    }
    element.hidden = false;
    element.dataset.level = String(strength.level);
    meter.value = strength.level + 1;
    const said = `Strength: ${strength.words}.${strength.warning ? ` ${strength.warning}` : ''}`;
    // Only a change is written, so that a screen reader is not told the same thing again.
    if (said !== shown) words.textContent = shown = said;
    const tips = strength.strongEnough ? [] : strength.suggestions;
    advice.replaceChildren(...tips.map((tip) => h('li', {}, tip)));
    return strength;
  };
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(check, DELAY_MS);
  };
  input.addEventListener('input', later);

  return {
    element,
    check,
    refusal: () => explain(input.value, check()),
    detach: () => {
      clearTimeout(pending);
      input.removeEventListener('input', later);
      input.setAttribute('aria-describedby', describedBy ?? '');
      if (!describedBy) input.removeAttribute('aria-describedby');
      element.remove();
    },
  };
}
