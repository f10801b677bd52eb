// vaxledger web application: plain ES module, no build step. Talks to the /v1 API with the
// session cookie (HttpOnly, SameSite=Strict) that POST /v1/sessions sets; JSON bodies are sent
// as application/json, same-origin.
//
// Words are data: http/web/i18n/{nl,fr,en}.json hold the labels ("ui"), the sentences for the
// API's problem codes ("problem", the same file the server uses for Accept-Language) and the
// disease names ("disease"). The language is the user's choice, remembered in localStorage.
//
// Safety rule: a deciding action (approve, reject, correct, entered in error, unlink) is never
// the default of a form — its forms have no submit button, so Enter does nothing — and it
// first says what will happen and asks once (confirmStep).
//
// Screens are async functions in the `screens` table at the bottom, keyed by their hash; a
// screen added in its own module registers itself there and in `menu`.
import { certificatesPanel } from './certificates.js';
import { impactScreen } from './impact.js';

const LANGS = [['nl', 'Nederlands'], ['fr', 'Français'], ['en', 'English']];
const stored = localStorage.getItem('lang');
let lang = LANGS.some(([l]) => l === stored) ? stored : 'nl';
let dict = { ui: {}, problem: {}, disease: {} };

const fill = (text, params = {}) => String(text).replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
export const t = (key, params) => fill(dict.ui[key] ?? key, params);
// A problem from the API in the user's language: its code's sentence, else its English detail.
export function problemText(problem) {
  if (problem?.code && dict.problem[problem.code]) {
    const params = { ...(problem.params || {}) };
    if (params.product) params.product = vaccines.find((v) => v.code === params.product)?.name || params.product;
    return fill(dict.problem[problem.code], params);
  }
  return problem?.detail || t('error');
}
const statusText = (s) => (dict.ui[`status_${s}`] ? t(`status_${s}`) : s);
const regionText = (r) => (dict.ui[`region_${r}`] ? t(`region_${r}`) : r);
// A member's or person's name; an erased one (issue 16) says so instead of showing nothing.
const erasedBadge = () => `<span class="badge erased">${esc(t('erased'))}</span>`;
const memberName = (m) => (m?.erased ? t('erased') : m?.name || '');
const memberCell = (m) => (m?.erased ? erasedBadge() : esc(m?.name));
const kindText = (k) => ({ practice: t('kindPractice'), group_practice: t('kindGroup'), organisation: t('kindOrg') }[k] || k);

async function loadLanguage(l) {
  const r = await fetch(`/i18n/${l}.json`, { credentials: 'same-origin' });
  if (r.ok) { dict = await r.json(); lang = l; }
  document.documentElement.lang = lang;
}

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
export const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $('#main');
let session = null;
let vaccines = [];
let feed = null;
const today = () => new Date().toISOString().slice(0, 10);
const dateOfUs = (us) => (us ? new Date(us / 1000).toISOString().slice(0, 10) : '');

// The API client: same-origin, JSON in and out, the user's language for problem details.
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { 'Accept-Language': lang, ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    if (typeof body === 'string') {
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  const r = await fetch(path, init);
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { status: r.status, ok: r.ok, json, headers: r.headers };
}

export function announce(text) {
  const s = $('#status');
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 30);  // a change a screen reader notices
}

// Removes a form's messages (field errors, earlier results) before it is submitted again.
function clearMessages(form) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => { e.removeAttribute('aria-invalid'); e.removeAttribute('aria-describedby'); });
}

// Shows a problem in the user's language: next to its field when the form has one, else at the
// top of the form.
export function showProblem(form, problem) {
  clearMessages(form);
  const text = problemText(problem);
  const input = problem?.field && form.querySelector(`[data-field="${CSS.escape(problem.field)}"]:not([hidden])`);
  const message = document.createElement('span');
  message.className = 'field-error';
  message.textContent = text;
  message.id = `err-${Math.random().toString(36).slice(2)}`;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', message.id);
    (input.closest('fieldset') && input.tagName !== 'FIELDSET' && input.type === 'radio' ? input.closest('fieldset') : input).insertAdjacentElement('afterend', message);
    if (typeof input.focus === 'function') input.focus();
  } else {
    message.setAttribute('role', 'alert');
    form.prepend(message);
  }
  announce(text);
}

export function field(key, name, attrs = '', value = '', dataField = name) {
  const id = `f-${name.replace(/\W/g, '-')}`;
  return `<label for="${id}">${esc(t(key))}</label><input id="${id}" name="${esc(name)}" data-field="${esc(dataField)}" value="${esc(value)}" ${attrs}>`;
}

// <option>s from [value, label] pairs, `selected` chosen.
function options(selected, pairs) {
  return pairs.map(([v, label]) => `<option value="${esc(v)}" ${v === selected ? 'selected' : ''}>${esc(label)}</option>`).join('');
}

function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

// A table whose cells carry their column's name, so that at phone width (one cell per line) each
// value still says what it is.
function table(id, headers, rows) {
  return `<div class="table-wrap"><table ${id ? `id="${id}"` : ''}><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>
    ${rows.map((cells) => `<tr>${cells.map((c, i) => `<td data-label="${esc(headers[i])}">${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

// Says what a deciding action will do and asks once. Resolves true when confirmed. The question
// takes the focus, so that Enter pressed in the field before does not confirm it.
function confirmStep(container, text, items = [], yes = t('confirm')) {
  return new Promise((resolve) => {
    const id = `q-${Math.random().toString(36).slice(2)}`;
    container.innerHTML = `<div class="confirm" role="alertdialog" aria-labelledby="${id}" aria-describedby="${id}-d" tabindex="-1">
      <h3 id="${id}">${esc(t('whatHappens'))}</h3><p id="${id}-d">${esc(text)}</p>
      ${items.length ? `<ul>${items.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
      <button type="button" class="confirm-yes">${esc(yes)}</button><button type="button" class="secondary confirm-no">${esc(t('cancel'))}</button></div>`;
    const box = container.firstElementChild;
    box.focus();
    const done = (answer) => { container.innerHTML = ''; resolve(answer); };
    box.querySelector('.confirm-yes').addEventListener('click', () => done(true));
    box.querySelector('.confirm-no').addEventListener('click', () => done(false));
  });
}

// A form whose only actions are buttons: Enter in one of its fields does nothing.
function noImplicitSubmit(form) { form.addEventListener('submit', (e) => e.preventDefault()); }

async function loadSession() {
  const r = await api('GET', '/v1/session');
  session = r.ok ? r.json : null;
}

function isRole(role) { return session?.roles?.includes(role); }
const myEntity = () => (session?.entities || []).find((e) => e.id === session.entity);
const myRole = () => myEntity()?.role;

// The menu: [hash, ui key, shown when].
export const menu = [
  ['#/members', 'members', () => session?.entity],
  ['#/register', 'register', () => session?.entity],
  ['#/today', 'today', () => session?.entity],
  ['#/batch', 'batch', () => session?.entity],
  ['#/patient', 'patient', () => session?.entity],
  ['#/stock', 'stock', () => session?.entity],
  ['#/entity', 'entity', () => (session?.entities || []).length > 1 || (session?.entities || []).some((e) => e.role === 'staff')],
  ['#/access', 'access', () => session && !(session.entities || []).length && !(session.roles || []).length],
  ['#/admin', 'admin', () => isRole('administrator')],
  ['#/audit', 'audit', () => isRole('auditor')],
  ['#/impact', 'impact', () => isRole('administrator') || isRole('auditor') || session?.entity],
];

function renderNav() {
  const nav = $('#nav');
  nav.setAttribute('aria-label', t('menu'));
  const links = session ? menu.filter(([, , when]) => when()).map(([h, k]) => [h, k]) : [['#/login', 'login']];
  if (session) links.push(['#/logout', 'logout']);
  const here = (location.hash || '#/login').split('?')[0];
  nav.innerHTML = links.map(([href, key]) => `<a href="${href}" ${here === href ? 'aria-current="page"' : ''}>${esc(t(key))}</a>`).join('');
  const entity = myEntity();
  $('#who').textContent = session ? `${session.name || ''}${entity ? ' · ' + entity.name : ''}` : '';
  $('#lang').value = lang;
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-t]').forEach((e) => { e.textContent = t(e.dataset.t); });
}

// ---- Screens ----

async function loginScreen() {
  const people = await api('GET', '/v1/demo/people');
  const demo = people.ok ? people.json.people : [];
  main().innerHTML = `<section class="card"><h1>${esc(t('loginTitle'))}</h1>
    ${demo.length ? `<p>${esc(t('demoPeople'))}</p><ul>${demo.map((p) => `<li><button type="button" class="secondary" data-insz="${esc(p.insz)}">${esc(p.name)}</button> <span class="muted">${esc(p.what)}</span></li>`).join('')}</ul>` : ''}
    <form id="assertion-form"><label for="assertion">${esc(t('assertion'))}</label>
    <textarea id="assertion" name="assertion" data-field="assertion" rows="3"></textarea>
    <button type="submit">${esc(t('login'))}</button></form></section>`;
  const form = $('#assertion-form');
  const login = async (assertion) => {
    const r = await api('POST', '/v1/sessions', { assertion });
    if (!r.ok) return showProblem(form, r.json);
    await loadSession();
    if (r.json.notice) announce(r.json.notice);
    if (!session.entities.length) {
      location.hash = isRole('administrator') ? '#/admin' : isRole('auditor') ? '#/audit' : '#/access';
    } else {
      location.hash = session.entity && !needsPhysician() ? '#/members' : '#/entity';
    }
  };
  main().querySelectorAll('[data-insz]').forEach((b) => b.addEventListener('click', async () => {
    const a = await api('POST', '/v1/demo/assertion', { insz: b.dataset.insz });
    if (a.ok) login(a.json.assertion);
  }));
  form.addEventListener('submit', (e) => { e.preventDefault(); login(form.assertion.value.trim()); });
}

function needsPhysician() {
  return myRole() === 'staff' && !session.on_behalf_of;
}

async function entityScreen() {
  const entities = session.entities || [];
  if (!entities.length) {
    main().innerHTML = `<section class="card"><p class="notice" role="status">${esc(t('noAccess'))}</p><a href="#/access">${esc(t('access'))}</a></section>`;
    return;
  }
  main().innerHTML = `<section class="card"><h1>${esc(t('chooseEntity'))}</h1><form id="entity-form">
    <fieldset><legend>${esc(t('entity'))}</legend>${entities.map((e, i) => `<label><input type="radio" name="entity" value="${esc(e.id)}" ${e.id === session.entity || (!session.entity && i === 0) ? 'checked' : ''}> ${esc(e.name)} (${esc(t(e.role))})</label>`).join('')}</fieldset>
    <div id="behalf"></div><button type="submit">${esc(t('choose'))}</button></form></section>`;
  const form = $('#entity-form');
  const behalf = async () => {
    const chosen = entities.find((e) => e.id === form.entity.value);
    if (chosen?.role !== 'staff') { $('#behalf').innerHTML = ''; return; }
    const detail = await api('GET', `/v1/entities/${encodeURIComponent(chosen.id)}`);
    // An erased physician is still one to act for: "gewist" with the start of their id tells two apart.
    const names = Object.fromEntries((detail.json?.members || []).map((m) => [m.person, m.erased ? `${t('erased')} (${m.person.slice(0, 8)})` : m.name]));
    $('#behalf').innerHTML = `<label for="on-behalf">${esc(t('onBehalf'))}</label><select id="on-behalf" name="on_behalf_of" data-field="on_behalf_of">${chosen.physicians.map((p) => `<option value="${esc(p)}" ${p === session.on_behalf_of ? 'selected' : ''}>${esc(names[p] || p)}</option>`).join('')}</select>`;
  };
  // Only a change of entity redraws the physicians (a choice among them must stay chosen).
  form.addEventListener('change', (e) => { if (e.target.name === 'entity') behalf(); });
  await behalf();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { entity: form.entity.value };
    if (form.on_behalf_of) body.on_behalf_of = form.on_behalf_of.value;
    const r = await api('PUT', '/v1/session/entity', body);
    if (!r.ok) return showProblem(form, r.json);
    await loadSession();
    if (location.hash === '#/members') route(); else location.hash = '#/members';
  });
}

// Access request: terms -> RIZIV (checked here) -> form (join an entity found by name, or a new
// one) -> review (Bevestigen / Vorige) -> registered. A pending request is shown instead; a
// rejected one says why.
async function accessScreen() {
  const last = session.last_access_request;
  const pendingId = session.pending_access_request || (last?.status === 'pending' ? last.id : '');
  if (pendingId) {
    main().innerHTML = `<section class="card"><h1>${esc(t('access'))}</h1><p class="notice" id="access-pending">${esc(t('accessPending', { id: pendingId }))}</p>
      ${last?.entity_name ? `<p>${esc(t('where'))}: ${esc(last.entity_name)}</p>` : ''}</section>`;
    return;
  }
  const banner = `${!(session.entities || []).length ? `<p class="notice" id="no-access">${esc(t('noAccess'))}</p>` : ''}
    ${last?.status === 'rejected' ? `<p class="alert" id="access-rejected">${esc(t('accessRejected', { reason: last.reason }))}</p>` : ''}`;
  const draft = { terms_version: 'vaccinnet-terms-2024' };
  const regions = ['flanders', 'brussels', 'wallonia', 'german_speaking'];
  const steps = [
    () => `<h1>${esc(t('terms'))}</h1><p>${esc(t('termsText'))}</p>
      <label><input type="checkbox" name="accept" data-field="terms_version" required ${draft.accept ? 'checked' : ''}> ${esc(t('accept'))}</label>`,
    () => field('riziv', 'riziv', 'required inputmode="numeric" autocomplete="off"', draft.riziv),
    () => `${field('name', 'name', 'required autocomplete="name"', draft.name ?? session.name)}
      ${field('email', 'email', 'required type="email" autocomplete="email"', draft.email)}
      <fieldset><legend>${esc(t('joinEntity'))}</legend>
        <label for="f-entity-search">${esc(t('searchEntity'))}</label><input id="f-entity-search" name="entity_search" type="search" data-field="entity" value="${esc(draft.entity_search)}">
        <button type="button" class="secondary" id="entity-search">${esc(t('search'))}</button>
        <div id="entity-results" aria-live="polite">${draft.entity ? `<label><input type="radio" name="entity" value="${esc(draft.entity)}" checked> ${esc(draft.entity_label)}</label>` : ''}</div>
      </fieldset>
      <fieldset><legend>${esc(t('orNew'))}</legend>
        <label for="f-kind">${esc(t('kind'))}</label><select id="f-kind" name="kind" data-field="new_entity.kind">${options(draft.kind, [
          ['', ''], ['practice', t('kindPractice')], ['group_practice', t('kindGroup')], ['organisation', t('kindOrg')]])}</select>
        ${field('entityName', 'entity_name', '', draft.entity_name, 'new_entity.name')}
        <label for="f-region">${esc(t('region'))}</label><select id="f-region" name="region" data-field="new_entity.region">${options(draft.region, regions.map((r) => [r, regionText(r)]))}</select>
        ${field('kbo', 'kbo', '', draft.kbo, 'new_entity.kbo')}
      </fieldset>`,
    () => `<h1>${esc(t('review'))}</h1><dl>
      <dt>${esc(t('riziv'))}</dt><dd>${esc(draft.riziv)}</dd><dt>${esc(t('name'))}</dt><dd>${esc(draft.name)}</dd>
      <dt>${esc(t('email'))}</dt><dd>${esc(draft.email)}</dd>
      <dt>${esc(t('where'))}</dt><dd id="review-entity">${esc(draft.entity ? draft.entity_label : `${draft.entity_name} (${kindText(draft.kind)}, ${regionText(draft.region)})`)}</dd></dl>`,
  ];
  let step = 0;
  const show = () => {
    const lastStep = step === steps.length - 1;
    main().innerHTML = `<section class="card">${banner}<p class="muted">${step + 1} / ${steps.length}</p><form id="access-form" novalidate>${steps[step]()}
      ${step > 0 ? `<button type="button" class="secondary" id="back">${esc(t('previous'))}</button>` : ''}
      <button type="submit">${esc(lastStep ? t('confirm') : t('next'))}</button></form></section>`;
    const form = $('#access-form');
    $('#back')?.addEventListener('click', () => { Object.assign(draft, formData(form)); step -= 1; show(); });
    form.querySelector('input,select')?.focus();
    $('#entity-search')?.addEventListener('click', async () => {
      clearMessages(form);
      const r = await api('GET', `/v1/entities?name=${encodeURIComponent(form.entity_search.value.trim())}`);
      if (!r.ok) return showProblem(form, r.json);
      const list = r.json.entities;
      $('#entity-results').innerHTML = list.length
        ? list.map((e) => `<label><input type="radio" name="entity" value="${esc(e.id)}" data-label="${esc(e.name)}"> ${esc(e.name)} <span class="muted">(${esc(kindText(e.kind))}, ${esc(regionText(e.region))})</span></label>`).join('')
          + `<label><input type="radio" name="entity" value=""> ${esc(t('orNew'))}</label>`
        : `<p>${esc(t('noEntityFound'))}</p>`;
      $('#entity-results input')?.focus();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMessages(form);
      const d = formData(form);
      if (step === 0) draft.accept = form.accept.checked;
      if (step === 2) {
        const chosen = form.querySelector('input[name="entity"]:checked');
        draft.entity = chosen?.value || '';
        draft.entity_label = chosen?.dataset.label || draft.entity_label || '';
      }
      delete d.entity;
      Object.assign(draft, d);
      if (step === 0 && !form.accept.checked) return showProblem(form, { field: 'terms_version', code: 'text.required', detail: t('accept') });
      if (step === 1) {  // the RIZIV number's rules, checked now rather than at Bevestigen
        const r = await api('POST', '/v1/checks/riziv', { riziv: draft.riziv || '' });
        if (!r.ok) return showProblem(form, r.json);
      }
      if (!lastStep) { step += 1; return show(); }
      const body = { name: draft.name, email: draft.email, riziv: draft.riziv, terms_version: draft.terms_version };
      if (draft.entity) body.entity = draft.entity;
      else body.new_entity = { kind: draft.kind, name: draft.entity_name, region: draft.region, ...(draft.kbo ? { kbo: draft.kbo } : {}) };
      const r = await api('POST', '/v1/access-requests', body);
      if (!r.ok) {
        // A refused field belongs to an earlier step: show it there.
        const owner = { terms_version: 0, riziv: 1 }[r.json?.field] ?? (r.json?.field ? 2 : step);
        if (owner !== step) { step = owner; show(); }
        return showProblem($('#access-form'), r.json);
      }
      await loadSession();
      main().innerHTML = `<section class="card"><p class="notice" role="status" id="access-done">${esc(t('registered'))}</p></section>`;
      announce(t('registered'));
    });
  };
  show();
}

async function membersScreen() {
  const r = await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}`);
  if (!r.ok) { main().innerHTML = `<p class="alert">${esc(problemText(r.json))}</p>`; return; }
  const e = r.json;
  const etag = r.headers.get('ETag');
  const names = Object.fromEntries(e.members.map((m) => [m.person, memberName(m)]));
  const physician = myRole() === 'physician';
  const relation = (m) => (m.role === 'staff' ? `${t('actsFor')}: ${(m.linked_to || []).map((p) => names[p] || p).join(', ')}`
    : m.role === 'haio' ? `${t('trainer')}: ${names[m.trainer] || m.trainer}` : '');
  const rows = e.members.map((m) => [
    ...(physician ? [`<input type="checkbox" name="members" value="${esc(m.person)}" aria-label="${esc(t('select'))} ${esc(memberName(m))}" data-field="members">`] : []),
    memberCell(m), esc(t(m.role)), esc(m.riziv), esc(relation(m))]);
  const heads = [...(physician ? [t('select')] : []), t('name'), t('role'), 'RIZIV', `${t('actsFor')} / ${t('trainer')}`];
  const pendingText = (p) => `${t(`kind_${p.kind}`)}: ${p.name || (p.member_names || []).map((m) => m.name).join(', ') || (p.members || []).map((m) => names[m] || m).join(', ')}`;
  const pending = e.pending || [];
  main().innerHTML = `<section class="card"><h1>${esc(t('members'))} — ${esc(e.name)}</h1>
    <p class="muted">${esc(kindText(e.kind))} · ${esc(regionText(e.region))}${myRole() ? ' · ' + esc(t('actingAs', { role: t(myRole()) })) : ''}</p>
    <form id="unlink-form">${table('members-table', heads, rows)}
    ${physician ? `<button type="button" class="secondary" id="unlink-start">${esc(t('unlink'))}</button>` : ''}</form>
    <div id="unlink-overview" aria-live="polite"></div></section>
    <section class="card"><h2>${esc(t('pending'))}</h2>${pending.length ? `<ul>${pending.map((p) => `<li>${esc(pendingText(p))} <span class="muted">(${esc(p.id)})</span></li>`).join('')}</ul>` : `<p>${esc(t('none'))}</p>`}</section>
    ${physician ? `<section class="card"><h2>${esc(t('newRequest'))}</h2><form id="link-form" novalidate>
      ${field('insz', 'insz', 'required inputmode="numeric" autocomplete="off"')}
      ${field('name', 'name', 'required')}${field('email', 'email', 'required type="email"')}
      <fieldset data-field="is_physician"><legend>${esc(t('isPhysician'))}</legend>
        <label><input type="radio" name="is_physician" value="yes"> ${esc(t('yes'))}</label>
        <label><input type="radio" name="is_physician" value="no" checked> ${esc(t('no'))}</label></fieldset>
      <div id="link-riziv" hidden>${field('riziv', 'riziv', 'inputmode="numeric"')}</div>
      <button type="submit">${esc(t('save'))}</button></form></section>` : `<section class="card"><p class="muted" id="no-staff-forms">${esc(t('noStaffForms'))}</p></section>`}`;
  if (!physician) return;
  const link = $('#link-form');
  link.addEventListener('change', () => { $('#link-riziv').hidden = link.is_physician.value !== 'yes'; });
  link.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages(link);
    $('#link-done')?.remove();
    const d = formData(link);
    const body = { insz: d.insz, name: d.name, email: d.email, is_physician: d.is_physician === 'yes' };
    if (body.is_physician) body.riziv = d.riziv;
    const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/link-requests`, body, etag ? { 'If-Match': etag } : {});
    if (!res.ok) return showProblem(link, res.json);
    announce(t('requestSent'));
    await membersScreen();
    const note = document.createElement('p');
    note.className = 'notice'; note.id = 'link-done'; note.textContent = t('requestSent');
    main().prepend(note);
  });
  const unlink = $('#unlink-form');
  noImplicitSubmit(unlink);
  $('#unlink-start').addEventListener('click', async () => {
    clearMessages(unlink);
    const chosen = [...unlink.querySelectorAll('input[name="members"]:checked')].map((c) => c.value);
    if (!chosen.length) return showProblem(unlink, { field: 'members', code: 'unlink.none_selected', detail: 'select at least one member' });
    const overview = $('#unlink-overview');
    const agreed = await confirmStep(overview, t('confirmUnlink', { entity: e.name }), chosen.map((p) => names[p] || p), t('agree'));
    if (!agreed) return;
    const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/unlink-requests`, { members: chosen }, etag ? { 'If-Match': etag } : {});
    if (!res.ok) {
      overview.innerHTML = `<div class="alert" role="alert" id="unlink-refused"><strong>${esc(t('unlinkRefused'))}:</strong> ${esc(problemText(res.json))}</div>`;
      return;
    }
    announce(t('requestSent'));
    overview.innerHTML = `<p class="notice" id="unlink-done">${esc(t('requestSent'))}</p>`;
  });
}

async function ensureVaccines() {
  if (!vaccines.length) vaccines = (await api('GET', '/v1/vaccines')).json?.vaccines || [];
}
const disease = (v) => dict.disease[v.disease] || v.disease_name || '';
const productName = (code) => vaccines.find((v) => v.code === code)?.name || code;
const productLabel = (code) => {
  const v = vaccines.find((x) => x.code === code);
  return v ? `${v.name} (${disease(v)})` : code;
};
function productOptions(selected) {
  return vaccines.map((v) => `<option value="${esc(v.code)}" ${v.code === selected ? 'selected' : ''}>${esc(v.name)} (${esc(disease(v))})</option>`).join('');
}

async function entityDetail() {
  const r = await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}`);
  return r.ok ? r.json : { members: [] };
}

async function registerScreen() {
  await ensureVaccines();
  const [entity, stockRes] = await Promise.all([entityDetail(), api('GET', `/v1/entities/${encodeURIComponent(session.entity)}/stock`)]);
  const lots = stockRes.json?.lots || [];
  const acting = session.on_behalf_of || (myRole() === 'haio' ? (entity.members.find((m) => m.person === session.person)?.trainer) : session.person);
  const performers = entity.members.filter((m) => m.role === 'physician' || m.role === 'haio');
  main().innerHTML = `<section class="card"><h1>${esc(t('register'))}</h1><form id="register-form" novalidate>
    <fieldset><legend>${esc(t('patientLegend'))}</legend>
      ${field('insz', 'insz', 'inputmode="numeric" autocomplete="off"', '', 'patient.insz')}
      <label><input type="checkbox" name="no_insz" id="f-no-insz"> ${esc(t('noInsz'))}</label>
      <div id="no-insz" hidden>${field('patientName', 'patient_name', 'autocomplete="off"', '', 'patient.name')}${field('birthDate', 'birth_date', `type="date" max="${today()}"`, '', 'patient.birth_date')}</div>
    </fieldset>
    <label for="f-product">${esc(t('product'))}</label><select id="f-product" name="product" data-field="product">${productOptions()}</select>
    <label for="f-lot">${esc(t('lot'))}</label><select id="f-lot" name="lot_choice" data-field="lot"></select>
    <div id="lot-other" hidden>${field('lotOtherValue', 'lot_other', 'autocomplete="off"', '', 'lot-other')}</div>
    <p id="lot-warning" class="alert" hidden></p>
    ${field('dose', 'dose', 'type="number" min="1" max="10"', '1')}
    ${field('date', 'date', `type="date" max="${today()}"`, today())}
    <label for="f-performer">${esc(t('performer'))}</label><select id="f-performer" name="performer" data-field="performer">${performers.map((m) => `<option value="${esc(m.person)}" ${m.person === acting ? 'selected' : ''}>${esc(memberName(m))}</option>`).join('')}</select>
    <fieldset data-field="consent.decision"><legend>${esc(t('consent'))}</legend>
      <label><input type="radio" name="consent" value="given" checked> ${esc(t('given'))}</label>
      <label><input type="radio" name="consent" value="refused"> ${esc(t('refused'))}</label></fieldset>
    ${field('consentDate', 'consent_date', `type="date" max="${today()}"`, today(), 'consent.date')}
    <button type="submit">${esc(t('save'))}</button></form><div id="register-result" aria-live="polite"></div></section>`;
  const form = $('#register-form');
  const fillLots = () => {
    const mine = lots.filter((l) => l.product === form.product.value);
    form.lot_choice.innerHTML = mine.map((l) => `<option value="${esc(l.lot)}">${esc(l.lot)} — ${esc(t('expiry'))} ${esc(l.expiry)}${l.expired ? ` (${esc(t('expired'))})` : ''} · ${esc(t('usable'))}: ${esc(l.usable)}</option>`).join('')
      + `<option value="">${esc(t('lotOther'))}</option>`;
    lotChanged();
  };
  const lotChanged = () => {
    const other = form.lot_choice.value === '';
    $('#lot-other').hidden = !other;
    // The field the server names "lot" is the one in use.
    form.lot_choice.dataset.field = other ? 'lot-choice' : 'lot';
    form.lot_other.dataset.field = other ? 'lot' : 'lot-other';
    const l = lots.find((x) => x.product === form.product.value && x.lot === form.lot_choice.value);
    $('#lot-warning').hidden = !l?.expired;
    $('#lot-warning').textContent = l?.expired ? t('expiredWarn') : '';
  };
  const defaults = () => {
    form.reset();
    form.date.value = today(); form.consent_date.value = today();
    if (form.performer.querySelector(`option[value="${CSS.escape(acting || '')}"]`)) form.performer.value = acting;
    $('#no-insz').hidden = true;
    fillLots();
  };
  fillLots();
  form.product.addEventListener('change', fillLots);
  form.lot_choice.addEventListener('change', lotChanged);
  form.no_insz.addEventListener('change', () => { $('#no-insz').hidden = !form.no_insz.checked; });
  form.date.addEventListener('change', () => { form.consent_date.value = form.date.value; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(form);
    $('#register-result').innerHTML = '';  // an old "Opgeslagen." never stays beside a new error
    const d = formData(form);
    const patient = form.no_insz.checked ? { name: d.patient_name, birth_date: d.birth_date } : { insz: d.insz };
    const body = {
      patient, product: d.product, lot: d.lot_choice || d.lot_other, dose: Number(d.dose), date: d.date,
      consent: { decision: d.consent, date: d.consent_date },
    };
    if (d.performer) body.performer = d.performer;
    const r = await api('POST', '/v1/vaccinations', body, { 'Idempotency-Key': crypto.randomUUID() });
    if (!r.ok) return showProblem(form, r.json);
    const patientId = (r.headers.get('Location') || '').split('/')[3] || '';
    defaults();
    $('#register-result').innerHTML = `<p class="notice" id="register-done">${esc(t('saved'))} <a href="#/patient?id=${encodeURIComponent(patientId)}">${esc(t('history'))}</a></p>`;
    announce(t('saved'));
    form.insz.focus();
  });
}

async function todayScreen() {
  await ensureVaccines();
  const [entity, r] = await Promise.all([entityDetail(), api('GET', `/v1/entities/${encodeURIComponent(session.entity)}/vaccinations?limit=1000`)]);
  const names = Object.fromEntries(entity.members.map((m) => [m.person, memberName(m)]));
  const list = (r.json?.vaccinations || []).filter((v) => dateOfUs(v.recorded_at_us) === today()).reverse();
  main().innerHTML = `<section class="card"><h1>${esc(t('today'))} — ${esc(entity.name)}</h1>
    ${list.length ? table('today-table', [t('date'), t('product'), t('lot'), t('dose'), t('performer'), t('status'), t('patient')], list.map((v) => [
      esc(v.date), esc(productLabel(v.product)), esc(v.lot), esc(v.dose), esc(names[v.performer] || ''), esc(statusText(v.status)),
      `<a href="#/patient?id=${encodeURIComponent(v.patient)}">${esc(t('history'))}</a>`])) : `<p>${esc(t('none'))}</p>`}</section>`;
}

async function batchScreen() {
  await ensureVaccines();
  main().innerHTML = `<section class="card"><h1>${esc(t('batch'))}</h1><form id="batch-form" novalidate>
    <label for="b-product">${esc(t('product'))}</label><select id="b-product" name="product" data-field="product">${productOptions()}</select>
    ${field('lot', 'lot', 'autocomplete="off"')}${field('dose', 'dose', 'type="number" min="1" max="10"', '1')}
    ${field('date', 'date', `type="date" max="${today()}"`, today())}
    <label for="b-file">${esc(t('batchFile'))}</label><input id="b-file" type="file" accept=".csv,text/csv" name="file">
    <label for="b-csv">CSV</label><textarea id="b-csv" name="csv" rows="6" data-field="body">insz,consent\n</textarea>
    <button type="submit">${esc(t('upload'))}</button></form><div id="batch-result" aria-live="polite"></div></section>`;
  const form = $('#batch-form');
  form.file.addEventListener('change', async () => { if (form.file.files[0]) form.csv.value = await form.file.files[0].text(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(form);
    $('#batch-result').innerHTML = '';
    const q = new URLSearchParams({ product: form.product.value, lot: form.lot.value, date: form.date.value, dose: form.dose.value });
    const r = await api('POST', `/v1/vaccinations/batch?${q}`, form.csv.value, { 'Content-Type': 'text/csv', 'Idempotency-Key': crypto.randomUUID() });
    if (!r.ok) return showProblem(form, r.json);
    const res = r.json;
    $('#batch-result').innerHTML = `<p class="notice" id="batch-done">${esc(t('saved'))} ${esc(res.accepted)} / ${esc(res.accepted + res.refused)}</p>
      ${table('batch-table', [t('row'), t('result')], res.results.map((x) => [esc(x.row + 2), x.status === 201 ? esc(t('ok')) : `<span class="error">${esc(problemText(x))}</span>`]))}`;
  });
}

async function patientScreen() {
  await ensureVaccines();
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  main().innerHTML = `<section class="card"><h1>${esc(t('patient'))}</h1><form id="search-form" novalidate>
    ${field('insz', 'insz', 'inputmode="numeric" autocomplete="off"')}
    <fieldset><legend>${esc(t('orSearchName'))}</legend>${field('patientName', 'name', 'autocomplete="off"')}${field('birthDate', 'birth_date', 'type="date"')}</fieldset>
    <button type="submit">${esc(t('search'))}</button></form><div id="history"></div></section>`;
  const form = $('#search-form');
  const stockLots = ((await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}/stock`)).json?.lots || []).filter((l) => l.expiry && !l.expired);
  let current = params.get('id') || '';
  const show = (r) => {
    if (r.status === 404) { $('#history').innerHTML = `<p>${esc(t('patientNone'))}</p>`; return; }
    if (!r.ok) return showProblem(form, r.json);
    const p = r.json;
    current = p.id;
    const etag = `"${p.version}"`;
    const rows = p.vaccinations.map((v) => {
      const changes = (v.history || []).map((h) => `<li>${esc(dateOfUs(h.at_us))} · ${esc(h.kind === 'corrected' ? t('correct') : h.kind === 'consent' ? t('consent') : t('retract'))}${
        h.kind === 'corrected' ? ` — ${esc(t('was'))}: ${esc(productName(h.product))}, ${esc(t('lot'))} ${esc(h.lot)}, ${esc(t('dose'))} ${esc(h.dose)}, ${esc(h.date)}` : ''}${
        h.kind === 'consent' ? ` — ${esc(t(h.consent))}` : ''}${h.reason ? ` — ${esc(t('reason'))}: ${esc(h.reason)}` : ''} <span class="muted">(${esc(h.by_name)})</span></li>`).join('');
      const own = v.status === 'active' && v.entity === session.entity;
      return [
        esc(v.date), `${esc(v.product_name || productName(v.product))}<br><span class="muted">${esc(dict.disease[v.disease] || '')}</span>`, esc(v.lot), esc(v.dose),
        `${esc(v.performer_name)}<br><span class="muted">${esc(v.entity_name)}</span>`,
        `${esc(t(v.consent?.decision || ''))} <span class="muted">${esc(v.consent?.date || '')}</span>`,
        `${esc(statusText(v.status))}${v.reason ? ` — ${esc(v.reason)}` : ''}${changes ? `<details class="changes"><summary>${esc(t('corrections'))}</summary><ul>${changes}</ul></details>` : ''}`,
        own ? `<form class="fix" novalidate data-id="${esc(v.id)}">${field('reason', `reason-${v.id}`, 'autocomplete="off"', '', 'reason')}
          ${field('lot', `lot-${v.id}`, 'autocomplete="off" list="stock-lots"', v.lot, 'lot')}
          <label for="c-${esc(v.id)}">${esc(t('consent'))}</label><select id="c-${esc(v.id)}" name="consent" data-field="decision">${options(v.consent?.decision, [['given', t('given')], ['refused', t('refused')]])}</select>
          <button type="button" data-action="correct" class="secondary">${esc(t('correct'))}</button><button type="button" data-action="retract" class="secondary">${esc(t('retract'))}</button>
          <button type="button" data-action="consent" class="secondary">${esc(t('changeConsent'))}</button><div class="confirm-area"></div></form>` : '',
      ];
    });
    $('#history').innerHTML = `<datalist id="stock-lots">${stockLots.map((l) => `<option value="${esc(l.lot)}">`).join('')}</datalist><h2 id="patient-name">${p.erased ? erasedBadge() : esc(p.name || p.insz || '')}</h2>
      ${p.erased ? `<p class="notice" id="patient-erased">${esc(t('erasedPatient'))}</p>`
        : `<p>${p.insz ? `${esc(t('inszShort'))} ${esc(p.insz)} · ` : ''}${esc(t('birthDate'))}: <span id="patient-dob">${esc(p.birth_date)}</span></p>`}
      <h2>${esc(t('history'))}</h2>
      ${table('history-table', [t('date'), t('product'), t('lot'), t('dose'), `${t('performer')} / ${t('where')}`, t('consent'), t('status'), ''], rows)}`;
    certificatesPanel($('#history'), p, lang);  // proofs of vaccination (certificates.js)
    document.querySelectorAll('form.fix').forEach((f) => {
      noImplicitSubmit(f);
      const v = p.vaccinations.find((x) => x.id === f.dataset.id);
      f.querySelectorAll('button[data-action]').forEach((b) => b.addEventListener('click', async () => {
        clearMessages(f);
        const action = b.dataset.action;
        const reason = f.querySelector('[data-field="reason"]').value.trim();
        const lot = f.querySelector('[data-field="lot"]').value.trim();
        if (action !== 'consent' && !reason) return showProblem(f, { field: 'reason', code: 'text.required', detail: 'reason is required' });
        const base = `/v1/patients/${encodeURIComponent(p.id)}/vaccinations/${encodeURIComponent(v.id)}`;
        const label = productName(v.product);
        const question = action === 'retract' ? t('confirmRetract', { date: v.date, product: label, reason })
          : action === 'correct' ? t('confirmCorrect', { date: v.date, old: v.lot, new: lot, reason })
            : `${t('changeConsent')}: ${t(f.consent.value)}`;
        if (!(await confirmStep(f.querySelector('.confirm-area'), question))) return;
        const res = action === 'retract' ? await api('POST', `${base}/retraction`, { reason }, { 'If-Match': etag })
          : action === 'correct' ? await api('POST', `${base}/corrections`, { lot, reason }, { 'If-Match': etag })
            : await api('POST', `${base}/consent`, { decision: f.consent.value, date: today() }, { 'If-Match': etag });
        if (!res.ok) return showProblem(f, res.json);
        announce(t('saved'));
        show(await api('GET', `/v1/patients/${encodeURIComponent(p.id)}`));
      }));
    });
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(form);
    const d = formData(form);
    const body = d.insz.trim() ? { insz: d.insz.trim() } : { name: d.name.trim(), birth_date: d.birth_date };
    show(await api('POST', '/v1/patients/search', body));
  });
  if (current) show(await api('GET', `/v1/patients/${encodeURIComponent(current)}`));
}

async function stockScreen() {
  await ensureVaccines();
  const r = await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}/stock`);
  const s = r.json || { lots: [] };
  const soon = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  const warn = (l) => (!l.expiry ? `<span class="badge bad">${esc(t('notDelivered'))}</span>`
    : l.expired ? `<span class="badge bad">${esc(t('expired'))}</span>` : l.expiry <= soon ? `<span class="badge">${esc(t('expiresSoon'))}</span>` : '');
  const lotOptions = s.lots.map((l) => `<option value="${esc(l.product)}|${esc(l.lot)}">${esc(productName(l.product))} — ${esc(l.lot)}</option>`).join('');
  main().innerHTML = `<section class="card"><h1>${esc(t('stock'))}</h1>
    ${table('stock-table', [t('product'), t('lot'), t('expiry'), t('received'), t('adjusted'), t('used'), t('usable'), t('shortfall')], s.lots.map((l) => [
      esc(productLabel(l.product)), esc(l.lot), `${esc(l.expiry)} ${warn(l)}`, esc(l.received), esc(l.adjusted || 0), esc(l.used),
      esc(l.usable ?? Math.max(0, l.on_hand)), `<span class="${l.shortfall ? 'shortfall' : ''}">${esc(l.shortfall)}</span>`]))}</section>
    <section class="card"><h2>${esc(t('delivery'))}</h2><form id="delivery-form" novalidate>
      <label for="d-product">${esc(t('product'))}</label><select id="d-product" name="product" data-field="product">${productOptions()}</select>
      ${field('lot', 'lot', 'required')}${field('expiry', 'expiry', `type="date" min="${today()}" required`)}${field('quantity', 'quantity', 'type="number" min="1" required')}
      <button type="submit">${esc(t('save'))}</button></form></section>
    ${s.lots.length ? `<section class="card"><h2>${esc(t('adjustment'))}</h2><form id="adjust-form" novalidate>
      <label for="a-lot">${esc(t('lot'))}</label><select id="a-lot" name="lot" data-field="lot">${lotOptions}</select>
      ${field('delta', 'delta', 'type="number" required')}${field('reason', 'reason', 'required autocomplete="off"')}
      <button type="submit">${esc(t('save'))}</button></form></section>` : ''}`;
  const form = $('#delivery-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(form);
    const d = formData(form);
    const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/stock/deliveries`, { product: d.product, lot: d.lot, expiry: d.expiry, quantity: Number(d.quantity) });
    if (!res.ok) return showProblem(form, res.json);
    await stockScreen();
    announce(t('saved'));
  });
  const adjust = $('#adjust-form');
  adjust?.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(adjust);
    const d = formData(adjust);
    const [product, lot] = d.lot.split('|');
    const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/stock/adjustments`, { product, lot, delta: Number(d.delta), reason: d.reason });
    if (!res.ok) return showProblem(adjust, res.json);
    await stockScreen();
    announce(t('saved'));
  });
}

// The administrators' queue: every request with who asked, for which entity, whom it concerns;
// decided requests with who decided and why. Approve and reject say what they do and ask once.
async function adminScreen() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const filter = params.get('show') || 'pending';
  const r = await api('GET', `/v1/requests?status=${filter === 'pending' ? 'pending' : 'all'}&limit=500`);
  let list = r.json?.requests || [];
  if (filter === 'decided') list = list.filter((q) => q.status !== 'pending').reverse();
  const kind = params.get('kind') || '';
  if (kind) list = list.filter((q) => q.kind === kind);
  // An erasure (issue 16) names no one: its subject is a kind (patient, person) and a pseudonym.
  const erasure = (q) => q.kind === 'erasure';
  const subject = (q) => (q.kind === 'unlink' ? (q.member_names || []).map((m) => m.name || m.person).join(', ')
    : erasure(q) ? t(`subject_${q.role}`) : q.name);
  const what = (q) => (q.kind === 'access' ? t('whatAccess', { name: q.name, entity: q.entity_name })
    : q.kind === 'link' ? t('whatLink', { name: q.name, entity: q.entity_name, role: t(q.role) })
      : erasure(q) ? t('whatErasure', { subject: subject(q), pseudonym: q.person })
        : t('whatUnlink', { names: subject(q), entity: q.entity_name }));
  // Who asked: the registry's name for them; an administrator it knows no name of (the registry
  // names people from their memberships) is this session's user, or "an administrator (id)".
  const requester = (q) => (q.requested_by_name ? esc(q.requested_by_name)
    : q.requested_by === session.person && session.name ? esc(session.name)
      : `${esc(t('administrator'))} <span class="muted id">(${esc(q.requested_by)})</span>`);
  const card = (q) => `<article class="decide card" data-id="${esc(q.id)}" aria-labelledby="h-${esc(q.id)}"><h2 id="h-${esc(q.id)}">${esc(t(`kind_${q.kind}`))}: ${esc(subject(q))}</h2>
    <dl class="facts"><dt>${esc(t('requestedBy'))}</dt><dd>${requester(q)} <span class="muted">${esc(dateOfUs(q.requested_at_us))}</span></dd>
      ${erasure(q) ? `<dt>${esc(t('subjectKind'))}</dt><dd>${esc(subject(q))}</dd><dt>${esc(t('pseudonym'))}</dt><dd class="id">${esc(q.person)}</dd>
        ${q.status === 'pending' ? `<dt>${esc(t('erasureReason'))}</dt><dd>${esc(q.reason)}</dd>` : ''}`
    : `<dt>${esc(t('where'))}</dt><dd>${esc(q.entity_name)}${q.new_entity ? ` (${esc(t('newEntity'))}: ${esc(kindText(q.new_entity.kind))}, ${esc(regionText(q.new_entity.region))})` : ''}</dd>`}
      ${q.riziv ? `<dt>${esc(t('riziv'))}</dt><dd>${esc(q.riziv)}</dd>` : ''}${q.role && !erasure(q) ? `<dt>${esc(t('role'))}</dt><dd>${esc(t(q.role))}</dd>` : ''}
      ${q.trainer_name ? `<dt>${esc(t('trainer'))}</dt><dd>${esc(q.trainer_name)}</dd>` : ''}
      ${q.email ? `<dt>${esc(t('email'))}</dt><dd>${esc(q.email)}</dd>` : ''}
      <dt>${esc(t('status'))}</dt><dd>${esc(statusText(q.status))}</dd>
      ${q.status !== 'pending' ? `<dt>${esc(t('decidedBy'))}</dt><dd>${esc(q.decided_by_name || t('administrator'))}</dd>${q.reason ? `<dt>${esc(t('reason'))}</dt><dd>${esc(q.reason)}</dd>` : ''}` : ''}</dl>
    ${q.status === 'pending' ? `<form class="decide-form" novalidate>${field('reason', `reason-${q.id}`, 'autocomplete="off"', '', 'reason')}
      <button type="button" data-action="approve">${esc(t('approve'))}</button><button type="button" data-action="reject" class="secondary">${esc(t('reject'))}</button>
      <div class="confirm-area"></div></form>` : ''}</article>`;
  main().innerHTML = `<section class="card"><h1>${esc(t('queue'))}</h1>
    <form id="filter-form"><label for="f-show">${esc(t('show'))}</label><select id="f-show" name="show">${options(filter, [['pending', t('filterPending')], ['decided', t('filterDecided')], ['all', t('filterAll')]])}</select>
      <label for="f-kind-filter">${esc(t('kind'))}</label><select id="f-kind-filter" name="kind">${options(kind, [['', t('filterAll')], ['access', t('kind_access')], ['link', t('kind_link')], ['unlink', t('kind_unlink')], ['erasure', t('kind_erasure')]])}</select></form>
    ${list.length ? '' : `<p id="queue-empty">${esc(t('none'))}</p>`}${list.map(card).join('')}</section>
    ${erasureCard()}`;
  $('#filter-form').addEventListener('change', () => {
    location.hash = `#/admin?${new URLSearchParams({ show: $('#f-show').value, kind: $('#f-kind-filter').value })}`;
  });
  noImplicitSubmit($('#filter-form'));
  document.querySelectorAll('article.decide').forEach((article) => {
    const f = article.querySelector('form.decide-form');
    if (!f) return;
    noImplicitSubmit(f);
    const q = list.find((x) => x.id === article.dataset.id);
    f.querySelectorAll('button[data-action]').forEach((b) => b.addEventListener('click', async () => {
      clearMessages(f);
      const action = b.dataset.action;
      const reason = f.querySelector('[data-field="reason"]').value.trim();
      if (action === 'reject' && !reason) return showProblem(f, { field: 'reason', code: 'text.required', detail: 'reason is required' });
      const question = action === 'approve' ? t('confirmApprove', { what: what(q) }) : t('confirmReject', { request: `${t(`kind_${q.kind}`)}: ${subject(q)}`, reason });
      const items = action === 'approve' && erasure(q) ? erasureConsequences(q.role).slice(0, 3) : [];
      if (!(await confirmStep(f.querySelector('.confirm-area'), question, items))) return;
      const res = await api('POST', `/v1/requests/${encodeURIComponent(q.id)}/${action}`, reason ? { reason } : {});
      if (!res.ok) {
        // Refused at approval (the state changed since the request): the refusal becomes the
        // reason to reject it with, so that it leaves the queue in one more step.
        if (action === 'approve' && res.status === 422) f.querySelector('[data-field="reason"]').value = problemText(res.json);
        return showProblem(f, { ...res.json, field: undefined });
      }
      announce(t('saved'));
      await adminScreen();
    }));
  });
  erasureForm();
}

// What an erasure of a `kind` (patient, person) does, said before it is asked and approved.
const erasureConsequences = (kind) => [t('eraseKey'), t(kind === 'person' ? 'eraseGonePerson' : 'eraseGonePatient'),
  t(kind === 'person' ? 'eraseStaysPerson' : 'eraseStaysPatient'), t('eraseSecond')];

// Persoonsgegevens wissen (issue 16), on the administrators' queue screen: whose data (a patient
// by INSZ, or by name and date of birth; a person by INSZ), why, then a review that says what
// happens and asks once. The request joins the queue; another administrator approves it.
function erasureCard() {
  return `<section class="card" aria-labelledby="erase-title"><h2 id="erase-title">${esc(t('erase'))}</h2>
    <p class="muted">${esc(t('eraseIntro'))}</p><form id="erase-form" novalidate>
    <fieldset data-field="kind"><legend>${esc(t('eraseWhose'))}</legend>
      <label><input type="radio" name="kind" value="patient" checked> ${esc(t('eraseKindPatient'))}</label>
      <label><input type="radio" name="kind" value="person"> ${esc(t('eraseKindPerson'))}</label></fieldset>
    <div id="erase-patient">${field('insz', 'erase_patient_insz', 'inputmode="numeric" autocomplete="off"', '', 'patient.insz')}
      <label><input type="checkbox" name="no_insz" id="f-erase-no-insz"> ${esc(t('noInsz'))}</label>
      <div id="erase-no-insz" hidden>${field('patientName', 'erase_name', 'autocomplete="off"', '', 'patient.name')}${field('birthDate', 'erase_birth_date', `type="date" max="${today()}"`, '', 'patient.birth_date')}</div></div>
    <div id="erase-person" hidden>${field('insz', 'erase_insz', 'inputmode="numeric" autocomplete="off"', '', 'insz')}</div>
    <label for="f-erase-reason">${esc(t('erasureReason'))}</label><p class="hint muted">${esc(t('eraseReasonHint'))}</p>
    <input id="f-erase-reason" name="erase_reason" data-field="reason" required autocomplete="off">
    <button type="button" id="erase-start">${esc(t('eraseReview'))}</button><div class="confirm-area" id="erase-confirm"></div></form>
    <div id="erase-result" aria-live="polite"></div></section>`;
}

function erasureForm() {
  const form = $('#erase-form');
  if (!form) return;
  noImplicitSubmit(form);  // asking for an erasure is never what Enter does
  const shown = () => {
    const person = form.kind.value === 'person';
    $('#erase-patient').hidden = person;
    $('#erase-person').hidden = !person;
    $('#erase-no-insz').hidden = person || !form.no_insz.checked;
  };
  form.addEventListener('change', shown);
  // A review stays true to what it shows: changing a field closes it (as Annuleren does).
  form.addEventListener('input', (ev) => { if (!ev.target.closest('.confirm')) $('#erase-confirm .confirm-no')?.click(); });
  $('#erase-start').addEventListener('click', async () => {
    clearMessages(form);
    $('#erase-result').innerHTML = '';
    const d = formData(form);
    const kind = form.kind.value;
    const required = (name, key) => showProblem(form, { field: name, code: 'text.required', detail: `${key} is required` });
    let body;
    let who;
    if (kind === 'person') {
      if (!d.erase_insz.trim()) return required('insz', 'insz');
      body = { kind, insz: d.erase_insz.trim() };
      who = `${t('subject_person')} (${t('inszShort')} ${body.insz})`;
    } else if (form.no_insz.checked) {
      if (!d.erase_name.trim()) return required('patient.name', 'patient.name');
      if (!d.erase_birth_date) return required('patient.birth_date', 'patient.birth_date');
      body = { kind, patient: { name: d.erase_name.trim(), birth_date: d.erase_birth_date } };
      who = `${t('subject_patient')} (${body.patient.name}, ${body.patient.birth_date})`;
    } else {
      if (!d.erase_patient_insz.trim()) return required('patient.insz', 'patient.insz');
      body = { kind, patient: { insz: d.erase_patient_insz.trim() } };
      who = `${t('subject_patient')} (${t('inszShort')} ${body.patient.insz})`;
    }
    body.reason = d.erase_reason.trim();
    if (!body.reason) return required('reason', 'reason');
    const agreed = await confirmStep($('#erase-confirm'), t('eraseQuestion', { subject: who }), erasureConsequences(kind), t('eraseConfirm'));
    if (!agreed) { $('#erase-start').focus(); return; }
    const res = await api('POST', '/v1/subjects/erasures', body, { 'Idempotency-Key': crypto.randomUUID() });
    if (!res.ok) return showProblem(form, res.json);
    const id = (res.headers.get('Location') || '').split('/').pop();
    await adminScreen();
    $('#erase-result').innerHTML = `<p class="notice" id="erase-done">${esc(t('eraseSent', { id }))}</p>`;
    announce(t('eraseSent', { id }));
  });
}

// RFC 9162 proofs verified with WebCrypto SHA-256.
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0; for (const p of parts) { all.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}
const node = (l, r) => sha256(new Uint8Array([1]), l, r);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
async function verifyInclusion(index, size, leafHash, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = await node(p, r);
      if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
    } else {
      r = await node(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && same(r, root);
}
// RFC 9162 §2.1.4.2: the log of size `size1` with root `root1` is a prefix of the log of size
// `size2` with root `root2`.
async function verifyConsistency(size1, size2, proof, root1, root2) {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  if (size1 === 0) return proof.length === 0;
  let path = [...proof];
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];  // size1 a power of two
  if (!path.length) return false;
  let fn = size1 - 1, sn = size2 - 1;
  while (fn & 1) { fn >>= 1; sn >>= 1; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      fr = await node(c, fr); sr = await node(c, sr);
      if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
    } else {
      sr = await node(sr, c);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}

async function checkpointNow() {
  const text = await (await fetch('/v1/ledger/checkpoint', { credentials: 'same-origin' })).text();
  const lines = text.split('\n');
  return { text, size: Number(lines[1]), root: lines[2] };
}

async function auditScreen() {
  const cp = await checkpointNow();
  const remembered = JSON.parse(localStorage.getItem('checkpoint') || 'null') || { size: cp.size, root: cp.root };
  localStorage.setItem('checkpoint', JSON.stringify({ size: cp.size, root: cp.root }));
  main().innerHTML = `<section class="card"><h1>${esc(t('checkpoint'))}</h1><pre id="checkpoint">${esc(cp.text)}</pre></section>
    <section class="card"><h2>${esc(t('proof'))}</h2><form id="proof-form" novalidate>${field('index', 'index', 'type="number" min="0"', '0')}
      <button type="submit">${esc(t('verify'))}</button></form><p id="proof-result" role="status"></p></section>
    <section class="card"><h2>${esc(t('consistency'))}</h2><form id="consistency-form" novalidate>
      ${field('fromSize', 'from', 'type="number" min="1"', remembered.size)}${field('oldRoot', 'root', 'autocomplete="off"', remembered.root)}
      <button type="submit">${esc(t('verify'))}</button></form><p id="consistency-result" role="status"></p></section>
    <section class="card"><h2>${esc(t('asOf'))}</h2><form id="asof-form" novalidate>${field('position', 'size', 'type="number" min="1"', cp.size)}
      <button type="submit">${esc(t('show2'))}</button></form><div id="asof-result" aria-live="polite"></div></section>
    <section class="card"><h2>${esc(t('export'))}</h2><button type="button" id="export">${esc(t('download'))}</button> <a id="export-link" hidden></a></section>
    <section class="card"><h2>${esc(t('feed'))}</h2><ol id="feed" aria-live="polite" reversed></ol></section>`;
  const form = $('#proof-form');
  form.index.addEventListener('input', () => { $('#proof-result').textContent = ''; $('#proof-result').className = ''; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(form);
    $('#proof-result').textContent = t('checking');
    const now = await checkpointNow();  // the log as it is now, not as when the page was opened
    const r = await api('GET', `/v1/ledger/proof/inclusion?index=${Number(form.index.value)}&size=${now.size}`);
    if (!r.ok) { $('#proof-result').textContent = ''; return showProblem(form, r.json); }
    const ok = await verifyInclusion(r.json.index, now.size, b64(r.json.leaf_hash), r.json.proof.map(b64), b64(now.root));
    $('#proof-result').textContent = `${ok ? t('proofOk') : t('proofBad')} (${now.size})`;
    $('#proof-result').className = ok ? 'notice' : 'alert';
  });
  const cform = $('#consistency-form');
  cform.addEventListener('input', () => { $('#consistency-result').textContent = ''; $('#consistency-result').className = ''; });
  cform.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(cform);
    const now = await checkpointNow();
    const from = Number(cform.from.value);
    const r = await api('GET', `/v1/ledger/proof/consistency?from=${from}&to=${now.size}`);
    if (!r.ok) return showProblem(cform, { ...r.json, field: r.json?.field === 'from' ? 'from' : undefined });
    let ok = false;
    try { ok = await verifyConsistency(from, now.size, r.json.proof.map(b64), b64(cform.root.value.trim()), b64(now.root)); } catch { ok = false; }
    $('#consistency-result').textContent = ok ? t('consistencyOk', { from }) : t('consistencyBad');
    $('#consistency-result').className = ok ? 'notice' : 'alert';
  });
  // As of a log size: the events that made the log up to there (the newest 50 before it).
  const aform = $('#asof-form');
  aform.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessages(aform);
    const size = Number(aform.size.value);
    const start = Math.max(0, size - 50);
    const r = await api('GET', `/v1/ledger/entries?start=${start}&limit=${Math.max(1, size - start)}`);
    if (!r.ok) return showProblem(aform, { ...r.json, field: undefined });
    const entries = r.json.entries.filter((x) => x.index < size).reverse();
    $('#asof-result').innerHTML = table('asof-table', [t('position'), 'key', 'leaf (bytes)'], entries.map((x) => [esc(x.index), esc(x.key_id.slice(0, 16)), esc(atob(x.leaf).length)]));
  });
  $('#export').addEventListener('click', async () => {
    const all = [];
    for (let start = 0; ;) {
      const r = await api('GET', `/v1/ledger/entries?start=${start}&limit=1000`);
      if (!r.ok) break;
      all.push(...r.json.entries);
      if (r.json.next === null || !r.json.entries.length) break;
      start = r.json.next;
    }
    const blob = new Blob([JSON.stringify({ checkpoint: (await checkpointNow()).text, entries: all }, null, 1)], { type: 'application/json' });
    const a = $('#export-link');
    a.href = URL.createObjectURL(blob);
    a.download = `vaxledger-log-${all.length}.json`;
    a.textContent = a.download;
    a.hidden = false;
    a.click();
  });
  feed?.close();
  feed = new EventSource(`/v1/events?from=${Math.max(0, cp.size - 20)}`);
  const add = (ev) => {
    const d = JSON.parse(ev.data);
    const li = document.createElement('li');
    li.textContent = `#${d.position} ${d.type} ${d.entity || ''}`;
    $('#feed')?.prepend(li);
  };
  ['access.requested', 'access.approved', 'access.rejected', 'entity.created', 'link.requested', 'link.approved', 'link.rejected',
    'unlink.requested', 'unlink.approved', 'unlink.rejected', 'member.linked', 'member.unlinked', 'vaccination.registered',
    'vaccination.corrected', 'vaccination.entered_in_error', 'consent.recorded', 'stock.received', 'stock.adjusted',
    'role.granted', 'role.revoked', 'erasure.requested', 'erasure.approved', 'erasure.rejected', 'subject.erased', 'patient.read', 'patients.read', 'qualification.changed', 'registry.initialised'].forEach((type) => feed.addEventListener(type, add));
}

async function logout() {
  await api('DELETE', '/v1/session');
  session = null;
  location.hash = '#/login';
}

// hash -> screen. A screen in its own module adds itself here (and to `menu`).
export const screens = {
  '#/login': loginScreen, '#/entity': entityScreen, '#/access': accessScreen, '#/members': membersScreen,
  '#/register': registerScreen, '#/today': todayScreen, '#/batch': batchScreen, '#/patient': patientScreen,
  '#/stock': stockScreen, '#/admin': adminScreen, '#/audit': auditScreen, '#/logout': logout,
  '#/impact': () => impactScreen(main(), { lang, session, regionText }),  // impact.js
};

// Routes run one after another: a screen still loading when the hash changes again finishes
// first, then the newer one renders over it (never the other way round).
let routeChain = Promise.resolve();
let firstRoute = true;
function route() {
  routeChain = routeChain.then(renderRoute, renderRoute);
  return routeChain;
}

async function renderRoute() {
  const hash = (location.hash || '#/login').split('?')[0];
  if (hash !== '#/audit') { feed?.close(); feed = null; }
  if (!session && hash !== '#/login') await loadSession();
  if (!session && hash !== '#/login') { location.hash = '#/login'; return; }
  renderNav();
  // A screen of an entity's work first asks which entity (and for staff, which physician).
  const entityWork = ['#/members', '#/register', '#/today', '#/batch', '#/patient', '#/stock'];
  const screen = session && entityWork.includes(hash) && (!session.entity || needsPhysician()) ? entityScreen : screens[hash] || loginScreen;
  await screen();
  renderNav();
  // On a new screen the focus goes to its content; on the first page load it stays at the top
  // of the page, so that the first Tab reaches the skip link.
  if (!firstRoute) main().focus();
  firstRoute = false;
}

$('#lang').addEventListener('change', async (e) => {
  await loadLanguage(e.target.value);
  localStorage.setItem('lang', lang);
  route();
});
window.addEventListener('hashchange', route);
loadLanguage(lang).then(loadSession).then(route);
