// The sign-in page: posts {email, password[, totp_code]} to POST /api/v1/session. When the API
// answers 401 second_factor_required the authenticator-code field appears and the next submit
// sends the code; success goes to /app. Errors (wrong password, wrong code, too many tries) go
// to the role="alert" box. The password never goes into a URL.
'use strict';

(function () {
  const { t } = window.Signet;
  const form = document.getElementById('login-form');
  const email = document.getElementById('email');
  const password = document.getElementById('password');
  const codeField = document.getElementById('totp-field');
  const code = document.getElementById('totp-code');
  const button = document.getElementById('login-submit');
  const status = document.getElementById('status');
  const alertBox = document.getElementById('error');
  if (!form || !email || !password || !codeField || !code || !button || !status || !alertBox) return;

  const messages = {
    invalid_credentials: 'member.error.invalid_credentials',
    second_factor_required: 'login.totp_needed',
    wrong_code: 'member.error.wrong_code',
    rate_limited: 'login.rate_limited',
    forbidden: 'login.no_organisation',
  };

  function showError(text) {
    status.textContent = '';
    alertBox.textContent = text;
    alertBox.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alertBox.hidden = true;
    alertBox.textContent = '';
    if (!email.value.trim() || !password.value) {
      showError(t('login.missing'));
      return;
    }
    const body = { email: email.value.trim(), password: password.value };
    if (!codeField.hidden && code.value.trim()) body.totp_code = code.value.trim();
    button.disabled = true;
    status.textContent = t('login.signing_in');
    let res;
    let json = null;
    try {
      res = await fetch('/api/v1/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      try {
        json = await res.json();
      } catch (_) {
        json = null;
      }
    } catch (_) {
      button.disabled = false;
      showError(t('error.network'));
      return;
    }
    button.disabled = false;
    if (res.ok) {
      status.textContent = t('login.signed_in');
      window.location.assign('/app');
      return;
    }
    const errorCode = json && json.error && typeof json.error.code === 'string' ? json.error.code : '';
    if (errorCode === 'second_factor_required') {
      codeField.hidden = false;
      code.required = true;
      code.focus();
    }
    if (errorCode === 'wrong_code') {
      code.value = '';
      code.focus();
    }
    const key = messages[errorCode] || (res.status === 429 ? 'login.rate_limited' : null);
    showError(key ? t(key) : t('member.error.server', { status: res.status }));
  });
})();
