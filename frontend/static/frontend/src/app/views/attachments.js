/**
 * Files in a conversation (attachments.js does the work): the composer's "Attach files"
 * (a file input behind a label, and dropping files on the conversation), the chosen files
 * as chips that can be removed, their upload with progress and Cancel; and, in the
 * messages, each file a message presents: its name and size, a Download button, and for a
 * JPEG, PNG, GIF or WebP image of at most 10 MiB a preview, downloaded and opened without
 * being asked.
 *
 * Nothing of a file is shown or saved before its whole stream was checked against the
 * message (attachments.js, `downloadAttachment`). An image is shown from an object URL
 * (the page's policy allows `blob:` images, nothing else of it), revoked when the
 * conversation is left; a file is saved with `<a download>` under the name its message
 * gives it, never a path built from it.
 *
 * @module
 */

import { h } from '../dom.js';
import {
  UNREADABLE_TEXT,
  UnreadableAttachmentError,
  downloadFailureText,
  formatSize,
  refusalOf,
  shownInline,
  uploadFailureText,
} from '../attachments.js';
import { ApiError } from '../api.js';
import { describeAttachment } from '../keys.js';

/**
 * The largest file the server takes (bytes of the file), once it said so: the
 * `max_bytes` of an `attachment_too_large` refusal. Files over it are refused as they are
 * chosen from then on. Not a secret, and the same for the whole practice.
 * @type {number|null}
 */
let serverLimit = null;

/** @typedef {{id: string, name: string, size: number, type: string,
 *   reference: import('../keys.js').AttachmentReference}} ShownFile */

/**
 * @typedef {object} Chip a file chosen to send
 * @property {number} key
 * @property {File} file
 * @property {import('../keys.js').AttachmentReference|null} reference once uploaded
 * @property {'ready'|'uploading'|'uploaded'|'refused'} state
 * @property {number} done
 * @property {number} total
 * @property {boolean} retrying
 * @property {HTMLElement} [element]
 */

/**
 * The composer's files: the picker (a visually hidden file input and its label, shown as
 * a paperclip button), the chips, the drop hint, and the upload of every chip.
 * @param {{messenger: import('../messenger.js').Messenger, conversationId: string,
 *          announce: (text: string) => void, problem: HTMLElement,
 *          local: Map<string, Blob>, onChange: () => void}} ctx
 *   `problem` is the composer's alert line; `local` the files this page uploaded, by
 *   attachment id, shown without downloading them again
 */
export function composerFiles({ messenger, conversationId, announce, problem, local, onChange }) {
  /** @type {Chip[]} */
  const chips = [];
  let nextKey = 1;
  /** @type {AbortController|null} */
  let controller = null;
  let disabled = false;

  const input = /** @type {HTMLInputElement} */ (h('input', {
    type: 'file', id: 'composer-files', class: 'visually-hidden attach-input', multiple: true,
  }));
  const picker = h('span', { class: 'attach' },
    input,
    h('label', { for: 'composer-files', class: 'attach-button', title: 'Attach files' },
      h('span', { class: 'attach-icon', 'aria-hidden': 'true' }),
      h('span', { class: 'visually-hidden' }, 'Attach files')));
  const list = h('ul', { class: 'file-chips', 'aria-label': 'Files to send', hidden: true });
  const dropHint = h('div', { class: 'drop-hint', hidden: true, 'aria-hidden': 'true' },
    h('p', {}, 'Drop files here to attach them'));

  /** @param {Chip} chip */
  const chipElement = (chip) => {
    const name = chip.file.name;
    const li = h('li', { class: 'file-chip', dataset: { state: chip.state } });
    const label = h('span', { class: 'chip-text' },
      h('span', { class: 'chip-name' }, name),
      h('span', { class: 'chip-size' }, formatSize(chip.file.size)));
    li.append(label);
    if (chip.state === 'uploading') {
      const percent = chip.total ? Math.floor((chip.done / chip.total) * 100) : 0;
      const progress = h('progress', { max: '100', value: String(percent), 'aria-label': `Uploading ${name}` });
      li.append(h('span', { class: 'chip-progress' },
        progress,
        h('span', { class: 'chip-percent' }, chip.retrying ? 'Connection lost, trying again…' : `${percent}%`)));
      li.append(h('button', {
        type: 'button', class: 'chip-cancel link-button', 'aria-label': `Cancel the upload of ${name}`,
        onclick: () => controller?.abort(),
      }, 'Cancel'));
    } else {
      if (chip.state === 'uploaded') label.append(h('span', { class: 'chip-done' }, 'Uploaded'));
      if (chip.state === 'refused') label.append(h('span', { class: 'chip-refused' }, 'Not sent'));
      li.append(h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': `Remove ${name}`, disabled: controller !== null,
        onclick: () => remove(chip),
      }, h('span', { 'aria-hidden': 'true' }, '×')));
    }
    return li;
  };

  const draw = () => {
    list.hidden = chips.length === 0;
    list.replaceChildren(...chips.map((chip) => {
      chip.element = chipElement(chip);
      return chip.element;
    }));
    input.disabled = disabled || controller !== null;
    onChange();
  };

  /** @param {Chip} chip only its own element: the focus stays on Cancel */
  const drawChip = (chip) => {
    const old = chip.element;
    if (!old?.isConnected) return;
    const progress = old.querySelector('progress');
    const percent = old.querySelector('.chip-percent');
    if (progress && percent) {
      const value = chip.total ? Math.floor((chip.done / chip.total) * 100) : 0;
      progress.value = value;
      percent.textContent = chip.retrying ? 'Connection lost, trying again…' : `${value}%`;
    }
  };

  /** @param {Chip} chip */
  const remove = (chip) => {
    const at = chips.indexOf(chip);
    if (at < 0 || controller) return;
    chips.splice(at, 1);
    problem.textContent = '';
    draw();
    announce(`${chip.file.name} removed.`);
    // The focus goes to the next chip's Remove, else to the picker.
    const next = /** @type {HTMLElement|null} */ (list.querySelectorAll('.chip-remove')[Math.min(at, chips.length - 1)] ?? null);
    (next ?? input).focus();
  };

  /**
   * Take files the person chose or dropped: each becomes a chip, unless it is refused
   * (empty, over the limit the server gave, or one too many), which the alert line says.
   * @param {Iterable<File>} files
   */
  const add = (files) => {
    if (disabled || controller) return;
    const refused = [];
    const added = [];
    for (const file of files) {
      const why = refusalOf(file, { maxBytes: serverLimit, attached: chips.length });
      if (why) {
        refused.push(why);
        continue;
      }
      chips.push({ key: nextKey++, file, reference: null, state: 'ready', done: 0, total: 0, retrying: false });
      added.push(file.name);
    }
    problem.textContent = refused.join(' ');
    draw();
    if (added.length) {
      announce(added.length === 1 ? `${added[0]} attached.` : `${added.length} files attached: ${added.join(', ')}.`);
    }
  };

  input.addEventListener('change', () => {
    add([...(input.files ?? [])]);
    input.value = '';
  });

  /**
   * Dropping files anywhere on `zone` attaches them; a hint shows while files are dragged
   * over it. (The keyboard's way is the picker.)
   * @param {HTMLElement} zone
   */
  const dropOn = (zone) => {
    let depth = 0;
    const carriesFiles = (/** @type {DragEvent} */ event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
    zone.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event) || disabled) return;
      event.preventDefault();
      depth += 1;
      dropHint.hidden = false;
    });
    zone.addEventListener('dragover', (event) => {
      if (!carriesFiles(event) || disabled) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = controller ? 'none' : 'copy';
    });
    zone.addEventListener('dragleave', (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) dropHint.hidden = true;
    });
    zone.addEventListener('drop', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      dropHint.hidden = true;
      add([...(event.dataTransfer?.files ?? [])]);
    });
  };

  /**
   * Upload every chip not uploaded yet, one after the other, each with its progress and
   * Cancel. Resolves to the references of all of them, or null when one stopped (cancelled,
   * refused, or the connection stayed down): the chips stay, with those uploaded kept, and
   * the alert line says why.
   * @returns {Promise<import('../keys.js').AttachmentReference[]|null>}
   */
  const upload = async () => {
    if (controller || !chips.length) return null;
    const own = new AbortController();
    controller = own;
    problem.textContent = '';
    const waiting = chips.filter((chip) => !chip.reference);
    if (waiting.length) {
      announce(waiting.length === 1 ? `Uploading ${waiting[0].file.name}…` : `Uploading ${waiting.length} files…`);
    }
    /** @type {Chip|null} */
    let current = null;
    try {
      for (const chip of chips) {
        if (chip.reference) continue;
        current = chip;
        chip.state = 'uploading';
        chip.done = 0;
        chip.total = 0;
        chip.retrying = false;
        draw();
        const reference = await messenger.uploadFile(conversationId, chip.file, {
          signal: own.signal,
          onProgress: (progress) => {
            chip.done = progress.done;
            chip.total = progress.total;
            chip.retrying = progress.retrying;
            drawChip(chip);
          },
        });
        chip.reference = reference;
        chip.state = 'uploaded';
        local.set(describeAttachment(reference).id, chip.file);
      }
      current = null;
      if (waiting.length) announce(waiting.length === 1 ? 'The file is uploaded.' : 'The files are uploaded.');
      return chips.map((chip) => /** @type {import('../keys.js').AttachmentReference} */ (chip.reference));
    } catch (error) {
      const chip = /** @type {Chip|null} */ (current);
      if (chip) chip.state = 'ready';
      if (own.signal.aborted) {
        const text = 'Upload cancelled. Your message and files are still here.';
        problem.textContent = text;
      } else {
        const name = chip?.file.name ?? 'A file';
        if (error instanceof ApiError && error.code === 'attachment_too_large') {
          const max = Number(error.data.max_bytes);
          if (Number.isFinite(max)) serverLimit = max;
          if (chip) chip.state = 'refused';
        }
        if (error instanceof ApiError && error.code === 'quota_exceeded' && chip) chip.state = 'refused';
        problem.textContent = uploadFailureText(error, name);
      }
      return null;
    } finally {
      controller = null;
      draw();
    }
  };

  return {
    picker,
    list,
    dropHint,
    dropOn,
    upload,
    /** How many files are chosen. */
    get count() {
      return chips.length;
    },
    /** Whether an upload is under way. */
    get busy() {
      return controller !== null;
    },
    /** The message went: the chips go. */
    clear() {
      chips.length = 0;
      draw();
    },
    /** @param {boolean} off nothing can be attached (read-only, or held for a key change) */
    setDisabled(off) {
      if (disabled === off) return;
      disabled = off;
      draw();
    },
    /** The conversation is left: an upload under way stops. */
    stop() {
      controller?.abort();
    },
  };
}

/**
 * @typedef {object} FileState what this page has of one file a message presents
 * @property {ShownFile} file
 * @property {'idle'|'loading'|'ready'|'failed'|'unreadable'} status
 * @property {'preview'|'download'} purpose what the download under way is for
 * @property {Blob|null} blob the opened file, kept for an image shown
 * @property {string|null} url its object URL
 * @property {AbortController|null} controller
 * @property {number} done
 * @property {number} total
 * @property {boolean} retrying
 * @property {string} note
 * @property {Set<FileView>} views
 */

/**
 * @typedef {object} FileView
 * @property {HTMLElement} li
 * @property {HTMLImageElement} img
 * @property {HTMLButtonElement} button
 * @property {HTMLElement} progressRow
 * @property {HTMLProgressElement} progress
 * @property {HTMLElement} percent
 * @property {HTMLElement} note
 * @property {boolean} placed whether it was seen in the page
 */

/**
 * The files of the messages: a list per message, the state of each file shared by every
 * row that shows it (a message sent from this page keeps its file when its row changes
 * from pending to stored).
 * @param {{messenger: import('../messenger.js').Messenger, announce: (text: string) => void,
 *          local: Map<string, Blob>}} ctx
 */
export function messageFiles({ messenger, announce, local }) {
  /** @type {Map<string, FileState>} */
  const states = new Map();
  /** @type {Set<string>} */
  const urls = new Set();

  /** @param {ShownFile} file */
  const stateOf = (file) => {
    let state = states.get(file.id);
    if (!state) {
      state = {
        file, status: 'idle', purpose: 'preview', blob: null, url: null, controller: null,
        done: 0, total: 0, retrying: false, note: '', views: new Set(),
      };
      states.set(file.id, state);
    }
    return state;
  };

  /** @param {FileState} state */
  const paintAll = (state) => {
    for (const view of state.views) {
      // A row not yet in the page is painted too; one taken out of it is forgotten.
      if (view.li.isConnected) view.placed = true;
      else if (view.placed) {
        state.views.delete(view);
        continue;
      }
      paint(state, view);
    }
  };

  /**
   * @param {FileState} state
   * @param {FileView} view
   */
  const paint = (state, view) => {
    const loading = state.status === 'loading';
    const shown = state.status === 'ready' && state.url !== null;
    if (shown && view.img.getAttribute('src') !== state.url) view.img.src = /** @type {string} */ (state.url);
    view.img.hidden = !shown;
    view.button.hidden = loading || state.status === 'unreadable';
    view.progressRow.hidden = !loading;
    const percent = state.total ? Math.floor((state.done / state.total) * 100) : 0;
    view.progress.value = percent;
    view.percent.textContent = state.retrying ? 'Connection lost, trying again…' : `${percent}%`;
    view.note.textContent = state.note;
    view.note.hidden = state.note === '';
    view.li.dataset.status = state.status;
  };

  /**
   * Open the file: to show it (an image), or to save it.
   * @param {FileState} state
   * @param {'preview'|'download'} purpose
   */
  const open = async (state, purpose) => {
    const { file } = state;
    const mine = local.get(file.id);
    if (mine) {
      // Sent from this page: the file itself, not downloaded again.
      const blob = new Blob([mine], { type: file.type });
      if (purpose === 'preview') show(state, blob);
      else save(blob, file.name);
      return;
    }
    const own = new AbortController();
    Object.assign(state, { status: 'loading', purpose, controller: own, done: 0, total: 0, retrying: false, note: '' });
    paintAll(state);
    if (purpose === 'download') announce(`Downloading ${file.name}…`);
    try {
      const parts = await messenger.downloadFile(file.reference, {
        signal: own.signal,
        onProgress: (progress) => {
          Object.assign(state, { done: progress.done, total: progress.total, retrying: progress.retrying });
          paintAll(state);
        },
      });
      // Only now, with the whole stream checked, are the pieces the file.
      const blob = new Blob(parts, { type: file.type });
      if (purpose === 'preview') {
        show(state, blob);
      } else {
        state.status = 'idle';
        save(blob, file.name);
        announce(`${file.name} is downloaded.`);
      }
    } catch (error) {
      if (own.signal.aborted) {
        state.status = 'idle';
        if (purpose === 'download') announce(`The download of ${file.name} is cancelled.`);
      } else if (error instanceof UnreadableAttachmentError) {
        state.status = 'unreadable';
        state.note = UNREADABLE_TEXT;
        announce(`${file.name}: ${UNREADABLE_TEXT}`);
      } else {
        state.status = 'failed';
        state.note = downloadFailureText(error);
        if (purpose === 'download') announce(state.note);
      }
    } finally {
      state.controller = null;
      // Cancel goes away with the progress: the focus it had goes back to Download.
      const focused = [...state.views].find((view) => view.progressRow.contains(document.activeElement));
      paintAll(state);
      if (focused && !focused.button.hidden) focused.button.focus();
    }
  };

  /**
   * @param {FileState} state
   * @param {Blob} blob
   */
  const show = (state, blob) => {
    state.blob = blob;
    state.url = URL.createObjectURL(blob);
    urls.add(state.url);
    state.status = 'ready';
    paintAll(state);
  };

  /**
   * One file's row: (its image,) its name and size, Download, and while it downloads its
   * progress with Cancel.
   * @param {ShownFile} file
   */
  const item = (file) => {
    const state = stateOf(file);
    const img = /** @type {HTMLImageElement} */ (h('img', { class: 'file-preview', alt: file.name, hidden: true }));
    img.addEventListener('error', () => {
      // Opened and genuine, but not an image this browser draws: the row stays.
      img.hidden = true;
    });
    const button = /** @type {HTMLButtonElement} */ (h('button', {
      type: 'button', class: 'secondary file-download', 'aria-label': `Download ${file.name}`,
    }, 'Download'));
    button.addEventListener('click', () => {
      if (state.status === 'loading') return;
      if (state.blob) {
        save(state.blob, file.name);
        announce(`${file.name} is downloaded.`);
        return;
      }
      open(state, 'download');
    });
    const progress = /** @type {HTMLProgressElement} */ (h('progress', {
      max: '100', value: '0', 'aria-label': `Downloading ${file.name}`,
    }));
    const percent = h('span', { class: 'file-percent' });
    const cancel = h('button', {
      type: 'button', class: 'link-button file-cancel', 'aria-label': `Cancel the download of ${file.name}`,
      onclick: () => state.controller?.abort(),
    }, 'Cancel');
    const progressRow = h('span', { class: 'file-progress', hidden: true }, progress, percent, cancel);
    const note = h('p', { class: 'file-note', hidden: true });
    const li = h('li', { class: 'message-file', dataset: { attachment: file.id } },
      img,
      h('span', { class: 'file-line' },
        h('span', { class: 'file-name' }, file.name),
        h('span', { class: 'file-size' }, formatSize(file.size)),
        button,
        progressRow),
      note);
    const view = { li, img, button, progressRow, progress, percent, note, placed: false };
    state.views.add(view);
    paint(state, view);
    if (state.status === 'idle' && !state.blob && shownInline(file)) open(state, 'preview');
    return li;
  };

  return {
    /**
     * The list of a message's files.
     * @param {ShownFile[]} files
     */
    list(files) {
      return h('ul', { class: 'message-files', 'aria-label': files.length === 1 ? 'Attached file' : `${files.length} attached files` },
        ...files.map(item));
    },
    /** The conversation is left: downloads stop, the images' URLs are revoked. */
    stop() {
      for (const state of states.values()) state.controller?.abort();
      for (const url of urls) URL.revokeObjectURL(url);
      urls.clear();
      states.clear();
    },
  };
}

/**
 * Hand a file to the browser's downloads, under its name.
 * @param {Blob} blob
 * @param {string} name
 */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for the download to start; the file leaves the page's memory after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
