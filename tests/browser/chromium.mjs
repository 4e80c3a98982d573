// The system Chromium, started one way for the page tests and the page benchmark
// (Playwright's own browser download does not work here: playwright-core drives /usr/bin/chromium).
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const ARTIFACTS = process.env.YIBAO_ARTIFACTS ?? '../../artifacts';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A new page at `url`, ready once the app marks <body data-ready="1">; errors the page throws
// are collected for the test to assert on.
export async function openReady(browser, url, { width, height, timeout }) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { timeout });
  return { page, errors };
}

export function artifactsDir() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}
