// The member's account: who is signed in (GET /api/v1/session), the password
// (POST /api/v1/session/password) and the second factor: "Turn on" asks for a new TOTP secret
// (POST …/totp/setup), shows it and its otpauth:// URI as text for an authenticator app, and
// turns it on with a first code (…/totp/confirm); "Turn off" needs a current code (…/totp/disable).
'use strict';

(function () {
  const { t, el } = window.Signet;
  const { api, session, longDate, say, fail } = window.SignetMember;
  const who = document.getElementById('who');
  const passwordForm = document.getElementById('password-form');
  const state = document.getElementById('totp-state');
  const setup = document.getElementById('totp-setup');
  const pending = document.getElementById('totp-pending');
  const secret = document.getElementById('totp-secret');
  const uri = document.getElementById('totp-uri');
  const confirmForm = document.getElementById('totp-confirm-form');
  const confirmCode = document.getElementById('totp-confirm-code');
  const disableForm = document.getElementById('totp-disable-form');
  const disableCode = document.getElementById('totp-disable-code');
  if (!who || !passwordForm || !state || !setup || !pending || !secret || !uri || !confirmForm || !confirmCode || !disableForm || !disableCode) return;

  function showTotp(on) {
    state.textContent = on ? t('account.totp_on') : t('account.totp_off');
    state.dataset.totp = on ? 'on' : 'off';
    setup.hidden = on;
    disableForm.hidden = !on;
    if (on) pending.hidden = true;
  }

  async function load() {
    try {
      const s = await session();
      const roleKey = 'role.' + s.role;
      const org = (Array.isArray(s.organisations) ? s.organisations : []).find((o) => o.org_id === s.org_id);
      const rows = [
        ['account.name', s.user.name],
        ['account.email', s.user.email],
        ['account.organisation', org ? org.name : s.org_id],
        ['account.role', t(roleKey) === roleKey ? s.role : t(roleKey)],
        ['account.session_ends', longDate(s.expires_at)],
      ];
      who.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)]));
      showTotp(Boolean(s.user.totp));
    } catch (e) {
      fail(e);
    }
  }

  passwordForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const current = passwordForm.elements.namedItem('current_password');
    const next = passwordForm.elements.namedItem('new_password');
    if (next.value.length < 10) {
      fail(t('account.password_too_short'));
      return;
    }
    try {
      await api('POST', '/api/v1/session/password', { current_password: current.value, new_password: next.value });
      passwordForm.reset();
      say(t('account.password_changed'));
    } catch (e) {
      if (e && e.code === 'invalid_credentials') fail(t('account.current_password_wrong'));
      else fail(e);
    }
  });

  setup.addEventListener('click', async () => {
    try {
      const answer = await api('POST', '/api/v1/session/totp/setup');
      secret.textContent = answer.secret;
      uri.textContent = answer.otpauth_uri;
      pending.hidden = false;
      setup.hidden = true;
      confirmCode.focus();
      say(t('account.totp_scan'));
    } catch (e) {
      fail(e);
    }
  });

  confirmForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/api/v1/session/totp/confirm', { code: confirmCode.value.trim() });
      confirmForm.reset();
      secret.textContent = '';
      uri.textContent = '';
      showTotp(true);
      say(t('account.totp_turned_on'));
    } catch (e) {
      fail(e);
    }
  });

  disableForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/api/v1/session/totp/disable', { code: disableCode.value.trim() });
      disableForm.reset();
      showTotp(false);
      say(t('account.totp_turned_off'));
    } catch (e) {
      fail(e);
    }
  });

  load();
})();
