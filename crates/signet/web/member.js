// Signed-in pages (dashboard, contract, admin, account): what they share, as `window.SignetMember`.
//
// - session(): the member's session (GET /api/v1/session: user, role, csrf_token), loaded once;
// - api(method, url, body): a JSON call to /api/v1 with the session cookie and, on changes, the
//   X-CSRF-Token header; answers the JSON body or throws a MemberProblem with a localized message;
//   a session that ended sends the browser to /login;
// - shortDate(ms) / longDate(ms): times (milliseconds since 1970, as the API gives them) in the
//   reader's locale and time zone;
// - say(text) / fail(text): the page's status line and its role="alert" box;
// - statusBadge(status), secretBox(node, label, secret): common pieces.
// It also wires the navigation's "Sign out" (a POST with the CSRF token, then /login).
'use strict';

(function () {
  const { t, el, lang } = window.Signet;

  /** An API answer that is not a success: `code` is the API's, `message` a sentence for people. */
  class MemberProblem extends Error {
    constructor(status, code, message, detail) {
      super(message);
      this.status = status;
      this.code = code;
      // The API's own sentence (English), to show beside ours where it names what to fix.
      this.detail = detail || '';
    }
  }

  /** The sentence for an API error (docs/platform.md lists the codes). */
  function problemText(status, code) {
    const byCode = {
      invalid_credentials: 'member.error.invalid_credentials',
      second_factor_required: 'member.error.second_factor_required',
      wrong_code: 'member.error.wrong_code',
      rate_limited: 'error.rate_limited',
      csrf: 'member.error.csrf',
      not_found: 'member.error.not_found',
      forbidden: 'member.error.forbidden',
      wrong_state: 'member.error.wrong_state',
      already_member: 'member.error.already_member',
      conflict: 'member.error.wrong_state',
      invalid_input: 'member.error.invalid_input',
      unauthorized: 'member.error.session_ended',
      record_unreadable: 'member.error.record_unreadable',
    };
    if (code && byCode[code]) return t(byCode[code]);
    if (status === 429) return t('error.rate_limited');
    if (status === 0) return t('error.network');
    return t('member.error.server', { status });
  }

  let sessionPromise = null;

  /** The session: {user, org_id, role, organisations, csrf_token, expires_at}. */
  function session() {
    if (!sessionPromise) sessionPromise = call('GET', '/api/v1/session', undefined, null);
    return sessionPromise;
  }

  async function call(method, url, body, csrf) {
    const headers = { Accept: 'application/json' };
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
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
      if (res.status === 401 && (code === 'unauthorized' || code === null)) {
        window.location.assign('/login');
      }
      const detail = json && json.error && typeof json.error.message === 'string' ? json.error.message : '';
      throw new MemberProblem(res.status, code, problemText(res.status, code), detail);
    }
    if (json === null || typeof json !== 'object') throw new MemberProblem(res.status, null, t('error.bad_answer'));
    return json;
  }

  /** A call to the API as the signed-in member; state changes carry the CSRF token. */
  async function api(method, url, body) {
    const csrf = method === 'GET' ? null : (await session()).csrf_token;
    return call(method, url, body, csrf);
  }

  /** The locale dates are written in: the reader's own when in the page's language, else the page's. */
  function dateLocale() {
    const primary = lang.split('-')[0].toLowerCase();
    const prefs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    return prefs.find((p) => typeof p === 'string' && p.toLowerCase().split('-')[0] === primary) || lang;
  }

  function formatter(options) {
    try {
      return new Intl.DateTimeFormat(dateLocale(), options);
    } catch (_) {
      return new Intl.DateTimeFormat(lang, options);
    }
  }

  const short = formatter({ dateStyle: 'medium', timeStyle: 'short' });
  const long = formatter({ dateStyle: 'long', timeStyle: 'long' });

  function shortDate(ms) {
    return typeof ms === 'number' && isFinite(ms) ? short.format(new Date(ms)) : '';
  }

  function longDate(ms) {
    return typeof ms === 'number' && isFinite(ms) ? long.format(new Date(ms)) : '';
  }

  const statusLine = document.getElementById('status');
  const alertBox = document.getElementById('error');

  /** Shows `text` on the status line (and clears the alert). */
  function say(text) {
    if (alertBox) {
      alertBox.hidden = true;
      alertBox.textContent = '';
    }
    if (statusLine) statusLine.textContent = text || '';
  }

  /** Shows `text` (or a problem's message) in the alert. */
  function fail(problem) {
    const text = problem instanceof Error ? (problem instanceof MemberProblem ? problem.message : t('error.bad_answer')) : String(problem);
    if (statusLine) statusLine.textContent = '';
    if (alertBox) {
      alertBox.textContent = text;
      alertBox.hidden = false;
    }
  }

  /** A contract's status as a badge with the product's word. */
  function statusBadge(status) {
    const key = 'contract_status.' + status;
    const word = t(key) === key ? String(status) : t(key);
    return el('span', { class: 'badge status-' + String(status).replace(/[^a-z_]/g, '') }, word);
  }

  /**
   * Fills `box` with a secret shown once: the sentence `label`, the secret as text, and a copy
   * button (the clipboard when the browser allows it, else the text is selected for copying).
   */
  function secretBox(box, label, secret) {
    const code = el('code', { class: 'secret-value' }, secret);
    const copy = el('button', { type: 'button', class: 'secondary copy' }, t('member.copy'));
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copy.textContent = t('member.copied');
      } catch (_) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        copy.textContent = t('member.selected');
      }
    });
    box.replaceChildren(el('p', {}, label), el('p', { class: 'secret-row' }, [code, ' ', copy]), el('p', { class: 'hint' }, t('member.shown_once')));
    box.hidden = false;
  }

  // The navigation's "Sign out".
  const signOut = document.getElementById('sign-out');
  if (signOut) {
    signOut.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('POST', '/api/v1/session/logout');
      } catch (e) {
        if (!(e instanceof MemberProblem) || e.status !== 401) {
          fail(e);
          return;
        }
      }
      window.location.assign('/login');
    });
  }

  window.SignetMember = Object.freeze({ session, api, MemberProblem, problemText, shortDate, longDate, say, fail, statusBadge, secretBox });
})();
