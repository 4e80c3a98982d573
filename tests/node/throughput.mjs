// Times the wasm module in Node on the requests `cargo xtask bench-wasm` wrote (the same ones the
// native example times): `settle` alone (requests parsed once, each settled ROUNDS times), and
// whole estimates with JSON in and out. Prints {"settle_us":…,"estimate_us":…,"claims":…}.
//   node tests/node/throughput.mjs target/bench/requests.json target/wasm/node/yibao_wasm.js
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [file, modulePath] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const wasm = require(resolve(modulePath));
const { requests, claims, rounds } = JSON.parse(readFileSync(file, 'utf8'));

function best(fn, times = 5) {
  fn();
  let b = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, performance.now() - t0);
  }
  return Math.round(b * 1000);
}

const settle_us = best(() => {
  let n = 0;
  for (const r of requests) n += wasm.settle_rounds(r, rounds);
  if (n !== claims * rounds) throw new Error(`settled ${n}, expected ${claims * rounds}`);
});
const estimate_us = best(() => {
  for (const r of requests) {
    const a = wasm.estimate(r);
    if (!a.startsWith('{"ok":true')) throw new Error(a.slice(0, 200));
  }
});
console.log(JSON.stringify({ settle_us, estimate_us, claims, rounds }));
