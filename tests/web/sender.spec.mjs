// The sender's and administrator's pages in a real browser: playwright-core driving Debian's
// chromium headless. Run by crates/signet/tests/web.rs, which starts the server and creates,
// through the API, twelve contracts (one sent, eleven drafts — over the dashboard's page of 10)
// and a thirteenth, the newest, whose stored record it damaged:
//
//   BASE_URL                     the server, e.g. http://127.0.0.1:PORT
//   ADMIN_EMAIL, ADMIN_PASSWORD  the demo administrator (demo-credentials.json)
//   SENT_ID, SENT_TITLE, SENT_NUMBER   the sent contract
//   DRAFT_ID, DRAFT_TITLE        a draft
//   DAMAGED_ID                   the contract whose record does not open
//   SCREENSHOT_DIR               where the screenshots go (created if missing)
//   CHROMIUM                     the browser (default /usr/bin/chromium)
//
// Plain Node with node:assert; exit status 0 when every check passed.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { allPassed, check, checkPageShell, env, launch, openPage, screenshotDir } from './lib.mjs';

const BASE_URL = env('BASE_URL');
const ADMIN_EMAIL = env('ADMIN_EMAIL');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const SENT_ID = env('SENT_ID');
const SENT_TITLE = env('SENT_TITLE');
const SENT_NUMBER = env('SENT_NUMBER');
const DRAFT_ID = env('DRAFT_ID');
const DRAFT_TITLE = env('DRAFT_TITLE');
const DAMAGED_ID = env('DAMAGED_ID');
const SCREENSHOT_DIR = screenshotDir();

const VOID_REASON = 'Wrong counterparty 签约方有误';
const MEMBER_EMAIL = 'new.sender@example.com';
const MEMBER_NAME = 'New Sender 新成员';
const MEMBER_NEW_PASSWORD = 'a-new-password-2025';

// --- TOTP (RFC 6238, SHA-1, 6 digits, 30 s), as an authenticator app computes it -------------

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function totp(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

const step = () => Math.floor(Date.now() / 1000 / 30);

// RFC 6238 appendix B: the SHA-1 key "12345678901234567890" at T=59 gives …287082.
assert.equal(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');

// --- the browser ----------------------------------------------------------------------------------

const browser = await launch();

/**
 * A fresh browser context (no cookies) with its console errors collected, except the API's
 * 401/403/404/429 answers the tests provoke on purpose; dialogs accepted.
 */
async function open(options = {}) {
  const opened = await openPage(browser, { viewport: { width: 1100, height: 900 }, ...options }, [401, 403, 404, 429]);
  opened.page.on('dialog', (d) => d.accept());
  return opened;
}

const LANG = { en: 'en', zh: 'zh-CN' };

/** What every page must have: title, html lang, one main, a label on every input, the switch. */
async function checkShell(page, lang, label) {
  const title = await checkPageShell(page, LANG[lang], label);
  check(`${label}: title "${title}", html lang ${LANG[lang]}, one main, labelled inputs, language switch`);
}

async function noErrors(errors, label) {
  assert.deepEqual(errors, [], `${label}: console errors`);
}

/** Fills the sign-in form and submits it. */
async function signIn(page, email, password) {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-submit');
}

async function alertText(page) {
  const alert = page.locator('main [role=alert]').first();
  await alert.waitFor({ state: 'visible', timeout: 30_000 });
  return (await alert.innerText()).trim();
}

/** The dashboard's rows once loaded (the table, or the empty state). */
async function rows(page) {
  await page.waitForFunction(() => {
    const empty = document.getElementById('empty');
    const status = document.getElementById('status');
    return (document.querySelector('#contracts table') || (empty && !empty.hidden)) && status && status.textContent === '';
  }, null, { timeout: 30_000 });
  return page.locator('#contracts tbody tr');
}

async function titles(page) {
  return (await rows(page)).locator('td:first-child a').allInnerTexts();
}

async function noHorizontalScroll(page, label) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `${label} is ${width}px wide at 375px`);
  check(`${label}: no horizontal scrolling (${width}px at 375px)`);
}

// 1. English: sign-in, dashboard, contract, admin; then sign out.
let memberPassword;
{
  const { context, page, errors } = await open({ locale: 'en-US' });
  await page.goto(`${BASE_URL}/?lang=en`);
  await page.waitForURL(/\/login$/);
  await checkShell(page, 'en', 'login (en)');
  assert.equal((await page.locator('h1').innerText()).trim(), 'Sign in');
  assert.equal((await page.locator('#login-submit').innerText()).trim(), 'Sign in');
  assert.ok(await page.locator('main a[href="/verify"]').isVisible(), 'a link to /verify');
  assert.ok(!(await page.locator('#totp-code').isVisible()), 'no code field before it is asked for');

  await signIn(page, ADMIN_EMAIL, 'not-the-password');
  const wrong = await alertText(page);
  assert.match(wrong, /email or the password is wrong/, wrong);
  assert.equal(new URL(page.url()).search, '', 'no secret in the URL');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'login-en.png'), fullPage: true });
  check(`login: a wrong password gives the alert "${wrong}"`);

  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.waitForURL(/\/app$/);
  await checkShell(page, 'en', 'dashboard (en)');
  for (const name of ['Contracts', 'New contract', 'Admin', 'Account']) {
    assert.ok(await page.locator('header nav.app-nav').getByRole('link', { name, exact: true }).isVisible(), `nav: ${name}`);
  }
  assert.ok(await page.locator('header').getByRole('button', { name: 'Sign out' }).isVisible(), 'nav: Sign out');
  check('login: the demo administrator is signed in; the navigation has Contracts, New contract, Admin, Account, Sign out');

  // Pages of ten: twelve contracts are 10 + 2.
  assert.equal(await (await rows(page)).count(), 10, 'the first page has 10 contracts');
  const first = await titles(page);
  assert.equal(await page.locator('#page-number').innerText(), 'Page 1');
  assert.ok(await page.locator('#prev').isDisabled(), 'no Previous on page 1');
  const unreadable = page.locator('#unreadable');
  assert.ok(await unreadable.isVisible(), 'the damaged contract is named above the list');
  const said = await unreadable.innerText();
  assert.ok(said.startsWith('1 contract(s) here could not be read') && said.includes(DAMAGED_ID) && said.includes('signet admin check'), said);
  check(`dashboard: a contract whose record does not open is named, not listed: "${said}"`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-en.png'), fullPage: true });
  await page.setViewportSize({ width: 900, height: 640 });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-en-small.png') });
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.click('#next');
  await page.waitForFunction(() => document.getElementById('page-number').textContent === 'Page 2');
  const second = await titles(page);
  assert.equal(second.length, 2, `the second page has 2 contracts: ${second}`);
  assert.ok(await page.locator('#next').isDisabled(), 'no Next on the last page');
  assert.ok(!(await unreadable.isVisible()), 'the damaged contract is named with the page it falls in, not with the second');
  const all = [...first, ...second];
  assert.equal(new Set(all).size, 12, `12 different contracts: ${all}`);
  assert.ok(all.includes(SENT_TITLE) && all.includes(DRAFT_TITLE), `both contracts are listed: ${all}`);
  await page.click('#prev');
  await page.waitForFunction(() => document.getElementById('page-number').textContent === 'Page 1');
  assert.deepEqual(await titles(page), first, 'Previous goes back to the same first page');
  check('dashboard: 10 + 2 contracts over two pages, Next and Previous');

  const created = await (await rows(page)).first().locator('td').nth(4).innerText();
  assert.match(created, /2\d{3}/, `the list shows dates: "${created}"`);

  // The damaged contract's own page (a 500, in a tab of its own so the browser's line for the
  // status is not counted) says what is wrong and that retrying will not help.
  const damagedTab = await context.newPage();
  const damagedAnswer = await damagedTab.goto(`${BASE_URL}/app/contracts/${DAMAGED_ID}`);
  assert.equal(damagedAnswer.status(), 500);
  const damagedSaid = await alertText(damagedTab);
  assert.match(damagedSaid, /^This cannot be read: a stored record it needs does not open/, damagedSaid);
  await damagedTab.close();
  check(`contract page: a contract whose record does not open says so: "${damagedSaid}"`);

  // The status tabs.
  await page.locator('nav.tabs').getByRole('link', { name: 'Sent', exact: true }).click();
  await page.waitForURL(/status=sent/);
  assert.deepEqual(await titles(page), [SENT_TITLE], 'Sent shows the sent contract');
  assert.equal(await page.locator('nav.tabs a[aria-current="page"]').innerText(), 'Sent');
  assert.equal((await (await rows(page)).first().locator('.badge').innerText()).trim(), 'Sent');
  await page.locator('nav.tabs').getByRole('link', { name: 'Draft', exact: true }).click();
  await page.waitForURL(/status=draft/);
  assert.equal(await (await rows(page)).count(), 10, 'Draft: a full first page');
  assert.ok(!(await titles(page)).includes(SENT_TITLE));
  await page.locator('nav.tabs').getByRole('link', { name: 'Completed', exact: true }).click();
  await page.waitForURL(/status=completed/);
  await rows(page);
  assert.ok(await page.locator('#empty').isVisible(), 'Completed: the empty state');
  check('dashboard: the status tabs filter (Sent, Draft, Completed empty)');

  // The search box: by title, by number, within a tab.
  await page.goto(`${BASE_URL}/app`);
  await rows(page);
  await page.fill('#search', 'supply');
  await page.click('#search-form button[type=submit]');
  await page.waitForURL(/text=supply/);
  assert.deepEqual(await titles(page), [DRAFT_TITLE], 'search by title');
  assert.equal(await page.inputValue('#search'), 'supply', 'the search box keeps its text');
  await page.fill('#search', SENT_NUMBER);
  await page.click('#search-form button[type=submit]');
  await page.waitForURL(new RegExp(`text=${SENT_NUMBER}`));
  assert.deepEqual(await titles(page), [SENT_TITLE], 'search by number');
  await page.fill('#search', 'no such contract');
  await page.click('#search-form button[type=submit]');
  await rows(page);
  assert.ok(await page.locator('#empty').isVisible(), 'no match: the empty state');
  check('dashboard: search by title and by number; no match shows the empty state');

  // The contract: timeline, Remind, downloads, Void.
  await page.goto(`${BASE_URL}/app?text=${encodeURIComponent('Lease')}`);
  await rows(page);
  await page.getByRole('link', { name: SENT_TITLE }).click();
  await page.waitForURL(new RegExp(`/app/contracts/${SENT_ID}$`));
  await page.locator('#timeline li').first().waitFor();
  await checkShell(page, 'en', 'contract (en)');
  assert.equal(await page.locator('#contract-title').innerText(), SENT_TITLE);
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), 'Sent');
  const kinds = await page.locator('#timeline li .event-kind').allInnerTexts();
  assert.ok(kinds.includes('Created') && kinds.includes('Sent') && kinds.includes('Notified'), `timeline: ${kinds}`);
  assert.match(await page.locator('#timeline li[data-type=created]').innerText(), /IP 127\.0\.0\.1/, 'the timeline shows the address');
  assert.match(await page.locator('#recipients').innerText(), /张三/);
  await page.click('#remind');
  await page.waitForFunction(() => /Reminder sent to 1 signer/.test(document.getElementById('status').textContent));
  assert.match(await page.locator('#timeline li[data-type=reminded]').innerText(), /Reminded.*张三/);
  check('contract: the timeline (created, sent, notified, with the address); Remind adds "Reminded"');

  for (const [name, type] of [['Download PDF', 'application/pdf'], ['Evidence report', 'application/pdf'], ['Evidence bundle', 'application/zip']]) {
    const link = page.locator('#downloads').getByRole('link', { name, exact: true });
    const href = await link.getAttribute('href');
    assert.ok(href.startsWith('/api/v1/contracts/'), href);
    const res = await page.request.get(BASE_URL + href);
    assert.equal(res.status(), 200, `${name}: ${href}`);
    assert.ok(res.headers()['content-type'].startsWith(type), `${name}: ${res.headers()['content-type']}`);
  }
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'detail-en.png'), fullPage: true });
  check('contract: Download PDF, Evidence report and Evidence bundle download with the session cookie');

  await page.fill('#void-reason', VOID_REASON);
  await page.click('#void-form button[type=submit]');
  await page.locator('#timeline li[data-type=voided]').waitFor();
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), 'Voided');
  assert.ok((await page.locator('#timeline li[data-type=voided]').innerText()).includes(VOID_REASON), 'the reason is in the timeline');
  assert.ok(!(await page.locator('#remind').isVisible()) && !(await page.locator('#void-form').isVisible()), 'no Remind or Void on a voided contract');
  check('contract: Void with a reason (after the confirmation) makes it Voided');

  await page.goto(`${BASE_URL}/app/contracts/ct_nothing_here`);
  assert.match(await alertText(page), /no such contract/);
  check('contract: an unknown id says "not found"');

  await page.goto(`${BASE_URL}/app/contracts/new`);
  await checkShell(page, 'en', 'new contract (en)');
  assert.equal(await page.locator('h1').innerText(), 'New contract');

  // Administration: an API key shown once and revoked; a member added with a first password.
  await page.goto(`${BASE_URL}/app/admin`);
  await page.locator('#members table').waitFor();
  await page.locator('#keys table').waitFor();
  await checkShell(page, 'en', 'admin (en)');
  assert.ok((await page.locator('#members').innerText()).includes(ADMIN_EMAIL), 'the administrator is a member');
  await page.fill('#key-name', 'Build server');
  await page.selectOption('#key-role', 'sender');
  await page.click('#key-form button[type=submit]');
  await page.locator('#key-secret .secret-value').waitFor();
  const secret = (await page.locator('#key-secret .secret-value').innerText()).trim();
  assert.match(secret, /^sk_/, 'the secret is shown');
  assert.ok(await page.locator('#key-secret').getByRole('button', { name: 'Copy' }).isVisible(), 'a copy button');
  const withKey = await fetch(`${BASE_URL}/api/v1/contracts?limit=1`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(withKey.status, 200, 'the new key works');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'admin-en.png'), fullPage: true });
  await page.reload();
  await page.locator('#keys tr[data-name="Build server"]').waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is shown once only');
  await page.locator('#keys tr[data-name="Build server"]').getByRole('button', { name: 'Revoke' }).click();
  await page.waitForFunction(() => /Revoked/.test(document.querySelector('#keys tr[data-name="Build server"] .key-state')?.textContent || ''));
  const revoked = await fetch(`${BASE_URL}/api/v1/contracts?limit=1`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(revoked.status, 401, 'the revoked key is refused');
  check('admin: an API key is created (its secret shown once, with Copy) and revoked');

  await page.fill('#member-email', MEMBER_EMAIL);
  await page.fill('#member-name', MEMBER_NAME);
  await page.selectOption('#member-role', 'sender');
  await page.click('#member-form button[type=submit]');
  await page.locator('#member-secret .secret-value').waitFor();
  memberPassword = (await page.locator('#member-secret .secret-value').innerText()).trim();
  assert.ok(memberPassword.length >= 20, 'a first password is shown');
  await page.locator(`#members tr[data-email="${MEMBER_EMAIL}"]`).waitFor();
  assert.equal(await page.locator(`#members tr[data-email="${MEMBER_EMAIL}"] select`).inputValue(), 'sender');
  check('admin: a member is added and their first password shown');

  await page.locator('#outbox li').first().waitFor();
  await page.selectOption('#outbox-channel', 'email');
  await page.waitForFunction(() => document.querySelectorAll('#outbox li[data-channel="email"]').length > 0);
  assert.match(await page.locator('#outbox').innerText(), /zhang\.san@example\.com/);
  await page.selectOption('#outbox-channel', 'sms');
  await page.waitForFunction(() => !document.querySelector('#outbox li[data-channel="email"]'));
  check('admin: the outbox lists the messages, filtered by channel');
  // The answer to an older filter that arrives last is dropped, not drawn over the newer one.
  const emailOutbox = /\/api\/v1\/outbox\?.*channel=email/;
  await page.route(emailOutbox, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.selectOption('#outbox-channel', 'email');
  await page.selectOption('#outbox-channel', 'sms');
  await page.waitForTimeout(2500);
  assert.equal(await page.locator('#outbox li[data-channel="email"]').count(), 0, 'the slower answer to the email filter was dropped');
  await page.unroute(emailOutbox);
  check('admin: a slow answer to an older filter is not drawn over the newer one');
  await page.locator('#jobs tr[data-kind="notify"]').first().waitFor();
  assert.match(await page.locator('#jobs-counts').innerText(), /Done \d+/);
  assert.ok((await page.locator('#jobs').innerText()).includes('Messages'), 'the jobs are named in the page language');
  check('admin: the background jobs are listed with their counts per state');

  await page.locator('header').getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${BASE_URL}/app`);
  await page.waitForURL(/\/login$/);
  check('sign out: back to /login, and /app needs signing in again');
  await noErrors(errors, 'en');
  await context.close();
}

// 2. The new member: signs in with the first password, is a sender (no Admin), changes the
// password, turns the second factor on; the next sign-in asks for the code.
{
  const { context, page, errors } = await open({ locale: 'en-GB' });
  await page.goto(`${BASE_URL}/login?lang=en`);
  await signIn(page, MEMBER_EMAIL, memberPassword);
  await page.waitForURL(/\/app$/);
  await rows(page);
  assert.ok(await page.locator('#empty').isVisible(), 'a new sender has no contracts yet: the empty state');
  assert.equal(await page.locator('header nav.app-nav').getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin for a sender');
  const res = await page.goto(`${BASE_URL}/app/admin`);
  assert.equal(res.status(), 403);
  assert.match(await alertText(page), /not allowed/);
  check('member: signs in with the first password; sees no Admin; /app/admin says not allowed');

  await page.goto(`${BASE_URL}/app/account`);
  await page.locator('#totp-state[data-totp=off]').waitFor();
  await checkShell(page, 'en', 'account (en)');
  assert.match(await page.locator('#who').innerText(), new RegExp(MEMBER_EMAIL.replace(/\./g, '\\.')));
  await page.fill('#current-password', memberPassword);
  await page.fill('#new-password', MEMBER_NEW_PASSWORD);
  await page.click('#password-form button[type=submit]');
  await page.waitForFunction(() => /password is changed/.test(document.getElementById('status').textContent));
  check('account: the password is changed');

  await page.click('#totp-setup');
  await page.locator('#totp-secret').waitFor();
  const totpSecret = (await page.locator('#totp-secret').innerText()).trim();
  assert.match(await page.locator('#totp-uri').innerText(), /^otpauth:\/\/totp\/Signet:/);
  assert.match(totpSecret, /^[A-Z2-7]{32}$/);
  const confirmedAt = step();
  await page.fill('#totp-confirm-code', totp(totpSecret, confirmedAt));
  await page.click('#totp-confirm-form button[type=submit]');
  await page.locator('#totp-state[data-totp=on]').waitFor();
  check('account: two-step verification is turned on with a code computed from the shown secret');

  await page.locator('header').getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await signIn(page, MEMBER_EMAIL, MEMBER_NEW_PASSWORD);
  const asked = await alertText(page);
  assert.match(asked, /authenticator code/, asked);
  assert.ok(await page.locator('#totp-code').isVisible(), 'the code field appears');
  await page.fill('#totp-code', '000000' === totp(totpSecret, confirmedAt + 1) ? '111111' : '000000');
  await page.click('#login-submit');
  await page.waitForFunction(() => /wrong/.test(document.getElementById('error').textContent));
  // Each code is good once: the next time step's code (within the accepted skew).
  await page.fill('#totp-code', totp(totpSecret, confirmedAt + 1));
  await page.click('#login-submit');
  await page.waitForURL(/\/app$/);
  check(`login: with the second factor on, sign-in asks for the code ("${asked}"), refuses a wrong one, accepts the right one`);

  // Turning it off takes a current code not used yet: the step after the sign-in's, once the
  // clock is within one step of it.
  await page.goto(`${BASE_URL}/app/account`);
  await page.locator('#totp-state[data-totp=on]').waitFor();
  while (step() < confirmedAt + 1) await new Promise((r) => setTimeout(r, 500));
  await page.fill('#totp-disable-code', totp(totpSecret, confirmedAt + 2));
  await page.click('#totp-disable-form button[type=submit]');
  await page.locator('#totp-state[data-totp=off]').waitFor();
  check('account: two-step verification is turned off with a current code');
  await noErrors(errors, 'member');
  await context.close();
}

// 3. Chinese: every page in Chinese, with screenshots.
{
  const { context, page, errors } = await open({ locale: 'zh-CN' });
  await page.goto(`${BASE_URL}/login?lang=zh`);
  await checkShell(page, 'zh', 'login (zh)');
  assert.equal((await page.locator('h1').innerText()).trim(), '登录');
  assert.equal((await page.locator('#login-submit').innerText()).trim(), '登录');
  await signIn(page, ADMIN_EMAIL, 'not-the-password');
  assert.match(await alertText(page), /邮箱或密码错误/);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'login-zh.png'), fullPage: true });
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.waitForURL(/\/app$/);
  await rows(page);
  await checkShell(page, 'zh', 'dashboard (zh)');
  const header = await page.locator('header').innerText();
  for (const word of ['合同', '新建合同', '管理', '账户', '退出登录']) assert.ok(header.includes(word), `header: ${word}`);
  const tabs = await page.locator('nav.tabs').innerText();
  for (const word of ['全部', '草稿', '已发送', '签署中', '已完成', '已拒签', '已撤销', '已过期']) assert.ok(tabs.includes(word), `tabs: ${word}`);
  assert.equal((await page.locator('#next').innerText()).trim(), '下一页');
  assert.equal(await page.locator('#page-number').innerText(), '第 1 页');
  assert.match(await page.locator('#unreadable').innerText(), new RegExp(`^此处有 1 份合同无法读取.*${DAMAGED_ID}`));
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-zh.png'), fullPage: true });
  check('zh: sign-in and the dashboard in Chinese (登录, 合同, 已发送, 签署中, 已完成, 下一页, 无法读取)');

  await page.goto(`${BASE_URL}/app/contracts/${SENT_ID}`);
  await page.locator('#timeline li[data-type=voided]').waitFor();
  await checkShell(page, 'zh', 'contract (zh)');
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), '已撤销');
  const zhKinds = await page.locator('#timeline .event-kind').allInnerTexts();
  assert.ok(zhKinds.includes('已创建') && zhKinds.includes('已提醒') && zhKinds.includes('已撤销'), `timeline: ${zhKinds}`);
  assert.ok(await page.locator('#downloads').getByRole('link', { name: '存证报告' }).isVisible());
  assert.ok(await page.locator('#downloads').getByRole('link', { name: '证据包' }).isVisible());
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'detail-zh.png'), fullPage: true });
  await page.setViewportSize({ width: 900, height: 640 });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'detail-zh-small.png') });
  await page.setViewportSize({ width: 1100, height: 900 });

  await page.goto(`${BASE_URL}/app/contracts/${DRAFT_ID}`);
  await page.locator('#timeline li').first().waitFor();
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), '草稿');
  assert.ok(!(await page.locator('#remind').isVisible()), 'no Remind on a draft');
  assert.equal((await page.locator('#void-form button').innerText()).trim(), '撤销');
  check('zh: the contract page in Chinese (已撤销, 已提醒, 存证报告, 证据包; a draft can be voided, not reminded)');

  for (const [path, heading] of [['/app/admin', '管理'], ['/app/account', '账户'], ['/app/contracts/new', '新建合同']]) {
    await page.goto(`${BASE_URL}${path}`);
    await checkShell(page, 'zh', `${path} (zh)`);
    assert.equal((await page.locator('h1').innerText()).trim(), heading);
  }
  await page.goto(`${BASE_URL}/app/admin`);
  await page.locator('#keys table').waitFor();
  await page.locator('#outbox li').first().waitFor();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'admin-zh.png'), fullPage: true });

  // The switch goes to English and stays there.
  await page.locator('header nav.langs').getByRole('link', { name: 'English', exact: true }).click();
  await page.waitForURL(/lang=en/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.goto(`${BASE_URL}/app`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the cookie keeps English');
  check('zh: every page in Chinese; the switch goes to English and the cookie keeps it');
  await noErrors(errors, 'zh');
  await context.close();
}

// 4. No parameter, no cookie: the browser's Accept-Language decides.
{
  const { context, page, errors } = await open({ locale: 'zh-CN', extraHTTPHeaders: { 'Accept-Language': 'zh-CN,zh;q=0.9' } });
  await page.goto(`${BASE_URL}/login`);
  await checkShell(page, 'zh', 'login (Accept-Language: zh-CN)');
  // Ten failed sign-ins for an account: the eleventh attempt is refused with 429.
  for (let i = 0; i < 10; i += 1) {
    const r = await fetch(`${BASE_URL}/api/v1/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'locked@example.com', password: `guess-${i}` }),
    });
    assert.equal(r.status, 401);
  }
  await signIn(page, 'locked@example.com', 'one-more-guess');
  const limited = await alertText(page);
  assert.match(limited, /登录失败次数过多/, limited);
  check(`login: after ten failures the page says "${limited}"`);
  await noErrors(errors, 'Accept-Language');
  await context.close();
}

// 5. A phone: 375 px wide, no horizontal scrolling on /login and /app.
{
  const { context, page, errors } = await open({ locale: 'zh-CN', viewport: { width: 375, height: 812 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  await page.goto(`${BASE_URL}/login?lang=zh`);
  await noHorizontalScroll(page, '/login');
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.waitForURL(/\/app$/);
  await rows(page);
  await noHorizontalScroll(page, '/app');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-mobile-zh.png'), fullPage: false });
  await page.goto(`${BASE_URL}/app/contracts/${SENT_ID}`);
  await page.locator('#timeline li').first().waitFor();
  await noHorizontalScroll(page, `/app/contracts/${SENT_ID}`);
  await page.goto(`${BASE_URL}/app/admin`);
  await page.locator('#keys table').waitFor();
  await noHorizontalScroll(page, '/app/admin');
  await noErrors(errors, 'mobile');
  await context.close();
}

await browser.close();
allPassed(SCREENSHOT_DIR);
