// The verification page in a real browser: playwright-core driving Debian's chromium headless.
// Run by crates/signet/tests/web.rs, which starts the server and makes the files:
//
//   BASE_URL       the server, e.g. http://127.0.0.1:PORT
//   SIGNED_PDF     a contract signed by SIGNERS (comma-separated names), unchanged
//   MODIFIED_PDF   the same with a change after signing that no signature permits
//   UNSIGNED_PDF   a PDF without any signature
//   NOT_PDF        a file that is not a PDF
//   SCREENSHOT_DIR where the screenshots go (created if missing)
//   CHROMIUM       the browser (default /usr/bin/chromium)
//
// Plain Node with node:assert; exit status 0 when every check passed.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { allPassed, check, checkPageShell, env, launch, openPage, screenshotDir } from './lib.mjs';

const BASE_URL = env('BASE_URL');
const SIGNED_PDF = env('SIGNED_PDF');
const MODIFIED_PDF = env('MODIFIED_PDF');
const UNSIGNED_PDF = env('UNSIGNED_PDF');
const NOT_PDF = env('NOT_PDF');
const SIGNERS = env('SIGNERS').split(',').map((s) => s.trim()).filter(Boolean);
const SCREENSHOT_DIR = screenshotDir();

const TEXT = {
  en: { htmlLang: 'en', submit: 'Verify', valid: 'Valid', modified: 'Modified after signing', notPdf: 'not a PDF', signedBy: 'Signed by', unchanged: 'Unchanged since', invalid: 'Invalid', noSignature: 'has no signature' },
  zh: { htmlLang: 'zh-CN', submit: '验证', valid: '有效', modified: '签署后被修改', notPdf: '不是 PDF', signedBy: '签署', unchanged: '未被修改', invalid: '无效', noSignature: '没有签名' },
};

const browser = await launch();

/**
 * A fresh browser context (no cookies) with its console errors collected, except the browser's
 * own line for the 415 the API answers a non-PDF with, which the page turns into its alert.
 */
const open = (options = {}) => openPage(browser, options, [415]);

/** What every page must have: title, html lang, one main, labelled inputs, the switch. */
async function checkShell(page, lang, label) {
  const title = await checkPageShell(page, TEXT[lang].htmlLang, label);
  assert.equal((await page.locator('button[type=submit]').innerText()).trim(), TEXT[lang].submit, `${label}: the button`);
  check(`${label}: title "${title}", html lang ${TEXT[lang].htmlLang}, one main, labelled inputs, language switch`);
}

/** Uploads `file`, waits for the report or the alert; answers the first line or the alert. */
async function upload(page, file) {
  await page.setInputFiles('#file', file);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => {
    const report = document.getElementById('report');
    const alert = document.getElementById('error');
    return (report && !report.hidden) || (alert && !alert.hidden);
  }, null, { timeout: 60_000 });
}

async function verdictLine(page) {
  const report = page.locator('#report');
  assert.ok(await report.isVisible(), 'the report is shown');
  const first = page.locator('#report > :first-child > :first-child');
  const verdict = page.locator('#verdict');
  assert.equal(await first.getAttribute('id'), 'verdict', 'the verdict is the report\'s first line');
  return (await verdict.innerText()).trim();
}

async function noErrors(errors, label) {
  // A content-security-policy violation shows up as a console error: none is allowed.
  assert.deepEqual(errors, [], `${label}: console errors`);
}

// 1. English and Chinese, chosen by ?lang=.
for (const lang of ['en', 'zh']) {
  const T = TEXT[lang];
  const { context, page, errors } = await open({ locale: lang === 'en' ? 'en-US' : 'zh-CN', viewport: { width: 1100, height: 900 } });
  const res = await page.goto(`${BASE_URL}/verify?lang=${lang}`);
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/, 'the page has a content security policy');
  await checkShell(page, lang, `verify (${lang})`);

  await upload(page, SIGNED_PDF);
  const valid = await verdictLine(page);
  assert.ok(valid.includes(T.valid), `${lang}: "${valid}" says ${T.valid}`);
  assert.ok(!valid.includes(T.modified), `${lang}: "${valid}"`);
  for (const name of SIGNERS) assert.ok(valid.includes(name), `${lang}: "${valid}" names ${name}`);
  const summary = await page.locator('#summary').innerText();
  assert.ok(summary.includes(T.signedBy) && summary.includes(T.unchanged), `${lang}: summary "${summary}"`);
  assert.ok(await page.locator('#details').isVisible(), `${lang}: details below the summary`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `verify-valid-${lang}.png`), fullPage: true });
  check(`${lang}: the signed PDF is "${valid}"`);

  await upload(page, MODIFIED_PDF);
  const modified = await verdictLine(page);
  assert.ok(modified.includes(T.modified), `${lang}: "${modified}" says ${T.modified}`);
  for (const name of SIGNERS) assert.ok(modified.includes(name), `${lang}: "${modified}" names ${name}`);
  assert.ok((await page.locator('#changes li.bad').count()) >= 1, `${lang}: the forbidden change is listed`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `verify-modified-${lang}.png`), fullPage: true });
  // A small picture of the form and the verdict, for the README.
  await page.setViewportSize({ width: 720, height: 600 });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `verify-modified-${lang}-small.png`) });
  await page.setViewportSize({ width: 1100, height: 900 });
  check(`${lang}: the tampered copy is "${modified}"`);

  await upload(page, UNSIGNED_PDF);
  const invalid = await verdictLine(page);
  assert.ok(invalid.includes(T.invalid), `${lang}: "${invalid}" says ${T.invalid}`);
  const why = await page.locator('#summary').innerText();
  assert.ok(why.includes(T.noSignature), `${lang}: summary "${why}"`);
  check(`${lang}: a PDF without signature is "${invalid}": ${why.trim()}`);

  await upload(page, NOT_PDF);
  const alert = page.getByRole('alert');
  assert.ok(await alert.isVisible(), `${lang}: the alert is shown`);
  const alertText = (await alert.innerText()).trim();
  assert.ok(alertText.includes(T.notPdf), `${lang}: alert "${alertText}"`);
  assert.ok(!(await page.locator('#report').isVisible()), `${lang}: no report for a non-PDF`);
  check(`${lang}: a non-PDF gives the alert "${alertText}"`);

  // The cookie keeps the language on the next visit without ?lang=.
  await page.goto(`${BASE_URL}/verify`);
  assert.equal(await page.getAttribute('html', 'lang'), T.htmlLang, `${lang}: the cookie keeps the language`);
  check(`${lang}: the language cookie is kept`);
  await noErrors(errors, lang);
  await context.close();
}

// 2. No parameter, no cookie: the browser's Accept-Language decides.
{
  const { context, page, errors } = await open({ locale: 'zh-CN', extraHTTPHeaders: { 'Accept-Language': 'zh-CN,zh;q=0.9' } });
  await page.goto(`${BASE_URL}/verify`);
  await checkShell(page, 'zh', 'verify (Accept-Language: zh-CN)');
  // The switch goes to English and stays there.
  await page.locator('header nav').getByRole('link', { name: 'English', exact: true }).click();
  await page.waitForURL(/lang=en/);
  await checkShell(page, 'en', 'verify (after the switch to English)');
  await noErrors(errors, 'Accept-Language');
  await context.close();
}

// 3. A phone: 375 px wide, no horizontal scrolling, with the report shown.
{
  const { context, page, errors } = await open({ locale: 'zh-CN', viewport: { width: 375, height: 812 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  await page.goto(`${BASE_URL}/verify?lang=zh`);
  const empty = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(empty <= 375, `the empty page is ${empty}px wide at 375px`);
  await upload(page, SIGNED_PDF);
  const line = await verdictLine(page);
  assert.ok(line.includes(TEXT.zh.valid), line);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the report is ${width}px wide at 375px`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'verify-mobile-zh.png'), fullPage: false });
  check(`mobile: no horizontal scrolling (${width}px at 375px)`);
  await noErrors(errors, 'mobile');
  await context.close();
}

await browser.close();
allPassed(SCREENSHOT_DIR);
