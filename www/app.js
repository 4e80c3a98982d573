// The citizen estimator. All rules run in Rust (the wasm module); this file only builds the
// request from the form, shows the answer and keeps the state in the URL fragment.
import init, * as yibao from './pkg/yibao_wasm.js';

const T = {
  zh: {
    title: '医保报销估算', subtitle: '输入账单金额，看基本医保、大病保险、医疗救助各付多少、您自付多少——每一步都有政策依据。账单不会离开您的浏览器。',
    who: '参保信息', city: '城市', scheme: '参保类型', date: '结算日期', group: '人员类别', categories: '特殊身份（可多选）',
    'care-legend': '就医情况', care: '就医类型', level: '医院等级', place: '就医地', disease: '病种', referral: '由上一家医院转诊而来',
    bill: '账单金额（元）', total: '医疗费总额', out_of_list: '全自费', pre_self_pay: '先行自付', over_limit: '超限价自付',
    'total-help': '结算单上的“医疗费总额”。', 'ool-help': '医保目录外的药品和项目，全部由您支付。', 'pre-help': '乙类药品、项目中先由您支付的部分。', 'over-help': '价格超过医保支付标准的部分。',
    estimate: '估算', 'you-pay': '您需自付', yuan: '元', layer: '保障层', base: '计算基数', deductible: '起付线', payment: '支付',
    split: '您自付的构成', steps: '计算过程', you: '您自付', none: '（无）', 'not-applied': '不适用',
    unverified: '以下数字尚未与官方文件核对（未核实），结果仅供参考：', 'version-date': '本版本的生效日期未核实。',
    policy: (p) => `依据：${p.name}（${p.version} 版，内容校验 ${p.content_hash.slice(0, 12)}）`,
    footer: '估算结果仅供参考，以医保经办机构结算为准。标注“未核实”的数字尚未与官方文件核对。',
    parts: { out_of_list: '全自费', pre_self_pay: '先行自付', over_limit: '超限价自付', deductible: '起付线', co_pay: '按比例自付', above_cap: '超过封顶线', not_covered: '本政策不予支付' },
    schemes: { employee: '职工医保', resident: '城乡居民医保' },
    regions: { tianjin: '天津', beijing: '北京', guangzhou: '广州', huzhou: '湖州', ziyang: '资阳' },
    required: '请填写', lang: 'English',
    earlier: '本年度此前的就医（可选）', 'earlier-help': '同一年里已经结算过的就医会用掉起付线和封顶线：填上它们，估算更准。',
    'add-earlier': '＋ 添加一次此前的就医', remove: '删除', 'earlier-date': '日期', 'earlier-care': '就医类型', 'earlier-total': '医疗费总额', 'earlier-ool': '全自费',
    'earlier-note': (n) => `已计入本年度此前 ${n} 次就医。`,
  },
  en: {
    title: 'Medical insurance estimate', subtitle: 'Type the amounts from your bill to see what the basic fund, serious-illness insurance and medical aid pay, and what you pay — each step with the rule it applies. Your bill never leaves your browser.',
    who: 'Insurance', city: 'City', scheme: 'Scheme', date: 'Settlement date', group: 'Member group', categories: 'Special status (any that apply)',
    'care-legend': 'Care', care: 'Type of care', level: 'Hospital level', place: 'Where', disease: 'Disease', referral: 'Referred from another hospital',
    bill: 'Bill (yuan)', total: 'Total bill', out_of_list: 'Out of list', pre_self_pay: 'Pre-self-pay', over_limit: 'Over the price limit',
    'total-help': 'The total on the settlement form.', 'ool-help': 'Drugs and items outside the insurance list: all yours to pay.', 'pre-help': 'The share of class-B items you pay first.', 'over-help': 'The part of prices above the payment standard.',
    estimate: 'Estimate', 'you-pay': 'You pay', yuan: 'yuan', layer: 'Layer', base: 'Base', deductible: 'Deductible', payment: 'Pays',
    split: 'What you pay, by cause', steps: 'How it was computed', you: 'You', none: '(none)', 'not-applied': 'not applicable',
    unverified: 'These figures are not yet verified against an official text (placeholders); the result is indicative:', 'version-date': 'The date this version took effect is not verified.',
    policy: (p) => `Under: ${p.name} (version ${p.version}, content hash ${p.content_hash.slice(0, 12)})`,
    footer: 'An estimate, not a settlement: the insurance office decides. Figures marked unverified are not yet checked against official texts.',
    parts: { out_of_list: 'Out of list', pre_self_pay: 'Pre-self-pay', over_limit: 'Over the price limit', deductible: 'Deductible', co_pay: 'Co-payment', above_cap: 'Above the cap', not_covered: 'Not covered by this policy' },
    schemes: { employee: 'Employees', resident: 'Residents' },
    regions: { tianjin: 'Tianjin', beijing: 'Beijing', guangzhou: 'Guangzhou', huzhou: 'Huzhou', ziyang: 'Ziyang' },
    required: 'Required', lang: '中文',
    earlier: 'Earlier this year (optional)', 'earlier-help': 'Care already settled this year uses up deductibles and caps: add it for a closer estimate.',
    'add-earlier': '+ Add earlier care', remove: 'Remove', 'earlier-date': 'Date', 'earlier-care': 'Type of care', 'earlier-total': 'Total bill', 'earlier-ool': 'Out of list',
    'earlier-note': (n) => `Includes ${n} earlier claim(s) this year.`,
  },
};

let lang = 'zh';
let versions = [];
let dims = null;
let last = null;
const $ = (id) => document.getElementById(id);
const t = (k) => T[lang][k] ?? k;

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('lang').textContent = t('lang');
  $('lang').setAttribute('aria-label', t('lang'));
  fillPolicyPickers();
  fillDims();
  if (last) render(last);
}

function option(sel, value, label) {
  const o = document.createElement('option');
  o.value = value; o.textContent = label;
  sel.append(o);
}

function keep(sel, fill) {
  const v = sel.value;
  sel.replaceChildren();
  fill();
  if ([...sel.options].some((o) => o.value === v)) sel.value = v;
}

function fillPolicyPickers() {
  const regions = [...new Set(versions.map((v) => v.region))];
  keep($('region'), () => regions.forEach((r) => option($('region'), r, T[lang].regions[r] ?? r)));
  const schemes = [...new Set(versions.filter((v) => v.region === $('region').value).map((v) => v.scheme))];
  keep($('scheme'), () => schemes.forEach((s) => option($('scheme'), s, T[lang].schemes[s] ?? s)));
}

function label(d) { return lang === 'zh' ? d.zh : d.en; }

// The version in force on the date is chosen in Rust; its dimensions fill the form.
function loadDims() {
  const policy = `${$('region').value}.${$('scheme').value}`;
  const r = JSON.parse(yibao.version_for(policy, $('date').value));
  showError('date', null);
  if (!r.ok) {
    dims = null;
    showError('date', r.error.message);
    return;
  }
  dims = r.answer.dims;
  fillDims();
}

function fillDims() {
  if (!dims) return;
  keep($('group'), () => dims.groups.forEach((d) => option($('group'), d.id, label(d))));
  keep($('care'), () => dims.care.forEach((d) => option($('care'), d.id, label(d))));
  keep($('level'), () => dims.levels.forEach((d) => option($('level'), d.id, label(d))));
  keep($('place'), () => dims.places.forEach((d) => option($('place'), d.id, label(d))));
  keep($('disease'), () => { option($('disease'), '', t('none')); dims.diseases.forEach((d) => option($('disease'), d.id, label(d))); });
  $('disease-row').hidden = dims.diseases.length === 0;
  for (const sel of document.querySelectorAll('#earlier .e-care')) keep(sel, () => dims.care.forEach((d) => option(sel, d.id, label(d))));
  const checked = new Set([...document.querySelectorAll('#categories input:checked')].map((i) => i.value));
  for (const l of [...document.querySelectorAll('#categories label')]) l.remove();
  for (const d of dims.categories) {
    const l = document.createElement('label');
    const i = document.createElement('input');
    i.type = 'checkbox'; i.value = d.id; i.checked = checked.has(d.id);
    l.append(i, ' ', label(d));
    $('categories').append(l);
  }
}

// Earlier claims this year: rows of date, care, total, out-of-list. They go before the claim in
// the same request, so the evaluator folds the year exactly as for any sequence of claims.
function addEarlier(row = {}) {
  const div = document.createElement('div');
  div.className = 'earlier-row';
  const mk = (tag, cls, key, value) => {
    const l = document.createElement('label');
    const span = document.createElement('span'); span.dataset.i18n = key; span.textContent = t(key);
    const el = document.createElement(tag); el.className = cls;
    if (tag === 'input') { el.inputMode = cls === 'e-date' ? undefined : 'decimal'; if (cls === 'e-date') el.type = 'date'; el.value = value ?? ''; }
    l.append(span, el); div.append(l); return el;
  };
  mk('input', 'e-date', 'earlier-date', row.date);
  const care = mk('select', 'e-care', 'earlier-care');
  for (const d of dims?.care ?? []) option(care, d.id, label(d));
  if (row.care) care.value = row.care;
  mk('input', 'e-total', 'earlier-total', row.total);
  mk('input', 'e-ool', 'earlier-ool', row.ool);
  const rm = document.createElement('button'); rm.type = 'button'; rm.className = 'secondary'; rm.dataset.i18n = 'remove'; rm.textContent = t('remove');
  rm.addEventListener('click', () => { div.remove(); if (last) estimate(); else saveState(); });
  div.append(rm);
  $('earlier').append(div);
}

function earlierRows() {
  return [...document.querySelectorAll('#earlier .earlier-row')].map((d) => ({
    date: d.querySelector('.e-date').value, care: d.querySelector('.e-care').value,
    total: d.querySelector('.e-total').value.trim(), ool: d.querySelector('.e-ool').value.trim(),
  }));
}

function showError(field, message) {
  const el = $(`err-${field}`);
  if (el) el.textContent = message ?? '';
  const input = $(field);
  if (input && input.setAttribute) input.setAttribute('aria-invalid', message ? 'true' : 'false');
}

function clearErrors() {
  for (const f of ['date', 'care', 'total', 'out_of_list', 'pre_self_pay', 'over_limit', 'amounts', 'earlier']) showError(f, null);
}

function request() {
  const amount = (id) => ($(id).value.trim() === '' ? '0' : $(id).value.trim());
  const claim = {
    date: $('date').value,
    group: $('group').value || undefined,
    categories: [...document.querySelectorAll('#categories input:checked')].map((i) => i.value),
    care: $('care').value,
    level: $('level').value || undefined,
    place: $('place').value || undefined,
    referral: $('referral').checked,
    disease: $('disease').value || undefined,
    amounts: { total: $('total').value.trim(), out_of_list: amount('out_of_list'), pre_self_pay: amount('pre_self_pay'), over_limit: amount('over_limit') },
  };
  const earlier = earlierRows().map((r) => ({
    ...claim, date: r.date, care: r.care, referral: false, disease: undefined,
    amounts: { total: r.total || '0', out_of_list: r.ool || '0' },
  }));
  return { policy: `${$('region').value}.${$('scheme').value}`, trace: true, claims: [...earlier, claim] };
}

// The field a Rust error path points at.
function fieldOf(path) {
  if (!path) return 'amounts';
  const m = /^claims\[(\d+)\]/.exec(path);
  const n = earlierRows().length;
  if (m && Number(m[1]) < n) return 'earlier';
  // The sequence's date order concerns the earlier claims too.
  if (m && n > 0 && path === `${m[0]}.date`) return 'earlier';
  if (m && path === m[0]) return 'date';
  const last = path.split('.').pop();
  if (['total', 'out_of_list', 'pre_self_pay', 'over_limit'].includes(last)) return last;
  if (last === 'amounts') return 'amounts';
  if (path.endsWith('date') || path === 'claim' || path === 'version') return 'date';
  if (last === 'care') return 'care';
  return 'amounts';
}

function estimate() {
  clearErrors();
  // The URL fragment is updated after the result is drawn: history updates are slow.
  setTimeout(saveState, 0);
  if ($('total').value.trim() === '') { showError('total', t('required')); return; }
  const r = JSON.parse(yibao.estimate(JSON.stringify(request())));
  if (!r.ok) {
    $('result').hidden = true;
    last = null;
    const e = r.error;
    const extra = e.allowed && e.allowed.length ? ` (${e.allowed.join(', ')})` : '';
    const f = fieldOf(e.path);
    const k = Number(/\d+/.exec(e.path ?? '')?.[0] ?? -1);
    const which = f === 'earlier' && k >= 0 && k < earlierRows().length ? `#${k + 1}: ` : '';
    showError(f, which + e.message + extra);
    return;
  }
  const all = r.answer.settlements;
  last = all[all.length - 1];
  last.earlierCount = all.length - 1;
  render(last);
}

// One formatter per language: building an Intl.NumberFormat per number costs more than the estimate.
const FORMATS = {};
const fmt = (s) => (FORMATS[lang] ??= new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(Number(s));

function render(s) {
  $('result').hidden = false;
  $('oop').textContent = fmt(s.out_of_pocket.total);
  const total = Number(s.amounts.total) || 1;
  const byKind = {};
  for (const l of s.layers) if (Number(l.payment) > 0) byKind[l.kind] = (byKind[l.kind] ?? 0) + Number(l.payment);
  const names = {};
  for (const l of s.layers) names[l.kind] ??= lang === 'zh' ? l.label : (l.label_en ?? l.label);
  const segments = [...Object.entries(byKind), ['you', Number(s.out_of_pocket.total)]];
  $('bar').replaceChildren(...segments.map(([k, v]) => { const e = document.createElement('span'); e.className = `k-${k}`; e.style.width = `${(100 * v) / total}%`; e.title = `${k === 'you' ? t('you') : names[k]}: ${fmt(v)}`; return e; }));
  $('bar').setAttribute('aria-label', segments.map(([k, v]) => `${k === 'you' ? t('you') : names[k]} ${fmt(v)}`).join('; '));
  $('legend').replaceChildren(...segments.map(([k, v]) => { const li = document.createElement('li'); const i = document.createElement('i'); i.className = `k-${k}`; li.append(i, `${k === 'you' ? t('you') : names[k]} ${fmt(v)}`); return li; }));

  const warn = $('unverified');
  const msgs = [];
  if (s.unverified.length) msgs.push(t('unverified'));
  warn.replaceChildren();
  if (msgs.length) {
    const p = document.createElement('p'); p.textContent = msgs[0]; warn.append(p);
    const ul = document.createElement('ul');
    for (const u of s.unverified) { const li = document.createElement('li'); li.textContent = `${u.path} = ${u.text}${u.note ? ' — ' + u.note : ''}`; ul.append(li); }
    warn.append(ul);
  }
  if (s.warnings.some((w) => w.code === 'unverified_version_date')) { const p = document.createElement('p'); p.textContent = t('version-date'); warn.append(p); }
  warn.hidden = warn.childElementCount === 0;

  const tbody = $('layers').tBodies[0];
  tbody.replaceChildren(...s.layers.map((l) => {
    const tr = document.createElement('tr');
    const cells = [lang === 'zh' ? l.label : (l.label_en ?? l.label), l.applied ? fmt(l.base) : '—', l.applied ? fmt(l.deductible) : '—', l.applied ? fmt(l.payment) : t('not-applied')];
    cells.forEach((c, i) => { const td = document.createElement('td'); td.textContent = c; if (i) td.className = 'num'; tr.append(td); });
    return tr;
  }));
  const sb = $('split').tBodies[0];
  sb.replaceChildren(...Object.entries(T[lang].parts).filter(([k]) => Number(s.out_of_pocket[k]) > 0).map(([k, name]) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td'); a.textContent = name;
    const b = document.createElement('td'); b.className = 'num'; b.textContent = fmt(s.out_of_pocket[k]);
    tr.append(a, b); return tr;
  }));
  $('steps').replaceChildren(...s.trace.map((st) => {
    const li = document.createElement('li');
    li.append(lang === 'zh' ? st.zh : st.en);
    for (const p of st.params) { const b = document.createElement('span'); b.className = `prov prov-${p.provenance}`; b.textContent = `${p.path} ${p.provenance}${p.source ? ' ' + p.source : ''}`; li.append(b); }
    if (st.cite && st.cite.file) { const c = document.createElement('span'); c.className = 'cite'; c.textContent = `${st.cite.file}:${st.cite.line} — ${st.cite.text}`; li.append(c); }
    return li;
  }));
  $('policy').textContent = T[lang].policy(s.policy) + (s.earlierCount ? ` ${T[lang]['earlier-note'](s.earlierCount)}` : '');
}

const FIELDS = ['region', 'scheme', 'date', 'group', 'care', 'level', 'place', 'disease', 'total', 'out_of_list', 'pre_self_pay', 'over_limit'];

function saveState() {
  const p = new URLSearchParams();
  for (const f of FIELDS) if ($(f).value) p.set(f, $(f).value);
  const cats = [...document.querySelectorAll('#categories input:checked')].map((i) => i.value);
  if (cats.length) p.set('categories', cats.join(','));
  if ($('referral').checked) p.set('referral', '1');
  const e = earlierRows();
  if (e.length) p.set('earlier', e.map((r) => [r.date, r.care, r.total, r.ool].join('~')).join('_'));
  p.set('lang', lang);
  history.replaceState(null, '', `#${p.toString()}`);
}

function loadState() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.get('lang') === 'en') lang = 'en';
  return p;
}

async function main() {
  try {
    await init({ module_or_path: new URL('./pkg/yibao_wasm_bg.wasm', import.meta.url) });
  } catch (e) {
    $('fatal').hidden = false;
    $('fatal').textContent = `cannot load the calculator: ${e}`;
    return;
  }
  const p = loadState();
  versions = JSON.parse(yibao.policies()).answer.filter((v) => v.ok);
  fillPolicyPickers();
  $('date').value = p.get('date') ?? new Date().toISOString().slice(0, 10);
  for (const f of ['region', 'scheme']) if (p.get(f)) { $(f).value = p.get(f); fillPolicyPickers(); }
  loadDims();
  for (const f of FIELDS) if (p.get(f) !== null && $(f).tagName !== 'SELECT' || (p.get(f) !== null && [...$(f).options ?? []].some((o) => o.value === p.get(f)))) $(f).value = p.get(f);
  for (const c of (p.get('categories') ?? '').split(',').filter(Boolean)) { const i = document.querySelector(`#categories input[value="${c}"]`); if (i) i.checked = true; }
  $('referral').checked = p.get('referral') === '1';
  for (const r of (p.get('earlier') ?? '').split('_').filter(Boolean)) {
    const [date, care, total, ool] = r.split('~');
    addEarlier({ date, care, total, ool });
  }
  applyLang();

  $('region').addEventListener('change', () => { fillPolicyPickers(); loadDims(); });
  $('scheme').addEventListener('change', loadDims);
  $('date').addEventListener('change', loadDims);
  $('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; applyLang(); saveState(); });
  $('form').addEventListener('submit', (e) => { e.preventDefault(); estimate(); });
  // The button (also pressed by Enter in a field) estimates without starting a form submission:
  // the browser's submission steps (autofill scans the fields) cost more than the estimate.
  $('form').querySelector('button[type=submit]').addEventListener('click', (e) => { e.preventDefault(); estimate(); });
  $('add-earlier').addEventListener('click', () => addEarlier({ care: $('care').value }));
  $('form').addEventListener('change', () => { if (last) estimate(); else saveState(); });
  if (p.get('total')) estimate();
  if ('serviceWorker' in navigator && location.protocol !== 'file:') navigator.serviceWorker.register('sw.js').catch(() => {});
  document.body.dataset.ready = '1';
}

main();
