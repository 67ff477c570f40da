// The signer's page in a real browser on a phone: playwright-core driving Debian's chromium
// headless at 375×812 with touch. Run by crates/signet/tests/web.rs, which starts the server
// and sends two contracts:
//
//   BASE_URL       the server, e.g. http://127.0.0.1:PORT
//   API_KEY        the demo organisation's API key, to read the outbox (links and codes)
//   SIGNER_1       email of the first signer of the lease (a text field, a check box; draws)
//   SIGNER_2       email of the second signer of the lease (types 李四, in Chinese)
//   DECLINER       email of the only signer of a second contract, who declines it
//   SCREENSHOT_DIR where the screenshots go (created if missing)
//   CHROMIUM       the browser (default /usr/bin/chromium)
//
// Plain Node with node:assert; exit status 0 when every check passed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allPassed, check, env, labelledInputs, launch, mailbox, openPage, screenshotDir } from './lib.mjs';

const BASE_URL = env('BASE_URL');
const API_KEY = env('API_KEY');
const SIGNER_1 = env('SIGNER_1');
const SIGNER_2 = env('SIGNER_2');
const DECLINER = env('DECLINER');
const SCREENSHOT_DIR = screenshotDir();
const PHONE = { width: 375, height: 812 };

const { mark, waitLink, waitCode } = mailbox(BASE_URL, API_KEY);
const browser = await launch();

/**
 * A fresh phone (no cookies) with its console errors collected, except the browser's own lines
 * for the API's 401 (no session) and 422 (a wrong code), which the page words itself.
 */
const phone = (locale) => openPage(browser, { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale, acceptDownloads: true }, [401, 422]);

/** What every page must have: title, html lang, one main, labelled inputs, no sideways scroll. */
async function checkShell(page, htmlLang, label) {
  assert.ok((await page.title()).trim().length > 0, `${label}: <title> is empty`);
  assert.equal(await page.getAttribute('html', 'lang'), htmlLang, `${label}: html[lang]`);
  await labelledInputs(page, label);
  await noSidewaysScroll(page, label);
}

async function noSidewaysScroll(page, label) {
  const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  assert.ok(width <= PHONE.width, `${label}: the page is ${width}px wide at ${PHONE.width}px`);
}

/** Opens a mailed link; the token leaves the address bar at once. */
async function openLink(page, token) {
  await page.goto(`${BASE_URL}/s/${token}`);
  assert.equal(page.url(), `${BASE_URL}/sign`, 'the link lands on /sign, without the token');
}

async function signingReady(page) {
  await page.locator('#sign-form').waitFor({ state: 'visible', timeout: 30_000 });
}

/** Every page picture is loaded and as wide as the column, with the fields over them. */
async function checkPages(page, pages, label) {
  const imgs = page.locator('#pages img');
  assert.equal(await imgs.count(), pages, `${label}: one picture per page`);
  for (let i = 0; i < pages; i += 1) {
    await imgs.nth(i).scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => {
      const img = document.querySelectorAll('#pages img')[n];
      return img && img.complete && img.naturalWidth > 0;
    }, i, { timeout: 60_000 });
    const alt = await imgs.nth(i).getAttribute('alt');
    assert.ok(alt && alt.length > 3, `${label}: page ${i + 1} has alt text`);
  }
  const natural = await imgs.first().evaluate((img) => [img.naturalWidth, img.clientWidth]);
  assert.ok(natural[0] >= natural[1] && natural[0] <= 2000, `${label}: the picture is drawn for this screen (${natural})`);
  await page.locator('#pages').evaluate((el) => el.scrollIntoView());
}

// 1. The first signer, in English: reads, fills, draws, a wrong code then the right one, signs.
let since = new Set();
{
  const { context, page, errors } = await phone('en-US');
  const token = await waitLink(SIGNER_1, since);
  await openLink(page, token);
  await signingReady(page);
  await checkShell(page, 'en', 'signer 1');
  assert.equal((await page.locator('#title').innerText()).trim(), '房屋租赁合同 Lease');
  assert.match(await page.locator('#number').innerText(), /Contract number \S+/);
  await checkPages(page, 2, 'signer 1');
  const boxes = await page.locator('.field-box').evaluateAll((els) => els.map((e) => e.className));
  assert.equal(boxes.length, 3, `signer 1 sees their three fields highlighted: ${boxes}`);
  const inside = await page.evaluate(() => {
    const box = document.querySelector('.field-signature').getBoundingClientRect();
    const img = document.querySelector('#pages img').getBoundingClientRect();
    return box.left >= img.left && box.right <= img.right && box.top >= img.top && box.bottom <= img.bottom && box.width > 20;
  });
  assert.ok(inside, 'the signature field is drawn over its page');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-read-en.png') });
  check('signer 1: the link became a session at /sign; title, number, both pages as pictures, three fields highlighted');

  await page.getByLabel('Text 1 (page 1)').fill('Flat 3B, 12 Garden Road');
  await page.getByLabel('Check box 1 (page 1)').check();
  assert.equal(await page.locator('.field-text .field-value').innerText(), 'Flat 3B, 12 Garden Road');

  since = await mark();
  await page.getByRole('button', { name: 'Send code', exact: true }).click();
  await page.locator('#code-sent').filter({ hasText: 'w***@example.com' }).waitFor();
  const code = await waitCode(SIGNER_1, since);
  const codeInput = page.getByLabel('Verification code', { exact: true });
  assert.equal(await codeInput.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await codeInput.getAttribute('inputmode'), 'numeric');
  await page.locator('#code-step').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-code-en.png') });
  check('signer 1: "Send code" mails a code; one Verification code input with autocomplete=one-time-code');

  // Draw: a mouse stroke, cleared, then a finger (touch events through the DevTools protocol).
  assert.ok(await page.getByText('Draw', { exact: true }).isVisible() && await page.getByText('Type', { exact: true }).isVisible(), 'Draw and Type are a visible choice');
  const pad = page.locator('canvas#pad');
  await pad.scrollIntoViewIfNeeded();
  let r = await pad.boundingBox();
  await page.mouse.move(r.x + 20, r.y + 30);
  await page.mouse.down();
  await page.mouse.move(r.x + 120, r.y + 90, { steps: 8 });
  await page.mouse.up();
  assert.ok(await pad.evaluate((c) => c.classList.contains('inked')), 'the mouse draws');
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  assert.ok(!(await pad.evaluate((c) => c.classList.contains('inked'))), 'Clear empties the pad');
  r = await pad.boundingBox();
  const cdp = await context.newCDPSession(page);
  const touch = (type, x, y) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: r.x + x, y: r.y + y }] });
  await touch('touchStart', 30, 100);
  for (let i = 1; i <= 24; i += 1) {
    await touch('touchMove', 30 + i * 11, 100 - 50 * Math.sin(i / 3.5) + i);
  }
  await touch('touchEnd', 0, 0);
  assert.ok(await pad.evaluate((c) => c.classList.contains('inked')), 'a finger draws');
  const inked = await pad.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1;
    return n;
  });
  assert.ok(inked > 200, `the stroke left ink (${inked} pixels)`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-draw-en.png') });
  check(`signer 1: draws with the mouse and with a finger on the canvas (${inked} pixels of ink)`);

  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  await codeInput.fill(wrong);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: 'wrong' }).waitFor();
  const alertText = (await alert.innerText()).trim();
  assert.match(alertText, /The code is wrong; 4 tries left/, alertText);
  check(`signer 1: a wrong code says "${alertText}"`);

  await codeInput.fill(code);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await page.locator('#done').waitFor({ state: 'visible', timeout: 60_000 });
  assert.equal((await page.locator('#done-title').innerText()).trim(), 'You have signed');
  assert.ok(await page.locator('#sign-form').isHidden() && await page.locator('#error').isHidden(), 'the form and the alert are gone');
  assert.equal(await page.locator('#downloads').isVisible(), false, 'no download before everyone signed');
  await noSidewaysScroll(page, 'signer 1 done');
  check('signer 1: signs; "You have signed", no download yet');
  assert.deepEqual(errors, [], 'signer 1: console errors');
  await context.close();
}

// 2. The second signer, in Chinese (?lang=zh): types 李四, signs, downloads the signed PDF.
{
  const { context, page, errors } = await phone('zh-CN');
  const token = await waitLink(SIGNER_2, since);
  await openLink(page, token);
  await page.goto(`${BASE_URL}/sign?lang=zh`);
  await signingReady(page);
  await checkShell(page, 'zh-CN', 'signer 2');
  for (const word of ['签署', '获取验证码', '手写', '键入', '验证码', '签名', '我要拒签']) {
    assert.ok(await page.getByText(word, { exact: true }).first().isVisible(), `zh: "${word}" is shown`);
  }
  await checkPages(page, 2, 'signer 2');
  assert.equal(await page.locator('.field-box').count(), 1, 'signer 2 sees only their own field');
  assert.equal(await page.locator('#fields-step').isHidden(), true, 'no inputs: signer 2 has no text field');
  check('zh: 签署, 获取验证码, 手写, 键入 on the page; the pictures; only their own field');

  since = await mark();
  await page.getByRole('button', { name: '获取验证码', exact: true }).click();
  await page.locator('#code-sent').filter({ hasText: 'l***@example.com' }).waitFor();
  const code = await waitCode(SIGNER_2, since);
  await page.locator('label[for=mode-type]').click();
  assert.ok(await page.locator('#pad').isHidden(), 'Type hides the pad');
  await page.getByLabel('输入姓名作为签名').fill('李四');
  assert.equal((await page.locator('#typed-preview').innerText()).trim(), '李四', 'the preview shows the typed name');
  await page.getByLabel('验证码', { exact: true }).fill(code);
  await page.locator('#signature-step').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-typed-zh.png') });
  await page.getByRole('button', { name: '签署', exact: true }).click();
  await page.locator('#done').waitFor({ state: 'visible', timeout: 90_000 });
  assert.equal((await page.locator('#done-title').innerText()).trim(), '全部签署完成');
  const download = page.getByRole('link', { name: '下载已签署文件', exact: true });
  assert.ok(await download.isVisible(), 'the download link is shown');
  assert.ok(await page.getByRole('link', { name: '签约存证报告', exact: true }).isVisible(), 'the evidence report link is shown');
  // The pictures now show the signed version (both signatures on it).
  await checkPages(page, 2, 'signer 2 done');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-done-zh-full.png'), fullPage: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-done-zh.png') });
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  const pdf = readFileSync(await file.path());
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'the download is a PDF');
  await noSidewaysScroll(page, 'signer 2 done');
  check(`zh: types 李四, signs; 全部签署完成; 下载已签署文件 downloads the signed PDF (${pdf.length} bytes)`);
  assert.deepEqual(errors, [], 'signer 2: console errors');
  await context.close();
}

// 3. A decline with a reason, on the other contract.
{
  const { context, page, errors } = await phone('en-US');
  const token = await waitLink(DECLINER, new Set());
  await openLink(page, token);
  await signingReady(page);
  await page.getByRole('button', { name: 'I want to decline', exact: true }).click();
  await page.getByRole('button', { name: 'Decline', exact: true }).click();
  assert.match(await page.getByRole('alert').innerText(), /Give a reason/, 'a reason is asked for');
  await page.getByLabel('Reason for declining').fill('The wrong rent is written on page 1.');
  await page.getByRole('button', { name: 'Decline', exact: true }).click();
  assert.ok(await page.locator('#decline-confirm').isVisible(), 'declining asks for a confirmation');
  await page.getByRole('button', { name: 'Yes, decline', exact: true }).click();
  await page.locator('#ended').waitFor({ state: 'visible' });
  assert.equal((await page.locator('#ended-title').innerText()).trim(), 'You declined this contract');
  assert.ok(await page.locator('#sign-form').isHidden(), 'nothing left to sign');
  await noSidewaysScroll(page, 'declined');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-declined-en.png') });
  check('decline: a reason, a confirmation, then "You declined this contract"');
  // Coming back later shows the same state.
  await page.reload();
  await page.locator('#ended').waitFor({ state: 'visible' });
  assert.equal((await page.locator('#ended-title').innerText()).trim(), 'You declined this contract');
  assert.deepEqual(errors, [], 'decline: console errors');
  await context.close();
}

// 4. A link that is not (or no longer) valid, and /sign without any session.
{
  const { context, page, errors } = await phone('en-US');
  await page.goto(`${BASE_URL}/s/this-is-not-a-real-signing-token-0000`);
  assert.equal(page.url(), `${BASE_URL}/sign`);
  await page.locator('#ended').waitFor({ state: 'visible' });
  const text = await page.locator('#ended').innerText();
  assert.match(text, /This link has expired or is not valid; ask the sender for a new one\./, text);
  await checkShell(page, 'en', 'dead link');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'sign-dead-link-en.png') });
  await page.goto(`${BASE_URL}/sign?lang=zh`);
  await page.locator('#ended').waitFor({ state: 'visible' });
  assert.match(await page.locator('#ended').innerText(), /该链接已过期或无效/);
  check('a dead link, and /sign without a session: "This link has expired or is not valid; ask the sender for a new one."');
  assert.deepEqual(errors, [], 'dead link: console errors');
  await context.close();
}

await browser.close();
allPassed(SCREENSHOT_DIR);
