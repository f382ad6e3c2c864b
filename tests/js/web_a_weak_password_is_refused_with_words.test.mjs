// A new password is estimated with zxcvbn-ts: one too easy to guess, or shorter than ten
// characters, is refused with words that say why; the meter's words never call a refused
// password strong; what the person is known by makes a password built from it weaker.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const strength = await appModule('strength.js');
const { MIN_LENGTH, MIN_SCORE, WORDS, assess, isStrongEnough, refusalFor } = strength;

const KNOWN_AS = ['Nina', 'nina@client.invalid', 'Dr. Dana Demo', 'Lakeside Counselling'];

test('the rule is ten characters and a score of three, and the words are the five levels', () => {
  assert.equal(MIN_LENGTH, 10);
  assert.equal(MIN_SCORE, 3);
  assert.deepEqual([...WORDS], ['Too weak', 'Weak', 'Fair', 'Strong', 'Very strong']);
  assert.ok(Object.isFrozen(WORDS));
});

test('common passwords are refused as too weak or weak, with zxcvbn\'s warning', () => {
  const cases = { password123: 'Too weak', qwertyuiop: 'Too weak', '1234567890': 'Too weak', iloveyou12: 'Weak' };
  for (const [password, words] of Object.entries(cases)) {
    const estimate = assess(password);
    assert.equal(estimate.words, words, password);
    assert.equal(estimate.strongEnough, false, password);
    assert.equal(isStrongEnough(password), false, password);
    assert.notEqual(estimate.warning, '', password);
    const refusal = refusalFor(password);
    assert.equal(refusal, `This password is too easy to guess (${words}). ${estimate.warning}`);
  }
});

test('a password like a common one with a year and a symbol is only fair', () => {
  const estimate = assess('Sunshine2024!');
  assert.equal(estimate.level, 2);
  assert.equal(estimate.words, 'Fair');
  assert.equal(isStrongEnough('Sunshine2024!'), false);
});

test('a short password is refused for its length, and never shown as strong', () => {
  // Random enough that zxcvbn alone would call it better than weak.
  const estimate = assess('Xk9#pLq2!');
  assert.ok(estimate.level < MIN_SCORE);
  assert.equal(estimate.strongEnough, false);
  assert.equal(refusalFor('Xk9#pLq2!'), 'The password needs at least 10 characters.');
  assert.equal(refusalFor('short'), 'The password needs at least 10 characters.');
});

test('a few unrelated words are accepted, and said to be strong', () => {
  for (const password of ['a calm river at dawn', 'gravel otter lantern', 'correct horse battery staple']) {
    const estimate = assess(password, KNOWN_AS);
    assert.ok(estimate.strongEnough, password);
    assert.ok(['Strong', 'Very strong'].includes(estimate.words), password);
    assert.equal(refusalFor(password, KNOWN_AS), null, password);
    assert.equal(isStrongEnough(password, KNOWN_AS), true, password);
  }
});

test('a password built from the practice\'s name is refused once the form passes it in', () => {
  assert.equal(isStrongEnough('lakesidecounselling'), true);
  const estimate = assess('lakesidecounselling', KNOWN_AS);
  assert.equal(estimate.strongEnough, false);
  assert.match(refusalFor('lakesidecounselling', KNOWN_AS), /personal or page related data/);
});

test('the words always agree with the rule, for every level', () => {
  const samples = ['a', 'password', 'Sunshine2024!', 'monkey-dog-42', 'Xk9#pLq2!', 'correct horse', 'a calm river at dawn'];
  const seen = new Set();
  for (const password of samples) {
    const estimate = assess(password);
    seen.add(estimate.level);
    assert.equal(estimate.words, WORDS[estimate.level]);
    assert.equal(estimate.strongEnough, estimate.level >= MIN_SCORE);
    assert.equal(refusalFor(password) === null, estimate.strongEnough, password);
  }
  assert.ok(seen.size >= 4, `levels seen: ${[...seen]}`);
});

test('length counts characters, not UTF-16 units', () => {
  // Nine emoji are eighteen UTF-16 units but nine characters: refused for length.
  assert.equal(refusalFor('🌊🌲🌙🔥🌻🐚🍂🌈⭐'), 'The password needs at least 10 characters.');
});
