// A contract's detail: GET /api/v1/contracts/{id} and …/events. Shows the status, documents,
// recipients with their status and the timeline of events (what, when, who, from which address),
// and the actions: Remind (POST …/remind), Void with a reason (POST …/void, after a
// confirmation), and downloads that are plain links to the API (the session cookie is enough
// for a GET): each document, the evidence report and the evidence bundle.
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
  if (!root || !title || !meta || !remind || !voidForm || !voidReason || !downloads || !documents || !people || !timeline) return;

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

    const docs = Array.isArray(c.documents) ? c.documents : [];
    documents.replaceChildren(...docs.map((d, i) => el('li', {}, [d.name, ' ', el('span', { class: 'hint' }, t('detail.pages', { n: d.pages }))])));

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
