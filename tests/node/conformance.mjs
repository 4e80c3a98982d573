// Replays requests through the wasm module in Node and compares each answer, byte for byte, with
// the native answer computed by `cargo xtask conformance` from the same Rust code.
//   node tests/node/conformance.mjs target/conformance/cases.json target/wasm/node/yibao_wasm.js
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [casesFile, modulePath] = process.argv.slice(2);
if (!casesFile || !modulePath) {
  console.error('usage: node conformance.mjs CASES.json MODULE.js');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const wasm = require(resolve(modulePath));
const { fixtures, cases } = JSON.parse(readFileSync(casesFile, 'utf8'));
const engine = new wasm.Engine(JSON.stringify(fixtures));

let passed = 0;
let failed = 0;
const t0 = performance.now();
for (const c of cases) {
  const got = c.fixtures ? engine.estimate(c.request) : wasm.estimate(c.request);
  if (got === c.native) {
    passed += 1;
  } else {
    failed += 1;
    if (failed <= 5) {
      let at = 0;
      while (at < got.length && got[at] === c.native[at]) at += 1;
      console.error(`DIFF ${c.id} at char ${at}:\n  wasm:   ${got.slice(Math.max(0, at - 60), at + 60)}\n  native: ${c.native.slice(Math.max(0, at - 60), at + 60)}`);
    }
  }
}
const ms = performance.now() - t0;
console.log(`conformance: ${cases.length} requests in ${ms.toFixed(0)} ms (${(ms * 1000 / cases.length).toFixed(0)} µs each, wasm in Node)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
