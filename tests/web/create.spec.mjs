// Creating a contract in a real browser (/app/contracts/new): playwright-core driving Debian's
// chromium headless. Run by crates/signet/tests/web.rs, which starts the server and afterwards
// checks the contract through the API, has it signed and verifies the signed PDF.
//
//   BASE_URL                     the server, e.g. http://127.0.0.1:PORT
//   ADMIN_EMAIL, ADMIN_PASSWORD  the demo administrator (demo-credentials.json)
//   PDF                          a two-page PDF to upload (its name gives the default title)
//   SIGNER_A, SIGNER_B           the two signers' email addresses
//   API_KEY                      the demo organisation's API key, to read the outbox (links, codes)
//   SCREENSHOT_DIR               where the screenshots go (created if missing)
//   SIGNED_PDF_OUT               where the sender's download of the signed PDF is saved
//   CHROMIUM                     the browser (default /usr/bin/chromium)
//
// It prints `contract: ID` and `placed: JSON` (each field's page and rect in PDF points, as the
// page showed it) for the Rust side. Then both signers sign on the signer's page (typed names),
// through the links and codes the platform mailed, and the sender downloads the signed PDF from
// the contract's page. Plain Node with node:assert; exit status 0 when all passed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { allPassed, check, env, labelledInputs, launch, mailbox, openPage, screenshotDir } from './lib.mjs';

const BASE_URL = env('BASE_URL');
const ADMIN_EMAIL = env('ADMIN_EMAIL');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const PDF = env('PDF');
const SIGNER_A = env('SIGNER_A');
const SIGNER_B = env('SIGNER_B');
const API_KEY = env('API_KEY');
const SCREENSHOT_DIR = screenshotDir();
const SIGNED_PDF_OUT = env('SIGNED_PDF_OUT');

const { mark, waitLink, waitCode } = mailbox(BASE_URL, API_KEY);
const browser = await launch();

/** A fresh browser context; the API's refusals the test provokes on purpose are not errors. */
const open = (options = {}) => openPage(browser, { viewport: { width: 1100, height: 900 }, ...options }, [401, 404, 409, 422]);

async function signIn(page, lang) {
  await page.goto(`${BASE_URL}/login?lang=${lang}`);
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('#login-submit');
  await page.waitForURL(/\/app$/);
}

/** Waits until every page picture of step 2 has loaded. */
async function picturesLoaded(page) {
  await page.locator('#place-step').waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('#place-pages img')];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 60_000 });
}

/** Each placed field as the page shows it: kind, recipient, page, rect in PDF points. */
async function placedFields(page) {
  return page.evaluate(() => [...document.querySelectorAll('.placed-field')].map((f) => {
    const fig = f.closest('.place-page');
    const box = fig.querySelector('img').getBoundingClientRect();
    const r = f.getBoundingClientRect();
    const d = window.__pageSizes[`${fig.dataset.document}/${fig.dataset.page}`];
    const s = d[0] / box.width;
    return {
      kind: f.dataset.kind,
      recipient: f.dataset.recipient,
      document: Number(fig.dataset.document),
      page: Number(fig.dataset.page),
      rect: [(r.left - box.left) * s, d[1] - (r.bottom - box.top) * s, (r.right - box.left) * s, d[1] - (r.top - box.top) * s],
    };
  }));
}

/** Drags the palette item `kind` onto `target` at (x, y) of it (HTML5 drag and drop). */
async function dragField(page, kind, target, x, y) {
  const ids = () => page.locator('.placed-field').evaluateAll((fs) => fs.map((f) => f.dataset.field));
  const before = await ids();
  // The palette stays in view (sticky) while the page scrolls to the target first.
  await target.scrollIntoViewIfNeeded();
  await page.locator(`#palette [data-kind="${kind}"]`).dragTo(target, { targetPosition: { x, y } });
  await page.waitForFunction((n) => document.querySelectorAll('.placed-field').length === n + 1, before.length);
  const id = (await ids()).find((i) => !before.includes(i));
  return page.locator(`.placed-field[data-field="${id}"]`);
}

const pageOf = (page, n) => page.locator(`.place-page[data-document="1"][data-page="${n}"]`);

// 1. English, on a desktop: the whole flow.
let contractId;
let sinceSend;
{
  // Tall enough for a whole page picture, so every drop point is on the screen.
  const { context, page, errors } = await open({ locale: 'en-US', viewport: { width: 900, height: 1400 } });
  await signIn(page, 'en');
  await page.goto(`${BASE_URL}/app/contracts/new`);
  assert.equal((await page.locator('h1').innerText()).trim(), 'New contract');
  assert.equal(await page.locator('header nav.app-nav a[aria-current="page"]').innerText(), 'New contract');
  await page.setInputFiles('#files', PDF);
  const fileTitle = basename(PDF).replace(/\.pdf$/i, '');
  assert.equal(await page.inputValue('#title'), fileTitle, 'the title defaults to the file name');
  check(`step 1: the title defaults to the file name "${fileTitle}"`);

  await page.fill('#r1-name', 'Alice Wang');
  await page.fill('#r1-contact', SIGNER_A);
  await page.getByRole('button', { name: 'Add recipient', exact: true }).click();
  await page.fill('#r2-name', 'Bob Li 李波');
  await page.fill('#r2-contact', SIGNER_B);
  assert.equal(await page.inputValue('#r2-order'), '2', 'the second recipient signs second');
  assert.equal(await page.inputValue('#r2-role'), 'signer');
  // A third, added by mistake and removed.
  await page.getByRole('button', { name: 'Add recipient', exact: true }).click();
  await page.getByRole('button', { name: 'Remove recipient 3', exact: true }).click();
  assert.equal(await page.locator('.recipient-row').count(), 2);
  await labelledInputs(page, 'step 1 (en)');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step1-en.png'), fullPage: true });
  check('step 1: two recipients in order (a third added and removed); every input labelled');

  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await picturesLoaded(page);
  assert.equal(await page.locator('#place-pages img').count(), 2, 'both pages as pictures');
  assert.equal(await page.locator('.palette-item[draggable="true"]').count(), 5);
  for (const name of ['Signature', 'Seal', 'Date', 'Text', 'Checkbox']) {
    assert.ok(await page.locator('#palette').getByRole('button', { name, exact: true }).isVisible(), `palette: ${name}`);
  }
  assert.equal(await page.locator('label[for="field-recipient"]').innerText(), 'Recipient');
  const url = new URL(page.url());
  assert.equal(url.pathname, '/app/contracts/new');
  // The page sizes, for reading back where the fields are (from the draft through the API).
  const draftId = await page.evaluate(() => document.querySelector('#place-pages img').src.match(/contracts\/([^/]+)\//)[1]);
  const draft = await page.evaluate(async (id) => (await fetch(`/api/v1/contracts/${id}`)).json(), draftId);
  assert.equal(draft.status, 'draft');
  assert.equal(draft.fields.length, 0);
  await page.evaluate((docs) => {
    window.__pageSizes = {};
    docs.forEach((d, i) => d.page_sizes.forEach((s, p) => { window.__pageSizes[`${i + 1}/${p + 1}`] = s; }));
  }, draft.documents);
  check(`step 2: a draft ${draftId} with no fields; the two pages as pictures; the palette of five draggable fields`);

  // A's signature on page 1, B's on page 2 (dropped at a known point), A's date on page 1.
  await page.selectOption('#field-recipient', { label: 'Alice Wang' });
  const sigA = await dragField(page, 'signature', pageOf(page, 1), 200, 700);
  await page.selectOption('#field-recipient', { label: 'Bob Li 李波' });
  const sigB = await dragField(page, 'signature', pageOf(page, 2), 420, 760);
  await page.selectOption('#field-recipient', { label: 'Alice Wang' });
  const dateA = await dragField(page, 'date', pageOf(page, 1), 420, 700);
  assert.equal(await sigA.getAttribute('data-recipient'), SIGNER_A);
  assert.equal(await sigB.getAttribute('data-recipient'), SIGNER_B);
  assert.notEqual(await sigA.evaluate((n) => getComputedStyle(n).borderTopColor), await sigB.evaluate((n) => getComputedStyle(n).borderTopColor), 'each recipient has a colour');
  // B's signature is centred where it was dropped.
  {
    const [b] = (await placedFields(page)).filter((f) => f.recipient === SIGNER_B);
    const box = await pageOf(page, 2).locator('img').boundingBox();
    const [w, h] = draft.documents[0].page_sizes[1];
    const s = w / box.width;
    const centre = [(b.rect[0] + b.rect[2]) / 2, (b.rect[1] + b.rect[3]) / 2];
    assert.ok(Math.abs(centre[0] - 420 * s) < 2 && Math.abs(centre[1] - (h - 760 * s)) < 2, `dropped at 420,760 px: ${JSON.stringify(b)}`);
  }
  check('drag and drop: Signature for A on page 1, for B on page 2 (where dropped, in another colour), Date for A');

  // Move the date, resize A's signature (its corner handle).
  await dateA.scrollIntoViewIfNeeded();
  const before = await dateA.boundingBox();
  await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
  await page.mouse.down();
  await page.mouse.move(before.x + before.width / 2 + 40, before.y + before.height / 2 - 60, { steps: 6 });
  await page.mouse.up();
  const after = await dateA.boundingBox();
  assert.ok(Math.abs(after.x - before.x - 40) < 2 && Math.abs(after.y - before.y + 60) < 2, `moved: ${JSON.stringify([before, after])}`);
  await sigA.scrollIntoViewIfNeeded();
  const sigBefore = await sigA.boundingBox();
  const handle = await sigA.locator('.field-resize').boundingBox();
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + handle.width / 2 + 50, handle.y + handle.height / 2 + 20, { steps: 6 });
  await page.mouse.up();
  const sigAfter = await sigA.boundingBox();
  assert.ok(Math.abs(sigAfter.width - sigBefore.width - 50) < 2 && Math.abs(sigAfter.height - sigBefore.height - 20) < 2, `resized: ${JSON.stringify([sigBefore, sigAfter])}`);
  assert.ok(Math.abs(sigAfter.x - sigBefore.x) < 1 && Math.abs(sigAfter.y - sigBefore.y) < 1, 'resizing keeps the top-left corner');
  // The keyboard: Shift+ArrowUp moves the focused field 10 points up.
  const [{ rect: r0 }] = (await placedFields(page)).filter((f) => f.kind === 'date');
  await dateA.focus();
  await page.keyboard.press('Shift+ArrowUp');
  const [{ rect: r1 }] = (await placedFields(page)).filter((f) => f.kind === 'date');
  assert.ok(Math.abs(r1[1] - r0[1] - 10) < 0.5 && Math.abs(r1[0] - r0[0]) < 0.5, `moved by the keyboard: ${JSON.stringify([r0, r1])}`);
  check('a placed field moves (pointer drag, arrow keys) and resizes (corner handle)');

  // Tap-to-place (touch): Text, then the page; removed with its × button. A check box removed by Delete.
  await page.locator('#palette [data-kind="text"]').click();
  assert.equal(await page.locator('#palette [data-kind="text"]').getAttribute('aria-pressed'), 'true');
  await pageOf(page, 2).click({ position: { x: 200, y: 300 } });
  assert.equal(await page.locator('.placed-field').count(), 4);
  const stray = page.locator('.placed-field[data-kind="text"]');
  assert.equal(await stray.evaluate((n) => n.closest('.place-page').dataset.page), '2', 'placed on the page tapped');
  await stray.getByRole('button').click();
  assert.equal(await page.locator('.placed-field').count(), 3);
  const box = await dragField(page, 'checkbox', pageOf(page, 1), 300, 300);
  await box.scrollIntoViewIfNeeded();
  await box.focus();
  await page.keyboard.press('Delete');
  assert.equal(await page.locator('.placed-field').count(), 3);
  check('tap a field then the page (touch) places it; × and the Delete key remove stray fields');

  // The keyboard alone: Enter on a palette item, Tab to a page, Enter places the field there and
  // focuses it; the arrow keys move it, Alt + arrow keys resize it; Delete removes it.
  await page.locator('#palette [data-kind="text"]').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#palette [data-kind="text"]').getAttribute('aria-pressed'), 'true');
  await pageOf(page, 1).focus();
  assert.match(await pageOf(page, 1).getAttribute('aria-label'), /page 1 of 2: press Enter/);
  await page.keyboard.press('Enter');
  const typed = page.locator('.placed-field[data-kind="text"]');
  assert.equal(await typed.count(), 1, 'Enter on the page placed the Text field');
  assert.equal(await typed.evaluate((n) => n === document.activeElement), true, 'and focused it');
  const k0 = (await placedFields(page)).find((f) => f.kind === 'text').rect;
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Alt+ArrowRight');
  await page.keyboard.press('Shift+Alt+ArrowDown');
  const k1 = (await placedFields(page)).find((f) => f.kind === 'text').rect;
  assert.ok(Math.abs(k1[0] - k0[0] - 1) < 0.5, `moved 1 pt right: ${JSON.stringify([k0, k1])}`);
  assert.ok(Math.abs(k1[2] - k0[2] - 2) < 0.5, `1 pt further and 1 pt wider: ${JSON.stringify([k0, k1])}`);
  assert.ok(Math.abs(k1[3] - k0[3]) < 0.5 && Math.abs(k0[1] - k1[1] - 10) < 0.5, `10 pt taller, downwards: ${JSON.stringify([k0, k1])}`);
  await page.keyboard.press('Delete');
  assert.equal(await typed.count(), 0);
  // Enter on a page with no field chosen says what to do.
  await pageOf(page, 1).focus();
  await page.keyboard.press('Enter');
  assert.match(await page.locator('#status').innerText(), /First choose a field/);
  check('keyboard only: a field chosen with Enter, placed with Enter on a page, moved and resized with the arrow keys, deleted');

  // Back to step 1: the uploaded file stays (listed, no file input); the title changes; Next
  // edits the draft and the placed fields are still there.
  const placedBefore = await placedFields(page);
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.locator('#create-form').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#files').isVisible(), false, 'the file input is gone');
  assert.equal((await page.locator('#kept-files').innerText()).trim(), basename(PDF));
  assert.equal(await page.inputValue('#r2-contact'), SIGNER_B, 'the recipients are kept');
  await page.fill('#title', `${fileTitle} (rev. 2)`);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.locator('#place-step').waitFor({ state: 'visible' });
  assert.deepEqual(await placedFields(page), placedBefore, 'the fields stay where they were');
  assert.equal(await page.locator('#field-recipient option').count(), 2);
  check('Back keeps the uploaded file and the fields; Next saves the new title to the draft');

  const placed = await placedFields(page);
  // A small picture for docs/web.md: the palette and the fields on page 1.
  await page.evaluate(() => window.scrollTo(0, 0));
  const placer = await page.locator('.placer').boundingBox();
  const firstPage = await pageOf(page, 1).boundingBox();
  const bottom = Math.min(firstPage.y + firstPage.height, placer.y + 780);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-place-en.png'), clip: { x: 0, y: placer.y - 8, width: 900, height: bottom - placer.y + 8 } });
  await labelledInputs(page, 'step 2 (en)');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step2-en.png'), fullPage: false });
  sinceSend = await mark();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.waitForURL(/\/app\/contracts\/ct_[^/]+$/, { timeout: 30_000 });
  contractId = new URL(page.url()).pathname.split('/').pop();
  assert.equal(contractId, draftId);
  await page.locator('#contract-meta .badge').waitFor({ timeout: 30_000 });
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), 'Sent');
  await page.locator('#timeline li[data-type="fields_set"]').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#timeline li[data-type="draft_edited"]').count(), 1);
  assert.equal(await page.locator('#edit-draft').isVisible(), false, 'a sent contract is not edited');
  check(`Send saves the fields and sends: the contract's page says Sent (${contractId})`);

  // The contract's page shows the pages with the fields on them, in their recipients' colours.
  await page.locator('#documents summary').first().click();
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('#documents img')];
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 60_000 });
  const shownFields = await page.locator('#documents .field-box').evaluateAll((fs) => fs.map((f) => f.textContent));
  assert.deepEqual(shownFields.sort(), ['Date — Alice Wang', 'Signature — Alice Wang', 'Signature — Bob Li 李波'], 'the fields over the pages');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'contract-pages-en.png'), fullPage: true });
  check('the contract page shows its pages with the placed fields');
  assert.deepEqual(errors, [], 'console errors (en)');
  console.log(`contract: ${contractId}`);
  console.log(`placed: ${JSON.stringify(placed)}`);
  await context.close();
}

// 2. Chinese: the words, both steps, and an API refusal shown in the alert (no signature field).
{
  const { context, page, errors } = await open({ locale: 'zh-CN' });
  await signIn(page, 'zh');
  await page.goto(`${BASE_URL}/app/contracts/new?lang=zh`);
  assert.equal((await page.locator('h1').innerText()).trim(), '新建合同');
  await page.setInputFiles('#files', PDF);
  await page.fill('#title', '租赁合同 Lease');
  await page.fill('#r1-name', '王小明');
  await page.fill('#r1-contact', '+8613800138000');
  await page.getByRole('button', { name: '添加签署人', exact: true }).click();
  await page.fill('#r2-name', '赵六');
  await page.fill('#r2-contact', 'zhao.liu@example.com');
  await page.selectOption('#r2-role', 'cc');
  await page.fill('#deadline', '2099-12-31T18:00');
  assert.equal(await page.locator('label[for="deadline"]').innerText(), '截止时间（可选）');
  await labelledInputs(page, 'step 1 (zh)');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step1-zh.png'), fullPage: true });
  await page.getByRole('button', { name: '下一步', exact: true }).click();
  await picturesLoaded(page);
  for (const name of ['签名', '印章', '日期', '文本', '复选框']) {
    assert.ok(await page.locator('#palette').getByRole('button', { name, exact: true }).isVisible(), `palette: ${name}`);
  }
  assert.equal(await page.locator('label[for="field-recipient"]').innerText(), '签署人');
  assert.equal(await page.locator('#field-recipient option').count(), 1, 'only signers place fields');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step2-zh.png'), fullPage: false });
  await page.getByRole('button', { name: '发送', exact: true }).click();
  const alert = page.locator('main [role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 30_000 });
  const said = (await alert.innerText()).trim();
  assert.match(said, /no signature or seal field/, said);
  assert.match(new URL(page.url()).pathname, /\/app\/contracts\/new$/, 'still on the page');
  check(`Chinese: 新建合同, 添加签署人, 签名 印章 日期 文本 复选框, 发送; sending without a signature field: "${said}"`);

  // The draft stays a draft: its page offers 继续编辑, which opens step 2 with the draft; a field
  // placed with the keyboard, then 发送 sends it.
  const draftId = await page.evaluate(() => document.querySelector('#place-pages img').src.match(/contracts\/([^/]+)\//)[1]);
  await page.goto(`${BASE_URL}/app/contracts/${draftId}`);
  const edit = page.getByRole('link', { name: '继续编辑', exact: true });
  await edit.waitFor({ state: 'visible', timeout: 30_000 });
  await edit.click();
  await picturesLoaded(page);
  assert.equal(await page.locator('#field-recipient option').count(), 1);
  await page.locator('#palette [data-kind="signature"]').focus();
  await page.keyboard.press('Enter');
  await pageOf(page, 1).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('.placed-field[data-kind="signature"]').count(), 1);
  // A seal needs a company: said at once, nothing placed.
  await page.locator('#palette [data-kind="seal"]').click();
  await pageOf(page, 2).click({ position: { x: 100, y: 100 } });
  assert.match(await alert.innerText(), /单位/);
  assert.equal(await page.locator('.placed-field').count(), 1);
  await page.getByRole('button', { name: '上一步', exact: true }).click();
  assert.equal(await page.inputValue('#title'), '租赁合同 Lease', 'the draft\'s title');
  assert.equal(await page.inputValue('#r2-role'), 'cc', 'the draft\'s recipients');
  await page.getByRole('button', { name: '下一步', exact: true }).click();
  await page.locator('#place-step').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: '发送', exact: true }).click();
  await page.waitForURL(/\/app\/contracts\/ct_[^/]+$/, { timeout: 30_000 });
  await page.locator('#contract-meta .badge').waitFor({ timeout: 30_000 });
  assert.equal((await page.locator('#contract-meta .badge').innerText()).trim(), '已发送');
  check('继续编辑 reopens a draft at step 2; a keyboard-placed signature, then 发送 sends it');
  assert.deepEqual(errors, [], 'console errors (zh)');
  await context.close();
}

// 3. A phone: step 1 fits 375 px.
{
  const { context, page, errors } = await open({ locale: 'en-US', viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true });
  await signIn(page, 'en');
  await page.goto(`${BASE_URL}/app/contracts/new`);
  await page.getByRole('button', { name: 'Add recipient', exact: true }).click();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `step 1 is ${width}px wide at 375px`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step1-phone-en.png'), fullPage: true });
  check(`phone: step 1 has no horizontal scrolling (${width}px at 375px)`);
  // Step 2 by touch: tap Signature, then tap the page.
  await page.locator('.recipient-row').last().getByRole('button').tap();
  await page.setInputFiles('#files', PDF);
  await page.fill('#r1-name', 'Zhou Qi');
  await page.fill('#r1-contact', 'zhou.qi@example.com');
  await page.getByRole('button', { name: 'Next', exact: true }).tap();
  await picturesLoaded(page);
  await page.locator('#palette [data-kind="signature"]').tap();
  await pageOf(page, 1).tap({ position: { x: 100, y: 200 } });
  assert.equal(await page.locator('.placed-field[data-kind="signature"]').count(), 1, 'a tap places the field');
  const width2 = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width2 <= 375, `step 2 is ${width2}px wide at 375px`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'create-step2-phone-en.png'), fullPage: false });
  check(`phone: a tap on Signature then on the page places it; step 2 is ${width2}px wide at 375px`);
  assert.deepEqual(errors, [], 'console errors (phone)');
  await context.close();
}
// 4. Both signers sign on the signer's page, in order, through their mailed links (typed names).
{
  let since = sinceSend;
  for (const [address, name] of [[SIGNER_A, 'Alice Wang'], [SIGNER_B, 'Bob Li 李波']]) {
    const { context, page, errors } = await open({ locale: 'en-US' });
    const link = await waitLink(address, since);
    await page.goto(`${BASE_URL}/s/${link}`);
    assert.equal(page.url(), `${BASE_URL}/sign`);
    await page.locator('#sign-form').waitFor({ state: 'visible', timeout: 30_000 });
    since = await mark();
    await page.locator('#send-code').click();
    await page.locator('#code-sent').waitFor({ state: 'visible' });
    const code = await waitCode(address, since);
    await page.locator('label[for=mode-type]').click();
    await page.fill('#typed-name', name);
    await page.fill('#code', code);
    since = await mark();
    await page.locator('#sign-button').click();
    await page.locator('#done').waitFor({ state: 'visible', timeout: 90_000 });
    check(`${name} signs on the signer's page`);
    assert.deepEqual(errors, [], `console errors (${name})`);
    await context.close();
  }
}

// 5. The sender downloads the signed PDF from the contract's page (to SIGNED_PDF_OUT).
{
  const { context, page, errors } = await open({ locale: 'en-US', acceptDownloads: true });
  await signIn(page, 'en');
  await page.goto(`${BASE_URL}/app/contracts/${contractId}`);
  const badge = page.locator('#contract-meta .badge');
  await badge.waitFor({ timeout: 30_000 });
  assert.equal((await badge.innerText()).trim(), 'Completed');
  const link = page.locator('#downloads').getByRole('link', { name: 'Download signed PDF', exact: true });
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  await file.saveAs(SIGNED_PDF_OUT);
  const pdf = readFileSync(SIGNED_PDF_OUT);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'the download is a PDF');
  check(`the sender's contract page says Completed; Download signed PDF saves it (${pdf.length} bytes)`);
  assert.deepEqual(errors, [], 'console errors (download)');
  await context.close();
}

await browser.close();
allPassed(SCREENSHOT_DIR);
