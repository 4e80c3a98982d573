// The citizen estimator. All rules run in Rust (the wasm module); this file only builds the
// request from the form, shows the answer and keeps the state in the URL fragment.
import init, * as yibao from './pkg/yibao_wasm.js';

const T = {
  zh: {
    title: '医保报销估算', subtitle: '输入账单金额，看基本医保、大病保险、医疗救助各付多少、您自付多少——每一步都有政策依据。账单不会离开您的浏览器。',
    who: '参保信息', city: '城市', scheme: '参保类型', date: '结算日期', group: '人员类别', categories: '特殊身份（可多选）',
    'care-legend': '就医情况', care: '就医类型', level: '医院等级', place: '就医地', disease: '病种', referral: '由上一家医院转诊而来',
    stay_days: '住院天数', 'stay-help': '住院的天数，可不填。有的城市连续住院每满一定天数另计一次起付线。',
    bill: '账单金额（元）', total: '医疗费总额', out_of_list: '全自费', pre_self_pay: '先行自付', over_limit: '超限价自付',
    'total-help': '结算单上的“医疗费总额”。', 'ool-help': '医保目录外的药品和项目，全部由您支付。', 'pre-help': '乙类药品、项目中先由您支付的部分。', 'over-help': '价格超过医保支付标准的部分。',
    estimate: '估算', 'you-pay': '您需自付', yuan: '元', layer: '保障层', base: '计算基数', deductible: '起付线（本次计入）', payment: '支付', toward: (d) => `本次计入 ${d}`,
    'layers-title': '各保障层支付', details: '计算详情（供核对）', you: '您自付', none: '（无）',
    fund: (total, parts) => `医保基金支付 ${total} 元${parts.length ? `：${parts.join('，')}` : ''}。`,
    'fund-part': (name, v) => `${name} ${v} 元`,
    'why-intro': '您自付的部分是：',
    why: {
      out_of_list: (v) => `目录外 ${v} 元：医保目录外的药品和项目，由您全额支付。`,
      pre_self_pay: (v) => `先行自付 ${v} 元：乙类药品和项目中先由您支付的部分。`,
      over_limit: (v) => `超限价 ${v} 元：价格超过医保支付标准的部分。`,
      deductible: (v) => `起付线 ${v} 元：起付线以下的费用医保不支付。`,
      co_pay: (v) => `按比例自付 ${v} 元：起付线以上的费用，医保按比例报销后由您负担的部分。`,
      above_cap: (v) => `超出封顶 ${v} 元：超过最高支付限额（封顶线）的部分。`,
      not_covered: (v) => `不予支付 ${v} 元：本政策不支付的部分。`,
    },
    'not-applied': (names) => `不适用于本次就医：${names.join('、')}。`,
    unverified: '以下数字尚未与官方文件核实，估算结果仅供参考：',
    assumed: {
      'none-deductible': '未找到官方数字，按 0 计算，报销额可能偏高',
      'none-cap': '未找到官方数字，按不封顶计算，报销额可能偏高',
      'none-ratio': '未找到官方数字，此项未计算，报销额可能偏低',
      'none-other': '未找到官方数字，按“无”计算',
      value: (text) => `按 ${text} 计算（参考数字，未经官方文件核实）`,
    },
    own: '您自己填写的数字（来自您的通知，本工具未核实）：',
    'own-title': '用您参保地通知里的数字', 'own-help': '上面未核实的数字，如果您的参保地医保通知里写了，请填在这里，估算会按您的数字重算。留空则按上面的方法计算。',
    'own-label': (name) => `我的参保地通知里的${name}是`, 'own-go': '按我的数字重新估算', 'own-mark': '（您填写的数字）',
    figure: { deductible: '起付线', ratio: '报销比例', cap_year: '年度封顶线', cap_claim: '单次封顶线', cap: '封顶线', to: '分段上限', share: '自付比例' },
    band: (n) => `第 ${n} 段`,
    // `unverified` is the list above, in words; other codes this page does not know show the engine's message.
    warn: { unverified: () => null, unverified_version_date: () => '本版本政策的生效日期尚未核实。', unknown_ratio: (w, name) => `${name}：支付比例未知，本层未计算；实际可能还有本层支付，您自付可能更少。`, stay_days_missing: (w, name) => `${name}：未填写住院天数，起付线按一次计算；住院时间长的，每满一定天数要再付一次起付线，实际报销可能更少。填上“住院天数”，估算更准。` },
    policy: (name, p) => `依据：${name}（${p.version} 版，内容校验 ${p.content_hash.slice(0, 12)}）`,
    footer: '估算结果仅供参考，以医保经办机构结算为准。标注“未核实”的数字尚未与官方文件核对。',
    schemes: { employee: '职工医保', resident: '城乡居民医保' },
    regions: { tianjin: '天津', beijing: '北京', guangzhou: '广州', huzhou: '湖州', ziyang: '资阳' },
    required: '请填写医疗费总额。', lang: 'English', 'lang-label': 'Switch to English',
    earlier: '本年度此前的就医（可选）', 'earlier-help': '同一年里已经结算过的就医会用掉起付线和封顶线：填上它们，估算更准。',
    'add-earlier': '＋ 添加一次此前的就医', remove: '删除', 'earlier-date': '日期', 'earlier-care': '就医类型', 'earlier-total': '医疗费总额', 'earlier-ool': '全自费',
    'earlier-note': (n) => `已计入本年度此前 ${n} 次就医。`, 'earlier-which': (k) => `第 ${k} 次此前就医：`,
    'mode-med': '医疗费用', 'mode-ltc': '长期护理', costs: '本月护理费用（元）', 'costs-help': '结算单上的各项费用，没有的留空。',
    days: '护理天数', hospital_days: '其中住院或急诊留观天数', visits: '上门服务次数', hours: '上门服务小时数', age: '年龄（周岁）', months_used: '本评估有效期内已享受此待遇的月数',
    personal_care: '生活照料', nursing: '医疗护理', supplies: '医疗护理耗材', equipment: '设备使用', assessment: '失能评估费', family_care: '亲情照护（付给家庭护理人员）',
    // The long-term care mode's own words, over the ones above.
    ltc: {
      title: '长期护理保险估算', subtitle: '输入一个月的护理费用，看长期护理保险支付多少、您自付多少。账单不会离开您的浏览器。',
      date: '结算日期（护理当月内）', 'care-legend': '护理情况', care: '护理方式', level: '失能等级', required: '请至少填写一项护理费用。',
      fund: (total, parts) => `长期护理保险基金支付 ${total} 元${parts.length ? `：${parts.join('，')}` : ''}。`,
      why: {
        co_pay: (v) => `按比例自付 ${v} 元：基金按比例支付后您负担的部分。`,
        above_cap: (v) => `超出限额 ${v} 元：超过计费限额或基金每月支付上限的部分。`,
        not_covered: (v) => `不予支付 ${v} 元：不满足支付条件或不享受待遇的部分。`,
      },
      'not-applied': (names) => `不适用于本月护理：${names.join('、')}。`,
    },
    err: {
      amount_syntax: (f) => `“${f.value}”不是金额：请填写数字，例如 1234.50。`,
      amount_precision: (f) => `金额“${f.value}”超过两位小数：金额精确到分（0.01 元）。`,
      amount_negative: (f) => `金额“${f.value}”是负数：请填写 0 或正数。`,
      amount_too_large: (f) => `金额“${f.value}”太大：最多 1,000,000,000,000 元。`,
      parts_above_total: (f) => `全自费、先行自付、超限价自付合计 ${fmt(f.parts)} 元，超过了医疗费总额 ${fmt(f.total)} 元。`,
      date_order: (f) => `就医须按日期先后：${f.date} 早于${f.after ? `已填的 ${f.after}` : '此前的就医'}，请检查此前就医的日期。`,
      no_version: (f, e) => `${f.date} 时没有生效的政策版本${e.allowed?.length ? `（已有版本的生效日期：${e.allowed.join('、')}）` : ''}。`,
      unknown_policy: () => '没有这个地区或参保类型的政策。',
      not_a_date: (f) => `“${f.value}”不是日期，请按 年-月-日 填写。`,
      unknown_choice: (f, e) => `“${f.value}”不是可选项${e.allowed?.length ? `（可选：${e.allowed.join('、')}）` : ''}。`,
      override_value: (f) => `“${f.value}”不是金额或比例：请填写数字，例如 800 或 85。`,
      unknown_override: () => '这个数字不能替换。',
      policy: () => '这份政策无法计算这次就医（政策文件有误），请联系维护者。',
      other: () => '无法估算：请检查填写的内容。',
      not_count: (f) => `“${f.value}”不是整数：请填写 0 或正整数。`,
    },
  },
  en: {
    title: 'Medical insurance estimate', subtitle: 'Type the amounts from your bill to see what the basic fund, serious-illness insurance and medical aid pay, and what you pay — each step with the rule it applies. Your bill never leaves your browser.',
    who: 'Insurance', city: 'City', scheme: 'Scheme', date: 'Settlement date', group: 'Member group', categories: 'Special status (any that apply)',
    'care-legend': 'Care', care: 'Type of care', level: 'Hospital level', place: 'Where', disease: 'Disease', referral: 'Referred from another hospital',
    stay_days: 'Days in hospital', 'stay-help': 'The length of the stay; optional. Some cities charge the deductible again for every so many days of a long stay.',
    bill: 'Bill (yuan)', total: 'Total bill', out_of_list: 'Out of list', pre_self_pay: 'Pre-self-pay', over_limit: 'Over the price limit',
    'total-help': 'The total on the settlement form.', 'ool-help': 'Drugs and items outside the insurance list: all yours to pay.', 'pre-help': 'The share of class-B items you pay first.', 'over-help': 'The part of prices above the payment standard.',
    estimate: 'Estimate', 'you-pay': 'You pay', yuan: 'yuan', layer: 'Layer', base: 'Base', deductible: 'Deductible (this claim)', payment: 'Pays', toward: (d) => `${d} now`,
    'layers-title': 'What each layer pays', details: 'Calculation details (for checking)', you: 'You', none: '(none)',
    fund: (total, parts) => `The insurance funds pay ${total} yuan${parts.length ? `: ${parts.join(', ')}` : ''}.`,
    'fund-part': (name, v) => `${name} ${v}`,
    'why-intro': 'What you pay is made of:',
    why: {
      out_of_list: (v) => `Out of list ${v} yuan: drugs and items outside the insurance list, all yours to pay.`,
      pre_self_pay: (v) => `Pre-self-pay ${v} yuan: the share of class-B items you pay first.`,
      over_limit: (v) => `Over the price limit ${v} yuan: prices above the payment standard.`,
      deductible: (v) => `Deductible ${v} yuan: costs below the deductible are not reimbursed.`,
      co_pay: (v) => `Co-payment ${v} yuan: your share of costs above the deductible after the insurance's ratio.`,
      above_cap: (v) => `Above the cap ${v} yuan: costs beyond the most the insurance pays.`,
      not_covered: (v) => `Not covered ${v} yuan: what this policy does not pay.`,
    },
    'not-applied': (names) => `Not applicable to this claim: ${names.join(', ')}.`,
    unverified: 'These figures are not yet verified against an official text; the estimate is indicative:',
    assumed: {
      'none-deductible': 'no official figure found; counted as 0, so the estimate may be too generous',
      'none-cap': 'no official figure found; counted as no cap, so the estimate may be too generous',
      'none-ratio': 'no official figure found; this part is not counted, so the estimate may be too low',
      'none-other': 'no official figure found; counted as none',
      value: (text) => `counted as ${text} (a reference figure, not verified against an official text)`,
    },
    own: 'Figures you typed in (from your notice; not verified by this tool):',
    'own-title': 'Use the figures from your notice', 'own-help': 'If your local insurance notice gives one of the unverified figures above, type it here and the estimate is redone with your figure. Leave a field empty to keep the assumption above.',
    'own-label': (name) => `My local notice gives the ${name} as`, 'own-go': 'Estimate again with my figures', 'own-mark': ' (your figure)',
    figure: { deductible: 'deductible', ratio: 'reimbursement ratio', cap_year: 'yearly cap', cap_claim: 'per-claim cap', cap: 'cap', to: 'band limit', share: 'own share' },
    band: (n) => `band ${n}`,
    warn: { unverified: () => null, unverified_version_date: () => 'The date this version of the policy took effect is not verified.', unknown_ratio: (w, name) => `${name}: the payment ratio is unknown, so this layer is not counted; it may pay something, and you may pay less.`, stay_days_missing: (w, name) => `${name}: the days in hospital are not given, so the deductible is counted once; a long stay pays it again for every so many days, so it may pay less. Fill in “Days in hospital” for a closer estimate.` },
    policy: (name, p) => `Under: ${name} (version ${p.version}, content hash ${p.content_hash.slice(0, 12)})`,
    footer: 'An estimate, not a settlement: the insurance office decides. Figures marked unverified are not yet checked against official texts.',
    schemes: { employee: 'Employees', resident: 'Residents' },
    regions: { tianjin: 'Tianjin', beijing: 'Beijing', guangzhou: 'Guangzhou', huzhou: 'Huzhou', ziyang: 'Ziyang' },
    required: 'Type the total of the bill.', lang: '中文', 'lang-label': '切换到中文',
    earlier: 'Earlier this year (optional)', 'earlier-help': 'Care already settled this year uses up deductibles and caps: add it for a closer estimate.',
    'add-earlier': '+ Add earlier care', remove: 'Remove', 'earlier-date': 'Date', 'earlier-care': 'Type of care', 'earlier-total': 'Total bill', 'earlier-ool': 'Out of list',
    'earlier-note': (n) => `Includes ${n} earlier claim(s) this year.`, 'earlier-which': (k) => `Earlier care #${k}: `,
    'mode-med': 'Medical bills', 'mode-ltc': 'Long-term care', costs: 'Care costs this month (yuan)', 'costs-help': 'As on the provider’s statement; leave empty what you did not have.',
    days: 'Days of care', hospital_days: 'Of them, days in hospital or emergency observation', visits: 'Home-care visits', hours: 'Home-care hours', age: 'Age (years)', months_used: 'Months of this benefit already used in the assessment period',
    personal_care: 'Personal care', nursing: 'Nursing care', supplies: 'Nursing supplies', equipment: 'Equipment', assessment: 'Assessment fee', family_care: 'Family carer (paid to the carer)',
    ltc: {
      title: 'Long-term care insurance estimate', subtitle: 'Type a month’s care costs to see what long-term care insurance pays and what you pay. Your bill never leaves your browser.',
      date: 'Settlement date (in the month of care)', 'care-legend': 'Care', care: 'Care setting', level: 'Disability level', required: 'Type at least one cost of care.',
      fund: (total, parts) => `Long-term care insurance pays ${total} yuan${parts.length ? `: ${parts.join(', ')}` : ''}.`,
      why: {
        co_pay: (v) => `Co-payment ${v} yuan: your share after the fund’s ratio.`,
        above_cap: (v) => `Above the limits ${v} yuan: beyond a cost limit or the fund’s monthly cap.`,
        not_covered: (v) => `Not covered ${v} yuan: a condition not met, or no benefit for it.`,
      },
      'not-applied': (names) => `Not applicable to this month: ${names.join(', ')}.`,
    },
    err: {
      amount_syntax: (f) => `“${f.value}” is not an amount: type a number such as 1234.50.`,
      amount_precision: (f) => `“${f.value}” has more than two decimals: amounts are to the cent (0.01 yuan).`,
      amount_negative: (f) => `“${f.value}” is negative: type 0 or more.`,
      amount_too_large: (f) => `“${f.value}” is too large: at most 1,000,000,000,000 yuan.`,
      parts_above_total: (f) => `Out of list, pre-self-pay and over the price limit add up to ${fmt(f.parts)} yuan, more than the total bill of ${fmt(f.total)} yuan.`,
      date_order: (f) => `Care must be in date order: ${f.date} is before ${f.after ?? 'earlier care'}; check the dates of earlier care.`,
      no_version: (f, e) => `No version of this policy was in force on ${f.date}${e.allowed?.length ? ` (versions start on ${e.allowed.join(', ')})` : ''}.`,
      unknown_policy: () => 'There is no policy for this city and scheme.',
      not_a_date: (f) => `“${f.value}” is not a date: use year-month-day.`,
      unknown_choice: (f, e) => `“${f.value}” is not one of the choices${e.allowed?.length ? ` (${e.allowed.join(', ')})` : ''}.`,
      override_value: (f) => `“${f.value}” is not an amount or a ratio: type a number such as 800 or 85.`,
      unknown_override: () => 'This figure cannot be replaced.',
      policy: () => 'This policy cannot settle this claim (an error in the policy file); please tell the maintainers.',
      other: () => 'Cannot estimate: check what you typed.',
      not_count: (f) => `“${f.value}” is not a whole number: type 0 or more.`,
    },
  },
};

let lang = 'zh';
// `med`: a medical bill; `ltc`: a month of long-term care under a `<region>.ltc` policy.
let mode = 'med';
let versions = [];
let dims = null;
let last = null;
// A month of care: the facts and the costs by kind, named as in the claim's `month`; the page
// shows the ones the policy reads (the module's `care` fields).
const FACTS = ['days', 'hospital_days', 'visits', 'hours', 'age', 'months_used'];
const COSTS = ['personal_care', 'nursing', 'supplies', 'equipment', 'assessment', 'family_care'];
// The person's own figures, by parameter path (`basic.deductible` → `800` or `85%`).
let own = {};
const $ = (id) => document.getElementById(id);
// The page's words in its language, the care mode's own words first.
const W = () => (mode === 'ltc' ? { ...T[lang], ...T[lang].ltc } : T[lang]);
const t = (k) => W()[k] ?? k;
const el = (tag, props = {}, ...children) => { const e = document.createElement(tag); Object.assign(e, props); e.append(...children); return e; };

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  $('lang').textContent = t('lang');
  $('lang').setAttribute('aria-label', t('lang-label'));
  $('lang').lang = lang === 'zh' ? 'en' : 'zh-CN';
  fillPolicyPickers();
  fillDims();
  if (last) render(last);
  showLastError();
}

function option(sel, value, text) {
  sel.append(el('option', { value, textContent: text }));
}

function keep(sel, fill) {
  const v = sel.value;
  sel.replaceChildren();
  fill();
  if ([...sel.options].some((o) => o.value === v)) sel.value = v;
}

function fillPolicyPickers() {
  // Long-term care policies (`<region>.ltc`) settle months of care: the cities that have one in
  // the care mode, the others in the medical mode.
  const regions = [...new Set(versions.filter((v) => (v.scheme === 'ltc') === (mode === 'ltc')).map((v) => v.region))];
  keep($('region'), () => regions.forEach((r) => option($('region'), r, T[lang].regions[r] ?? r)));
  const schemes = [...new Set(versions.filter((v) => v.region === $('region').value && v.scheme !== 'ltc').map((v) => v.scheme))];
  keep($('scheme'), () => schemes.forEach((s) => option($('scheme'), s, T[lang].schemes[s] ?? s)));
}

function label(d) { return lang === 'zh' ? d.zh : (d.en || d.zh); }

// The version in force on the date is chosen in Rust; its dimensions fill the form.
const policyId = () => `${$('region').value}.${mode === 'ltc' ? 'ltc' : $('scheme').value}`;

function loadDims() {
  const r = JSON.parse(yibao.version_for(policyId(), $('date').value));
  showError('date', null);
  if (!r.ok) {
    dims = null;
    lastError = r.error;
    showLastError();
    return;
  }
  lastError = null;
  dims = r.answer.dims;
  const care = r.answer.care ?? { facts: [], costs: [] };
  for (const k of [...FACTS, ...COSTS]) $(`f-${k}`).hidden = ![...care.facts, ...care.costs].includes(k);
  fillDims();
}

// The month's fields shown and filled in: [name, text].
const monthValues = () => [...FACTS, ...COSTS].filter((k) => !$(`f-${k}`).hidden && $(`m-${k}`).value.trim() !== '').map((k) => [k, $(`m-${k}`).value.trim()]);

function fillDims() {
  if (!dims) return;
  keep($('group'), () => dims.groups.forEach((d) => option($('group'), d.id, label(d))));
  keep($('care'), () => dims.care.forEach((d) => option($('care'), d.id, label(d))));
  keep($('level'), () => dims.levels.forEach((d) => option($('level'), d.id, label(d))));
  keep($('place'), () => dims.places.forEach((d) => option($('place'), d.id, label(d))));
  keep($('disease'), () => { option($('disease'), '', t('none')); dims.diseases.forEach((d) => option($('disease'), d.id, label(d))); });
  $('disease-row').hidden = dims.diseases.length === 0;
  $('group-row').hidden = dims.groups.length < 2;
  for (const sel of document.querySelectorAll('#earlier .e-care')) keep(sel, () => dims.care.forEach((d) => option(sel, d.id, label(d))));
  const checked = new Set([...document.querySelectorAll('#categories input:checked')].map((i) => i.value));
  for (const l of [...document.querySelectorAll('#categories label')]) l.remove();
  for (const d of dims.categories) {
    const i = el('input', { type: 'checkbox', value: d.id, checked: checked.has(d.id) });
    $('categories').append(el('label', {}, i, ' ', label(d)));
  }
  // Nothing to choose: no "special status" heading over an empty box.
  $('categories').hidden = dims.categories.length === 0;
}

// Earlier claims this year: rows of date, care, total, out-of-list. They go before the claim in
// the same request, so the evaluator folds the year exactly as for any sequence of claims.
function addEarlier(row = {}) {
  const div = el('div', { className: 'earlier-row' });
  const mk = (tag, cls, key, value) => {
    const span = el('span', { textContent: t(key) }); span.dataset.i18n = key;
    const c = el(tag, { className: cls });
    if (tag === 'input') { if (cls === 'e-date') c.type = 'date'; else c.inputMode = 'decimal'; c.value = value ?? ''; }
    div.append(el('label', {}, span, c)); return c;
  };
  mk('input', 'e-date', 'earlier-date', row.date);
  const care = mk('select', 'e-care', 'earlier-care');
  for (const d of dims?.care ?? []) option(care, d.id, label(d));
  if (row.care) care.value = row.care;
  mk('input', 'e-total', 'earlier-total', row.total);
  mk('input', 'e-ool', 'earlier-ool', row.ool);
  const rm = el('button', { type: 'button', className: 'secondary', textContent: t('remove') }); rm.dataset.i18n = 'remove';
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

const ERR_FIELDS = ['date', 'care', 'stay_days', 'total', 'out_of_list', 'pre_self_pay', 'over_limit', 'amounts', 'earlier', 'own', 'facts', 'costs'];

function showError(field, message) {
  const e = $(`err-${field}`);
  if (e) e.textContent = message ?? '';
  const input = $(field);
  if (input && input.tagName !== 'FORM' && input.setAttribute) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  if (field === 'amounts') for (const f of ['total', 'out_of_list', 'pre_self_pay', 'over_limit']) if (message) $(f).setAttribute('aria-invalid', 'true');
}

function clearErrors() {
  for (const f of ERR_FIELDS) showError(f, null);
  for (const i of document.querySelectorAll('#own-fields input, #form .ltc input')) i.setAttribute('aria-invalid', 'false');
}

function overrides() {
  const o = {};
  for (const [path, v] of Object.entries(own)) if (v.trim() !== '') o[path] = isRatio(path) ? `${v.trim()}%` : v.trim();
  return o;
}

// A month of care as the claim format has it. Its total is the sum of its costs, added exactly in
// fen; when a cost is not an amount the total is left at 0 and the module names that cost.
function careClaim() {
  const month = { costs: {} };
  let fen = 0n;
  let exact = true;
  for (const [k, v] of monthValues()) {
    if (COSTS.includes(k)) {
      month.costs[k] = v;
      if (/^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$/.test(v)) { const [i, f = ''] = v.split('.'); fen += BigInt(i + f.padEnd(2, '0')); } else exact = false;
    } else month[k] = k === 'hours' ? v : Number(v);
  }
  const total = exact ? `${fen / 100n}.${String(fen % 100n).padStart(2, '0')}` : '0';
  return { date: $('date').value, group: $('group').value || undefined, care: $('care').value, level: $('level').value || undefined, amounts: { total }, month };
}

function request() {
  if (mode === 'ltc') return { policy: policyId(), overrides: overrides(), trace: true, claims: [careClaim()] };
  const amount = (id) => ($(id).value.trim() === '' ? '0' : $(id).value.trim());
  const stay = $('stay_days').value.trim();
  const claim = {
    date: $('date').value,
    group: $('group').value || undefined,
    categories: [...document.querySelectorAll('#categories input:checked')].map((i) => i.value),
    care: $('care').value,
    level: $('level').value || undefined,
    place: $('place').value || undefined,
    referral: $('referral').checked,
    disease: $('disease').value || undefined,
    // Whole days as a number; anything else goes as typed, for the engine to refuse by name.
    stay_days: stay === '' ? undefined : /^\d{1,9}$/.test(stay) ? Number(stay) : stay,
    amounts: { total: $('total').value.trim(), out_of_list: amount('out_of_list'), pre_self_pay: amount('pre_self_pay'), over_limit: amount('over_limit') },
  };
  const earlier = earlierRows().map((r) => ({
    ...claim, date: r.date, care: r.care, referral: false, disease: undefined, stay_days: undefined,
    amounts: { total: r.total || '0', out_of_list: r.ool || '0' },
  }));
  return { policy: `${$('region').value}.${$('scheme').value}`, overrides: overrides(), trace: true, claims: [...earlier, claim] };
}

// The field a Rust error path points at.
function fieldOf(path) {
  if (!path) return 'amounts';
  if (path.startsWith('overrides')) return 'own';
  if (mode === 'ltc') {
    const end = path.split('.').pop();
    return FACTS.includes(end) ? 'facts' : /month|amounts/.test(path) ? 'costs' : end === 'care' ? 'care' : 'date';
  }
  const m = /^claims\[(\d+)\]/.exec(path);
  const n = earlierRows().length;
  if (m && Number(m[1]) < n) return 'earlier';
  // The sequence's date order concerns the earlier claims too.
  if (m && n > 0 && path === `${m[0]}.date`) return 'earlier';
  if (m && path === m[0]) return 'date';
  const end = path.split('.').pop();
  if (['total', 'out_of_list', 'pre_self_pay', 'over_limit', 'stay_days'].includes(end)) return end;
  if (end === 'amounts') return 'amounts';
  if (path.endsWith('date') || path === 'claim' || path === 'version') return 'date';
  if (end === 'care') return 'care';
  return 'amounts';
}

// The engine's error in the page's language, from its stable code and fields; the engine's own
// English message only for a code this page does not know.
function errorText(e) {
  const words = T[lang].err[e.code];
  if (words) return words(e.fields ?? {}, e);
  const kind = e.kind === 'policy' ? 'policy' : 'other';
  return lang === 'en' ? `${e.message}` : `${T.zh.err[kind]()}（${e.message}）`;
}

let lastError = null;
function showLastError() {
  for (const f of ERR_FIELDS) showError(f, null);
  const e = lastError;
  if (!e) return;
  if (e.code === 'required') { showError(mode === 'ltc' ? 'costs' : 'total', t('required')); return; }
  const f = fieldOf(e.path);
  if (mode === 'ltc') $(`m-${e.path?.split('.').pop()}`)?.setAttribute('aria-invalid', 'true');
  const k = Number(/\d+/.exec(e.path ?? '')?.[0] ?? -1);
  const which = f === 'earlier' && k >= 0 && k < earlierRows().length ? T[lang]['earlier-which'](k + 1) : '';
  showError(f, which + errorText(e));
  if (f === 'own') {
    const path = e.path.replace(/^overrides\./, '');
    const input = document.querySelector(`#own-fields input[data-path="${CSS.escape(path)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
  }
}

// `focus`: the person asked for this estimate (button, Enter): move to the answer.
function estimate(focus = false) {
  clearErrors();
  // The URL fragment is updated after the result is drawn: history updates are slow.
  setTimeout(saveState, 0);
  // A whole number where the month needs one (the module would only say "expected u32").
  const count = mode === 'ltc' && monthValues().find(([k, v]) => FACTS.includes(k) && k !== 'hours' && !/^\d+$/.test(v));
  if (mode === 'ltc' ? count || !monthValues().some(([k]) => COSTS.includes(k)) : $('total').value.trim() === '') {
    lastError = count ? { code: 'not_count', path: `claims[0].month.${count[0]}`, fields: { value: count[1] } } : { code: 'required' };
    showLastError();
    $('result').hidden = true; last = null;
    if (focus) (mode === 'ltc' ? document.querySelector('#form .ltc [aria-invalid="true"], #costs-set .field:not([hidden]) input') : $('total')).focus();
    return;
  }
  const r = JSON.parse(yibao.estimate(JSON.stringify(request())));
  if (!r.ok) {
    lastError = r.error;
    // An error in one of the person's own figures keeps the result (and its inputs) on screen.
    if (fieldOf(r.error.path) !== 'own') { $('result').hidden = true; last = null; }
    showLastError();
    if (focus) { const f = fieldOf(r.error.path); const target = f === 'own' ? document.querySelector('#own-fields [aria-invalid="true"]') : document.querySelector('#form .ltc [aria-invalid="true"]') ?? $(f === 'amounts' ? 'total' : f); target?.focus?.(); }
    return;
  }
  lastError = null;
  const all = r.answer.settlements;
  last = all[all.length - 1];
  last.earlierCount = all.length - 1;
  render(last);
  if (focus) {
    $('headline').focus({ preventScroll: true });
    $('headline').scrollIntoView({ block: 'start' });
  }
}

// Money as the engine wrote it ("223500.00"), with digit grouping: strings only, no arithmetic.
const fmt = (s) => {
  const [i, f = '00'] = String(s).split('.');
  return `${i.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${f}`;
};

const layerName = (l) => (lang === 'zh' ? l.label : (l.label_en ?? l.label));
const isRatio = (path) => /(^|\.)ratio(\.|$)|share/.test(path);

// A parameter path in words: the layer's name, the figure, and what the figure is for.
function figureName(path, s) {
  const parts = path.split('.');
  const layer = s.layers.find((l) => l.id === parts[0]);
  const words = [];
  const F = T[lang].figure;
  const dimsOf = { level: 'levels', group: 'groups', category: 'categories', care: 'care', place: 'places', disease: 'diseases' };
  const quals = [];
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    if (p === 'bands' && /^\d+$/.test(parts[i + 1] ?? '')) { words.push(T[lang].band(parts[i + 1])); i++; continue; }
    if (dimsOf[p] && parts[i + 1] !== undefined) {
      const d = dims?.[dimsOf[p]]?.find((x) => x.id === parts[i + 1]);
      quals.push(d ? label(d) : parts[i + 1]); i++; continue;
    }
    words.push(F[p] ?? p);
  }
  const sep = lang === 'zh' ? '' : ' ';
  const head = layer ? layerName(layer) : parts[0];
  return `${head}${sep}${words.join(sep)}${quals.length ? (lang === 'zh' ? `（${quals.join('，')}）` : ` (${quals.join(', ')})`) : ''}`;
}

// What the estimate assumed for an unverified figure, in words.
function assumed(u) {
  const A = T[lang].assumed;
  if (u.text === 'none') {
    const key = /deductible/.test(u.path) ? 'none-deductible' : /cap/.test(u.path) ? 'none-cap' : isRatio(u.path) ? 'none-ratio' : 'none-other';
    return A[key];
  }
  return A.value(u.text);
}

function render(s) {
  $('result').hidden = false;
  $('oop').textContent = fmt(s.out_of_pocket.total);
  const paying = s.layers.filter((l) => l.applied && Number(l.payment) > 0);
  const say = W();
  $('fund').textContent = say.fund(fmt(s.fund_total), paying.map((l) => T[lang]['fund-part'](layerName(l), fmt(l.payment))));
  const parts = Object.keys(say.why).filter((k) => Number(s.out_of_pocket[k]) > 0);
  $('why-intro').textContent = parts.length ? t('why-intro') : '';
  $('why').replaceChildren(...parts.map((k) => el('li', { textContent: say.why[k](fmt(s.out_of_pocket[k])) })));

  // The bar and its legend: one segment per layer that paid, named by that layer.
  const segments = [...paying.map((l) => [l.kind, layerName(l), l.payment]), ['you', t('you'), s.out_of_pocket.total]];
  const total = Number(s.amounts.total) || 1;
  $('bar').replaceChildren(...segments.map(([k, name, v]) => { const e = el('span', { className: `k-${k}`, title: `${name}: ${fmt(v)}` }); e.style.width = `${(100 * Number(v)) / total}%`; return e; }));
  $('bar').setAttribute('aria-label', segments.map(([, name, v]) => `${name} ${fmt(v)}`).join('; '));
  $('legend').replaceChildren(...segments.map(([k, name, v]) => el('li', {}, el('i', { className: `k-${k}` }), `${name} ${fmt(v)}`)));

  // Unverified figures and warnings in words; the person's own figures marked as theirs.
  const warn = $('unverified');
  warn.replaceChildren();
  if (s.unverified.length) {
    warn.append(el('p', { textContent: t('unverified') }));
    warn.append(el('ul', {}, ...s.unverified.map((u) => el('li', {}, el('strong', { textContent: figureName(u.path, s) }), lang === 'zh' ? `：${assumed(u)}` : `: ${assumed(u)}`))));
  }
  if (s.overrides.length) {
    warn.append(el('p', { textContent: t('own') }));
    // The figure as the person typed it (the policy's own text may be `none`).
    const typed = (u) => `${own[u.path] ?? u.overridden_with}${isRatio(u.path) ? '%' : ` ${t('yuan')}`}`;
    warn.append(el('ul', { className: 'own-list' }, ...s.overrides.map((u) => el('li', { textContent: `${figureName(u.path, s)}${lang === 'zh' ? '：' : ': '}${typed(u)}${t('own-mark')}` }))));
  }
  for (const w of s.warnings) {
    const words = T[lang].warn[w.code];
    const layer = s.layers.find((l) => l.id === w.layer);
    // A kind this page has no words for yet still shows: the engine's message, its half in the
    // page's language when it is written "中文 / English".
    const halves = w.message.split(' / ');
    let half = halves.length === 2 ? halves[lang === 'zh' ? 0 : 1] : w.message;
    // A care warning's Chinese half names month fields by their ids: their labels instead.
    if (mode === 'ltc' && lang === 'zh') half = half.replace(/[a-z_]+/g, (x) => ([...FACTS, ...COSTS].includes(x) ? t(x) : x));
    const text = words ? words(w, layer ? layerName(layer) : w.layer) : `${lang === 'zh' ? '注意：' : 'Note: '}${half}`;
    if (text) warn.append(el('p', { className: `w-${w.code}`, textContent: text }));
  }
  warn.hidden = warn.childElementCount === 0;
  renderOwn(s);

  // Layers that applied; the others in one line.
  const applied = s.layers.filter((l) => l.applied);
  $('layers').tBodies[0].replaceChildren(...applied.map((l) => el('tr', {},
    el('th', { scope: 'row', textContent: layerName(l) }),
    el('td', { className: 'num', textContent: fmt(l.base) }),
    l.threshold
      ? el('td', { className: 'num' }, fmt(l.threshold), el('small', { textContent: T[lang]['toward'](fmt(l.deductible)) }))
      : el('td', { className: 'num', textContent: fmt(l.deductible) }),
    el('td', { className: 'num', textContent: fmt(l.payment) }))));
  const skipped = s.layers.filter((l) => !l.applied).map(layerName);
  $('not-applied').textContent = skipped.length ? say['not-applied'](skipped) : '';

  // For drafters and the curious: every step with its clause and the provenance of each figure.
  $('steps').replaceChildren(...s.trace.map((st) => {
    const li = el('li', {}, lang === 'zh' ? st.zh : st.en);
    for (const p of st.params) li.append(el('span', { className: `prov prov-${p.provenance}`, textContent: `${p.path} ${p.provenance}${p.source ? ' ' + p.source : ''}` }));
    if (st.cite && st.cite.file) li.append(el('span', { className: 'cite', textContent: `${st.cite.file}:${st.cite.line} — ${st.cite.text}` }));
    return li;
  }));
  $('unverified-notes').replaceChildren(...s.unverified.map((u) => el('li', { textContent: `${u.path} = ${u.text}${u.note ? ' — ' + u.note : ''}` })));
  const v = versions.find((x) => x.id === s.policy.id && x.effective === s.policy.version);
  const name = lang === 'en' && v?.name_en ? v.name_en : s.policy.name;
  $('policy').textContent = T[lang].policy(name, s.policy) + (s.earlierCount ? ` ${T[lang]['earlier-note'](s.earlierCount)}` : '');
}

// One input per unverified figure the result used (and per figure the person already gave).
function renderOwn(s) {
  const paths = [...new Set([...s.unverified.map((u) => u.path), ...s.overrides.map((u) => u.path), ...Object.keys(own)])];
  const form = $('own');
  form.hidden = paths.length === 0;
  const focused = document.activeElement?.dataset?.path;
  $('own-fields').replaceChildren(...paths.map((path, i) => {
    const id = `own-${i}`;
    const input = el('input', { id, inputMode: 'decimal', value: own[path] ?? '', autocomplete: 'off' });
    input.dataset.path = path;
    input.setAttribute('aria-describedby', `${id}-unit own-help err-own`);
    input.addEventListener('input', () => { own[path] = input.value; });
    const unit = el('span', { className: 'unit', id: `${id}-unit`, textContent: isRatio(path) ? '%' : t('yuan') });
    const lbl = el('label', { htmlFor: id, textContent: T[lang]['own-label'](figureName(path, s)) });
    return el('div', { className: 'own-row' }, lbl, el('span', { className: 'own-input' }, input, unit));
  }));
  if (focused) document.querySelector(`#own-fields input[data-path="${CSS.escape(focused)}"]`)?.focus();
}

const FIELDS = ['region', 'scheme', 'date', 'group', 'care', 'level', 'place', 'disease', 'stay_days', 'total', 'out_of_list', 'pre_self_pay', 'over_limit'];

function saveState() {
  const p = new URLSearchParams();
  for (const f of FIELDS) if ($(f).value) p.set(f, $(f).value);
  const cats = [...document.querySelectorAll('#categories input:checked')].map((i) => i.value);
  if (cats.length) p.set('categories', cats.join(','));
  if ($('referral').checked) p.set('referral', '1');
  const e = earlierRows();
  if (e.length) p.set('earlier', e.map((r) => [r.date, r.care, r.total, r.ool].join('~')).join('_'));
  for (const [path, v] of Object.entries(own)) if (v.trim() !== '') p.set(`own.${path}`, v.trim());
  if (mode === 'ltc') { p.set('mode', 'ltc'); for (const [k, v] of monthValues()) p.set(k, v); }
  p.set('lang', lang);
  history.replaceState(null, '', `#${p.toString()}`);
}

function loadState() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.get('lang') === 'en') lang = 'en';
  if (p.get('mode') === 'ltc') mode = 'ltc';
  for (const [k, v] of p) if (k.startsWith('own.')) own[k.slice(4)] = v;
  return p;
}

function showMode() {
  document.body.dataset.mode = mode;
  for (const m of ['med', 'ltc']) $(`mode-${m}`).setAttribute('aria-pressed', String(m === mode));
}

async function main() {
  try {
    await init({ module_or_path: new URL('./pkg/yibao_wasm_bg.wasm', import.meta.url) });
  } catch (e) {
    $('fatal').hidden = false;
    $('fatal').textContent = `无法加载计算模块 · cannot load the calculator: ${e}`;
    return;
  }
  const p = loadState();
  for (const k of [...FACTS, ...COSTS]) {
    const input = el('input', { id: `m-${k}`, inputMode: FACTS.includes(k) && k !== 'hours' ? 'numeric' : 'decimal', autocomplete: 'off', value: p.get(k) ?? '' });
    input.setAttribute('aria-describedby', FACTS.includes(k) ? 'err-facts' : 'help-costs err-costs');
    const lbl = el('label', { htmlFor: input.id }); lbl.dataset.i18n = k;
    const div = el('div', { className: 'field', id: `f-${k}` }, lbl, input);
    if (FACTS.includes(k)) $('err-facts').before(div); else $('costs-set').append(div);
  }
  showMode();
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
  $('form').addEventListener('submit', (e) => { e.preventDefault(); estimate(true); });
  // The button (also pressed by Enter in a field) estimates without starting a form submission:
  // the browser's submission steps (autofill scans the fields) cost more than the estimate.
  $('go').addEventListener('click', (e) => { e.preventDefault(); estimate(true); });
  $('add-earlier').addEventListener('click', () => addEarlier({ care: $('care').value }));
  $('form').addEventListener('change', () => { if (last) estimate(); else saveState(); });
  $('own').addEventListener('submit', (e) => { e.preventDefault(); estimate(true); });
  for (const m of ['med', 'ltc']) {
    $(`mode-${m}`).addEventListener('click', () => {
      if (mode === m) return;
      mode = m;
      $('result').hidden = true; last = null; lastError = null;
      showMode(); fillPolicyPickers(); loadDims(); applyLang(); saveState();
    });
  }
  if (mode === 'ltc' ? COSTS.some((k) => p.get(k)) : p.get('total')) estimate();
  if ('serviceWorker' in navigator && location.protocol !== 'file:') navigator.serviceWorker.register('sw.js').catch(() => {});
  document.body.dataset.ready = '1';
}

main();
