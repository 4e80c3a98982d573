// The packed @yibao/engine as a user gets it: `npm install` of the tarball into a fresh project,
// then its public exports only (ESM and CommonJS) and its types (tsc on TypeScript files that use
// the API and hold real answers as typed literals). Every shared vector goes through it and must
// give the native answer's bytes and the vector's hand-worked amounts.
//
// Run by `cargo xtask npm`, which builds the tarball and writes the cases:
//   YIBAO_NPM_TARBALL=… YIBAO_NPM_CASES=… YIBAO_NPM_TSC=… node --test packages/npm/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const { YIBAO_NPM_TARBALL: tarball, YIBAO_NPM_CASES: casesFile, YIBAO_NPM_TSC: tsc } = process.env;
if (!tarball || !casesFile || !tsc) {
  throw new Error('run by `cargo xtask npm` (needs YIBAO_NPM_TARBALL, YIBAO_NPM_CASES, YIBAO_NPM_TSC)');
}

const project = mkdtempSync(join(tmpdir(), 'yibao-npm-consumer-'));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
// The package has no dependencies: an offline install from the tarball is all a user needs.
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', tarball], {
  cwd: project,
  stdio: 'inherit',
});
writeFileSync(join(project, 'entry.mjs'), "export * as named from '@yibao/engine';\nexport { default } from '@yibao/engine';\n");
const { named: yibao, default: yibaoDefault } = await import(pathToFileURL(join(project, 'entry.mjs')).href);
const cjs = createRequire(join(project, 'index.cjs'))('@yibao/engine');
const installed = join(project, 'node_modules', '@yibao', 'engine');

const { fixtures, cases } = JSON.parse(readFileSync(casesFile, 'utf8'));
const engine = new yibao.Engine(fixtures);
const answers = new Map(cases.map((c) => [c.id, engine.estimate(c.request)]));

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [relative(installed, p)];
  });
}

test('the tarball holds the built package and nothing else', () => {
  assert.deepEqual(files(installed).sort(), [
    'README.md',
    'dist/index.cjs',
    'dist/index.d.cts',
    'dist/index.d.ts',
    'dist/index.mjs',
    'dist/schema.d.cts',
    'dist/schema.d.ts',
    'dist/yibao_wasm.cjs',
    'dist/yibao_wasm_bg.wasm',
    'package.json',
  ]);
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.name, '@yibao/engine');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  assert.match(readFileSync(join(installed, 'README.md'), 'utf8'), /estimateBatch/);
});

test('ESM (named and default) and CommonJS exports are the same functions', () => {
  const names = ['estimate', 'estimateBatch', 'policies', 'params', 'check', 'Year', 'Engine', 'YibaoError'];
  for (const n of names) {
    assert.equal(typeof yibao[n], 'function', n);
    assert.equal(yibaoDefault[n], yibao[n], n);
    assert.equal(cjs[n], yibao[n], n);
  }
  assert.deepEqual(Object.keys(cjs).sort(), [...names].sort());
});

/** Compares a settlement with a vector's expectations; returns how many figures it compared. */
function expectations(id, i, s, expect) {
  let n = 0;
  const eq = (what, got, want) => {
    assert.equal(got, want, `${id} claims[${i}].${what}`);
    n += 1;
  };
  for (const [layer, want] of Object.entries(expect.layers ?? {})) {
    eq(`layers.${layer}`, s.layers.find((l) => l.id === layer)?.payment, want);
  }
  if (expect.fund_total != null) eq('fund_total', s.fund_total, expect.fund_total);
  if (expect.out_of_pocket != null) eq('out_of_pocket', s.out_of_pocket.total, expect.out_of_pocket);
  for (const [part, want] of Object.entries(expect.split ?? {})) {
    assert.ok(part in s.out_of_pocket, `${id}: no split part ${part}`);
    eq(`split.${part}`, s.out_of_pocket[part], want);
  }
  for (const code of expect.warnings ?? []) {
    assert.ok(s.warnings.some((w) => w.code === code), `${id} claims[${i}]: no warning ${code}`);
    n += 1;
  }
  return n;
}

test('every vector: the native answer byte for byte, and the hand-worked amounts', () => {
  let figures = 0;
  let bundled = 0;
  for (const c of cases) {
    const answer = answers.get(c.id);
    assert.equal(JSON.stringify(answer), c.native, `${c.id}: differs from the native answer`);
    if (c.bundled) {
      // Vectors of bundled policies through the module's own functions too.
      assert.equal(JSON.stringify(yibao.estimate(c.request)), c.native, c.id);
      bundled += 1;
    }
    assert.equal(answer.settlements.length, c.expect.length, c.id);
    c.expect.forEach((e, i) => {
      figures += expectations(c.id, i, answer.settlements[i], e);
    });
  }
  assert.ok(cases.length >= 100, `${cases.length} vectors`);
  assert.ok(bundled >= 50, `${bundled} vectors of bundled policies`);
  assert.ok(figures >= 3 * cases.length, `${figures} figures compared`);
});

test('each vector as one person\'s batch gives the same settlements', () => {
  let batches = 0;
  for (const c of cases) {
    if (c.request.state) continue; // a batch starts every person's year afresh
    const { policy, version, overrides, trace } = c.request;
    const claims = c.request.claims.map((claim) => ({ ...claim, person: claim.person ?? 'p' }));
    const b = engine.estimateBatch({ policy, version, overrides, trace, claims });
    assert.equal(b.failed, 0, c.id);
    assert.deepEqual(b.results.map((r) => r.settlement), answers.get(c.id).settlements, c.id);
    batches += 1;
  }
  assert.ok(batches >= 100, `${batches} batches`);
  // A claim's own error is in its item; the others are settled.
  const b = yibao.estimateBatch({
    policy: 'tianjin.resident',
    claims: [
      { person: 'a', date: '2024-05-01', care: 'inpatient', level: '3', amounts: { total: '30000' } },
      { person: 'b', date: '2024-05-01', care: 'dental', amounts: { total: '100' } },
    ],
  });
  assert.equal(b.settled, 1);
  assert.equal(b.failed, 1);
  assert.equal(b.results[1].error.path, 'claims[1].care');
});

test('a Year settles claim by claim exactly as estimate does with all the claims', () => {
  let years = 0;
  let longest = 0;
  for (const c of cases) {
    const answer = answers.get(c.id);
    const { claims, ...options } = c.request;
    const year = engine.year(options);
    claims.forEach((claim, i) => {
      const one = year.settle(claim);
      assert.deepEqual(one.settlements, [answer.settlements[i]], `${c.id} claim ${i}`);
      assert.deepEqual(one.state, year.state, c.id);
    });
    assert.deepEqual(year.state, answer.state, `${c.id}: the state after the year`);
    assert.equal(year.settled, claims.length);
    if (c.bundled) {
      const own = new yibao.Year(options);
      claims.forEach((claim) => own.settle(claim));
      assert.deepEqual(own.state, answer.state, c.id);
      own.free();
    }
    year.free();
    years += 1;
    longest = Math.max(longest, claims.length);
  }
  assert.ok(years >= 100 && longest >= 3, `${years} years, longest ${longest}`);
});

test('refusals are thrown as YibaoError with the field, the code and what is allowed', () => {
  const claim = { date: '2024-05-01', care: 'inpatient', level: '3', amounts: { total: '30000' } };
  const refused = (f) => {
    try {
      f();
    } catch (e) {
      return e;
    }
    assert.fail('not refused');
  };
  const dental = refused(() => yibao.estimate({ policy: 'tianjin.resident', claim: { ...claim, care: 'dental' } }));
  assert.ok(dental instanceof yibao.YibaoError && dental instanceof Error);
  assert.equal(dental.name, 'YibaoError');
  assert.equal(dental.path, 'claim.care');
  assert.equal(dental.code, 'unknown_choice');
  assert.ok(dental.allowed.includes('inpatient'), dental.allowed);
  assert.equal(dental.error.message, dental.message);
  // Money is never a fractional JS number: 12.5 is refused, a whole number of yuan is taken.
  const float = refused(() => yibao.estimate({ policy: 'tianjin.resident', claim: { ...claim, amounts: { total: 12.5 } } }));
  assert.equal(float.path, 'claim.amounts.total');
  assert.equal(
    yibao.estimate({ policy: 'tianjin.resident', claim: { ...claim, amounts: { total: 30000 } } }).settlements[0].amounts.total,
    '30000.00',
  );
  const nowhere = refused(() => yibao.estimate({ policy: 'atlantis.resident', claim }));
  assert.equal(nowhere.kind, 'not_found');
  assert.ok(nowhere.allowed.includes('tianjin.resident'));
  assert.equal(refused(() => yibao.estimate({ policy: 'tianjin.resident', claim, claims: [claim] })).path, 'claim');
  assert.ok(refused(() => yibao.estimate('{"policy":"tianjin.resident"}')) instanceof TypeError);
  // A year: claims at the start, a bad override and a claim out of date order are refused; the
  // refused claim leaves the year as it was.
  assert.equal(refused(() => new yibao.Year({ policy: 'tianjin.resident', claims: [claim] })).path, 'claims');
  assert.equal(
    refused(() => new yibao.Year({ policy: 'tianjin.resident', overrides: { 'basic.ratio': 'lots' } })).path,
    'overrides.basic.ratio',
  );
  const year = new yibao.Year({ policy: 'tianjin.resident', trace: false });
  year.settle(claim);
  const before = year.state;
  const early = refused(() => year.settle({ ...claim, date: '2024-04-01' }));
  assert.equal(early.path, 'claim.date');
  assert.equal(early.code, 'date_order');
  assert.deepEqual(year.state, before);
  assert.equal(year.settled, 1);
});

test('policies, params and check', () => {
  const versions = yibao.policies();
  const tianjin = versions.filter((v) => v.id === 'tianjin.resident');
  assert.ok(tianjin.length >= 2);
  const listed = yibao.params('tianjin.resident', tianjin[0].effective);
  assert.equal(listed.id, 'tianjin.resident');
  assert.ok(listed.params.length > 0 && listed.params.every((p) => p.path && p.cite.line > 0));
  assert.equal(
    listed.params.length,
    Object.values(tianjin[0].provenance).reduce((a, b) => a + b, 0),
    'every figure the version counts',
  );
  // A listed path is one an override may name.
  const path = listed.params.find((p) => p.path.startsWith('basic.'))?.path;
  const date = tianjin[0].effective;
  const a = yibao.estimate({
    policy: 'tianjin.resident',
    version: date,
    overrides: { [path]: '1' },
    claim: { date, care: 'inpatient', amounts: { total: '1' } },
  });
  assert.equal(a.settlements.length, 1);
  assert.throws(() => yibao.params('tianjin.resident', '2001-01-01'), (e) => e.kind === 'not_found' && e.path === 'version');
  assert.throws(() => yibao.params('tianjin.resident', 'someday'), (e) => e.path === 'version');
  // check: diagnostics with a line, whatever the text says.
  const bad = yibao.check('policy nonsense');
  assert.equal(bad.ok, false);
  assert.ok(bad.errors > 0 && bad.diagnostics[0].line >= 1, JSON.stringify(bad));
});

/** A TypeScript project in the consumer's folder, checked by tsc; its output and exit status. */
function typecheck(name, files) {
  for (const [file, text] of Object.entries(files)) writeFileSync(join(project, file), text);
  writeFileSync(
    join(project, `${name}.tsconfig.json`),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: false,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: Object.keys(files),
    }),
  );
  const r = spawnSync(process.execPath, [tsc, '-p', `${name}.tsconfig.json`], { cwd: project, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('types: a TypeScript consumer compiles (ESM and CommonJS) and real answers fit the types', () => {
  const vector = cases.find((c) => c.request.overrides && c.request.claims.length > 1) ?? cases[0];
  const refusal = (() => {
    try {
      yibao.estimate({ policy: 'tianjin.resident', claim: { date: '2024-05-01', care: 'dental', amounts: { total: '1' } } });
    } catch (e) {
      return e.error;
    }
    return null;
  })();
  const batch = yibao.estimateBatch({
    policy: 'tianjin.resident',
    claims: [
      { person: 'a', date: '2024-05-01', care: 'inpatient', level: '3', amounts: { total: '30000' } },
      { person: 'b', date: '2024-05-01', care: 'dental', amounts: { total: '100' } },
    ],
  });
  const tianjin = yibao.policies().find((v) => v.id === 'tianjin.resident');
  // Real answers as object literals: TypeScript refuses a literal with a field its type lacks, a
  // missing required field, or a value of the wrong type, so each answer checks the types.
  const literal = (v) => JSON.stringify(v, null, 1);
  const answersTs = `import type { EstimateAnswer, BatchAnswer, VersionInfo, VersionParams, CheckAnswer, ApiError, YtdState } from '@yibao/engine';
export const estimated: EstimateAnswer = ${literal(answers.get(vector.id))};
export const batch: BatchAnswer = ${literal(batch)};
export const versions: VersionInfo[] = ${literal(yibao.policies())};
export const figures: VersionParams = ${literal(yibao.params(tianjin.id, tianjin.effective))};
export const checked: CheckAnswer = ${literal(yibao.check('policy nonsense'))};
export const refused: ApiError = ${literal(refusal)};
export const state: YtdState = ${literal(answers.get(vector.id).state)};
`;
  const usageTs = `import { estimate, estimateBatch, Year, Engine, YibaoError, type Claim, type EstimateRequest, type Settlement } from '@yibao/engine';
import yibao from '@yibao/engine';
const claim: Claim = { date: '2024-05-01', care: 'inpatient', level: '3', amounts: { total: '30000', out_of_list: '2000' } };
const request: EstimateRequest = { policy: 'tianjin.resident', overrides: { 'basic.ratio': '80%' }, trace: false, claim };
const s: Settlement = estimate(request).settlements[0];
const patient: string = s.out_of_pocket.total; // money in an answer is a string
const year = new Year({ policy: 'tianjin.resident' });
const after: string = year.settle(claim).settlements[0].fund_total;
const n: number = year.settled + estimateBatch({ claims: [claim] }).settled;
const engine = new Engine([['draft.policy', 'policy draft.x "x" "x"']]);
engine.free();
try { yibao.estimate(request); } catch (e) { if (e instanceof YibaoError) { const p: string | null = e.path; void p; } }
export { patient, after, n };
`;
  const usageCts = `import yibao = require('@yibao/engine');
const a: yibao.EstimateAnswer = yibao.estimate({ policy: 'tianjin.resident', claim: { date: '2024-05-01', care: 'inpatient', amounts: { total: 100 } } });
const y: yibao.Year = new yibao.Year({ policy: 'tianjin.resident' });
export = { a, y };
`;
  const good = typecheck('good', { 'answers.ts': answersTs, 'usage.ts': usageTs, 'usage.cts': usageCts });
  assert.equal(good.status, 0, good.out);
  // And the types are not `any`: mistakes do not compile.
  const wrong = typecheck('wrong', {
    'wrong.ts': `import { estimate, type EstimateRequest, type EstimateAnswer } from '@yibao/engine';
const r: EstimateRequest = { policy: 1 };
const a: EstimateAnswer = estimate({ claim: { date: '2024-05-01', care: 'inpatient' } });
const n: number = a.settlements[0].fund_total;
const e: EstimateAnswer = { settlements: [], state: {}, notices: [], extra: 1 };
export { r, n, e };
`,
  });
  assert.notEqual(wrong.status, 0, 'tsc accepted wrong code');
  for (const line of [2, 3, 4, 5]) assert.match(wrong.out, new RegExp(`wrong\\.ts\\(${line},`), wrong.out);
});
