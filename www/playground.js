// The drafter's playground. Every check runs in Rust (the drafter build of the wasm module):
// this file only moves text between the editor and the module and draws the answers.
import init, * as yibao from './pkg-drafter/yibao_wasm.js';

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const enc = new TextEncoder();
const dec = new TextDecoder();
let name = 'draft.policy';
let policyId = '';
let timer = null;

function unwrap(json) {
  const r = JSON.parse(json);
  if (!r.ok) throw r.error || r;
  return r.answer;
}

/** Byte offsets (UTF-8, as the module reports spans) to indices in the JS string. */
function byteToIndex(bytes, b) {
  return dec.decode(bytes.slice(0, Math.max(0, Math.min(b, bytes.length)))).length;
}

function drawEditor(text, diags, findingLines) {
  const lines = text.split('\n').length;
  const marks = new Set(diags.filter((d) => d.line).map((d) => d.line));
  let g = '';
  for (let i = 1; i <= lines; i++) {
    const cls = marks.has(i) ? 'err' : findingLines.has(i) ? 'warn' : '';
    g += `<span class="${cls}">${i}</span>\n`;
  }
  $('gutter').innerHTML = g;
  // Underline each diagnostic's span in a layer under the transparent textarea.
  const bytes = enc.encode(text);
  const spans = diags
    .filter((d) => d.start != null && d.end != null)
    .map((d) => ({ a: byteToIndex(bytes, d.start), b: byteToIndex(bytes, Math.max(d.end, d.start + 1)), d }))
    .sort((x, y) => x.a - y.a);
  let html = '';
  let at = 0;
  for (const s of spans) {
    if (s.a < at) continue;
    html += esc(text.slice(at, s.a));
    const cls = s.d.severity === 'error' ? 'err' : 'warn';
    html += `<mark class="${cls}" data-line="${s.d.line}" title="${esc(s.d.message)}">${esc(text.slice(s.a, s.b) || ' ')}</mark>`;
    at = s.b;
  }
  html += esc(text.slice(at)) + '\n';
  $('hl').innerHTML = html;
}

function check() {
  const text = $('src').value;
  const c = unwrap(yibao.check(name, text));
  const diags = c.diagnostics;
  $('diag-count').textContent = `${c.errors} 错误 errors · ${c.warnings} 警告 warnings`;
  $('diagnostics').innerHTML = diags.map((d) => `<li class="${d.severity}"><code>${d.line ?? '?'}:${d.column ?? '?'}</code> ${esc(d.message)}${d.help ? ` <small>${esc(d.help)}</small>` : ''}</li>`).join('');
  let findingLines = new Set();
  if (c.errors === 0) {
    try {
      const rep = unwrap(yibao.compliance(name, text));
      policyId = rep.policy;
      const fs = rep.findings;
      findingLines = new Set(fs.filter((f) => f.file === name).map((f) => f.line));
      const n = (sev) => fs.filter((f) => f.severity === sev).length;
      $('find-count').textContent = `${n('violation')} 违规 violations · ${n('warning')} 待核实 to verify · ${n('info')} 未能检查 not checked`;
      $('findings').innerHTML = fs.map((f) => `<li class="${f.severity}"><b>${esc(f.rule)}</b> <code>${esc(f.file)}:${f.line}</code> ${esc(f.message_zh)}<br><span class="en">${esc(f.message_en)}</span><br><small>${esc(f.document)}${f.known ? ` · 已知偏差 known: ${esc(f.known)}` : ''}</small></li>`).join('');
    } catch (e) {
      $('findings').innerHTML = `<li class="error">${esc(e.message || JSON.stringify(e))}</li>`;
    }
  } else {
    $('find-count').textContent = '（先修正错误 fix the errors first）';
    $('findings').innerHTML = '';
  }
  drawEditor(text, diags, findingLines);
  $('status').textContent = c.errors ? '有错误 errors' : '通过 OK';
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(check, 150);
}

async function runVectors() {
  const region = policyId.split('.')[0];
  const index = await (await fetch('pkg-drafter/vectors/index.json')).json();
  const files = [];
  for (const f of index[region] || []) {
    files.push([`${region}/${f}`, await (await fetch(`pkg-drafter/vectors/${region}/${f}`)).text()]);
  }
  const results = unwrap(yibao.vectors(name, $('src').value, JSON.stringify(files)));
  const passed = results.filter((r) => r.passed).length;
  $('vec-count').textContent = `${passed}/${results.length} 通过 passed`;
  $('vectors').innerHTML = results.map((r) => `<li class="${r.passed ? 'pass' : 'error'}">${r.passed ? '✓' : '✗'} <b>${esc(r.id)}</b> ${esc(r.title)}${r.diffs.length ? `<br><small>${r.diffs.map(esc).join('<br>')}</small>` : ''}</li>`).join('');
}

function runDiff() {
  try {
    const r = unwrap(yibao.diff(name, $('src').value, 300));
    const side = (s) => (s ? `${esc(s.text)} <small>[${esc(s.provenance)}]</small>` : '—');
    const i = r.impact;
    const pct = (x) => (x == null ? '–' : `${(Number(x) * 100).toFixed(2)}%`);
    $('diff').innerHTML = `<p>${esc(r.old.id)}@${esc(r.old.version)} → 草案 draft · ${r.params.length} 项参数变化 parameter(s) changed</p>
      <table class="params"><thead><tr><th>参数 parameter</th><th>原 old</th><th>新 new</th></tr></thead><tbody>${r.params.map((c) => `<tr><td><code>${esc(c.path)}</code></td><td>${side(c.old)}</td><td>${side(c.new)}</td></tr>`).join('')}</tbody></table>
      <p>${i.claims} 笔样本就医（${i.persons} 人）· 个人负担变化的 ${i.changed} 笔 claims whose out-of-pocket changed · 平均 mean ${esc(i.mean_change)} · 中位 median ${esc(i.p50_change)} · p90 ${esc(i.p90_change)}</p>
      <table class="impact"><thead><tr><th></th><th>原 before</th><th>草案 after</th></tr></thead><tbody>
      <tr><td>基金支付 fund cost</td><td>${esc(i.fund_before)}</td><td>${esc(i.fund_after)}</td></tr>
      <tr><td>个人负担 out of pocket</td><td>${esc(i.out_of_pocket_before)}</td><td>${esc(i.out_of_pocket_after)}</td></tr>
      <tr><td>政策范围内报销比例 policy-scope ratio</td><td>${pct(i.policy_scope_ratio_before)}</td><td>${pct(i.policy_scope_ratio_after)}</td></tr></tbody></table>`;
  } catch (e) {
    $('diff').innerHTML = `<p class="err">${esc(e.message || JSON.stringify(e))}</p>`;
  }
}

function fillTrial(v) {
  const fill = (id, values, empty) => {
    const sel = $(id);
    sel.innerHTML = (empty ? '<option value="">—</option>' : '') + values.map((x) => `<option value="${esc(x.id)}">${esc(x.zh || x.id)} ${esc(x.en || "")}</option>`).join('');
  };
  fill('t-care', v.dims.care);
  fill('t-level', v.dims.levels, v.dims.levels.length === 0);
  fill('t-category', v.dims.categories, true);
}

function trial(ev) {
  ev.preventDefault();
  const engine = new yibao.Engine(JSON.stringify([[name, $('src').value]]));
  const claim = { date: versionOf().effective, care: $('t-care').value, amounts: { total: $('t-total').value || '0', out_of_list: $('t-ool').value || '0' } };
  if ($('t-level').value) claim.level = $('t-level').value;
  if ($('t-category').value) claim.categories = [$('t-category').value];
  const r = JSON.parse(engine.estimate(JSON.stringify({ policy: policyId, trace: false, claim })));
  engine.free();
  if (!r.ok) {
    $('trial').innerHTML = `<p class="err">${esc(r.error.path || '')} ${esc(r.error.message)}</p>`;
    return;
  }
  const s = r.answer.settlements[0];
  $('trial').innerHTML = `<table><tbody>${s.layers.filter((l) => l.applied).map((l) => `<tr><td>${esc(l.label)}</td><td>${esc(l.payment)}</td></tr>`).join('')}<tr><td><b>个人负担 you pay</b></td><td><b id="trial-oop">${esc(s.out_of_pocket.total)}</b></td></tr></tbody></table>`;
}

let versions = [];
function versionOf() {
  const [id, eff] = $('version').value.split('@');
  return versions.find((v) => v.id === id && v.effective === eff);
}

function load() {
  const v = versionOf();
  const src = unwrap(yibao.source(v.id, v.effective));
  name = src.file;
  policyId = v.id;
  $('src').value = src.text;
  fillTrial(v);
  $('vectors').innerHTML = '';
  $('vec-count').textContent = '';
  $('diff').innerHTML = '';
  check();
}

async function main() {
  await init({ module_or_path: new URL('pkg-drafter/yibao_wasm_bg.wasm', import.meta.url) });
  versions = unwrap(yibao.policies()).filter((v) => !v.id.startsWith('fixture.'));
  $('version').innerHTML = versions.map((v) => `<option value="${esc(v.id)}@${esc(v.effective)}">${esc(v.id)} @ ${esc(v.effective)} — ${esc(v.name)}</option>`).join('');
  const wanted = new URLSearchParams(location.hash.slice(1)).get('v');
  if (wanted && versions.some((v) => `${v.id}@${v.effective}` === wanted)) $('version').value = wanted;
  $('version').addEventListener('change', load);
  $('src').addEventListener('input', schedule);
  $('src').addEventListener('scroll', () => {
    $('hl').scrollTop = $('src').scrollTop;
    $('hl').scrollLeft = $('src').scrollLeft;
    $('gutter').scrollTop = $('src').scrollTop;
  });
  $('fmt').addEventListener('click', () => {
    const r = JSON.parse(yibao.format($('src').value));
    if (r.ok) { $('src').value = r.answer; check(); }
  });
  $('run-vectors').addEventListener('click', () => runVectors().catch((e) => { $('vectors').innerHTML = `<li class="error">${esc(e.message || e)}</li>`; }));
  $('run-diff').addEventListener('click', runDiff);
  $('claim').addEventListener('submit', trial);
  load();
  document.body.dataset.ready = '1';
}

main().catch((e) => { $('status').textContent = String(e.message || e); });
