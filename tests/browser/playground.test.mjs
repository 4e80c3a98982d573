// The drafter's playground in headless Chromium: an error is underlined where it is, fixing it
// brings back compliance findings, and the diff against the version in force shows the change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openReady, artifactsDir } from './chromium.mjs';

const BASE = process.env.YIBAO_URL ?? 'http://127.0.0.1:18570';
const ARTIFACTS = artifactsDir();
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function open() {
  return openReady(browser, `${BASE}/playground.html#v=tianjin.resident@2020-03-01`, {
    width: 1280, height: 2400, timeout: 30000,
  });
}

/** Edits the editor's text as a person would (the new text, then an `input` event). */
async function edit(page, fn) {
  const now = await page.$eval('#src', (el) => el.value);
  await page.$eval('#src', (el, text) => {
    el.value = text;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, fn(now));
  await page.waitForTimeout(400);
}

test('an error is underlined in place, and fixing it brings findings and a diff', async () => {
  const { page, errors } = await open();
  assert.match(await page.textContent('#status'), /OK/);
  // The version in force: compliance findings, with the known deviations explained.
  assert.match(await page.textContent('#findings'), /NAT-SI-RATIO-60/);
  assert.match(await page.textContent('#findings'), /已知偏差 known/);

  // Introduce an error: amend a layer that does not exist (a typo).
  const original = await page.$eval('#src', (el) => el.value);
  await edit(page, (t) => t.replace('amend layer outpatient', 'amend layer outpatiant'));
  const text = await page.$eval('#src', (el) => el.value);
  const line = text.split('\n').findIndex((l) => l.includes('outpatiant')) + 1;
  assert.ok(line > 0);
  assert.match(await page.textContent('#status'), /errors/);
  const mark = page.locator('#hl mark.err').first();
  assert.equal(await mark.getAttribute('data-line'), String(line));
  const marked = (await mark.textContent()).trim();
  assert.ok(marked.includes('outpatiant') && text.split('\n')[line - 1].includes(marked), `underlined "${marked}" on line ${line}`);
  // The gutter marks that line, and the diagnostics list names it.
  assert.equal(await page.textContent('#gutter .err'), String(line));
  assert.match(await page.textContent('#diagnostics'), new RegExp(`^${line}:`));
  await page.screenshot({ path: `${ARTIFACTS}/playground-error.png`, fullPage: false });

  // Fix it, and change a figure: the 大病 first band from 50% to 65%.
  await edit(page, () => original);
  assert.equal(await page.locator('#hl mark.err').count(), 0);
  assert.match(await page.textContent('#status'), /OK/);
  assert.match(await page.textContent('#findings'), /NAT-/);
  await page.click('#run-diff');
  await page.waitForSelector('#diff table');
  const diffText = await page.textContent('#diff');
  assert.match(diffText, /0 项参数变化/);
  // The 2020 version extends the 2014 one; change a figure of its own: the outpatient cap.
  await edit(page, (t) => t.replace(/cap per_year 4000/, 'cap per_year 5000'));
  assert.match(await page.textContent('#status'), /OK/);
  await page.click('#run-diff');
  await page.waitForFunction(() => /1 项参数变化/.test(document.querySelector('#diff').textContent));
  assert.match(await page.textContent('#diff'), /outpatient\.cap_year/);
  assert.match(await page.textContent('#diff'), /4000.*5000/s);

  // The city's vectors run in the browser against the draft.
  await page.click('#run-vectors');
  await page.waitForFunction(() => /通过 passed/.test(document.querySelector('#vec-count').textContent), null, { timeout: 20000 });
  const count = await page.textContent('#vec-count');
  const [passed, total] = count.match(/(\d+)\/(\d+)/).slice(1).map(Number);
  assert.ok(total >= 10, count);
  assert.ok(passed >= 1, count);

  // Try a claim under the draft.
  await page.selectOption('#t-care', 'inpatient');
  await page.selectOption('#t-level', '3');
  await page.selectOption('#t-category', 'min_allowance');
  await page.fill('#t-total', '300000');
  await page.fill('#t-ool', '2000');
  await page.click('#claim button[type=submit]');
  await page.waitForSelector('#trial-oop');
  assert.equal(await page.textContent('#trial-oop'), '16175.00');
  await page.screenshot({ path: `${ARTIFACTS}/playground.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
