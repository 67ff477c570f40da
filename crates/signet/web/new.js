// Creating a contract (/app/contracts/new), in two steps.
//
// 1. The PDFs (a file input, several allowed), the title (the first file's name without
//    ".pdf" until the sender types one), an optional deadline, and the recipients (name, email
//    or phone, role, order; a company for one who applies a seal). "Next" creates a draft:
//    multipart POST /api/v1/contracts with `metadata.send = false` and no fields. "Back" from
//    step 2 returns here with the files kept (they are uploaded); "Next" then edits the draft
//    (POST …/draft, each row naming its recipient's id, so placed fields follow them).
// 2. Every page as a picture (GET /api/v1/contracts/{id}/documents/{n}/pages/{p}.png), a
//    palette of fields whose items are draggable (HTML5 drag and drop onto a page) or, for touch,
//    tapped and then the page tapped, and a recipient selector deciding whose field it is (each
//    recipient has a colour). Without a pointer: choose a palette item, Tab to a page and press
//    Enter. A placed field is an element over its page: drag it (or, focused, the arrow keys) to
//    move it, drag its corner (or Alt + arrow keys) to resize it; its × button or the Delete key
//    removes it. Rects are kept in
//    PDF points from the page's bottom-left corner (the contract's `page_sizes`). "Send" saves
//    the fields (POST …/fields) and sends (POST …/send), then opens the contract's page.
//
// API errors go to the role="alert" box, with the API's own sentence when it names the input.
'use strict';

(function () {
  const { t, el } = window.Signet;
  const { session, api, MemberProblem, problemText, say, fail } = window.SignetMember;
  const $ = (id) => document.getElementById(id);
  const form = $('create-form');
  const files = $('files');
  const title = $('title');
  const deadline = $('deadline');
  const list = $('recipient-list');
  const addButton = $('add-recipient');
  const placeStep = $('place-step');
  const who = $('field-recipient');
  const palette = $('palette');
  const legend = $('legend');
  const pagesBox = $('place-pages');
  const sendButton = $('send');
  const backButton = $('back');
  const keptFiles = $('kept-files');
  if (!form || !files || !title || !deadline || !list || !addButton || !placeStep || !who || !palette || !legend || !pagesBox || !sendButton || !backButton || !keptFiles) return;

  /** Default sizes in points, as the API places fields by keyword (docs/platform.md). */
  const SIZES = { signature: [150, 50], seal: [120, 120], date: [110, 20], text: [160, 20], checkbox: [14, 14] };
  const MIN = 8;
  const COLOURS = 6;

  // --- step 1 ------------------------------------------------------------------------------

  let titleTouched = false;
  let rowSeq = 0;

  title.addEventListener('input', () => {
    titleTouched = title.value.trim() !== '';
  });

  files.addEventListener('change', () => {
    const first = files.files && files.files[0];
    if (first && !titleTouched) title.value = first.name.replace(/\.pdf$/i, '');
  });

  /** A labelled input inside a recipient row. */
  function labelled(id, text, input) {
    input.id = id;
    return el('div', { class: 'recipient-input' }, [el('label', { for: id }, text), input]);
  }

  function renumber() {
    Array.from(list.children).forEach((li, i) => {
      const n = i + 1;
      const heading = li.querySelector('.recipient-n');
      if (heading) heading.textContent = t('create.recipient_n', { n });
      const remove = li.querySelector('.remove-recipient');
      if (remove) {
        remove.setAttribute('aria-label', t('create.remove_recipient', { n }));
        remove.hidden = list.children.length < 2;
      }
    });
  }

  function addRecipient() {
    rowSeq += 1;
    const k = rowSeq;
    const n = list.children.length + 1;
    const role = el('select', { name: 'role' }, ['signer', 'cc', 'approver'].map((r) => el('option', { value: r }, t('create.role.' + r))));
    const order = el('input', { name: 'order', type: 'number', min: '1', max: '1000', step: '1', inputmode: 'numeric', value: String(n) });
    const remove = el('button', { type: 'button', class: 'secondary remove-recipient' }, '×');
    const li = el('li', { class: 'recipient-row', 'data-row': k }, [
      el('h3', { class: 'recipient-n' }, t('create.recipient_n', { n })),
      labelled(`r${k}-name`, t('create.name'), el('input', { name: 'name', type: 'text', maxlength: '100', autocomplete: 'off' })),
      labelled(`r${k}-contact`, t('create.contact'), el('input', { name: 'contact', type: 'text', maxlength: '254', autocomplete: 'off' })),
      labelled(`r${k}-role`, t('create.role'), role),
      labelled(`r${k}-order`, t('create.order'), order),
      labelled(`r${k}-company`, t('create.company'), el('input', { name: 'company', type: 'text', maxlength: '200', autocomplete: 'off' })),
      remove,
    ]);
    remove.addEventListener('click', () => {
      li.remove();
      renumber();
    });
    list.append(li);
    renumber();
    return li;
  }

  addButton.addEventListener('click', () => {
    const li = addRecipient();
    const first = li.querySelector('input');
    if (first) first.focus();
  });
  addRecipient();

  /** The recipients as the API takes them, or throws a sentence naming what is missing. */
  function recipients() {
    const out = [];
    Array.from(list.children).forEach((li, i) => {
      const n = i + 1;
      const get = (name) => {
        const node = li.querySelector(`[name="${name}"]`);
        return node ? node.value.trim() : '';
      };
      const focus = (name) => {
        const node = li.querySelector(`[name="${name}"]`);
        if (node) node.focus();
      };
      const name = get('name');
      const contact = get('contact');
      if (!name) {
        focus('name');
        throw new Error(t('create.error.name', { n }));
      }
      if (!contact) {
        focus('contact');
        throw new Error(t('create.error.contact', { n }));
      }
      const order = Number(get('order') || '1');
      if (!Number.isInteger(order) || order < 1 || order > 1000) {
        focus('order');
        throw new Error(t('create.error.order', { n }));
      }
      const r = { name, role: get('role') || 'signer', order };
      if (li.dataset.id) r.id = li.dataset.id;
      if (contact.includes('@')) r.email = contact;
      else r.phone = contact;
      const company = get('company');
      if (company && r.role === 'signer') r.company = company;
      out.push(r);
    });
    if (out.length === 0) throw new Error(t('create.error.no_recipient'));
    return out;
  }

  /** The sentence for an API problem, with the API's own words when they name the input. */
  function explain(e) {
    if (e instanceof MemberProblem && e.detail && (e.status === 409 || e.status === 422 || e.status === 400 || e.status === 415)) {
      return t('create.error.detail', { message: e.message, detail: e.detail });
    }
    if (e instanceof MemberProblem) return e.message;
    return e instanceof Error ? e.message : String(e);
  }

  /** The multipart POST that creates the draft (member.js's api() sends JSON only). */
  async function createDraft(chosen, metadata) {
    const body = new FormData();
    for (const f of chosen) body.append('document', f, f.name);
    body.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }));
    const csrf = (await session()).csrf_token;
    let res;
    try {
      res = await fetch('/api/v1/contracts', { method: 'POST', headers: { Accept: 'application/json', 'X-CSRF-Token': csrf }, credentials: 'same-origin', body });
    } catch (_) {
      throw new MemberProblem(0, null, t('error.network'));
    }
    let json = null;
    try {
      json = await res.json();
    } catch (_) {
      json = null;
    }
    if (!res.ok) {
      const code = json && json.error && typeof json.error.code === 'string' ? json.error.code : null;
      const detail = json && json.error && typeof json.error.message === 'string' ? json.error.message : '';
      if (res.status === 413) throw new MemberProblem(413, code, t('create.error.too_large'));
      throw new MemberProblem(res.status, code, problemText(res.status, code), detail);
    }
    if (!json || typeof json !== 'object' || typeof json.id !== 'string') throw new MemberProblem(res.status, null, t('error.bad_answer'));
    return json;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = contract ? [] : Array.from(files.files || []);
    let metadata;
    try {
      if (contract) {
        if (!title.value.trim()) {
          title.focus();
          throw new Error(t('create.error.no_title'));
        }
      } else if (chosen.length === 0) {
        files.focus();
        throw new Error(t('create.error.no_file'));
      }
      const notPdf = chosen.find((f) => !/\.pdf$/i.test(f.name) && f.type !== 'application/pdf');
      if (notPdf) {
        files.focus();
        throw new Error(t('create.error.not_pdf', { name: notPdf.name }));
      }
      if (!contract && !title.value.trim()) title.value = chosen[0].name.replace(/\.pdf$/i, '');
      if (!title.value.trim()) {
        title.focus();
        throw new Error(t('create.error.no_title'));
      }
      metadata = { title: title.value.trim(), recipients: recipients() };
      if (!contract) metadata.send = false;
      if (deadline.value) {
        const ms = new Date(deadline.value).getTime();
        if (!isFinite(ms) || ms <= Date.now()) {
          deadline.focus();
          throw new Error(t('create.error.deadline'));
        }
        metadata.deadline = ms;
      }
    } catch (e) {
      fail(e.message);
      return;
    }
    const next = $('next');
    if (next) next.disabled = true;
    say(t(contract ? 'create.saving' : 'create.creating'));
    try {
      const draft = contract
        ? await api('POST', '/api/v1/contracts/' + encodeURIComponent(contract.id) + '/draft', { title: metadata.title, recipients: metadata.recipients, deadline: metadata.deadline === undefined ? null : metadata.deadline })
        : await createDraft(chosen, metadata);
      say('');
      startPlacing(draft);
    } catch (e) {
      fail(explain(e));
    } finally {
      if (next) next.disabled = false;
    }
  });

  /** Back to step 1: the files stay (they are uploaded); the rest can be changed. */
  function lockFiles() {
    files.hidden = true;
    files.disabled = true;
    const label = form.querySelector('label[for="files"]');
    if (label) label.hidden = true;
    const hint = $('files-hint');
    if (hint) hint.textContent = t('create.files_kept');
    const docs = contract && Array.isArray(contract.documents) ? contract.documents : [];
    keptFiles.replaceChildren(...docs.map((d) => el('li', {}, d.name)));
    keptFiles.hidden = false;
  }

  backButton.addEventListener('click', () => {
    disarm();
    lockFiles();
    say('');
    showStep(1);
    title.focus();
  });

  // --- step 2 ------------------------------------------------------------------------------

  let contract = null;
  let signers = [];
  let armed = null; // the palette kind waiting for a tap on a page
  let seq = 0;
  const placed = []; // {id, kind, rid (recipient id), document, page, rect, pageNode, node}

  const kindWord = (kind) => t('create.field.' + kind);
  const keyOf = (r) => r.email || r.phone || '';
  const signerOf = (rid) => signers.find((s) => s.id === rid);
  const fieldLabel = (f, s) => t('create.field_label', { kind: kindWord(f.kind), name: s.name });

  function imageWidth() {
    const css = pagesBox.clientWidth || 360;
    const px = Math.ceil((css * (window.devicePixelRatio || 1)) / 100) * 100;
    return Math.min(2000, Math.max(200, px));
  }

  /** Which step shows: 1 (the form) or 2 (placing). */
  function showStep(n) {
    form.hidden = n !== 1;
    placeStep.hidden = n !== 2;
    [1, 2].forEach((k) => {
      const mark = $(`step-${k}-mark`);
      if (mark && k === n) mark.setAttribute('aria-current', 'step');
      else if (mark) mark.removeAttribute('aria-current');
    });
  }

  function startPlacing(c) {
    const first = !contract;
    contract = c;
    const all = Array.isArray(c.recipients) ? c.recipients : [];
    // Each row now names its recipient (the rows are in the order they were given).
    Array.from(list.children).forEach((li, i) => {
      if (all[i] && typeof all[i].id === 'string') li.dataset.id = all[i].id;
    });
    signers = all
      .filter((r) => r.role === 'signer')
      .map((r, i) => ({ id: r.id, key: keyOf(r), name: r.name, company: !!r.company, colour: i % COLOURS }));
    const chosen = who.value;
    who.replaceChildren(...signers.map((s) => el('option', { value: s.id }, s.name)));
    if (signerOf(chosen)) who.value = chosen;
    legend.replaceChildren(...signers.map((s) => el('li', { class: `who-${s.colour}` }, [el('span', { class: 'swatch', 'aria-hidden': 'true' }), ' ', s.name])));
    // Fields follow their recipient; those of recipients gone (or no longer sealing) go too.
    let dropped = 0;
    placed.slice().forEach((f) => {
      const s = signerOf(f.rid);
      if (!s || (f.kind === 'seal' && !s.company)) {
        placed.splice(placed.indexOf(f), 1);
        f.node.remove();
        dropped += 1;
        return;
      }
      f.node.className = `placed-field field-${f.kind} who-${s.colour}`;
      f.node.setAttribute('aria-label', fieldLabel(f, s));
      f.node.dataset.recipient = s.key;
      const name = f.node.querySelector('.field-name');
      if (name) name.textContent = fieldLabel(f, s);
      const del = f.node.querySelector('.field-delete');
      if (del) del.setAttribute('aria-label', t('create.delete_field', { kind: kindWord(f.kind), name: s.name }));
    });
    showStep(2);
    if (signers.length === 0) say(t('create.no_signer'));
    else if (dropped > 0) say(t('create.fields_dropped'));
    if (first) renderPages();
    const heading = $('place-heading');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  function renderPages() {
    const width = imageWidth();
    const base = '/api/v1/contracts/' + encodeURIComponent(contract.id);
    const docs = Array.isArray(contract.documents) ? contract.documents : [];
    pagesBox.replaceChildren();
    docs.forEach((d, i) => {
      const n = i + 1;
      for (let p = 1; p <= d.pages; p += 1) {
        const size = Array.isArray(d.page_sizes) ? d.page_sizes[p - 1] : null;
        const img = el('img', {
          src: `${base}/documents/${n}/pages/${p}.png?width=${width}`,
          alt: t('create.page_alt', { name: d.name, page: p, pages: d.pages }),
          draggable: 'false',
          loading: p === 1 ? 'eager' : 'lazy',
        });
        if (size && size[0] > 0 && size[1] > 0) {
          img.width = width;
          img.height = Math.round((width * size[1]) / size[0]);
        }
        const page = el('figure', { class: 'page place-page', 'data-document': n, 'data-page': p, tabindex: '0', 'aria-label': t('create.page_target', { name: d.name, page: p, pages: d.pages }) }, img);
        page.pageSize = size && size[0] > 0 && size[1] > 0 ? size : [595, 842];
        wirePage(page);
        pagesBox.append(page);
      }
    });
  }

  /** Where the page's picture is on the screen (fields are placed in percent of it). */
  const frameOf = (page) => (page.querySelector('img') || page).getBoundingClientRect();

  /** Points per CSS pixel on `page`. */
  const scaleOf = (page) => page.pageSize[0] / (frameOf(page).width || 1);

  /** Keeps `rect` on the page: at least MIN points, inside [0, w] × [0, h]. */
  function clamp(rect, size) {
    let [x1, y1, x2, y2] = rect;
    const [w, h] = size;
    const fw = Math.min(Math.max(x2 - x1, MIN), w);
    const fh = Math.min(Math.max(y2 - y1, MIN), h);
    x1 = Math.min(Math.max(x1, 0), w - fw);
    y1 = Math.min(Math.max(y1, 0), h - fh);
    return [x1, y1, x1 + fw, y1 + fh];
  }

  /** Draws a field's element over its page, in percent (rect: PDF points from bottom-left). */
  function draw(f) {
    const [w, h] = f.pageNode.pageSize;
    const [x1, y1, x2, y2] = f.rect;
    const pct = (v) => `${(v * 100).toFixed(3)}%`;
    f.node.style.left = pct(x1 / w);
    f.node.style.top = pct((h - y2) / h);
    f.node.style.width = pct((x2 - x1) / w);
    f.node.style.height = pct((y2 - y1) / h);
  }

  function removeField(f) {
    const i = placed.indexOf(f);
    if (i >= 0) placed.splice(i, 1);
    f.node.remove();
    say(t('create.deleted'));
  }

  /** Places a `kind` field for the selected recipient, centred on (x, y) px of `page`. */
  function placeAt(page, kind, x, y) {
    const s = signerOf(who.value);
    if (!s || !SIZES[kind]) return null;
    if (kind === 'seal' && !s.company) {
      fail(t('create.error.seal', { name: s.name }));
      return null;
    }
    const scale = scaleOf(page);
    const [w, h] = page.pageSize;
    const [fw, fh] = SIZES[kind];
    const cx = x * scale;
    const cy = h - y * scale;
    const f = addField(page, kind, s, clamp([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], [w, h]));
    say(t('create.placed', { kind: kindWord(kind), name: s.name, page: f.page }));
    return f;
  }

  /** A field element for signer `s` over `page` at `rect` (PDF points). */
  function addField(page, kind, s, rect) {
    seq += 1;
    const f = { id: `f${seq}`, kind, rid: s.id, document: Number(page.dataset.document), page: Number(page.dataset.page), rect, pageNode: page, node: null };
    const label = fieldLabel(f, s);
    const remove = el('button', { type: 'button', class: 'field-delete', 'aria-label': t('create.delete_field', { kind: kindWord(kind), name: s.name }) }, '×');
    const handle = el('span', { class: 'field-resize', title: t('create.resize_field'), 'aria-hidden': 'true' });
    f.node = el('div', {
      class: `placed-field field-${kind} who-${s.colour}`,
      tabindex: '0',
      role: 'group',
      'aria-label': label,
      'data-field': f.id,
      'data-kind': kind,
      'data-recipient': s.key,
    }, [el('span', { class: 'field-name' }, label), remove, handle]);
    remove.addEventListener('click', (e) => {
      e.stopPropagation();
      removeField(f);
    });
    // The keyboard: Delete removes the field, the arrow keys move it (1 point, 10 with Shift),
    // and with Alt they resize it from its bottom-right corner.
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    f.node.addEventListener('keydown', (e) => {
      if (e.target !== f.node) return;
      if (e.key === 'Delete' || e.key === 'Backspace') {
        e.preventDefault();
        removeField(f);
      } else if (arrows[e.key]) {
        e.preventDefault();
        const step = e.shiftKey ? 10 : 1;
        const [dx, dy] = arrows[e.key];
        const [x1, y1, x2, y2] = f.rect;
        const size = f.pageNode.pageSize;
        if (e.altKey) {
          // Right/Left: wider/narrower; Down/Up: taller/shorter (downwards, y1 is the bottom).
          const nx2 = Math.min(Math.max(x2 + dx * step, x1 + MIN), size[0]);
          const ny1 = Math.max(Math.min(y1 + dy * step, y2 - MIN), 0);
          f.rect = [x1, ny1, nx2, y2];
        } else {
          f.rect = clamp([x1 + dx * step, y1 + dy * step, x2 + dx * step, y2 + dy * step], size);
        }
        draw(f);
      }
    });
    wireDrag(f, handle);
    page.append(f.node);
    placed.push(f);
    draw(f);
    return f;
  }

  /** Moving (drag the field) and resizing (drag the corner handle) with pointer events. */
  function wireDrag(f, handle) {
    let drag = null;
    f.node.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || (e.target instanceof Element && e.target.closest('.field-delete'))) return;
      e.preventDefault();
      e.stopPropagation();
      f.node.focus();
      drag = { mode: e.target === handle ? 'resize' : 'move', x: e.clientX, y: e.clientY, rect: f.rect.slice(), scale: scaleOf(f.pageNode) };
      try {
        f.node.setPointerCapture(e.pointerId);
      } catch (_) {
        // Synthetic pointers cannot always be captured; moving still works inside the field.
      }
      f.node.classList.add('dragging');
    });
    f.node.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = (e.clientX - drag.x) * drag.scale;
      const dy = (e.clientY - drag.y) * drag.scale;
      const [x1, y1, x2, y2] = drag.rect;
      const size = f.pageNode.pageSize;
      if (drag.mode === 'move') {
        f.rect = clamp([x1 + dx, y1 - dy, x2 + dx, y2 - dy], size);
      } else {
        // The bottom-right corner: wider to the right, taller downwards (y1 is the bottom).
        const nx2 = Math.min(Math.max(x2 + dx, x1 + MIN), size[0]);
        const ny1 = Math.max(Math.min(y1 - dy, y2 - MIN), 0);
        f.rect = [x1, ny1, nx2, y2];
      }
      draw(f);
    });
    const end = () => {
      drag = null;
      f.node.classList.remove('dragging');
    };
    f.node.addEventListener('pointerup', end);
    f.node.addEventListener('pointercancel', end);
    f.node.addEventListener('click', (e) => e.stopPropagation());
  }

  /** A page takes drops from the palette, and a tap once a palette item is chosen. */
  function wirePage(page) {
    page.addEventListener('dragover', (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      page.classList.add('drop-target');
    });
    page.addEventListener('dragleave', () => page.classList.remove('drop-target'));
    page.addEventListener('drop', (e) => {
      e.preventDefault();
      page.classList.remove('drop-target');
      const kind = (e.dataTransfer && e.dataTransfer.getData('text/plain')) || dragKind;
      dragKind = null;
      const box = frameOf(page);
      placeAt(page, kind, e.clientX - box.left, e.clientY - box.top);
    });
    // The keyboard: Enter (or Space) on a focused page places the chosen field in the middle
    // of the part of the page on the screen, and focuses it for the arrow keys.
    page.addEventListener('keydown', (e) => {
      if (e.target !== page || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      if (!armed) {
        say(t('create.choose_first'));
        return;
      }
      const box = frameOf(page);
      const top = Math.max(box.top, 0);
      const bottom = Math.min(box.bottom, window.innerHeight || box.bottom);
      const kind = armed;
      disarm();
      const f = placeAt(page, kind, box.width / 2, (bottom > top ? (top + bottom) / 2 : box.top + box.height / 2) - box.top);
      if (f) f.node.focus();
    });
    page.addEventListener('click', (e) => {
      if (!armed || (e.target instanceof Element && e.target.closest('.placed-field'))) return;
      const box = frameOf(page);
      const kind = armed;
      disarm();
      placeAt(page, kind, e.clientX - box.left, e.clientY - box.top);
    });
  }

  let dragKind = null;

  function disarm() {
    armed = null;
    palette.querySelectorAll('.palette-item').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    pagesBox.classList.remove('armed');
  }

  palette.querySelectorAll('.palette-item').forEach((item) => {
    const kind = item.dataset.kind;
    item.addEventListener('dragstart', (e) => {
      dragKind = kind;
      if (e.dataTransfer) {
        e.dataTransfer.setData('text/plain', kind);
        e.dataTransfer.effectAllowed = 'copy';
      }
    });
    item.addEventListener('click', () => {
      if (armed === kind) {
        disarm();
        return;
      }
      disarm();
      armed = kind;
      item.setAttribute('aria-pressed', 'true');
      pagesBox.classList.add('armed');
      say(t('create.tap_page', { kind: kindWord(kind) }));
    });
  });

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && armed) disarm();
  });

  /**
   * `?draft=ID` (the contract page's "Continue editing"): the draft's rows and fields, at step 2.
   * Anything but a draft of one's own organisation says why and stays on an empty step 1.
   */
  async function resume(id) {
    say(t('member.loading'));
    let c;
    try {
      c = await api('GET', '/api/v1/contracts/' + encodeURIComponent(id));
    } catch (e) {
      fail(e);
      return;
    }
    if (c.status !== 'draft') {
      fail(t('create.error.not_draft'));
      return;
    }
    say('');
    title.value = c.title || '';
    titleTouched = true;
    if (typeof c.deadline === 'number') {
      const d = new Date(c.deadline - new Date(c.deadline).getTimezoneOffset() * 60000);
      deadline.value = d.toISOString().slice(0, 16);
    }
    list.replaceChildren();
    rowSeq = 0;
    (Array.isArray(c.recipients) ? c.recipients : []).forEach((r) => {
      const li = addRecipient();
      const set = (name, value) => {
        const node = li.querySelector(`[name="${name}"]`);
        if (node && value !== undefined && value !== null) node.value = String(value);
      };
      set('name', r.name);
      set('contact', r.email || r.phone);
      set('role', r.role);
      set('order', r.order);
      set('company', r.company);
    });
    startPlacing(c);
    lockFiles(); // the files are kept, as after "Back"
    // Fields already saved, once their page is in the DOM.
    (Array.isArray(c.fields) ? c.fields : []).forEach((f) => {
      const page = pagesBox.querySelector(`.place-page[data-document="${f.document}"][data-page="${f.page}"]`);
      const s = signerOf(f.recipient_id);
      if (page && s && Array.isArray(f.rect) && f.rect.length === 4) addField(page, f.type, s, f.rect.map(Number));
    });
    showStep(2);
  }

  sendButton.addEventListener('click', async () => {
    if (!contract) return;
    const base = '/api/v1/contracts/' + encodeURIComponent(contract.id);
    // Tenths of a point, rounded inwards so a field at the page's edge stays on it.
    const inward = ([x1, y1, x2, y2]) => [Math.ceil(x1 * 10) / 10, Math.ceil(y1 * 10) / 10, Math.floor(x2 * 10) / 10, Math.floor(y2 * 10) / 10];
    const fields = placed.filter((f) => signerOf(f.rid)).map((f) => ({ recipient: signerOf(f.rid).key, type: f.kind, document: f.document, page: f.page, rect: inward(f.rect) }));
    sendButton.disabled = true;
    say(t('create.sending'));
    try {
      await api('POST', base + '/fields', { fields });
      await api('POST', base + '/send');
      window.location.assign('/app/contracts/' + encodeURIComponent(contract.id));
    } catch (e) {
      fail(explain(e));
      sendButton.disabled = false;
    }
  });

  const draftId = new URLSearchParams(window.location.search).get('draft');
  if (draftId) resume(draftId);
})();
