// The verification page: posts the chosen PDF to POST /api/v1/verify (multipart part `file`)
// and shows the signet.verify/v1 report (docs/verify.md) in plain words first, details below.
//
// The first line (#verdict) is one of three verdicts, decided by `decide` below:
//   valid     the report's verdict is VALID;
//   modified  not VALID, the document has a change after signing that is NOT_PERMITTED, and
//             every signature (document time-stamps aside) is itself intact with a valid
//             signature value: what was signed is fine, the file is not what was signed;
//   invalid   anything else (a broken or unprovable signature, no signature, unreadable).
'use strict';

(function () {
  const { t, formatDate, postForm, el } = window.Signet;
  const form = document.getElementById('verify-form');
  const input = document.getElementById('file');
  const button = document.getElementById('verify-submit');
  const status = document.getElementById('status');
  const alertBox = document.getElementById('error');
  const report = document.getElementById('report');
  if (!form || !input || !button || !status || !alertBox || !report) return;

  /** `valid`, `modified` or `invalid` for a signet.verify/v1 report. */
  function decide(r) {
    if (r.verdict === 'VALID') return 'valid';
    const mod = r.document && r.document.modification ? r.document.modification.verdict : null;
    const signed = signaturesOf(r);
    const intact = (s) => s.integrity === 'intact' && s.crypto_valid === true;
    if (mod === 'NOT_PERMITTED' && signed.length > 0 && signed.every(intact)) return 'modified';
    return 'invalid';
  }

  /** The signatures proper (not document time-stamps), in the order of the file. */
  function signaturesOf(r) {
    return (Array.isArray(r.signatures) ? r.signatures : []).filter((s) => s && s.kind === 'signature');
  }

  /** The common name of an RFC 4514 subject (`CN=张三, O=…`), else the whole subject. */
  function commonName(subject) {
    if (typeof subject !== 'string' || subject === '') return '?';
    const m = /(?:^|,)\s*CN=((?:\\.|[^,\\])*)/.exec(subject);
    if (!m) return subject;
    return m[1].replace(/\\(.)/g, '$1').trim() || subject;
  }

  function signerName(s) {
    return commonName(s.signer && s.signer.subject);
  }

  /** The catalog's word for a report value (`prefix` + `value`), else the value as it is. */
  function word(prefix, value) {
    const key = prefix + value;
    const text = t(key);
    return text === key ? String(value) : text;
  }

  function unique(list) {
    return list.filter((x, i) => list.indexOf(x) === i);
  }

  /** The plain-words part: the verdict line and a few sentences. */
  function summary(r, verdict) {
    const signed = signaturesOf(r);
    const names = unique(signed.map(signerName)).join(t('list.and'));
    const word = t('verdict.' + verdict);
    let first = word;
    const firstKey = verdict === 'invalid' ? 'verdict.claimed_by' : 'verdict.signed_by';
    if (names) first = t(firstKey, { verdict: word, names });
    const lines = [];
    if (verdict !== 'invalid') {
      for (const s of signed) {
        const time = s.signing_time;
        const name = signerName(s);
        if (!time) lines.push(t('summary.signed_no_time', { name }));
        else if (time.source === 'timestamp' && time.trusted) lines.push(t('summary.signed_on', { name, date: formatDate(time.unix) }));
        else lines.push(t('summary.signed_on_claimed', { name, date: formatDate(time.unix) }));
      }
    }
    if (verdict === 'valid') {
      const times = signed.map((s) => s.signing_time && s.signing_time.unix).filter((u) => typeof u === 'number');
      if (times.length) lines.push(t('summary.unchanged_since', { date: formatDate(Math.max(...times)) }));
    } else if (verdict === 'modified') {
      lines.push(t('summary.modified'));
    } else {
      lines.push(...invalidReasons(r));
    }
    return el('div', { class: 'summary verdict-' + verdict }, [
      el('h2', { id: 'verdict', class: 'verdict' }, first),
      el('ul', { id: 'summary', class: 'plain' }, lines.map((line) => el('li', {}, line))),
    ]);
  }

  /** Why an invalid report is invalid, in the reader's language. */
  function invalidReasons(r) {
    const problems = Array.isArray(r.problems) ? r.problems : [];
    const sigs = Array.isArray(r.signatures) ? r.signatures : [];
    if (sigs.length === 0) {
      return [problems.some((p) => /no signature/.test(p)) ? t('summary.no_signature') : t('summary.unreadable')];
    }
    const reasons = unique(sigs.filter((s) => s.indication !== 'TOTAL_PASSED' && s.sub_indication)
      .map((s) => 'reason.' + s.sub_indication)
      .filter((key) => t(key) !== key)
      .map((key) => t(key)));
    return reasons.length ? reasons : [t('summary.invalid')];
  }

  /** A label/value row of a details list. */
  function row(labelKey, value) {
    if (value === null || value === undefined || value === '') return null;
    return [el('dt', {}, t(labelKey)), el('dd', {}, value)];
  }

  /** The PAdES level as the report names it; the two that are words are translated. */
  function levelText(level) {
    if (level === 'document time-stamp') return t('level.document_timestamp');
    if (level === 'CMS, not PAdES') return t('level.cms');
    return level;
  }

  /** One signature's details. */
  function signatureDetails(s, i, total) {
    const isTs = s.kind === 'document_timestamp';
    const time = s.signing_time;
    let timeText = null;
    if (time) {
      const source = time.source === 'timestamp'
        ? t(time.trusted ? 'details.time_timestamp' : 'details.time_timestamp_untrusted')
        : t('details.time_claimed');
      timeText = formatDate(time.unix) + ' (' + source + ')';
    }
    const ts = s.timestamp
      ? t(s.timestamp.valid ? 'value.ts_valid' : 'value.ts_invalid', { tsa: commonName(s.timestamp.tsa) })
      : (isTs ? null : t('value.none'));
    const rev = s.revocation ? word('value.rev_', s.revocation.status) : null;
    const covers = s.covers_whole_file
      ? t('details.whole_file')
      : (typeof s.covered_revision === 'number' ? t('details.covers_revision', { n: s.covered_revision, total }) : null);
    const result = word('value.', s.indication) + (s.sub_indication ? ' (' + s.sub_indication + ')' : '');
    const rows = [
      row('details.field', s.field),
      row('details.result', result),
      row('details.signer', s.signer ? s.signer.subject : null),
      row('details.issuer', s.signer ? s.signer.issuer : null),
      row('details.time', timeText),
      row('details.integrity', word('value.', s.integrity || 'unknown')),
      row('details.trust', t(s.trusted ? 'value.trusted' : 'value.untrusted')),
      row('details.level', levelText(s.level)),
      row('details.timestamp', ts),
      row('details.revocation', rev),
      row('details.covers', covers),
      row('details.after', s.modification_after ? word('value.', s.modification_after) : null),
    ].filter(Boolean).flat();
    const heading = (isTs ? t('details.document_timestamp') : t('details.signature') + ' ' + (i + 1) + ' — ' + signerName(s));
    const parts = [el('h4', {}, heading), el('dl', {}, rows)];
    if (Array.isArray(s.notes) && s.notes.length) {
      parts.push(el('p', { class: 'notes-label' }, t('details.notes')));
      parts.push(el('ul', { class: 'notes', lang: 'en' }, s.notes.map((n) => el('li', {}, n))));
    }
    return el('article', { class: 'signature' + (s.indication === 'TOTAL_PASSED' ? ' ok' : ' bad') }, parts);
  }

  /** The changes after the first signature. */
  function changeDetails(r) {
    const changes = r.document && r.document.modification && Array.isArray(r.document.modification.changes)
      ? r.document.modification.changes : [];
    const items = changes.map((c) => el('li', { class: c.permitted ? 'ok' : 'bad' }, [
      t('details.change_line', {
        revision: c.revision,
        category: word('category.', c.category),
        permitted: t(c.permitted ? 'value.permitted' : 'value.not_permitted'),
      }),
      c.detail ? el('span', { class: 'detail', lang: 'en' }, ' — ' + c.detail) : null,
    ]));
    return [
      el('h3', {}, t('details.changes')),
      items.length ? el('ul', { id: 'changes', class: 'changes' }, items) : el('p', { id: 'changes' }, t('details.no_changes')),
    ];
  }

  /** The whole report. */
  function render(r) {
    const verdict = decide(r);
    const total = r.document ? r.document.revisions : null;
    const sigs = Array.isArray(r.signatures) ? r.signatures : [];
    let n = 0;
    const details = el('section', { id: 'details', class: 'details' }, [
      el('h3', {}, t('details.heading')),
      el('dl', { class: 'file' }, [row('details.file', r.file), row('details.revisions', total)].filter(Boolean).flat()),
      ...sigs.map((s) => signatureDetails(s, s.kind === 'signature' ? n++ : n, total)),
      ...changeDetails(r),
      Array.isArray(r.problems) && r.problems.length
        ? el('div', {}, [el('h3', {}, t('details.problems')), el('ul', { lang: 'en' }, r.problems.map((p) => el('li', {}, p)))])
        : null,
    ]);
    report.replaceChildren(summary(r, verdict), details);
    report.dataset.verdict = verdict;
    report.hidden = false;
  }

  function showError(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alertBox.hidden = true;
    alertBox.textContent = '';
    report.hidden = true;
    report.replaceChildren();
    delete report.dataset.verdict;
    const file = input.files && input.files[0];
    if (!file) {
      showError(t('error.no_file'));
      return;
    }
    if (file.size === 0) {
      showError(t('error.empty'));
      return;
    }
    const data = new FormData();
    data.append('file', file, file.name);
    button.disabled = true;
    status.textContent = t('verify.checking');
    try {
      render(await postForm('/api/v1/verify', data));
      status.textContent = t('verify.done');
    } catch (e) {
      status.textContent = '';
      showError(e instanceof window.Signet.ApiProblem ? e.message : t('error.bad_answer'));
    } finally {
      button.disabled = false;
    }
  });
})();
