// Page budgets, measured (not asserted): load to first result on loopback, and one estimate in
// the page (submit → result drawn, synchronous). Run by `cargo xtask bench-page`.
import { launch } from './chromium.mjs';

const BASE = process.env.YIBAO_URL ?? 'http://127.0.0.1:18572';
const browser = await launch();
const state = '#region=tianjin&scheme=resident&date=2024-05-01&care=inpatient&level=3&total=300000&out_of_list=2000&categories=min_allowance';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Load to first result: a fresh browser context each time (nothing cached), the state in the
// URL so the page estimates as soon as it is ready.
const loads = [];
for (let i = 0; i < 10; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const t0 = Date.now();
  await page.goto(`${BASE}/${state}`);
  await page.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  loads.push(Date.now() - t0);
  await ctx.close();
}

// One estimate as a person asks for it: a click on the estimate button (request built, wasm
// estimate with the explanation, result drawn — synchronous), 200 times with varied totals.
// Also the submit handler alone, and form.requestSubmit(), which adds the browser's own
// form-submission steps.
const page = await browser.newPage();
await page.goto(`${BASE}/${state}`);
await page.waitForSelector('#result:not([hidden])');
const measure = (how) => page.evaluate((how) => {
  const out = [];
  const form = document.getElementById('form');
  const total = document.getElementById('total');
  for (let i = 0; i < 200; i++) {
    total.value = String(100000 + i * 137);
    const t0 = performance.now();
    if (how === 'click') form.querySelector('button[type=submit]').click();
    else if (how === 'handler') form.dispatchEvent(new Event('submit', { cancelable: true }));
    else form.requestSubmit();
    out.push(performance.now() - t0);
  }
  return out;
}, how);
const times = await measure('click');
const handler = await measure('handler');
const viaSubmit = await measure('requestSubmit');
console.log(JSON.stringify({
  load_to_first_result_ms: { median: median(loads), max: Math.max(...loads), runs: loads.length },
  estimate_in_page_ms: { median: median(times), p90: [...times].sort((a, b) => a - b)[Math.floor(times.length * 0.9)], runs: times.length },
  estimate_handler_only_ms: { median: median(handler), runs: handler.length },
  estimate_via_request_submit_ms: { median: median(viaSubmit), runs: viaSubmit.length },
}));
await browser.close();
