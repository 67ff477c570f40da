// Signet: the signer's page (/sign). The mailed link /s/{token} became a signer session (a
// cookie) and brought the browser here; this script reads the signer's view from
// GET /api/v1/signer and shows, depending on it:
//
// - the contract: organisation, title, number, signers in order;
// - the document's pages as pictures (GET /api/v1/signer/pages/{document}/{page}.png at the
//   screen's width) with the signer's fields highlighted over them (a field's rect is in PDF
//   points from the bottom-left; the view gives each page's size);
// - inputs for their text and check-box fields; the signature, drawn on a canvas (pointer
//   events: touch, pen and mouse) or typed; the one-time code (POST …/code, then one input);
//   Sign (POST …/sign) and Decline with a reason and a confirmation (POST …/decline);
// - after signing: thanks, and once everyone signed the signed PDF and the evidence report;
// - a clear sentence for a dead link, a voided, declined or expired contract, not your turn.
//
// POSTs send the view's csrf_token as X-CSRF-Token. Text goes into the page only through
// textContent. Plain modern JavaScript, no build step, no inline code.
'use strict';

(function () {
  const { t, el } = window.Signet;
  const API = '/api/v1/signer';
  const $ = (id) => document.getElementById(id);

  /** The signer's view, as GET /api/v1/signer last answered it. */
  let view = null;
  /** Whether a code was sent since the page opened. */
  let codeSent = false;

  // --- talking to the API -------------------------------------------------------------------

  /**
   * An answer that is not a success: HTTP status (0: no answer), error code and message, and
   * the error object's other members (`tries_left` of a wrong code).
   */
  class Problem extends Error {
    constructor(status, code, message, details) {
      super(message || code || String(status));
      this.status = status;
      this.code = code;
      this.details = details || {};
    }
  }

  /** `method` `url` with an optional JSON body; answers the JSON, or throws a Problem. */
  async function call(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = (view && view.csrf_token) || '';
    }
    let res;
    try {
      res = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new Problem(0, 'network', '');
    }
    let json = null;
    try {
      json = await res.json();
    } catch (_) {
      json = null;
    }
    if (!res.ok) {
      const e = (json && typeof json.error === 'object' && json.error) || {};
      throw new Problem(res.status, typeof e.code === 'string' ? e.code : '', typeof e.message === 'string' ? e.message : '', e);
    }
    if (json === null || typeof json !== 'object') throw new Problem(res.status, 'bad_answer', '');
    return json;
  }

  /** Whether a problem means the link (or its session) is gone. */
  function deadLink(p) {
    return p.status === 401 || p.status === 404 || p.code === 'link_expired';
  }

  /** The sentence for a problem no step handles itself. */
  function sentence(p) {
    if (p.code === 'network') return t('error.network');
    if (p.code === 'csrf') return t('signer.csrf');
    if (p.code === 'invalid_input') return t('signer.invalid');
    if (p.status === 429) return t('signer.too_many_codes');
    return t('error.server', { status: p.status });
  }

  // --- messages -----------------------------------------------------------------------------

  function setStatus(text) {
    $('status').textContent = text || '';
  }

  function showError(text, focus) {
    const box = $('error');
    box.textContent = text;
    box.hidden = false;
    if (focus) focus.focus();
  }

  function clearError() {
    $('error').hidden = true;
    $('error').textContent = '';
  }

  /** Shows a final state: a heading and a sentence instead of the signing steps. */
  function ended(titleKey, textKey) {
    $('ended-title').textContent = t(titleKey);
    $('ended-text').textContent = t(textKey);
    $('ended').hidden = false;
    $('sign-form').hidden = true;
    $('decline-step').hidden = true;
  }

  // --- the contract and its pages -----------------------------------------------------------

  function renderHead(v) {
    const c = v.contract;
    $('org').textContent = v.organisation ? t('signer.org', { org: v.organisation }) : '';
    $('title').textContent = c.title;
    $('number').textContent = t('signer.number', { number: c.number });
    const list = $('signers');
    list.replaceChildren();
    for (const s of [...c.signers].sort((a, b) => a.order - b.order)) {
      const you = s.name === v.recipient.name;
      const name = you ? t('signer.you', { name: s.name }) : s.name;
      let key = s.signed ? 'signer.signer_signed' : 'signer.signer_waiting';
      if (you && v.recipient.status === 'declined') key = 'signer.signer_declined';
      list.append(el('li', { class: s.signed ? 'signed' : 'waiting' }, t(key, { name })));
    }
    document.title = `${c.title} — ${t('signer.page_title')}`;
  }

  /** The width, in pixels, to ask page pictures at: the column's width on this screen. */
  function imageWidth() {
    const css = $('pages').clientWidth || 360;
    const px = Math.ceil((css * (window.devicePixelRatio || 1)) / 100) * 100;
    return Math.min(2000, Math.max(200, px));
  }

  /** A field's box over its page, in percent of the page (rect: PDF points from bottom-left). */
  function place(box, rect, size) {
    const [w, h] = size;
    const [x1, y1, x2, y2] = rect;
    const pct = (n) => `${Math.max(0, Math.min(100, n * 100)).toFixed(3)}%`;
    box.style.left = pct(Math.min(x1, x2) / w);
    box.style.top = pct((h - Math.max(y1, y2)) / h);
    box.style.width = pct(Math.abs(x2 - x1) / w);
    box.style.height = pct(Math.abs(y2 - y1) / h);
  }

  function renderPages(v, showFields) {
    const holder = $('pages');
    holder.replaceChildren();
    const width = imageWidth();
    const version = `${v.contract.status}-${v.contract.signers.filter((s) => s.signed).length}`;
    for (const d of v.contract.documents) {
      for (let p = 1; p <= d.pages; p += 1) {
        const img = el('img', {
          src: `${API}/pages/${d.document}/${p}.png?width=${width}&v=${encodeURIComponent(version)}`,
          alt: t('signer.page_alt', { name: d.name, page: p, pages: d.pages }),
          loading: p === 1 ? 'eager' : 'lazy',
          decoding: 'async',
        });
        const size = Array.isArray(d.page_sizes) ? d.page_sizes[p - 1] : null;
        if (size && size[0] > 0 && size[1] > 0) {
          img.width = width;
          img.height = Math.round((width * size[1]) / size[0]);
        }
        const page = el('figure', { class: 'page', 'data-document': d.document, 'data-page': p }, img);
        img.addEventListener('error', () => {
          page.replaceChildren(el('p', { class: 'page-failed' }, t('signer.page_failed')));
        });
        if (showFields && size) {
          for (const f of v.fields.filter((f) => f.document === d.document && f.page === p)) {
            const box = el('div', { class: `field-box field-${f.type}`, 'data-field': f.id }, el('span', { class: 'field-name' }, t(`signer.field.${f.type}`)));
            place(box, f.rect, size);
            page.append(box);
          }
        }
        holder.append(page);
      }
      holder.append(el('p', { class: 'open-pdf' }, el('a', { href: `${API}/document?document=${d.document}`, target: '_blank', rel: 'noopener' }, t('signer.open_pdf', { name: d.name }))));
    }
  }

  // --- the signer's own fields ---------------------------------------------------------------

  /** The id an input gets for field `id`. */
  const inputId = (id) => `field-${String(id).replace(/[^A-Za-z0-9_-]/g, '_')}`;

  function renderFieldInputs(v) {
    const holder = $('field-inputs');
    holder.replaceChildren();
    const counts = { text: 0, checkbox: 0 };
    for (const f of v.fields) {
      if (f.type !== 'text' && f.type !== 'checkbox') continue;
      counts[f.type] += 1;
      const id = inputId(f.id);
      const key = f.type === 'text' ? 'signer.text_field' : 'signer.checkbox_field';
      const label = el('label', { for: id }, t(key, { n: counts[f.type], page: f.page }));
      if (f.type === 'text') {
        const input = el('input', { id, type: 'text', maxlength: 500, 'data-field': f.id, 'data-kind': 'text' });
        if (typeof f.value === 'string') input.value = f.value;
        input.addEventListener('input', () => mirror(f.id, input.value));
        holder.append(el('div', { class: 'field-input' }, [label, input]));
      } else {
        const input = el('input', { id, type: 'checkbox', 'data-field': f.id, 'data-kind': 'checkbox' });
        input.checked = f.value === 'true';
        input.addEventListener('change', () => mirror(f.id, input.checked ? '✔' : ''));
        holder.append(el('div', { class: 'field-input check' }, [input, label]));
      }
    }
    $('fields-step').hidden = counts.text + counts.checkbox === 0;
  }

  /** Shows what the signer typed in the field's box over the page. */
  function mirror(id, text) {
    for (const box of document.querySelectorAll('.field-box')) {
      if (box.getAttribute('data-field') !== id) continue;
      let value = box.querySelector('.field-value');
      if (!value) {
        value = el('span', { class: 'field-value' });
        box.append(value);
      }
      value.textContent = text;
      box.classList.toggle('filled', text !== '');
    }
  }

  function fieldValues() {
    const out = {};
    for (const input of $('field-inputs').querySelectorAll('input[data-field]')) {
      out[input.getAttribute('data-field')] = input.getAttribute('data-kind') === 'checkbox' ? (input.checked ? 'true' : 'false') : input.value;
    }
    return out;
  }

  // --- the signature pad ---------------------------------------------------------------------

  const pad = (() => {
    const canvas = $('pad');
    const ctx = canvas.getContext('2d');
    const INK = '#0f1f4b';
    let drawing = false;
    let last = null;
    let bounds = null; // ink's bounding box in canvas pixels
    let scale = 1;

    function fit() {
      const r = canvas.getBoundingClientRect();
      if (r.width < 1) return;
      scale = window.devicePixelRatio || 1;
      const w = Math.round(r.width * scale);
      const h = Math.round(r.height * scale);
      if (canvas.width === w && canvas.height === h) return;
      canvas.width = w;
      canvas.height = h;
      bounds = null;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
    }

    function point(e) {
      // Per axis: after a rotation the bitmap keeps its size while the box changes.
      const r = canvas.getBoundingClientRect();
      const sx = r.width > 0 ? canvas.width / r.width : scale;
      const sy = r.height > 0 ? canvas.height / r.height : scale;
      return { x: (e.clientX - r.left) * sx, y: (e.clientY - r.top) * sy };
    }

    function grow(p) {
      const m = 3 * scale;
      bounds = bounds
        ? { x1: Math.min(bounds.x1, p.x - m), y1: Math.min(bounds.y1, p.y - m), x2: Math.max(bounds.x2, p.x + m), y2: Math.max(bounds.y2, p.y + m) }
        : { x1: p.x - m, y1: p.y - m, x2: p.x + m, y2: p.y + m };
    }

    function segment(a, b) {
      ctx.strokeStyle = INK;
      ctx.fillStyle = INK;
      ctx.lineWidth = 2.6 * scale;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      if (a.x === b.x && a.y === b.y) {
        ctx.arc(a.x, a.y, ctx.lineWidth / 2, 0, Math.PI * 2);
        ctx.fill();
      } else {
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      }
      grow(a);
      grow(b);
    }

    canvas.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      fit();
      try {
        canvas.setPointerCapture(e.pointerId);
      } catch (_) {
        // Capture is a convenience: drawing works without it.
      }
      drawing = true;
      last = point(e);
      segment(last, last);
      canvas.classList.add('inked');
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      e.preventDefault();
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      for (const c of events.length ? events : [e]) {
        const p = point(c);
        segment(last, p);
        last = p;
      }
    });
    const stop = () => {
      drawing = false;
      last = null;
    };
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    canvas.addEventListener('lostpointercapture', stop);

    function clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      bounds = null;
      canvas.classList.remove('inked');
    }

    /** The ink, cropped to what was drawn, as base64 PNG (transparent background); null if empty. */
    function png() {
      if (!bounds) return null;
      const x = Math.max(0, Math.floor(bounds.x1));
      const y = Math.max(0, Math.floor(bounds.y1));
      const w = Math.min(canvas.width, Math.ceil(bounds.x2)) - x;
      const h = Math.min(canvas.height, Math.ceil(bounds.y2)) - y;
      if (w < 2 || h < 2) return null;
      const out = document.createElement('canvas');
      out.width = w;
      out.height = h;
      out.getContext('2d').drawImage(canvas, x, y, w, h, 0, 0, w, h);
      return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
    }

    window.addEventListener('resize', () => {
      // A new size starts a new drawing only when nothing was drawn yet.
      if (!bounds) fit();
    });
    return { fit, clear, png, empty: () => bounds === null };
  })();

  function mode() {
    return $('mode-type').checked ? 'type' : 'draw';
  }

  function showMode() {
    const typed = mode() === 'type';
    $('draw-panel').hidden = typed;
    $('type-panel').hidden = !typed;
    if (!typed) pad.fit();
  }

  // --- the one-time code ---------------------------------------------------------------------

  function renderChannels(v) {
    const box = $('channels');
    box.replaceChildren();
    const channels = Array.isArray(v.code_channels) ? v.code_channels : [];
    const address = (c) => (c === 'sms' ? v.recipient.phone : v.recipient.email) || '';
    if (channels.length > 1) {
      channels.forEach((c, i) => {
        const id = `channel-${c}`;
        const input = el('input', { type: 'radio', name: 'channel', id, value: c });
        input.checked = i === 0;
        const key = c === 'sms' ? 'signer.channel_sms' : 'signer.channel_email';
        box.append(input, el('label', { for: id }, t(key, { address: address(c) })));
      });
      box.hidden = false;
      $('channel-one').hidden = true;
    } else {
      box.hidden = true;
      $('channel-one').textContent = channels.length ? t('signer.channel_one', { address: address(channels[0]) }) : '';
      $('channel-one').hidden = channels.length === 0;
    }
  }

  function channel() {
    const picked = document.querySelector('input[name=channel]:checked');
    if (picked) return picked.value;
    return (view.code_channels && view.code_channels[0]) || 'email';
  }

  async function sendCode() {
    clearError();
    const button = $('send-code');
    button.disabled = true;
    setStatus(t('signer.sending_code'));
    try {
      const res = await call('POST', `${API}/code`, { channel: channel() });
      codeSent = true;
      const minutes = Math.max(1, Math.round((Number(res.expires_in) || 300) / 60));
      $('code-sent').textContent = t('signer.code_sent', { address: res.sent_to || '', minutes });
      button.textContent = t('signer.send_again');
      setStatus('');
      $('code').focus();
    } catch (p) {
      setStatus('');
      if (deadLink(p)) return showDeadLink();
      if (p.code === 'wrong_state' || p.code === 'already_done' || p.code === 'not_your_turn') return reload();
      showError(p.status === 429 ? t('signer.too_many_codes') : sentence(p));
    } finally {
      button.disabled = false;
    }
  }

  /** The code as typed, with full-width digits (from a Chinese keyboard) made ASCII. */
  function typedCode() {
    return $('code').value.replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48)).replace(/\s+/g, '');
  }

  // --- signing and declining ------------------------------------------------------------------

  /** Whether this signer puts a signature into the PDF (approvers only approve). */
  const signsPdf = (v) => v.recipient.role !== 'approver';

  async function sign(event) {
    event.preventDefault();
    clearError();
    const code = typedCode();
    let signature;
    if (signsPdf(view)) {
      if (mode() === 'draw') {
        const png = pad.png();
        if (!png) return showError(t('signer.need_signature'), $('pad'));
        signature = { image_png_base64: png };
      } else {
        const name = $('typed-name').value.trim();
        if (!name) return showError(t('signer.need_signature'), $('typed-name'));
        signature = { typed_name: name };
      }
    }
    if (!/^[0-9]{6}$/.test(code)) return showError(t('signer.need_code'), $('code'));
    const button = $('sign-button');
    button.disabled = true;
    setStatus(t('signer.signing'));
    try {
      const body = { code, fields: fieldValues() };
      if (signature) body.signature = signature;
      await call('POST', `${API}/sign`, body);
      setStatus('');
      await reload();
      $('done-title').focus();
    } catch (p) {
      setStatus('');
      const codeBox = $('code');
      if (deadLink(p)) return showDeadLink();
      if (p.code === 'wrong_code') {
        const left = p.details.tries_left;
        codeBox.select();
        return showError(Number.isInteger(left) ? t('signer.wrong_code_left', { n: left }) : t('signer.wrong_code'), codeBox);
      }
      if (p.code === 'code_expired') return showError(t('signer.code_expired'), $('send-code'));
      if (p.code === 'rate_limited') return showError(t('signer.too_many_tries'), $('send-code'));
      if (p.code === 'code_not_verified') return showError(t('signer.code_not_verified'), $('send-code'));
      if (p.code === 'wrong_state' || p.code === 'already_done' || p.code === 'not_your_turn') return reload();
      showError(sentence(p));
    } finally {
      button.disabled = false;
    }
  }

  function openDecline() {
    $('decline-panel').hidden = false;
    $('decline-open').setAttribute('aria-expanded', 'true');
    $('reason').focus();
  }

  function closeDecline() {
    $('decline-panel').hidden = true;
    $('decline-confirm').hidden = true;
    $('decline-open').setAttribute('aria-expanded', 'false');
    $('decline-open').focus();
  }

  function askDecline() {
    clearError();
    if (!$('reason').value.trim()) return showError(t('signer.need_reason'), $('reason'));
    $('decline-confirm').hidden = false;
    $('decline-no').focus();
  }

  async function decline() {
    clearError();
    const yes = $('decline-yes');
    yes.disabled = true;
    setStatus(t('signer.declining'));
    try {
      await call('POST', `${API}/decline`, { reason: $('reason').value.trim() });
      setStatus('');
      await reload();
      $('ended-title').focus();
    } catch (p) {
      setStatus('');
      if (deadLink(p)) return showDeadLink();
      if (p.code === 'wrong_state' || p.code === 'already_done' || p.code === 'not_your_turn') return reload();
      showError(sentence(p));
    } finally {
      yes.disabled = false;
    }
  }

  // --- the states of the page ----------------------------------------------------------------

  function showDeadLink() {
    $('contract').hidden = true;
    $('ended-title').textContent = t('signer.dead_link_title');
    $('ended-text').textContent = t('signer.dead_link');
    $('ended').hidden = false;
    setStatus('');
  }

  function renderDone(v) {
    const complete = v.contract.status === 'completed';
    $('done-title').textContent = t(complete ? 'signer.complete_title' : 'signer.signed_title');
    $('done-text').textContent = t(complete ? 'signer.complete' : 'signer.signed_waiting');
    const list = $('downloads');
    list.replaceChildren();
    if (complete) {
      const docs = v.contract.documents;
      for (const d of docs) {
        const label = docs.length > 1 ? t('signer.download_named', { name: d.name }) : t('signer.download');
        list.append(el('li', {}, el('a', { class: 'button', href: `${API}/document?document=${d.document}`, download: '' }, label)));
      }
      list.append(el('li', {}, el('a', { class: 'button secondary', href: `${API}/evidence`, download: '' }, t('signer.evidence'))));
    }
    list.hidden = !complete;
    $('done').hidden = false;
  }

  function render(v) {
    view = v;
    const c = v.contract;
    const r = v.recipient;
    for (const id of ['ended', 'done', 'sign-form', 'decline-step', 'fields-hint']) $(id).hidden = true;
    $('contract').hidden = false;
    $('done-title').setAttribute('tabindex', '-1');
    $('ended-title').setAttribute('tabindex', '-1');
    renderHead(v);
    let signing = false;
    if (c.status === 'voided') {
      ended('signer.voided_title', 'signer.voided');
      $('document').hidden = true;
    } else if (c.status === 'declined') {
      if (r.status === 'declined') ended('signer.declined_you_title', 'signer.declined_you');
      else ended('signer.declined_title', 'signer.declined');
      $('document').hidden = true;
    } else if (r.status === 'signed') {
      renderDone(v);
    } else if (c.status === 'expired') {
      ended('signer.expired_title', 'signer.expired');
      $('document').hidden = true;
    } else if (r.role === 'cc') {
      ended('signer.nothing_title', 'signer.nothing');
    } else if (!v.can_sign) {
      ended('signer.not_your_turn_title', 'signer.not_your_turn');
    } else {
      signing = true;
    }
    if (!$('document').hidden || signing) {
      $('document').hidden = false;
      renderPages(v, signing);
    }
    if (signing) {
      $('fields-hint').hidden = v.fields.length === 0;
      renderFieldInputs(v);
      renderChannels(v);
      $('signature-step').hidden = !signsPdf(v);
      $('sign-button').textContent = t(signsPdf(v) ? 'signer.sign' : 'signer.approve');
      if (!codeSent) $('send-code').textContent = t('signer.send_code');
      $('sign-form').hidden = false;
      $('decline-step').hidden = false;
      showMode();
    }
    setStatus('');
  }

  async function reload() {
    try {
      render(await call('GET', API));
    } catch (p) {
      if (deadLink(p)) return showDeadLink();
      setStatus('');
      showError(sentence(p));
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  $('mode-draw').addEventListener('change', showMode);
  $('mode-type').addEventListener('change', showMode);
  $('clear').addEventListener('click', () => pad.clear());
  $('typed-name').addEventListener('input', () => {
    $('typed-preview').textContent = $('typed-name').value;
  });
  $('send-code').addEventListener('click', sendCode);
  $('sign-form').addEventListener('submit', sign);
  $('decline-open').setAttribute('aria-expanded', 'false');
  $('decline-open').setAttribute('aria-controls', 'decline-panel');
  $('decline-open').addEventListener('click', openDecline);
  $('decline-cancel').addEventListener('click', closeDecline);
  $('decline-button').addEventListener('click', askDecline);
  $('decline-no').addEventListener('click', () => {
    $('decline-confirm').hidden = true;
    $('decline-button').focus();
  });
  $('decline-yes').addEventListener('click', decline);
  reload();
})();
