// What a citizen reads: a plain answer in the page's language, their own figures, nothing
// sideways on a phone, axe-core clean, usable by keyboard alone; and the screenshots of every
// state a person meets, at 1280 and 390 px, in Chinese and English (under artifacts/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, artifactsDir } from './chromium.mjs';

const BASE = process.env.YIBAO_URL ?? 'http://127.0.0.1:18570';
const ARTIFACTS = artifactsDir();
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// The states a person meets, as URL fragments.
const STATES = {
  start: '',
  tianjin: 'region=tianjin&scheme=resident&date=2024-05-01&care=inpatient&level=3&total=300000&out_of_list=2000&categories=min_allowance',
  beijing: 'region=beijing&scheme=employee&date=2024-06-01&group=retired&care=inpatient&level=3&total=86000&out_of_list=4200',
  guangzhou: 'region=guangzhou&scheme=employee&date=2024-06-01&care=outpatient_special&level=designated&disease=hypertension&total=3000',
  override: 'region=tianjin&scheme=resident&date=2024-05-01&care=inpatient&level=3&total=30000&own.basic.deductible=800',
  error: 'region=tianjin&scheme=resident&date=2024-05-01&care=inpatient&level=3&total=1000.555',
  // A month of long-term care (GZ-LTC-HOME-B-EMPLOYEE): the care mode's form and answer.
  ltc: 'mode=ltc&region=guangzhou&date=2024-09-30&group=employee&care=home_b&level=2&days=30&visits=12&hours=28&personal_care=1000&nursing=400&equipment=100',
};

/** A page at `state` in `lang`, once the app is ready (and the result or error drawn). */
async function at(state, lang, width = 1280, height = 900, context = browser) {
  const page = await context.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/#${state}${state ? '&' : ''}lang=${lang}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  page.errors = errors;
  return page;
}

const CJK = /[\u3400-\u9fff\uff00-\uffef]/;

test('the Guangzhou result names the layer that paid, in both languages', async () => {
  for (const lang of ['zh', 'en']) {
    const page = await at(STATES.guangzhou, lang);
    await page.waitForSelector('#result:not([hidden])');
    const legend = await page.textContent('#legend');
    if (lang === 'zh') {
      assert.match(legend, /门诊特定病种/);
      assert.doesNotMatch(legend, /统筹基金（住院）/);
    } else {
      assert.match(legend, /outpatient special/);
      assert.doesNotMatch(legend, /inpatient/);
    }
    // Only layers that applied are rows; the rest fold into one line.
    const rows = await page.locator('#layers tbody tr').count();
    const all = await page.evaluate(() => document.querySelectorAll('#layers tbody tr').length);
    assert.ok(rows >= 1 && rows < 11, `rows: ${rows} of ${all}`);
    assert.match(await page.textContent('#not-applied'), lang === 'zh' ? /^不适用于本次就医：/ : /^Not applicable to this claim: /);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('rules older than the claim are said in the page’s language: a 2026 Beijing employee admission', async () => {
  const state = 'region=beijing&scheme=employee&date=2026-06-01&care=inpatient&level=3&total=30000';
  const zh = await at(state, 'zh');
  await zh.waitForSelector('#result:not([hidden])');
  const warnZh = await zh.textContent('#unverified');
  assert.match(warnZh, /本工具已知的最新规定为 2010-05-01 版/);
  assert.doesNotMatch(warnZh, /the newest rules known here/);
  const en = await at(state, 'en');
  await en.waitForSelector('#result:not([hidden])');
  const warnEn = await en.textContent('#unverified');
  assert.match(warnEn, /2010-05-01/);
  assert.doesNotMatch(warnEn, CJK);
  assert.deepEqual([...zh.errors, ...en.errors], []);
  await zh.close();
  await en.close();
});

test('English mode is English: policy, options, layers, answer, warnings', async () => {
  // The last: a Tianjin family carer's month (TJ-LTC-FAMILY-CARER-AND-PROFESSIONAL), whose
  // version date is a placeholder: its warnings too.
  const tianjinCare = 'mode=ltc&region=tianjin&date=2021-08-31&care=family&family_care=750&personal_care=1500';
  for (const state of [STATES.tianjin, STATES.beijing, STATES.guangzhou, STATES.ltc, tianjinCare]) {
    const page = await at(state, 'en');
    await page.waitForSelector('#result:not([hidden])');
    // Everything a citizen reads, except the drafter's details (policy source lines are Chinese).
    const text = await page.evaluate(() => {
      const main = document.querySelector('main').cloneNode(true);
      main.querySelector('#details').remove();
      const options = [...document.querySelectorAll('main select option')].map((o) => o.textContent);
      return `${main.innerText}\n${options.join('\n')}`;
    });
    const line = text.split('\n').find((l) => CJK.test(l));
    assert.equal(line, undefined, `Chinese in English mode: ${line}`);
    await page.click('#details summary');
    assert.match(await page.textContent('#policy'), /^Under: .*(insurance|Insurance)/);
    await page.close();
  }
});

test('the person’s own figure: typed in, used, marked as theirs, kept in the URL', async () => {
  const page = await at(STATES.override.replace('&own.basic.deductible=800', ''), 'zh');
  await page.waitForSelector('#result:not([hidden])');
  const before = await page.textContent('#oop');
  const input = page.locator('#own-fields input[data-path="basic.deductible"]');
  assert.match(await page.textContent('#own-fields'), /我的参保地通知里的统筹基金起付线是元/);
  await input.fill('800');
  await input.press('Enter');
  await page.waitForFunction((b) => document.querySelector('#oop').textContent !== b, before);
  const after = await page.textContent('#oop');
  assert.notEqual(after, before);
  assert.match(await page.textContent('#unverified'), /您自己填写的数字.*起付线：800 元（您填写的数字）/s);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'headline');
  await page.waitForFunction(() => location.hash.includes('own.basic.deductible=800'));
  // The URL alone brings the same answer, with the figure in its input.
  const again = await at(STATES.override, 'zh');
  await again.waitForSelector('#result:not([hidden])');
  assert.equal(await again.textContent('#oop'), after);
  assert.equal(await again.inputValue('#own-fields input[data-path="basic.deductible"]'), '800');
  // The layer table shows the deductible itself and what this claim counted toward it.
  const basicRow = await again.$$eval('#layers tbody tr', (rs) => rs.map((r) => r.textContent).find((t) => t.includes('统筹基金')));
  assert.match(basicRow, /800(\.00)?\s*本次计入 800(\.00)?/);
  // A figure that is not a number is refused in words, next to the inputs, the result kept.
  await again.fill('#own-fields input[data-path="basic.deductible"]', '八百');
  await again.click('#own-go');
  assert.equal(await again.textContent('#err-own'), '“八百”不是金额或比例：请填写数字，例如 800 或 85。');
  assert.ok(await again.isVisible('#headline'));
  assert.deepEqual([...page.errors, ...again.errors], []);
  await page.close();
  await again.close();
});

test('no sideways scrolling at 390 px, Chinese and English, on every state', async () => {
  for (const lang of ['zh', 'en']) {
    for (const [name, state] of Object.entries(STATES)) {
      const page = await at(state, lang, 390, 844);
      if (state && name !== 'error') await page.waitForSelector('#result:not([hidden])');
      await page.evaluate(() => { const d = document.querySelector('#details'); if (d) d.open = true; });
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= client, `${name} ${lang}: page ${scroll} px wide in a ${client} px window`);
      const table = await page.evaluate(() => { const s = document.querySelector('#layers'); return s.scrollWidth - s.parentElement.clientWidth; });
      assert.ok(table <= 0, `${name} ${lang}: the layer table overflows by ${table} px`);
      await page.close();
    }
  }
});

test('"special status" is hidden when the policy has none to choose', async () => {
  const page = await at(STATES.beijing, 'zh');
  assert.ok(await page.isHidden('#categories'));
  await page.selectOption('#region', 'tianjin');
  await page.dispatchEvent('#region', 'change');
  assert.ok(await page.isVisible('#categories'));
  await page.close();
});

test('axe-core finds no violations: start page, results, error and the playground, zh and en', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const found = [];
  const pages = [...Object.entries(STATES).map(([n, s]) => [n, s, 'index']), ['playground', '', 'playground']];
  for (const lang of ['zh', 'en']) {
    for (const [name, state, which] of pages) {
      const page = await context.newPage({ viewport: { width: 1280, height: 900 } });
      if (which === 'playground') {
        await page.goto(`${BASE}/playground.html#v=tianjin.resident@2020-03-01`);
      } else {
        await page.goto(`${BASE}/#${state}&lang=${lang}`);
      }
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
      if (state && name !== 'error') {
        await page.waitForSelector('#result:not([hidden])');
        await page.evaluate(() => { document.querySelector('#details').open = true; });
      }
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`));
      for (const v of violations) found.push(`${which} ${name} ${lang}: ${v}`);
      await page.close();
      if (which === 'playground' && lang === 'en') break;
    }
  }
  await context.close();
  assert.deepEqual(found, []);
});

test('keyboard only: tab to the bill, type, Enter, and focus lands on the answer, in view', async () => {
  const page = await at(STATES.start.replace(/^/, 'region=tianjin&scheme=resident&date=2024-05-01'), 'zh', 390, 700);
  const seen = [];
  for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement.id)) !== 'total'; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      const st = getComputedStyle(e);
      // The date field's own calendar button (in its shadow tree) draws Chromium's ring.
      return { id: e.id || e.tagName, inner: !e.matches(':focus'), outline: st.outlineStyle, width: parseFloat(st.outlineWidth), color: st.outlineColor };
    });
    seen.push(f);
    if (f.inner) continue;
    // Every stop shows where focus is: a solid ring in the accent blue (5.2:1 on white).
    assert.equal(f.outline, 'solid', `${f.id} has no visible focus ring`);
    assert.ok(f.width >= 2, `${f.id}: ring ${f.width}px`);
    assert.equal(f.color, 'rgb(11, 107, 203)');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'total', `tab order: ${seen.map((s) => s.id).join(' ')}`);
  await page.keyboard.type('300000');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#result:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'headline');
  const top = await page.$eval('#headline', (h) => h.getBoundingClientRect().top);
  assert.ok(top >= 0 && top < 700, `the answer is in view (top ${top})`);
  // The disclosure opens by keyboard too.
  for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement.tagName)) !== 'SUMMARY'; i++) await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await page.$eval('#details', (d) => d.open), true);
  await page.close();
});

test('the playground: the editor shows focus and its highlight layer is not a Tab stop', async () => {
  const page = await at('', 'zh', 1280, 900);
  await page.goto(`${BASE}/playground.html#v=tianjin.resident@2020-03-01`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  const stops = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
  }
  assert.ok(stops.includes('src'), stops.join(' '));
  assert.ok(!stops.includes('hl'), stops.join(' '));
  await page.focus('#src');
  assert.equal(await page.$eval('#editor', (e) => getComputedStyle(e).outlineStyle), 'solid');
  await page.close();
});

test('screenshots: every state at 1280 and 390 px, Chinese and English', async () => {
  for (const lang of ['zh', 'en']) {
    for (const [width, height, device] of [[1280, 900, 'desktop'], [390, 844, 'phone']]) {
      for (const [name, state] of Object.entries(STATES)) {
        const page = await at(state, lang, width, height);
        if (state && name !== 'error') await page.waitForSelector('#result:not([hidden])');
        if (name === 'error') await page.waitForFunction(() => document.querySelector('#err-total').textContent !== '');
        assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en');
        // The answer from its heading down (as after an estimate); the form for the others.
        if (state && name !== 'error') await page.$eval('#headline', (h) => h.scrollIntoView());
        if (name === 'error') await page.$eval('#total', (h) => h.scrollIntoView({ block: 'center' }));
        await page.screenshot({ path: `${ARTIFACTS}/page-${name}-${device}-${lang}.png`, fullPage: name !== 'start' });
        await page.close();
      }
    }
  }
});
