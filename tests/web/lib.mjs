// What the browser tests (tests/web/*.spec.mjs) share: reading their environment, numbered
// checks, the browser, fresh contexts that collect console errors, and the outbox the platform
// keeps of the mails it sent (signing links and one-time codes).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** The environment variable `name`; a missing one ends the run with exit status 2. */
export function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

/** SCREENSHOT_DIR, created if missing. */
export function screenshotDir() {
  const dir = env('SCREENSHOT_DIR');
  mkdirSync(dir, { recursive: true });
  return dir;
}

let checks = 0;

/** Prints `ok N - label` for a check that passed. */
export function check(label) {
  checks += 1;
  console.log(`ok ${checks} - ${label}`);
}

/** The last line of a run in which every check passed. */
export function allPassed(where) {
  console.log(`all ${checks} checks passed; screenshots in ${where}`);
}

/** Debian's chromium (or CHROMIUM), headless. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
    headless: true,
  });
}

/**
 * A fresh context of `browser` (no cookies; Shanghai time; `options` on top) and its page, with
 * the page's console errors collected in `errors` — a content-security-policy violation is one —
 * except the browser's own lines for the HTTP statuses in `expected` (the API's refusals a test
 * provokes on purpose, which the page words itself). A 404 for an asset is an error too.
 */
export async function openPage(browser, options = {}, expected = []) {
  const context = await browser.newContext({ timezoneId: 'Asia/Shanghai', ...options });
  const page = await context.newPage();
  const errors = [];
  const ignored = expected.length ? new RegExp(`status of (${expected.join('|')})`) : null;
  page.on('console', (m) => {
    if (m.type() === 'error' && !(ignored && ignored.test(m.text()))) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() === 404 && r.url().includes('/assets/')) errors.push(`404 ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/**
 * The mails the platform at `baseUrl` sent, read with an API key of the organisation:
 * `mark()` notes what is there, `waitLink`/`waitCode` wait for a new signing link or one-time
 * code to an address after a mark.
 */
export function mailbox(baseUrl, apiKey) {
  async function outbox() {
    const res = await fetch(`${baseUrl}/api/v1/outbox?channel=email&limit=500`, { headers: { Authorization: `Bearer ${apiKey}` } });
    assert.equal(res.status, 200, 'GET /api/v1/outbox');
    return (await res.json()).items;
  }

  /** The ids of the messages so far: later ones are new. */
  async function mark() {
    return new Set((await outbox()).map((m) => m.id));
  }

  /** Waits for a new message to `address` that `pick` finds something in; answers that. */
  async function waitFor(address, since, what, pick) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      for (const m of await outbox()) {
        if (since.has(m.id) || m.address.toLowerCase() !== address.toLowerCase()) continue;
        const found = pick(`${m.subject}\n${m.body}`);
        if (found) return found;
      }
      assert.ok(Date.now() < deadline, `no ${what} for ${address} within 20 s`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  const linkPattern = new RegExp(`${baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/s/([A-Za-z0-9_-]{20,})`);
  const linkIn = (text) => {
    const m = linkPattern.exec(text);
    return m ? m[1] : null;
  };
  const codeIn = (text) => {
    if (linkIn(text)) return null;
    const m = /(?:验证码|code)[^0-9]{0,40}([0-9]{6})(?![0-9])/i.exec(text);
    return m ? m[1] : null;
  };
  return {
    mark,
    waitLink: (address, since) => waitFor(address, since, 'signing link', linkIn),
    waitCode: (address, since) => waitFor(address, since, 'one-time code', codeIn),
  };
}

/** Every input, select and textarea of `page` has a <label>, and there is one <main>. */
export async function labelledInputs(page, label) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((i) => i.type !== 'hidden' && (!i.labels || i.labels.length === 0))
      .map((i) => i.outerHTML));
  assert.deepEqual(unlabelled, [], `${label}: inputs without a <label>`);
  assert.equal(await page.locator('main').count(), 1, `${label}: one <main>`);
}

/**
 * What every page must have: a <title>, `<html lang>`, one <main>, a label on every input, and
 * the language switch ("English" / "中文") in the header. Answers the title.
 */
export async function checkPageShell(page, htmlLang, label) {
  const title = await page.title();
  assert.ok(title.trim().length > 0, `${label}: <title> is empty`);
  assert.equal(await page.getAttribute('html', 'lang'), htmlLang, `${label}: html[lang]`);
  await labelledInputs(page, label);
  for (const name of ['English', '中文']) {
    const link = page.locator('header nav.langs').getByRole('link', { name, exact: true });
    assert.ok(await link.isVisible(), `${label}: the language switch link "${name}" is visible`);
  }
  return title;
}
