/**
 * The admin console's practice parts: the settings (name, time zone, crisis lines, the
 * reply-time promise) and the messaging agreement (edit, publish a new version, who
 * accepted which version when).
 *
 * @module
 */

import * as api from '../api.js';
import { h } from '../dom.js';
import { explain, labelCells, when } from './console-common.js';

/** Every IANA zone the browser knows, with the practice's own first if it is not one. */
function zones(/** @type {string} */ current) {
  /** @type {string[]} */
  let known = [];
  try {
    known = /** @type {any} */ (Intl).supportedValuesOf('timeZone');
  } catch {
    known = ['UTC'];
  }
  return known.includes(current) ? known : [current, ...known];
}

// --- settings ------------------------------------------------------------------------------

/** @param {HTMLElement} body */
export async function renderPracticePanel(body) {
  body.replaceChildren(h('p', { role: 'status' }, 'Loading the practice settings…'));
  let settings;
  try {
    settings = (await api.get('/api/admin/practice')).practice;
  } catch (failure) {
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, explain(failure, 'The settings could not be loaded. Reload the page.')));
    return;
  }
  const name = h('input', { id: 'practice-name', type: 'text', required: true, maxlength: 200, value: settings.name });
  const zone = h('select', { id: 'practice-zone' }, ...zones(settings.time_zone).map((z) => h('option', { value: z, selected: z === settings.time_zone }, z)));
  const promise = h('input', { id: 'practice-promise', type: 'text', required: true, maxlength: 300, value: settings.reply_promise, 'aria-describedby': 'practice-promise-hint' });
  const retention = h('input', {
    id: 'practice-retention', type: 'number', inputmode: 'numeric', required: true, min: 1, max: 100, step: 1,
    value: String(settings.retention_years ?? 7), 'aria-describedby': 'practice-retention-hint',
  });
  const lines = h('ol', { class: 'crisis-lines', 'aria-label': 'Crisis lines' });
  let counter = 0;
  const addLine = (/** @type {{label: string, number: string}} */ line) => {
    counter += 1;
    const labelId = `crisis-label-${counter}`;
    const numberId = `crisis-number-${counter}`;
    const item = h(
      'li',
      { class: 'crisis-line' },
      h('div', { class: 'field' }, h('label', { for: labelId }, 'Label'), h('input', { id: labelId, type: 'text', maxlength: 200, value: line.label, dataset: { part: 'label' } })),
      h('div', { class: 'field' }, h('label', { for: numberId }, 'Number'), h('input', { id: numberId, type: 'text', inputmode: 'tel', maxlength: 32, value: line.number, dataset: { part: 'number' } })),
    );
    const remove = h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove the line ${line.label || counter}` }, 'Remove');
    remove.addEventListener('click', () => {
      item.remove();
      add.focus();
    });
    item.append(remove);
    lines.append(item);
    return item;
  };
  for (const line of settings.crisis_lines) addLine(line);
  const add = h('button', { type: 'button', class: 'secondary' }, 'Add a line');
  add.addEventListener('click', () => {
    const item = addLine({ label: '', number: '' });
    /** @type {HTMLElement|null} */ (item.querySelector('input'))?.focus();
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Save settings');
  const form = h(
    'form',
    { class: 'card form', novalidate: true, 'aria-labelledby': 'practice-title' },
    h('h2', { id: 'practice-title' }, 'Practice'),
    h('div', { class: 'field' }, h('label', { for: 'practice-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'practice-zone' }, 'Time zone'), zone),
    h(
      'fieldset',
      { class: 'fieldset' },
      h('legend', {}, 'Crisis lines'),
      h('p', { class: 'hint' }, 'Shown to clients beside every conversation, in this order.'),
      lines,
      add,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'practice-promise' }, 'Reply-time promise'),
      h('p', { class: 'hint', id: 'practice-promise-hint' }, 'Shown to clients under the message box.'),
      promise,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'practice-retention' }, 'Retention after discharge (years)'),
      h('p', { class: 'hint', id: 'practice-retention-hint' }, 'How long a discharged conversation is kept, read-only, before it is erased: its messages and keys are destroyed on the server. From 1 to 100 years.'),
      retention,
    ),
    error,
    status,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    status.textContent = '';
    const crisis = [...lines.querySelectorAll('li')].map((item) => ({
      label: /** @type {HTMLInputElement} */ (item.querySelector('[data-part="label"]')).value.trim(),
      number: /** @type {HTMLInputElement} */ (item.querySelector('[data-part="number"]')).value.trim(),
    }));
    if (crisis.length === 0 || crisis.some((line) => !line.label || !line.number)) {
      error.textContent = 'Each crisis line needs a label and a number, and there must be at least one.';
      return;
    }
    const years = Number(/** @type {HTMLInputElement} */ (retention).value);
    if (!Number.isInteger(years) || years < 1 || years > 100) {
      error.textContent = 'Retention after discharge is a whole number of years, from 1 to 100.';
      retention.focus();
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      await api.post('/api/admin/practice', {
        name: /** @type {HTMLInputElement} */ (name).value.trim(),
        time_zone: /** @type {HTMLSelectElement} */ (zone).value,
        crisis_lines: crisis,
        reply_promise: /** @type {HTMLInputElement} */ (promise).value.trim(),
        retention_years: years,
      });
      status.textContent = 'Saved. Clients see the new settings the next time they sign in.';
    } catch (failure) {
      error.textContent = explain(failure, 'The settings could not be saved. Try again.');
    } finally {
      submit.removeAttribute('disabled');
    }
  });
  body.replaceChildren(form);
}

// --- the messaging agreement -----------------------------------------------------------------

/** @param {HTMLElement} body */
export async function renderAgreementPanel(body) {
  body.replaceChildren(h('p', { role: 'status' }, 'Loading the messaging agreement…'));
  let answer;
  try {
    answer = await api.get('/api/admin/agreement');
  } catch (failure) {
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, explain(failure, 'The agreement could not be loaded. Reload the page.')));
    return;
  }
  body.replaceChildren(editor(body, answer), versions(answer), acceptances(answer));
}

/**
 * The current text as editable sections: a heading and paragraphs separated by blank
 * lines. Publishing makes a new version on top of the one shown.
 * @param {HTMLElement} body
 * @param {any} answer
 */
function editor(body, answer) {
  const current = answer.current;
  const sections = h('ol', { class: 'agreement-sections', 'aria-label': 'Sections' });
  let counter = 0;
  const addSection = (/** @type {{heading: string, paragraphs: string[]}} */ section) => {
    counter += 1;
    const headingId = `agreement-heading-${counter}`;
    const textId = `agreement-text-${counter}`;
    const item = h(
      'li',
      { class: 'agreement-section' },
      h('div', { class: 'field' }, h('label', { for: headingId }, 'Heading'), h('input', { id: headingId, type: 'text', maxlength: 200, value: section.heading, dataset: { part: 'heading' } })),
      h(
        'div',
        { class: 'field' },
        h('label', { for: textId }, 'Text'),
        h('textarea', { id: textId, rows: 5, dataset: { part: 'text' } }, section.paragraphs.join('\n\n')),
      ),
    );
    const remove = h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove section ${section.heading || counter}` }, 'Remove section');
    remove.addEventListener('click', () => {
      item.remove();
      add.focus();
    });
    item.append(remove);
    sections.append(item);
    return item;
  };
  for (const section of current.sections) addSection(section);
  const add = h('button', { type: 'button', class: 'secondary' }, 'Add a section');
  add.addEventListener('click', () => {
    const item = addSection({ heading: '', paragraphs: [] });
    /** @type {HTMLElement|null} */ (item.querySelector('input'))?.focus();
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Publish as a new version');
  const form = h(
    'form',
    { class: 'card form', novalidate: true, 'aria-labelledby': 'agreement-edit-title' },
    h('h2', { id: 'agreement-edit-title' }, `Current version ${current.version}`),
    h('p', { class: 'hint' }, `Published ${when(current.published_at)}. Separate paragraphs with a blank line. Publishing a new version asks every client to accept it before their next message.`),
    sections,
    add,
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const edited = [...sections.querySelectorAll('li')].map((item) => ({
      heading: /** @type {HTMLInputElement} */ (item.querySelector('[data-part="heading"]')).value.trim(),
      paragraphs: /** @type {HTMLTextAreaElement} */ (item.querySelector('[data-part="text"]')).value
        .split(/\n\s*\n/)
        .map((paragraph) => paragraph.replace(/\s*\n\s*/g, ' ').trim())
        .filter(Boolean),
    }));
    if (edited.length === 0 || edited.some((section) => !section.heading || section.paragraphs.length === 0)) {
      error.textContent = 'Each section needs a heading and some text, and there must be at least one section.';
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      const published = await api.post('/api/admin/agreement', { based_on: current.version, sections: edited });
      body.replaceChildren(
        h('p', { class: 'notice', role: 'status' }, `Version ${published.current.version} is published. Each client accepts it before their next message.`),
        editor(body, published),
        versions(published),
        acceptances(published),
      );
    } catch (failure) {
      submit.removeAttribute('disabled');
      if (failure instanceof api.ApiError && failure.code === 'agreement_changed') {
        const reload = h('button', { type: 'button', class: 'secondary' }, 'Show the current version');
        reload.addEventListener('click', () => renderAgreementPanel(body));
        error.replaceChildren(explain(failure, ''), ' ', reload);
      } else {
        error.textContent = explain(failure, 'The new version could not be published. Try again.');
      }
    }
  });
  return form;
}

/** @param {any} answer */
function versions(answer) {
  return labelled(h(
    'section',
    { class: 'card', 'aria-labelledby': 'agreement-versions-title' },
    h('h2', { id: 'agreement-versions-title' }, 'Versions'),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Versions table' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, ...['Version', 'Published', 'Accepted by'].map((label) => h('th', { scope: 'col' }, label)))),
        h(
          'tbody',
          {},
          ...answer.versions.map((/** @type {any} */ version) =>
            h(
              'tr',
              {},
              h('td', {}, version.version),
              h('td', {}, when(version.published_at)),
              h('td', {}, `${version.acceptances} client${version.acceptances === 1 ? '' : 's'}`),
            ),
          ),
        ),
      ),
    ),
  ));
}

/** @param {any} answer */
function acceptances(answer) {
  const current = answer.current.version;
  return labelled(h(
    'section',
    { class: 'card', 'aria-labelledby': 'agreement-clients-title' },
    h('h2', { id: 'agreement-clients-title' }, 'Who accepted which version'),
    answer.clients.length === 0
      ? h('p', { class: 'empty' }, 'No clients yet.')
      : h(
          'div',
          { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Acceptances table' },
          h(
            'table',
            { class: 'table' },
            h('thead', {}, h('tr', {}, ...['Client', 'Latest accepted', 'When'].map((label) => h('th', { scope: 'col' }, label)))),
            h(
              'tbody',
              {},
              ...answer.clients.map((/** @type {any} */ client) =>
                h(
                  'tr',
                  { dataset: { client: String(client.id) } },
                  h('td', {}, client.display_name, client.is_active ? null : h('span', { class: 'hint' }, ' (deactivated)')),
                  h(
                    'td',
                    {},
                    client.version ?? 'None yet',
                    client.version && client.version !== current ? h('span', { class: 'tag' }, 'Not the current version') : null,
                  ),
                  h('td', {}, when(client.accepted_at)),
                ),
              ),
            ),
          ),
        ),
  ));
}

/**
 * @param {HTMLElement} section
 * @returns {HTMLElement}
 */
function labelled(section) {
  labelCells(section);
  return section;
}
