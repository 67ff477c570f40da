// A contract's detail: GET /api/v1/contracts/{id} and …/events. Shows the status, documents,
// recipients with their status and the timeline of events (what, when, who, from which address),
// and the actions: Remind (POST …/remind), Void with a reason (POST …/void, after a
// confirmation), and downloads that are plain links to the API (the session cookie is enough
// for a GET): each document, the evidence report and the evidence bundle. Each document's pages
// open as pictures (…/documents/{n}/pages/{p}.png, fetched when opened) with the fields over
// them in their recipient's colour. A draft links to "Continue editing" (/app/contracts/new?draft=ID).
'use strict';

(function () {
  const { t, el } = window.Signet;
  const { api, shortDate, longDate, say, fail, statusBadge } = window.SignetMember;
  const root = document.getElementById('contract');
  const title = document.getElementById('contract-title');
  const meta = document.getElementById('contract-meta');
  const remind = document.getElementById('remind');
  const voidForm = document.getElementById('void-form');
  const voidReason = document.getElementById('void-reason');
  const downloads = document.getElementById('downloads');
  const documents = document.getElementById('documents');
  const people = document.getElementById('recipients');
  const timeline = document.getElementById('timeline');
  const editDraft = document.getElementById('edit-draft');
  if (!root || !title || !meta || !remind || !voidForm || !voidReason || !downloads || !documents || !people || !timeline || !editDraft) return;

  const id = root.dataset.contractId || '';
  const base = '/api/v1/contracts/' + encodeURIComponent(id);
  const open = ['sent', 'in_progress'];
  const voidable = ['draft', 'sent', 'in_progress'];

  /** The catalog's word for `prefix + value`, else the value itself. */
  function word(prefix, value) {
    const key = prefix + value;
    return t(key) === key ? String(value) : t(key);
  }

  function renderContract(c) {
    title.textContent = c.title;
    document.title = c.title + ' — ' + t('app.name');
    const parts = [t('detail.number', { number: c.number }), t('detail.created', { date: shortDate(c.created_at) })];
    if (typeof c.sent_at === 'number') parts.push(t('detail.sent', { date: shortDate(c.sent_at) }));
    if (typeof c.finished_at === 'number') parts.push(t('detail.finished', { date: shortDate(c.finished_at) }));
    if (typeof c.deadline === 'number') parts.push(t('detail.deadline', { date: shortDate(c.deadline) }));
    meta.replaceChildren(statusBadge(c.status), ' ', parts.join(' · '));

    remind.hidden = !open.includes(c.status);
    voidForm.hidden = !voidable.includes(c.status);
    editDraft.hidden = c.status !== 'draft';

    const docs = Array.isArray(c.documents) ? c.documents : [];
    // Re-rendered after an action: pages already open stay open.
    const opened = new Set(Array.from(documents.querySelectorAll('details[open]')).map((d) => d.dataset.document));
    documents.replaceChildren(...docs.map((d, i) => {
      const n = String(i + 1);
      const box = el('div', { class: 'pages doc-pages' });
      const details = el('details', { 'data-document': n }, [
        el('summary', {}, [d.name, ' ', el('span', { class: 'hint' }, t('detail.pages', { n: d.pages })), ' — ', t('detail.show_pages')]),
        box,
      ]);
      details.addEventListener('toggle', () => {
        if (details.open && !box.firstChild) renderPages(c, i, box);
      });
      if (opened.has(n)) details.open = true;
      return el('li', {}, details);
    }));

    const links = docs.map((d, i) => el('li', {}, el('a', {
      href: base + '/document?document=' + (i + 1),
      download: d.name || '',
      class: 'download',
    }, (c.status === 'completed' ? t('detail.download_signed') : t('detail.download')) + (docs.length > 1 ? ' — ' + d.name : ''))));
    links.push(el('li', {}, el('a', { href: base + '/evidence', download: '', class: 'download', id: 'evidence-link' }, t('detail.evidence_report'))));
    links.push(el('li', {}, el('a', { href: base + '/evidence-bundle', download: '', class: 'download', id: 'bundle-link' }, t('detail.evidence_bundle'))));
    downloads.replaceChildren(...links);

    const rs = Array.isArray(c.recipients) ? c.recipients : [];
    people.replaceChildren(...rs.map((r) => el('li', { 'data-recipient': r.id }, [
      el('strong', {}, r.name),
      ' ',
      el('span', { class: 'hint' }, [r.email, r.phone].filter(Boolean).join(' · ')),
      ' ',
      el('span', { class: 'badge recipient-' + r.status }, word('recipient_status.', r.status)),
      r.done_at ? el('span', { class: 'hint' }, ' ' + shortDate(r.done_at)) : null,
    ])));
    return rs;
  }

  /** Document `i`'s pages as pictures, with the fields placed on them. */
  function renderPages(c, i, box) {
    const d = c.documents[i];
    const rs = Array.isArray(c.recipients) ? c.recipients : [];
    const colour = new Map(rs.filter((r) => r.role === 'signer').map((r, k) => [r.id, k % 6]));
    const byId = new Map(rs.map((r) => [r.id, r]));
    const css = box.clientWidth || 600;
    const width = Math.min(2000, Math.max(200, Math.ceil((css * (window.devicePixelRatio || 1)) / 100) * 100));
    const fields = Array.isArray(c.fields) ? c.fields : [];
    for (let p = 1; p <= d.pages; p += 1) {
      const size = Array.isArray(d.page_sizes) ? d.page_sizes[p - 1] : null;
      const img = el('img', {
        src: `${base}/documents/${i + 1}/pages/${p}.png?width=${width}`,
        alt: t('create.page_alt', { name: d.name, page: p, pages: d.pages }),
        loading: p === 1 ? 'eager' : 'lazy',
      });
      const figure = el('figure', { class: 'page' }, img);
      if (size && size[0] > 0 && size[1] > 0) {
        img.width = width;
        img.height = Math.round((width * size[1]) / size[0]);
        const [w, h] = size;
        const pct = (v) => `${(v * 100).toFixed(3)}%`;
        fields.filter((f) => f.document === i + 1 && f.page === p && Array.isArray(f.rect)).forEach((f) => {
          const r = byId.get(f.recipient_id);
          const [x1, y1, x2, y2] = f.rect;
          const label = word('create.field.', f.type) + (r ? ' — ' + r.name : '');
          const done = r && r.status === 'signed';
          const node = el('div', { class: `field-box shown field-${f.type} who-${colour.get(f.recipient_id) || 0}${done ? ' filled' : ''}`, 'data-field': f.id, title: label }, el('span', { class: 'field-name' }, (done ? '✔ ' : '') + label));
          node.style.left = pct(x1 / w);
          node.style.top = pct((h - y2) / h);
          node.style.width = pct((x2 - x1) / w);
          node.style.height = pct((y2 - y1) / h);
          figure.append(node);
        });
      }
      img.addEventListener('error', () => figure.replaceChildren(el('p', { class: 'page-failed' }, t('detail.page_failed', { page: p }))));
      box.append(figure);
    }
  }

  function renderEvents(items, recipients) {
    const byId = new Map(recipients.map((r) => [r.id, r]));
    timeline.replaceChildren(...items.map((e) => {
      const r = e.recipient ? byId.get(e.recipient) : null;
      const who = r ? r.name + (r.email ? ' <' + r.email + '>' : '') : (e.recipient_email || '');
      const data = e.data && typeof e.data === 'object' ? e.data : {};
      const details = [];
      if (who) details.push(t('detail.event_recipient', { who }));
      if (data.ip) details.push(t('detail.event_ip', { ip: data.ip }));
      if (data.reason) details.push(t('detail.event_reason', { reason: data.reason }));
      if (data.channel) details.push(word('detail.channel_', data.channel));
      return el('li', { 'data-type': e.type }, [
        el('time', { datetime: new Date(e.at).toISOString(), title: longDate(e.at) }, shortDate(e.at)),
        ' ',
        el('strong', { class: 'event-kind' }, word('event_kind.', e.type)),
        details.length ? el('span', { class: 'event-details' }, ' — ' + details.join(' · ')) : null,
      ]);
    }));
  }

  async function load() {
    say(t('member.loading'));
    try {
      const [c, events] = await Promise.all([api('GET', base), api('GET', base + '/events')]);
      const recipients = renderContract(c);
      renderEvents(Array.isArray(events.items) ? events.items : [], recipients);
      say('');
      return c;
    } catch (e) {
      fail(e);
      return null;
    }
  }

  remind.addEventListener('click', async () => {
    remind.disabled = true;
    try {
      const answer = await api('POST', base + '/remind');
      const n = Array.isArray(answer.reminded) ? answer.reminded.length : 0;
      await load();
      say(n > 0 ? t('detail.reminded', { n }) : t('detail.reminded_none'));
    } catch (e) {
      fail(e);
    } finally {
      remind.disabled = false;
    }
  });

  voidForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = voidReason.value.trim();
    if (!reason) {
      fail(t('detail.void_reason_missing'));
      voidReason.focus();
      return;
    }
    if (!window.confirm(t('detail.void_confirm'))) return;
    const button = voidForm.querySelector('button');
    if (button) button.disabled = true;
    try {
      await api('POST', base + '/void', { reason });
      voidReason.value = '';
      await load();
      say(t('detail.voided'));
    } catch (e) {
      fail(e);
    } finally {
      if (button) button.disabled = false;
    }
  });

  load();
})();
