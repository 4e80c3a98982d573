// The citizen page in headless Chromium, as a person uses it. Needs a server on $YIBAO_URL
// serving www/ (cargo xtask browser starts one) and the native answers in $YIBAO_CASES.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openReady, artifactsDir } from './chromium.mjs';

const BASE = process.env.YIBAO_URL ?? 'http://127.0.0.1:18570';
// The vectors of tests/vectors/**/*.yaml that `cargo xtask conformance` writes to $YIBAO_CASES:
// 135 bills and fixtures, 30 months of long-term care.
const VECTOR_COUNT = 174;
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

// A Guangzhou employee's 200-day stay: the deductible repeats every 90 days (GZ-RAT), so the
// page asks for the stay's length. Hand-worked in tests/vectors/guangzhou/stay-days.yaml:
// GZ-STAY-REPEAT-200-DAYS (you pay 12,400.00) and, without the days, GZ-STAY-DAYS-NOT-GIVEN
// (10,800.00, with the warning that the deductible was charged once).
test('a long stay in Guangzhou: the days in hospital on the page give the vector’s result', async () => {
  const { page, errors } = await open();
  await page.selectOption('#region', 'guangzhou');
  await page.selectOption('#scheme', 'employee');
  await page.fill('#date', '2023-03-01');
  await page.dispatchEvent('#date', 'change');
  await page.selectOption('#group', 'in_service');
  await page.selectOption('#care', 'inpatient');
  await page.selectOption('#level', '3');
  await page.fill('#total', '50000');
  await page.click('#go');
  await page.waitForSelector('#result:not([hidden])');
  assert.equal(await page.textContent('#oop'), '10,800.00');
  assert.match(await page.textContent('#unverified'), /统筹基金.*未填写住院天数，起付线按一次计算.*填上“住院天数”/);
  assert.equal(await page.$eval('#stay_days', (e) => e.labels[0].textContent), '住院天数');
  await page.fill('#stay_days', '200');
  await page.click('#go');
  await page.waitForFunction(() => document.querySelector('#oop').textContent === '12,400.00');
  assert.doesNotMatch(await page.textContent('#unverified'), /未填写住院天数/);
  assert.match(page.url(), /stay_days=200/);
  assert.deepEqual(errors, []);
  // Not a whole number of days: the engine's refusal, next to the field.
  await page.fill('#stay_days', '1.5');
  await page.click('#go');
  assert.notEqual((await page.textContent('#err-stay_days')).trim(), '');
  assert.equal(await page.getAttribute('#stay_days', 'aria-invalid'), 'true');
  // In English, the label.
  await page.click('#lang');
  assert.equal(await page.$eval('#stay_days', (e) => e.labels[0].textContent), 'Days in hospital');
  // The warning in plain English, without the field's id.
  await page.fill('#stay_days', '');
  await page.click('#go');
  const warn = await page.textContent('#unverified');
  assert.match(warn, /the days in hospital are not given, so the deductible is counted once/);
  assert.doesNotMatch(warn, /stay_days/);
  await page.close();
});

test('every vector through the page’s own module gives the native bytes', async () => {
  const cases = JSON.parse(readFileSync(process.env.YIBAO_CASES ?? '../../target/conformance/cases.json', 'utf8'));
  const vectors = cases.cases.filter((c) => c.fixtures);
  // Every vector of tests/vectors/**/*.yaml, the 30 long-term care months included (issue 13:
  // exact counts, so a vector that goes missing fails here).
  assert.equal(vectors.length, VECTOR_COUNT);
  assert.equal(vectors.filter((v) => /^(GZ|TJ)-LTC-/.test(v.id)).length, 30);
  const { page } = await open();
  const mismatches = await page.evaluate(async ({ fixtures, vectors }) => {
    const m = await import('./pkg/yibao_wasm.js');
    const engine = new m.Engine(JSON.stringify(fixtures));
    return vectors.filter((v) => engine.estimate(v.request) !== v.native).map((v) => v.id);
  }, { fixtures: cases.fixtures, vectors });
  assert.deepEqual(mismatches, []);
  await page.close();
});

// The care mode fills a month from a hand-worked vector's own request (every field it has must be
// on the page) and shows the vector's numbers: GZ-LTC-HOME-B-EMPLOYEE in tests/vectors/ltc/guangzhou.yaml,
// a month of 居家护理 B类 — 生活照料 900 × 90% = 810, 医疗护理 400 × 90% = 360, 设备 100 × 85% = 85.
test('a month of home care in Guangzhou: the care mode shows the hand-worked vector’s result', async () => {
  const cases = JSON.parse(readFileSync(process.env.YIBAO_CASES ?? '../../target/conformance/cases.json', 'utf8'));
  const vector = cases.cases.find((c) => c.id === 'GZ-LTC-HOME-B-EMPLOYEE');
  const claim = JSON.parse(vector.request).claims[0];
  const native = JSON.parse(vector.native).answer.settlements[0];
  assert.equal(claim.care, 'home_b');
  // The vector's expectations, written by hand: fund 1,255.00, you pay 245.00.
  assert.equal(native.fund_total, '1255.00');
  assert.equal(native.out_of_pocket.total, '245.00');
  const { page, errors } = await open();
  await page.click('#mode-ltc');
  assert.equal(await page.getAttribute('#mode-ltc', 'aria-pressed'), 'true');
  assert.ok(await page.isHidden('#scheme') && await page.isHidden('#total') && await page.isHidden('#referral'));
  // The cities are the ones with a care policy in the module's own list.
  const cities = await page.$$eval('#region option', (os) => os.map((o) => o.value));
  const withCare = await page.evaluate(async () => {
    const m = await import('./pkg/yibao_wasm.js');
    return [...new Set(JSON.parse(m.policies()).answer.filter((v) => v.scheme === 'ltc').map((v) => v.region))];
  });
  assert.deepEqual(cities, withCare);
  assert.ok(cities.includes('guangzhou') && cities.includes('tianjin'));
  await page.selectOption('#region', 'guangzhou');
  await page.dispatchEvent('#region', 'change');
  await page.fill('#date', claim.date);
  await page.dispatchEvent('#date', 'change');
  // The policy's own choices and month fields; Tianjin's 亲情照护 is not a Guangzhou cost.
  assert.deepEqual(await page.$$eval('#care option', (os) => os.map((o) => o.value)), ['institution', 'home_a', 'home_b', 'home_c', 'assessment']);
  assert.ok(await page.isHidden('#m-family_care'));
  assert.ok(await page.isVisible('#m-visits'));
  await page.selectOption('#group', claim.group);
  await page.selectOption('#care', claim.care);
  await page.selectOption('#level', String(claim.level));
  for (const [k, v] of Object.entries(claim.month)) {
    if (k === 'costs') for (const [c, a] of Object.entries(v)) await page.fill(`#m-${c}`, String(a));
    else await page.fill(`#m-${k}`, String(v));
  }
  await page.click('#go');
  await page.waitForSelector('#result:not([hidden])');
  assert.equal(await page.textContent('#oop'), '245.00');
  assert.match(await page.textContent('#fund'), /^长期护理保险基金支付 1,255\.00 元：生活照料（居家B类） 810\.00 元，医疗护理 360\.00 元，设备使用 85\.00 元。$/);
  // The same numbers as the native answer, byte for byte as strings.
  assert.equal(await page.textContent('#oop'), native.out_of_pocket.total.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
  assert.match(await page.textContent('#why'), /按比例自付 145\.00 元/);
  assert.match(await page.textContent('#why'), /超出限额 100\.00 元/);
  // Every Guangzhou figure is official: no warning box, no inputs for one's own figures.
  assert.ok(await page.isHidden('#unverified'));
  assert.ok(await page.isHidden('#own'));
  // The table has no deductible column: a care month has none.
  assert.deepEqual(await page.$$eval('#layers thead th', (ths) => ths.filter((th) => th.offsetParent).map((th) => th.textContent)), ['保障层', '计算基数', '支付']);
  assert.equal(await page.$eval('#details', (d) => d.open), false);
  assert.ok((await page.locator('#steps li').count()) >= 5);
  // The state is in the URL: a fresh page with it shows the same month and answer.
  const url = page.url();
  assert.match(url, /mode=ltc/);
  assert.match(url, /visits=12/);
  const again = await browser.newPage();
  await again.goto(url);
  await again.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  assert.equal(await again.textContent('#oop'), '245.00');
  assert.equal(await again.inputValue('#m-hours'), String(claim.month.hours));
  await again.close();
  // Below the visit minimum the month is not paid, and the page says why in Chinese.
  await page.fill('#m-visits', '10');
  await page.click('#go');
  await page.waitForFunction(() => document.querySelector('#oop').textContent === '1,500.00');
  assert.match(await page.textContent('#unverified'), /生活照料（居家B类）：本月 上门服务次数 = 10，不满足 上门服务次数 >= 12，本层不予支付/);
  // A count that is not a whole number is explained next to the month's fields.
  await page.fill('#m-visits', '1.5');
  await page.press('#m-visits', 'Enter');
  assert.equal(await page.textContent('#err-facts'), '“1.5”不是整数：请填写 0 或正整数。');
  assert.equal(await page.getAttribute('#m-visits', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'm-visits');
  // A cost that is not an amount: the module's own error, next to the costs.
  await page.fill('#m-visits', '12');
  await page.fill('#m-nursing', '4OO');
  await page.click('#go');
  assert.equal(await page.textContent('#err-costs'), '“4OO”不是金额：请填写数字，例如 1234.50。');
  assert.equal(await page.getAttribute('#m-nursing', 'aria-invalid'), 'true');
  // Back to medical bills: the medical form again, its fields back.
  await page.click('#mode-med');
  assert.ok(await page.isVisible('#total'));
  assert.ok(await page.isHidden('#m-nursing'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('the care mode in English: labels, choices and the answer', async () => {
  const { page, errors } = await open();
  await page.goto(`${BASE}/#mode=ltc&region=guangzhou&date=2024-09-30&group=employee&care=home_b&level=2&days=30&visits=12&hours=28&personal_care=1000&nursing=400&equipment=100`);
  await page.reload();
  await page.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  assert.equal(await page.textContent('h1'), '长期护理保险估算');
  assert.equal(await page.textContent('label[for=m-visits]'), '上门服务次数');
  await page.click('#lang');
  assert.equal(await page.textContent('h1'), 'Long-term care insurance estimate');
  assert.equal(await page.textContent('#mode-ltc'), 'Long-term care');
  assert.equal(await page.textContent('label[for=care]'), 'Care setting');
  assert.equal(await page.textContent('label[for=level]'), 'Disability level');
  assert.equal(await page.textContent('label[for=m-visits]'), 'Home-care visits');
  assert.equal(await page.textContent('label[for=m-personal_care]'), 'Personal care');
  assert.equal(await page.$eval('#care', (s) => s.selectedOptions[0].textContent), 'home care, type B');
  assert.match(await page.textContent('#fund'), /^Long-term care insurance pays 1,255\.00 yuan: personal care \(home, type B\) 810\.00/);
  assert.equal(await page.textContent('#oop'), '245.00');
  assert.match(page.url(), /lang=en/);
  assert.deepEqual(errors, []);
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
