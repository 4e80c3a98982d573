// The citizen page in headless Chromium, as a person uses it. Needs a server on $YIBAO_URL
// serving www/ (cargo xtask browser starts one) and the native answers in $YIBAO_CASES.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openReady, artifactsDir } from './chromium.mjs';

const BASE = process.env.YIBAO_URL ?? 'http://127.0.0.1:18570';
const ARTIFACTS = artifactsDir();
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function open(width = 1200, height = 1800) {
  return openReady(browser, `${BASE}/`, { width, height, timeout: 20000 });
}

test('a citizen fills the form for a 低保 inpatient bill and sees the vector’s result', async () => {
  const { page, errors } = await open();
  await page.selectOption('#region', 'tianjin');
  await page.selectOption('#scheme', 'resident');
  await page.fill('#date', '2019-05-01'); // TJ-CASCADE's date: the 2014 大病 rules, aid at 70%
  await page.dispatchEvent('#date', 'change');
  await page.selectOption('#care', 'inpatient');
  await page.selectOption('#level', '3');
  await page.check('#categories input[value="min_allowance"]');
  await page.fill('#total', '300000');
  await page.fill('#out_of_list', '2000');
  await page.click('button[type=submit]');
  await page.waitForSelector('#result:not([hidden])');
  // TJ-CASCADE: you pay 16,175.00
  assert.equal(await page.textContent('#oop'), '16,175.00');
  const steps = await page.locator('#steps li').count();
  assert.ok(steps >= 10, `explanation steps: ${steps}`);
  assert.match(await page.textContent('#steps'), /deductible per_year 20000 \[official TJ-a\]/);
  assert.match(await page.textContent('#unverified'), /basic\.ratio = 70%/);
  assert.ok(!(await page.isHidden('#unverified')));
  // The state is in the URL fragment: a fresh page with it shows the same result.
  const url = page.url();
  assert.match(url, /#.*total=300000/);
  const again = await browser.newPage();
  await again.goto(url);
  await again.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  assert.equal(await again.textContent('#oop'), '16,175.00');
  await again.close();
  assert.deepEqual(errors, []);
  await page.close();
});

test('estimating makes no network request', async () => {
  const { page } = await open();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.selectOption('#region', 'beijing');
  await page.selectOption('#scheme', 'resident');
  await page.fill('#date', '2019-06-01');
  await page.dispatchEvent('#date', 'change');
  await page.fill('#total', '100000');
  await page.click('button[type=submit]');
  await page.waitForSelector('#result:not([hidden])');
  await page.fill('#total', '120000');
  await page.click('button[type=submit]');
  await page.waitForTimeout(300);
  assert.deepEqual(requests, []);
  await page.close();
});

test('invalid input is explained next to the field', async () => {
  const { page } = await open();
  await page.selectOption('#region', 'tianjin');
  await page.selectOption('#scheme', 'resident');
  await page.fill('#date', '2024-05-01');
  await page.dispatchEvent('#date', 'change');
  await page.fill('#total', '-5');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#err-total'), /negative/);
  await page.fill('#total', '100');
  await page.fill('#out_of_list', '200');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#err-amounts'), /more than the total/);
  await page.fill('#out_of_list', '0');
  await page.fill('#date', '2001-01-01');
  await page.dispatchEvent('#date', 'change');
  assert.match(await page.textContent('#err-date'), /no version of `tianjin.resident` is in force on 2001-01-01/);
  await page.close();
});

test('every vector through the page’s own module gives the native bytes', async () => {
  const cases = JSON.parse(readFileSync(process.env.YIBAO_CASES ?? '../../target/conformance/cases.json', 'utf8'));
  const vectors = cases.cases.filter((c) => c.fixtures);
  assert.ok(vectors.length >= 69);
  const { page } = await open();
  const mismatches = await page.evaluate(async ({ fixtures, vectors }) => {
    const m = await import('./pkg/yibao_wasm.js');
    const engine = new m.Engine(JSON.stringify(fixtures));
    return vectors.filter((v) => engine.estimate(v.request) !== v.native).map((v) => v.id);
  }, { fixtures: cases.fixtures, vectors });
  assert.deepEqual(mismatches, []);
  await page.close();
});

test('screenshots: Chinese and English, desktop and phone', async () => {
  const state = '#region=tianjin&scheme=resident&date=2024-05-01&care=inpatient&level=3&total=300000&out_of_list=2000&categories=min_allowance';
  for (const [name, w, h, lang] of [['desktop-zh', 1200, 1900, 'zh'], ['desktop-en', 1200, 1900, 'en'], ['phone-zh', 390, 2400, 'zh'], ['phone-en', 390, 2400, 'en']]) {
    const page = await browser.newPage({ viewport: { width: w, height: h } });
    await page.goto(`${BASE}/${state}&lang=${lang}`);
    await page.waitForSelector('#result:not([hidden])', { timeout: 20000 });
    assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en');
    await page.screenshot({ path: `${ARTIFACTS}/page-${name}.png` });
    await page.close();
  }
});

test('care earlier this year is counted: the 大病 threshold is already used up', async () => {
  const { page, errors } = await open();
  await page.selectOption('#region', 'tianjin');
  await page.selectOption('#scheme', 'resident');
  await page.fill('#date', '2015-06-01');
  await page.dispatchEvent('#date', 'change');
  await page.selectOption('#care', 'inpatient');
  await page.selectOption('#level', '3');
  await page.fill('#total', '100000');
  await page.click('button[type=submit]');
  await page.waitForSelector('#result:not([hidden])');
  // Alone: basic 70% → burden 30,000; 大病 (30,000 − 20,000) × 50% = 5,000; you pay 25,000.
  assert.equal(await page.textContent('#oop'), '25,000.00');
  // After an admission of 100,000 in March (burden 30,000 already past the 20,000 threshold):
  // 大病 30,000 × 50% = 15,000; you pay 15,000.
  await page.click('#add-earlier');
  const row = page.locator('#earlier .earlier-row').first();
  await row.locator('.e-date').fill('2015-03-01');
  await row.locator('.e-care').selectOption('inpatient');
  await row.locator('.e-total').fill('100000');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#oop').textContent === '15,000.00');
  assert.match(await page.textContent('#policy'), /此前 1 次就医/);
  assert.match(decodeURIComponent(page.url()), /earlier=2015-03-01~inpatient~100000~/);
  // An earlier claim after the current one is explained next to the earlier-care rows.
  await row.locator('.e-date').fill('2015-09-01');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#err-earlier'), /date order/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('works offline once loaded', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1800 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  // Wait until the service worker controls the page and has cached the files.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  await page.evaluate(async () => {
    const c = await caches.open('yibao-v1');
    for (let i = 0; i < 50 && (await c.keys()).length < 6; i++) await new Promise((r) => setTimeout(r, 100));
  });
  await context.setOffline(true);
  await page.goto(`${BASE}/#region=beijing&scheme=resident&date=2019-06-01&care=inpatient&total=100000`);
  await page.reload();
  await page.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  assert.match(await page.textContent('#oop'), /\d/);
  await context.close();
});
