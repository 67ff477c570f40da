// Administration: members (GET/POST /api/v1/members, …/{user_id}/role, …/{user_id}/remove),
// API keys (GET/POST /api/v1/api-keys, …/{id}/revoke) and the SMS outbox of the embedded
// default (GET /api/v1/outbox?channel=) and the background jobs (GET /api/v1/jobs?state=). A new member's first password and a new key's secret
// are in the API's answer once: they are shown once, with a copy button, and kept nowhere.
'use strict';

(function () {
  const { t, el, latestOnly } = window.Signet;
  const { api, session, shortDate, say, fail, secretBox } = window.SignetMember;
  const members = document.getElementById('members');
  const memberForm = document.getElementById('member-form');
  const memberSecret = document.getElementById('member-secret');
  const keys = document.getElementById('keys');
  const keyForm = document.getElementById('key-form');
  const keySecret = document.getElementById('key-secret');
  const outboxForm = document.getElementById('outbox-form');
  const outboxChannel = document.getElementById('outbox-channel');
  const outbox = document.getElementById('outbox');
  const jobsForm = document.getElementById('jobs-form');
  const jobsState = document.getElementById('jobs-state');
  const jobsCounts = document.getElementById('jobs-counts');
  const jobs = document.getElementById('jobs');
  if (!members || !memberForm || !memberSecret || !keys || !keyForm || !keySecret || !outboxForm || !outboxChannel || !outbox) return;
  if (!jobsForm || !jobsState || !jobsCounts || !jobs) return;

  const ROLES = ['owner', 'admin', 'sender', 'member'];

  function roleWord(role) {
    const key = 'role.' + role;
    return t(key) === key ? String(role) : t(key);
  }

  function field(form, name) {
    const input = form.elements.namedItem(name);
    return input && 'value' in input ? input.value.trim() : '';
  }

  // --- members ---------------------------------------------------------------------------------

  async function loadMembers() {
    const [me, answer] = await Promise.all([session(), api('GET', '/api/v1/members')]);
    const items = Array.isArray(answer.items) ? answer.items : [];
    const rows = items.map((m, i) => {
      const selectId = 'role-' + i;
      const self = me.user && me.user.id === m.user_id;
      const select = el('select', { id: selectId, 'data-user': m.user_id, disabled: self },
        ROLES.map((r) => el('option', { value: r, selected: r === m.role }, roleWord(r))));
      select.addEventListener('change', async () => {
        try {
          await api('POST', '/api/v1/members/' + encodeURIComponent(m.user_id) + '/role', { role: select.value });
          say(t('admin.role_changed', { name: m.name, role: roleWord(select.value) }));
        } catch (e) {
          select.value = m.role;
          fail(e);
        }
      });
      const remove = el('button', { type: 'button', class: 'danger small', hidden: self }, t('admin.remove'));
      remove.addEventListener('click', async () => {
        if (!window.confirm(t('admin.remove_confirm', { name: m.name }))) return;
        try {
          await api('POST', '/api/v1/members/' + encodeURIComponent(m.user_id) + '/remove');
          await loadMembers();
          say(t('admin.removed', { name: m.name }));
        } catch (e) {
          fail(e);
        }
      });
      return el('tr', { 'data-email': m.email }, [
        el('td', { 'data-label': t('admin.name') }, [m.name, self ? el('span', { class: 'hint' }, ' ' + t('admin.you')) : null]),
        el('td', { 'data-label': t('admin.email') }, m.email),
        el('td', { 'data-label': t('admin.role') }, [el('label', { for: selectId, class: 'visually-hidden' }, t('admin.role_of', { name: m.name })), select]),
        el('td', { 'data-label': t('admin.actions') }, remove),
      ]);
    });
    members.replaceChildren(el('table', {}, [
      el('thead', {}, el('tr', {}, ['admin.name', 'admin.email', 'admin.role', 'admin.actions'].map((k) => el('th', { scope: 'col' }, t(k))))),
      el('tbody', {}, rows),
    ]));
  }

  memberForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    memberSecret.hidden = true;
    memberSecret.replaceChildren();
    const body = { email: field(memberForm, 'email'), role: field(memberForm, 'role') };
    const name = field(memberForm, 'name');
    if (name) body.name = name;
    try {
      const m = await api('POST', '/api/v1/members', body);
      memberForm.reset();
      await loadMembers();
      if (typeof m.initial_password === 'string') {
        secretBox(memberSecret, t('admin.first_password', { email: m.email }), m.initial_password);
      } else {
        memberSecret.replaceChildren(el('p', {}, t('admin.existing_user', { email: m.email })));
        memberSecret.hidden = false;
      }
      say(t('admin.member_added', { email: m.email }));
    } catch (e) {
      fail(e);
    }
  });

  // --- API keys --------------------------------------------------------------------------------

  async function loadKeys() {
    const answer = await api('GET', '/api/v1/api-keys');
    const items = Array.isArray(answer.items) ? answer.items : [];
    const rows = items.map((k) => {
      const revoked = typeof k.revoked_at === 'number';
      const revoke = el('button', { type: 'button', class: 'danger small', hidden: revoked }, t('admin.revoke'));
      revoke.addEventListener('click', async () => {
        if (!window.confirm(t('admin.revoke_confirm', { name: k.name }))) return;
        try {
          await api('POST', '/api/v1/api-keys/' + encodeURIComponent(k.id) + '/revoke');
          await loadKeys();
          say(t('admin.revoked', { name: k.name }));
        } catch (e) {
          fail(e);
        }
      });
      return el('tr', { 'data-key': k.id, 'data-name': k.name }, [
        el('td', { 'data-label': t('admin.key_name') }, k.name),
        el('td', { 'data-label': t('admin.role') }, roleWord(k.role)),
        el('td', { 'data-label': t('admin.created') }, shortDate(k.created_at)),
        el('td', { 'data-label': t('admin.key_state'), class: 'key-state' }, revoked ? t('admin.key_revoked', { date: shortDate(k.revoked_at) }) : t('admin.key_active')),
        el('td', { 'data-label': t('admin.actions') }, revoke),
      ]);
    });
    keys.replaceChildren(el('table', {}, [
      el('thead', {}, el('tr', {}, ['admin.key_name', 'admin.role', 'admin.created', 'admin.key_state', 'admin.actions'].map((k) => el('th', { scope: 'col' }, t(k))))),
      el('tbody', {}, rows),
    ]));
  }

  keyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    keySecret.hidden = true;
    keySecret.replaceChildren();
    try {
      const k = await api('POST', '/api/v1/api-keys', { name: field(keyForm, 'name'), role: field(keyForm, 'role') });
      keyForm.reset();
      await loadKeys();
      if (typeof k.key === 'string') secretBox(keySecret, t('admin.key_secret', { name: k.name }), k.key);
      say(t('admin.key_created', { name: k.name }));
    } catch (e) {
      fail(e);
    }
  });

  // --- the SMS outbox --------------------------------------------------------------------------

  const outboxRequest = latestOnly();
  async function loadOutbox() {
    const isCurrent = outboxRequest();
    const q = new URLSearchParams({ limit: '20' });
    if (outboxChannel.value) q.set('channel', outboxChannel.value);
    const answer = await api('GET', '/api/v1/outbox?' + q.toString());
    if (!isCurrent()) return;
    const items = Array.isArray(answer.items) ? answer.items : [];
    if (items.length === 0) {
      outbox.replaceChildren(el('li', { class: 'hint' }, t('admin.outbox_empty')));
      return;
    }
    outbox.replaceChildren(...items.map((m) => el('li', { 'data-channel': m.channel }, [
      el('p', { class: 'meta' }, [
        el('span', { class: 'badge' }, m.channel === 'sms' ? t('admin.channel_sms') : t('admin.channel_email')),
        ' ', m.address, ' · ', shortDate(m.created_at),
      ]),
      m.subject ? el('p', { class: 'subject' }, m.subject) : null,
      el('p', { class: 'body' }, m.body),
    ])));
  }

  outboxForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadOutbox().catch(fail);
  });
  outboxChannel.addEventListener('change', () => loadOutbox().catch(fail));

  // --- background jobs -------------------------------------------------------------------------

  function wordOr(key, fallback) {
    return t(key) === key ? String(fallback) : t(key);
  }

  const jobsRequest = latestOnly();
  async function loadJobs() {
    const isCurrent = jobsRequest();
    const q = new URLSearchParams({ limit: '20' });
    if (jobsState.value) q.set('state', jobsState.value);
    const answer = await api('GET', '/api/v1/jobs?' + q.toString());
    if (!isCurrent()) return;
    const counts = answer.counts || {};
    jobsCounts.textContent = t('admin.job_counts', {
      queued: String(counts.queued || 0), running: String(counts.running || 0),
      done: String(counts.done || 0), failed: String(counts.failed || 0),
    });
    const items = Array.isArray(answer.items) ? answer.items : [];
    if (items.length === 0) {
      jobs.replaceChildren(el('p', { class: 'hint' }, t('admin.jobs_empty')));
      return;
    }
    const rows = items.map((j) => {
      const pending = j.state === 'queued' || j.state === 'running';
      return el('tr', { 'data-job': j.id, 'data-kind': j.kind, 'data-state': j.state }, [
        el('td', { 'data-label': t('admin.job_kind') }, wordOr('admin.job_kind_' + j.kind, j.kind)),
        el('td', { 'data-label': t('admin.job_state') }, wordOr('admin.job_state_' + j.state, j.state)),
        el('td', { 'data-label': t('admin.job_attempts') }, String(j.attempts)),
        el('td', { 'data-label': t('admin.job_next_run') }, pending ? shortDate(j.run_at) : ''),
        el('td', { 'data-label': t('admin.job_last_error'), class: 'job-error' }, j.last_error || ''),
        el('td', { 'data-label': t('admin.created') }, shortDate(j.created_at)),
      ]);
    });
    jobs.replaceChildren(el('table', {}, [
      el('thead', {}, el('tr', {}, ['admin.job_kind', 'admin.job_state', 'admin.job_attempts', 'admin.job_next_run', 'admin.job_last_error', 'admin.created']
        .map((k) => el('th', { scope: 'col' }, t(k))))),
      el('tbody', {}, rows),
    ]));
  }

  jobsForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadJobs().catch(fail);
  });
  jobsState.addEventListener('change', () => loadJobs().catch(fail));

  Promise.all([loadMembers(), loadKeys(), loadOutbox(), loadJobs()]).catch(fail);
})();
