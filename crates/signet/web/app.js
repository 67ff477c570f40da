// Signet web app: helpers every page's script uses, as `window.Signet`.
//
// - t(key, values): the page's message in its language (the catalog the server embedded as
//   <script type="application/json" id="i18n">), with {name} placeholders filled in;
// - formatDate(unixSeconds): a date and time in the reader's locale and time zone;
// - postForm(url, formData): fetch that answers the JSON body, or throws an ApiProblem whose
//   `message` is already a localized sentence for people;
// - el(tag, attrs, children): builds DOM nodes (text only through textContent, never HTML);
// - latestOnly(): for a list that reloads when its filters change, drops answers that arrive
//   after a newer request was made.
//
// Plain modern JavaScript, no build step, no inline code (the content security policy forbids it).
'use strict';

(function () {
  const catalog = (() => {
    const node = document.getElementById('i18n');
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (_) {
      return {};
    }
  })();

  /** The message `key` with `{name}` placeholders replaced from `values`. */
  function t(key, values) {
    const text = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
  }

  /** The page's language tag (`en`, `zh-CN`). */
  const pageLang = document.documentElement.lang || 'en';

  /**
   * The locale dates are written in: the reader's own preference when it is in the page's
   * language (so en-GB readers get day-month order), else the page's language.
   */
  function dateLocale() {
    const primary = pageLang.split('-')[0].toLowerCase();
    const prefs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    const match = prefs.find((p) => typeof p === 'string' && p.toLowerCase().split('-')[0] === primary);
    return match || pageLang;
  }

  const dateFormat = (() => {
    try {
      return new Intl.DateTimeFormat(dateLocale(), { dateStyle: 'long', timeStyle: 'long' });
    } catch (_) {
      return new Intl.DateTimeFormat(pageLang, { dateStyle: 'long', timeStyle: 'long' });
    }
  })();

  /** `unixSeconds` in the reader's locale and time zone; '' for a missing time. */
  function formatDate(unixSeconds) {
    if (typeof unixSeconds !== 'number' || !isFinite(unixSeconds)) return '';
    return dateFormat.format(new Date(unixSeconds * 1000));
  }

  /** An API answer that is not a success, with a localized message. */
  class ApiProblem extends Error {
    constructor(kind, status, code, message) {
      super(message);
      this.kind = kind;
      this.status = status;
      this.code = code;
    }
  }

  /** Which sentence an HTTP status of the API gets (see docs/platform.md for the codes). */
  function problemFor(status, code) {
    if (status === 413) return new ApiProblem('too_large', status, code, t('error.too_large'));
    if (status === 415) return new ApiProblem('not_pdf', status, code, t('error.not_pdf'));
    if (status === 422) return new ApiProblem('unreadable', status, code, t('error.unreadable'));
    if (status === 429) return new ApiProblem('rate_limited', status, code, t('error.rate_limited'));
    return new ApiProblem('server', status, code, t('error.server', { status }));
  }

  /** POSTs `formData` to `url`; answers the parsed JSON, or throws an ApiProblem. */
  async function postForm(url, formData) {
    let res;
    try {
      res = await fetch(url, { method: 'POST', body: formData, credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch (_) {
      throw new ApiProblem('network', 0, null, t('error.network'));
    }
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (!res.ok) {
      const code = body && body.error && typeof body.error.code === 'string' ? body.error.code : null;
      throw problemFor(res.status, code);
    }
    if (body === null || typeof body !== 'object') {
      throw new ApiProblem('bad_answer', res.status, null, t('error.bad_answer'));
    }
    return body;
  }

  /** A DOM element: attributes (`class`, `id`, `hidden`, …) and children (nodes or text). */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /**
   * For a list that reloads when its filters change: each call of the returned function marks
   * a new request and returns `isCurrent()`, true until a newer request is marked. An answer
   * whose request is no longer current is dropped, so a slow answer to an older filter is
   * never drawn over the newer one.
   */
  function latestOnly() {
    let last = 0;
    return () => {
      const mine = ++last;
      return () => mine === last;
    };
  }

  window.Signet = Object.freeze({ t, formatDate, postForm, ApiProblem, el, latestOnly, lang: pageLang });
})();
