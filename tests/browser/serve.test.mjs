// A new user's first command: from a www/ without any build output, `cargo xtask serve` builds
// what the page needs, prints the URL to open, and that URL is the citizen page — not a
// landing page, not a 404. Run by `cargo xtask browser` before the other page tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, artifactsDir } from './chromium.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PORT = process.env.YIBAO_SERVE_PORT ?? '18573';
const ARTIFACTS = artifactsDir();
let browser;
let serve;

before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  // The xtask and the server it started share the process group made for them.
  if (serve?.pid && serve.exitCode === null) { try { process.kill(-serve.pid, 'SIGTERM'); } catch { /* gone */ } }
});

/** Runs `cargo xtask serve` in its own process group; resolves with the URL it says to open. */
function startServe() {
  serve = spawn('cargo', ['xtask', 'serve', '--addr', `127.0.0.1:${PORT}`], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env,
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL after 30 minutes:\n${log}`)), 30 * 60 * 1000);
    const onData = (d) => {
      process.stderr.write(d);
      log += d;
      const m = /==> ready after [^:]+: open (http:\/\/\S+) /.exec(log);
      if (m) { clearTimeout(timer); resolve({ url: m[1], log }); }
    };
    serve.stdout.on('data', onData);
    serve.stderr.on('data', onData);
    serve.on('exit', (code) => { clearTimeout(timer); reject(new Error(`cargo xtask serve exited (${code}):\n${log}`)); });
  });
}

test('`cargo xtask serve` from a clean www/ build output serves the citizen page at the URL it prints', { timeout: 31 * 60 * 1000 }, async () => {
  for (const out of ['www/pkg', 'www/pkg-drafter']) rmSync(`${ROOT}/${out}`, { recursive: true, force: true });
  assert.ok(!existsSync(`${ROOT}/www/pkg/yibao_wasm.js`));
  const t0 = Date.now();
  const { url, log } = await startServe();
  // Progress is said step by step, with the URL last.
  for (const s of ['[1/3]', '[2/3]', '[3/3]']) assert.ok(log.includes(s), `step ${s} announced`);
  assert.equal(url, `http://127.0.0.1:${PORT}/`);
  assert.ok(existsSync(`${ROOT}/www/pkg/yibao_wasm_bg.wasm`), 'the page\'s module was built');

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  for (const path of ['', 'index.html']) {
    const res = await page.goto(url + path);
    assert.equal(res.status(), 200, `/${path}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
    assert.equal(await page.textContent('h1'), '医保报销估算');
    assert.equal(await page.locator('form#form #total').count(), 1);
  }
  const ready = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`# cargo xtask serve: page ready ${ready} s after the command started (clean www/)`);
  // It estimates: the module loaded and works.
  await page.fill('#total', '30000');
  await page.click('button[type=submit]');
  await page.waitForSelector('#result:not([hidden])');
  assert.match(await page.textContent('#oop'), /\d/);
  await page.screenshot({ path: `${ARTIFACTS}/serve-first-page.png` });
  assert.deepEqual(errors, []);
  await page.close();
});
