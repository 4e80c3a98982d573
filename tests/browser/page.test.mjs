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
  // A plain answer first: the headline is a heading, focused and in view after the click.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'headline');
  assert.equal(await page.getAttribute('#headline', 'tabindex'), '-1');
  assert.equal(await page.$eval('#headline', (h) => h.tagName), 'H2');
  assert.match(await page.textContent('#fund'), /^医保基金支付 283,825\.00 元：.*统筹基金.*223,500\.00 元.*大病保险.*27,250\.00 元/);
  const why = await page.textContent('#why');
  assert.match(why, /目录外 2,000\.00 元/);
  assert.match(why, /按比例自付 14,175\.00 元/);
  assert.ok(!(await page.$$eval('#why li', (ls) => ls.some((l) => l.textContent.startsWith('起付线')))), 'no deductible line when none was charged');
  // Unverified figures in words, not parameter paths.
  const warn = await page.textContent('#unverified');
  assert.match(warn, /以下数字尚未与官方文件核实/);
  assert.match(warn, /起付线：未找到官方数字，按 0 计算，报销额可能偏高/);
  assert.match(warn, /报销比例：按 70% 计算/);
  assert.doesNotMatch(warn, /basic\.|placeholder|none/);
  // The drafter's steps are there but folded away.
  assert.equal(await page.$eval('#details', (d) => d.open), false);
  assert.ok(!(await page.isVisible('#steps')));
  const steps = await page.locator('#steps li').count();
  assert.ok(steps >= 10, `explanation steps: ${steps}`);
  assert.match(await page.textContent('#steps'), /deductible per_year 20000 \[official TJ-a\]/);
  assert.match(await page.textContent('#unverified-notes'), /basic\.ratio = 70%/);
  await page.click('#details summary');
  assert.ok(await page.isVisible('#steps'));
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

test('invalid input is explained next to the field, in the page’s language, and announced', async () => {
  const { page } = await open();
  await page.selectOption('#region', 'tianjin');
  await page.selectOption('#scheme', 'resident');
  await page.fill('#date', '2024-05-01');
  await page.dispatchEvent('#date', 'change');
  // The error is linked to the field, in a live region, outside the field's label.
  assert.match(await page.getAttribute('#total', 'aria-describedby'), /\berr-total\b/);
  assert.equal(await page.getAttribute('#err-total', 'aria-live'), 'polite');
  assert.equal(await page.$eval('#err-total', (e) => e.closest('label')), null);
  assert.equal(await page.$eval('#total', (e) => e.labels[0].textContent), '医疗费总额');
  await page.fill('#total', '-5');
  await page.click('#go');
  assert.match(await page.textContent('#err-total'), /金额“-5”是负数/);
  assert.equal(await page.getAttribute('#total', 'aria-invalid'), 'true');
  await page.fill('#total', '1000.555');
  await page.click('#go');
  assert.equal(await page.textContent('#err-total'), '金额“1000.555”超过两位小数：金额精确到分（0.01 元）。');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'total');
  // The same error in English after switching.
  await page.click('#lang');
  assert.equal(await page.textContent('#err-total'), '“1000.555” has more than two decimals: amounts are to the cent (0.01 yuan).');
  await page.click('#lang');
  await page.fill('#total', '100');
  await page.fill('#out_of_list', '200');
  await page.click('#go');
  assert.equal(await page.textContent('#err-amounts'), '全自费、先行自付、超限价自付合计 200.00 元，超过了医疗费总额 100.00 元。');
  await page.fill('#out_of_list', '0');
  await page.fill('#date', '2001-01-01');
  await page.dispatchEvent('#date', 'change');
  assert.match(await page.textContent('#err-date'), /^2001-01-01 时没有生效的政策版本（已有版本的生效日期：2014-07-01/);
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
  assert.match(await page.textContent('#err-earlier'), /^就医须按日期先后：2015-06-01 早于已填的 2015-09-01/);
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
