// The dashboard: the organisation's contracts (GET /api/v1/contracts), filtered by the status
// tab and the search text of the address (?status=…&text=…, neither is a secret), one page of
// `data-page-size` at a time. "Next" follows the API's next_cursor; "Previous" goes back through
// the cursors this page has seen (kept here, not in the address).
'use strict';

(function () {
  const { t, el, latestOnly } = window.Signet;
  const { api, shortDate, say, fail, statusBadge } = window.SignetMember;
  const list = document.getElementById('contracts');
  const empty = document.getElementById('empty');
  const prev = document.getElementById('prev');
  const next = document.getElementById('next');
  const pageNumber = document.getElementById('page-number');
  const search = document.getElementById('search');
  const unreadable = document.getElementById('unreadable');
  if (!list || !empty || !prev || !next || !pageNumber || !search || !unreadable) return;

  const params = new URLSearchParams(window.location.search);
  const status = params.get('status') || '';
  const text = (params.get('text') || '').trim();
  search.value = text;
  const pageSize = Number(list.dataset.pageSize) || 10;

  // cursors[i] is the cursor of page i (null for the first).
  const cursors = [null];
  let page = 0;
  let nextCursor = null;

  /** The recipients who sign, with their progress, in one line. */
  function recipients(c) {
    const rs = Array.isArray(c.recipients) ? c.recipients : [];
    return rs.map((r) => r.name + (r.status === 'signed' ? ' ✔' : r.status === 'declined' ? ' ✘' : '')).join(t('list.and'));
  }

  /** The latest change we know of: finished, else sent, else created. */
  function updated(c) {
    return [c.finished_at, c.sent_at, c.created_at].find((v) => typeof v === 'number');
  }

  function cell(labelKey, content) {
    return el('td', { 'data-label': t(labelKey) }, content);
  }

  function render(items) {
    if (items.length === 0) {
      list.replaceChildren();
      empty.textContent = status || text ? t('dashboard.empty_filtered') : t('dashboard.empty');
      empty.hidden = false;
      return;
    }
    empty.hidden = true;
    const head = el('thead', {}, el('tr', {}, [
      'dashboard.col_title', 'dashboard.col_number', 'dashboard.col_status', 'dashboard.col_recipients', 'dashboard.col_created', 'dashboard.col_updated',
    ].map((k) => el('th', { scope: 'col' }, t(k)))));
    const rows = items.map((c) => el('tr', { 'data-id': c.id }, [
      cell('dashboard.col_title', el('a', { href: '/app/contracts/' + encodeURIComponent(c.id) }, c.title)),
      cell('dashboard.col_number', c.number),
      cell('dashboard.col_status', statusBadge(c.status)),
      cell('dashboard.col_recipients', recipients(c)),
      cell('dashboard.col_created', shortDate(c.created_at)),
      cell('dashboard.col_updated', shortDate(updated(c))),
    ]));
    list.replaceChildren(el('table', { class: 'contracts' }, [
      el('caption', { class: 'visually-hidden' }, t('dashboard.heading')),
      head,
      el('tbody', {}, rows),
    ]));
  }

  const request = latestOnly();
  async function load() {
    const isCurrent = request();
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (text) q.set('text', text);
    q.set('limit', String(pageSize));
    if (cursors[page]) q.set('cursor', cursors[page]);
    prev.disabled = true;
    next.disabled = true;
    say(t('member.loading'));
    try {
      const answer = await api('GET', '/api/v1/contracts?' + q.toString());
      if (!isCurrent()) return;
      const items = Array.isArray(answer.items) ? answer.items : [];
      nextCursor = typeof answer.next_cursor === 'string' && answer.next_cursor ? answer.next_cursor : null;
      render(items);
      // Contracts whose stored record does not open are named rather than silently missing.
      const broken = Array.isArray(answer.unreadable) ? answer.unreadable.filter((id) => typeof id === 'string') : [];
      unreadable.textContent = broken.length ? t('dashboard.unreadable', { n: broken.length, ids: broken.join(', ') }) : '';
      unreadable.hidden = broken.length === 0;
      pageNumber.textContent = t('dashboard.page', { n: page + 1 });
      prev.disabled = page === 0;
      next.disabled = nextCursor === null;
      say('');
    } catch (e) {
      if (isCurrent()) fail(e);
    }
  }

  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    load();
  });
  prev.addEventListener('click', () => {
    if (page === 0) return;
    page -= 1;
    load();
  });

  load();
})();
