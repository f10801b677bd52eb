// vaxledger web application: plain ES module, no build step. Talks to the /v1 API with the
// session cookie (HttpOnly, SameSite=Strict) that POST /v1/sessions sets.
import { certificatesPanel } from './certificates.js';

const T = {
  nl: {
    skip: 'Naar de inhoud', login: 'Inloggen', logout: 'Uitloggen', members: 'Mijn medewerkers',
    register: 'Vaccinatie registreren', patient: 'Patiënt opzoeken', stock: 'Voorraad',
    admin: 'Aanvragen', audit: 'Audit', access: 'Toegang aanvragen', entity: 'Entiteit kiezen',
    loginTitle: 'Inloggen', demoPeople: 'Demo: kies een persoon (ontwikkel-identiteitsprovider)',
    assertion: 'Ondertekende verklaring van de identiteitsprovider (JWS)',
    noAccess: 'U hebt nog geen goedgekeurde toegang. Vraag toegang aan, of wacht tot een beheerder uw aanvraag goedkeurt.',
    chooseEntity: 'Voor welke entiteit werkt u?', choose: 'Kiezen', onBehalf: 'Namens welke arts?',
    terms: 'Gebruiksvoorwaarden', termsText: 'Ik gebruik het register enkel voor patiënten met wie ik een zorgrelatie heb, en houd mij aan het beroepsgeheim en de GDPR.',
    accept: 'Ik aanvaard de gebruiksvoorwaarden', next: 'Volgende', previous: 'Vorige', confirm: 'Bevestigen',
    riziv: 'RIZIV-nummer', name: 'Naam', email: 'E-mail', joinEntity: 'Bestaande entiteit (id) om bij aan te sluiten',
    orNew: 'of een nieuwe entiteit', kind: 'Soort', entityName: 'Naam van de entiteit', region: 'Gewest', kbo: 'KBO-nummer (optioneel)',
    review: 'Nakijken', registered: 'Uw aanvraag is geregistreerd en wacht op goedkeuring door een beheerder.',
    newRequest: 'Aanvraag nieuw', isPhysician: 'Is het een arts?', yes: 'Ja', no: 'Nee', save: 'Opslaan',
    insz: 'INSZ (rijksregisternummer)', unlink: 'Aanvraag ontkoppelen', agree: 'Akkoord', overview: 'Overzicht: deze personen ontkoppelen',
    pending: 'Aanvragen in behandeling', none: 'Geen', role: 'Rol', select: 'Selecteer',
    product: 'Vaccin', lot: 'Lotnummer', dose: 'Dosis', date: 'Datum toediening', consent: 'Toestemming om te delen',
    given: 'gegeven', refused: 'geweigerd', saved: 'Opgeslagen.', search: 'Zoeken', history: 'Vaccinatiegeschiedenis',
    correct: 'Corrigeren', retract: 'Foutief ingevoerd', reason: 'Reden', status: 'Status', lots: 'Loten',
    received: 'Ontvangen', used: 'Gebruikt', onHand: 'Voorraad', shortfall: 'Tekort', delivery: 'Levering registreren',
    expiry: 'Vervaldatum', quantity: 'Aantal', approve: 'Goedkeuren', reject: 'Weigeren', queue: 'Wachtrij',
    checkpoint: 'Huidig checkpoint', proof: 'Inclusiebewijs controleren', index: 'Positie', verify: 'Controleren',
    proofOk: 'Het bewijs klopt: de gebeurtenis zit in het logboek met deze root.', proofBad: 'Het bewijs klopt NIET.',
    feed: 'Live gebeurtenissen', patientNone: 'Geen patiënt gevonden (of u mag deze niet zien).',
    physician: 'arts', haio: 'arts in opleiding (HAIO)', staff: 'medewerker', requestSent: 'De aanvraag is geregistreerd en wacht op goedkeuring.',
    unlinkRefused: 'De ontkoppeling werd geweigerd', kindPractice: 'Artsenpraktijk', kindGroup: 'Groepspraktijk', kindOrg: 'Organisatie',
  },
  en: {
    skip: 'Skip to content', login: 'Log in', logout: 'Log out', members: 'My staff',
    register: 'Register a vaccination', patient: 'Find a patient', stock: 'Stock',
    admin: 'Requests', audit: 'Audit', access: 'Request access', entity: 'Choose entity',
    loginTitle: 'Log in', demoPeople: 'Demo: pick a person (development identity provider)',
    assertion: "The identity provider's signed assertion (JWS)",
    noAccess: 'You have no approved access yet. Request access, or wait for an administrator to approve your request.',
    chooseEntity: 'Which entity do you act for?', choose: 'Choose', onBehalf: 'On behalf of which physician?',
    terms: 'Terms of use', termsText: 'I use the registry only for patients in my care, and keep to professional secrecy and the GDPR.',
    accept: 'I accept the terms of use', next: 'Next', previous: 'Back', confirm: 'Confirm',
    riziv: 'RIZIV number', name: 'Name', email: 'E-mail', joinEntity: 'Existing entity (id) to join',
    orNew: 'or a new entity', kind: 'Kind', entityName: 'Name of the entity', region: 'Region', kbo: 'KBO number (optional)',
    review: 'Review', registered: 'Your request is registered and waits for approval by an administrator.',
    newRequest: 'New request', isPhysician: 'Is this person a physician?', yes: 'Yes', no: 'No', save: 'Save',
    insz: 'INSZ (national register number)', unlink: 'Request unlinking', agree: 'Agree', overview: 'Overview: unlink these people',
    pending: 'Pending requests', none: 'None', role: 'Role', select: 'Select',
    product: 'Vaccine', lot: 'Lot number', dose: 'Dose', date: 'Date given', consent: 'Consent to share',
    given: 'given', refused: 'refused', saved: 'Saved.', search: 'Search', history: 'Vaccination history',
    correct: 'Correct', retract: 'Entered in error', reason: 'Reason', status: 'Status', lots: 'Lots',
    received: 'Received', used: 'Used', onHand: 'On hand', shortfall: 'Shortfall', delivery: 'Record a delivery',
    expiry: 'Expiry date', quantity: 'Quantity', approve: 'Approve', reject: 'Reject', queue: 'Queue',
    checkpoint: 'Current checkpoint', proof: 'Check an inclusion proof', index: 'Position', verify: 'Verify',
    proofOk: 'The proof holds: the event is in the log with this root.', proofBad: 'The proof does NOT hold.',
    feed: 'Live events', patientNone: 'No patient found (or you may not see them).',
    physician: 'physician', haio: 'physician in training (HAIO)', staff: 'staff', requestSent: 'The request is registered and waits for approval.',
    unlinkRefused: 'The unlinking was refused', kindPractice: 'Practice', kindGroup: 'Group practice', kindOrg: 'Organisation',
  },
};

let lang = localStorage.getItem('lang') || 'nl';
const t = (k) => T[lang][k] || k;
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $('#main');
let session = null;
let vaccines = [];
let feed = null;

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { status: r.status, ok: r.ok, json, headers: r.headers };
}

function announce(text) { $('#status').textContent = text; }

// Shows a problem: next to its field when the form has one, else at the top of the form.
function showProblem(form, problem) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const detail = problem?.detail || 'Error';
  const input = problem?.field && form.querySelector(`[data-field="${CSS.escape(problem.field)}"]`);
  const message = document.createElement('span');
  message.className = 'field-error';
  message.textContent = detail;
  if (input) {
    message.id = `err-${Math.random().toString(36).slice(2)}`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', message.id);
    input.insertAdjacentElement('afterend', message);
    input.focus();
  } else {
    message.setAttribute('role', 'alert');
    form.prepend(message);
  }
  announce(detail);
}

function field(key, name, attrs = '', value = '') {
  const id = `f-${name.replace(/\W/g, '-')}`;
  return `<label for="${id}">${esc(t(key))}</label><input id="${id}" name="${esc(name)}" data-field="${esc(name)}" value="${esc(value)}" ${attrs}>`;
}

// <option>s from [value, label] pairs, `selected` chosen.
function options(selected, pairs) {
  return pairs.map(([v, label]) => `<option value="${esc(v)}" ${v === selected ? 'selected' : ''}>${esc(label)}</option>`).join('');
}

function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

async function loadSession() {
  const r = await api('GET', '/v1/session');
  session = r.ok ? r.json : null;
}

function isRole(role) { return session?.roles?.includes(role); }

function renderNav() {
  const nav = $('#nav');
  const links = [];
  if (!session) links.push(['#/login', 'login']);
  else {
    if (session.entity) links.push(['#/members', 'members'], ['#/register', 'register'], ['#/patient', 'patient'], ['#/stock', 'stock']);
    if ((session.entities || []).length > 1 || (session.entities || []).some((e) => e.role === 'staff')) links.push(['#/entity', 'entity']);
    links.push(['#/access', 'access']);
    if (isRole('administrator')) links.push(['#/admin', 'admin']);
    if (isRole('auditor')) links.push(['#/audit', 'audit']);
    links.push(['#/logout', 'logout']);
  }
  const here = location.hash || '#/login';
  nav.innerHTML = links.map(([href, key]) => `<a href="${href}" ${here === href ? 'aria-current="page"' : ''}>${esc(t(key))}</a>`).join('');
  $('#who').textContent = session ? `${session.name || ''}${session.entity ? ' · ' + session.entity : ''}` : '';
  $('#lang').textContent = lang === 'nl' ? 'EN' : 'NL';
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
  const mine = (session.entities || []).find((e) => e.id === session.entity);
  return mine?.role === 'staff' && !session.on_behalf_of;
}

async function entityScreen() {
  const entities = session.entities || [];
  if (!entities.length) {
    main().innerHTML = `<section class="card"><p class="notice">${esc(t('noAccess'))}</p><a href="#/access">${esc(t('access'))}</a></section>`;
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
    const names = Object.fromEntries((detail.json?.members || []).map((m) => [m.person, m.name]));
    $('#behalf').innerHTML = `<label for="on-behalf">${esc(t('onBehalf'))}</label><select id="on-behalf" name="on_behalf_of" data-field="on_behalf_of">${chosen.physicians.map((p) => `<option value="${esc(p)}">${esc(names[p] || p)}</option>`).join('')}</select>`;
  };
  form.addEventListener('change', behalf);
  await behalf();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { entity: form.entity.value };
    if (form.on_behalf_of) body.on_behalf_of = form.on_behalf_of.value;
    const r = await api('PUT', '/v1/session/entity', body);
    if (!r.ok) return showProblem(form, r.json);
    await loadSession();
    location.hash = '#/members';
  });
}

// Access request: terms -> RIZIV -> form -> review (Bevestigen / Vorige) -> registered.
async function accessScreen() {
  const draft = { terms_version: 'vaccinnet-terms-2024' };
  const steps = [
    () => `<h1>${esc(t('terms'))}</h1><p>${esc(t('termsText'))}</p>
      <label><input type="checkbox" name="accept" data-field="terms_version" required> ${esc(t('accept'))}</label>`,
    () => field('riziv', 'riziv', 'required inputmode="numeric" autocomplete="off"', draft.riziv),
    () => `${field('name', 'name', 'required autocomplete="name"', draft.name ?? session.name)}
      ${field('email', 'email', 'required type="email" autocomplete="email"', draft.email)}
      ${field('joinEntity', 'entity', '', draft.entity)}
      <fieldset><legend>${esc(t('orNew'))}</legend>
        <label for="f-kind">${esc(t('kind'))}</label><select id="f-kind" name="kind" data-field="new_entity.kind">${options(draft.kind, [
          ['', ''], ['practice', t('kindPractice')], ['group_practice', t('kindGroup')], ['organisation', t('kindOrg')]])}</select>
        ${field('entityName', 'entity_name', '', draft.entity_name).replace('data-field="entity_name"', 'data-field="new_entity.name"')}
        <label for="f-region">${esc(t('region'))}</label><select id="f-region" name="region" data-field="new_entity.region">${options(draft.region, [
          ['flanders', 'Vlaanderen'], ['brussels', 'Brussel'], ['wallonia', 'Wallonië'], ['german_speaking', 'Duitstalige Gemeenschap']])}</select>
        ${field('kbo', 'kbo', '', draft.kbo).replace('data-field="kbo"', 'data-field="new_entity.kbo"')}
      </fieldset>`,
    () => `<h1>${esc(t('review'))}</h1><dl>
      <dt>${esc(t('riziv'))}</dt><dd>${esc(draft.riziv)}</dd><dt>${esc(t('name'))}</dt><dd>${esc(draft.name)}</dd>
      <dt>${esc(t('email'))}</dt><dd>${esc(draft.email)}</dd>
      <dt>${esc(t('entity'))}</dt><dd>${esc(draft.entity || `${draft.entity_name} (${draft.kind}, ${draft.region})`)}</dd></dl>`,
  ];
  let step = 0;
  const show = () => {
    const last = step === steps.length - 1;
    main().innerHTML = `<section class="card"><p class="muted">${step + 1} / ${steps.length}</p><form id="access-form" novalidate>${steps[step]()}
      ${step > 0 ? `<button type="button" class="secondary" id="back">${esc(t('previous'))}</button>` : ''}
      <button type="submit">${esc(last ? t('confirm') : t('next'))}</button></form></section>`;
    const form = $('#access-form');
    $('#back')?.addEventListener('click', () => { step -= 1; show(); });
    form.querySelector('input,select')?.focus();
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      Object.assign(draft, formData(form));
      if (step === 0 && !form.accept.checked) return showProblem(form, { field: 'terms_version', detail: t('accept') });
      if (!last) { step += 1; return show(); }
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
      main().innerHTML = `<section class="card"><p class="notice" role="status" id="access-done">${esc(t('registered'))}</p></section>`;
      announce(t('registered'));
    });
  };
  show();
}

async function membersScreen() {
  const r = await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}`);
  if (!r.ok) { main().innerHTML = `<p class="alert">${esc(r.json?.detail)}</p>`; return; }
  const e = r.json;
  const etag = r.headers.get('ETag');
  main().innerHTML = `<section class="card"><h1>${esc(t('members'))} — ${esc(e.name)}</h1>
    <form id="unlink-form"><table><thead><tr><th>${esc(t('select'))}</th><th>${esc(t('name'))}</th><th>${esc(t('role'))}</th><th>RIZIV</th></tr></thead><tbody>
    ${e.members.map((m) => `<tr><td><input type="checkbox" name="members" value="${esc(m.person)}" aria-label="${esc(t('select'))} ${esc(m.name)}" data-field="members"></td><td>${esc(m.name)}</td><td>${esc(t(m.role))}</td><td>${esc(m.riziv)}</td></tr>`).join('')}
    </tbody></table><button type="submit" class="secondary">${esc(t('unlink'))}</button></form>
    <div id="unlink-overview"></div></section>
    <section class="card"><h2>${esc(t('pending'))}</h2>${e.pending.length ? `<ul>${e.pending.map((p) => `<li>${esc(p.kind)}: ${esc(p.name || (p.members || []).join(', '))} <span class="muted">(${esc(p.id)})</span></li>`).join('')}</ul>` : `<p>${esc(t('none'))}</p>`}</section>
    <section class="card"><h2>${esc(t('newRequest'))}</h2><form id="link-form">
      ${field('insz', 'insz', 'required inputmode="numeric" autocomplete="off"')}
      ${field('name', 'name', 'required')}${field('email', 'email', 'required type="email"')}
      <fieldset data-field="is_physician"><legend>${esc(t('isPhysician'))}</legend>
        <label><input type="radio" name="is_physician" value="yes"> ${esc(t('yes'))}</label>
        <label><input type="radio" name="is_physician" value="no" checked> ${esc(t('no'))}</label></fieldset>
      <div id="link-riziv" hidden>${field('riziv', 'riziv', 'inputmode="numeric"')}</div>
      <button type="submit">${esc(t('save'))}</button></form></section>`;
  const link = $('#link-form');
  link.addEventListener('change', () => { $('#link-riziv').hidden = link.is_physician.value !== 'yes'; });
  link.addEventListener('submit', async (ev) => {
    ev.preventDefault();
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
  unlink.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chosen = [...unlink.querySelectorAll('input[name="members"]:checked')].map((c) => c.value);
    if (!chosen.length) return;
    const names = e.members.filter((m) => chosen.includes(m.person)).map((m) => m.name);
    $('#unlink-overview').innerHTML = `<h2>${esc(t('overview'))}</h2><ul>${names.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
      <form id="agree-form"><button type="submit">${esc(t('agree'))}</button></form>`;
    const agree = $('#agree-form');
    agree.querySelector('button').focus();
    agree.addEventListener('submit', async (ev2) => {
      ev2.preventDefault();
      const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/unlink-requests`, { members: chosen }, etag ? { 'If-Match': etag } : {});
      if (!res.ok) {
        $('#unlink-overview').innerHTML = `<div class="alert" role="alert" id="unlink-refused"><strong>${esc(t('unlinkRefused'))}:</strong> ${esc(res.json?.detail)}</div>`;
        return;
      }
      announce(t('requestSent'));
      $('#unlink-overview').innerHTML = `<p class="notice" id="unlink-done">${esc(t('requestSent'))}</p>`;
    });
  });
}

async function ensureVaccines() {
  if (!vaccines.length) vaccines = (await api('GET', '/v1/vaccines')).json?.vaccines || [];
}

function productOptions(selected) {
  return vaccines.map((v) => `<option value="${esc(v.code)}" ${v.code === selected ? 'selected' : ''}>${esc(v.name)} (${esc(v.disease_name)})</option>`).join('');
}

async function registerScreen() {
  await ensureVaccines();
  const today = new Date().toISOString().slice(0, 10);
  main().innerHTML = `<section class="card"><h1>${esc(t('register'))}</h1><form id="register-form" novalidate>
    ${field('insz', 'insz', 'inputmode="numeric" autocomplete="off"').replace('data-field="insz"', 'data-field="patient.insz"')}
    <label for="f-product">${esc(t('product'))}</label><select id="f-product" name="product" data-field="product">${productOptions()}</select>
    ${field('lot', 'lot')}${field('dose', 'dose', 'type="number" min="1" max="10"', '1')}
    ${field('date', 'date', `type="date" max="${today}"`, today)}
    <fieldset data-field="consent.decision"><legend>${esc(t('consent'))}</legend>
      <label><input type="radio" name="consent" value="given" checked> ${esc(t('given'))}</label>
      <label><input type="radio" name="consent" value="refused"> ${esc(t('refused'))}</label></fieldset>
    <button type="submit">${esc(t('save'))}</button></form><div id="register-result"></div></section>`;
  const form = $('#register-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = formData(form);
    const body = { patient: { insz: d.insz }, product: d.product, lot: d.lot, dose: Number(d.dose), date: d.date, consent: { decision: d.consent, date: d.date } };
    const r = await api('POST', '/v1/vaccinations', body, { 'Idempotency-Key': crypto.randomUUID() });
    if (!r.ok) return showProblem(form, r.json);
    form.querySelectorAll('.field-error').forEach((x) => x.remove());
    $('#register-result').innerHTML = `<p class="notice" id="register-done">${esc(t('saved'))} <a href="#/patient?insz=${esc(d.insz)}">${esc(t('history'))}</a></p>`;
    announce(t('saved'));
  });
}

async function patientScreen() {
  await ensureVaccines();
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  main().innerHTML = `<section class="card"><h1>${esc(t('patient'))}</h1><form id="search-form">
    ${field('insz', 'insz', 'inputmode="numeric" autocomplete="off"', params.get('insz') || '')}
    <button type="submit">${esc(t('search'))}</button></form><div id="history"></div></section>`;
  const form = $('#search-form');
  const names = Object.fromEntries(vaccines.map((v) => [v.code, v.name]));
  const search = async () => {
    const r = await api('POST', '/v1/patients/search', { insz: form.insz.value.trim() });
    if (r.status === 404) { $('#history').innerHTML = `<p>${esc(t('patientNone'))}</p>`; return; }
    if (!r.ok) return showProblem(form, r.json);
    const p = r.json;
    const etag = `"${p.version}"`;
    $('#history').innerHTML = `<h2>${esc(t('history'))}</h2><table id="history-table"><thead><tr><th>${esc(t('date'))}</th><th>${esc(t('product'))}</th><th>${esc(t('lot'))}</th><th>${esc(t('dose'))}</th><th>${esc(t('status'))}</th><th></th></tr></thead><tbody>
      ${p.vaccinations.map((v) => `<tr><td>${esc(v.date)}</td><td>${esc(names[v.product] || v.product)}</td><td>${esc(v.lot)}</td><td>${esc(v.dose)}</td><td>${esc(v.status)}${v.reason ? ` — ${esc(v.reason)}` : ''}</td>
        <td>${v.status === 'active' && v.entity === session.entity ? `<form class="fix" novalidate data-id="${esc(v.id)}">${field('reason', `reason-${v.id}`, 'required').replace(`data-field="reason-${esc(v.id)}"`, 'data-field="reason"')}
          ${field('lot', `lot-${v.id}`, '', v.lot).replace(`data-field="lot-${esc(v.id)}"`, 'data-field="lot"')}
          <button type="submit" name="action" value="correct" class="secondary">${esc(t('correct'))}</button><button type="submit" name="action" value="retract" class="secondary">${esc(t('retract'))}</button></form>` : ''}</td></tr>`).join('')}
      </tbody></table>`;
    certificatesPanel($('#history'), p, lang);  // proofs of vaccination (certificates.js)
    document.querySelectorAll('form.fix').forEach((f) => f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const id = f.dataset.id;
      const reason = f.querySelector('[data-field="reason"]').value;
      const base = `/v1/patients/${encodeURIComponent(p.id)}/vaccinations/${encodeURIComponent(id)}`;
      const res = e.submitter?.value === 'retract'
        ? await api('POST', `${base}/retraction`, { reason }, { 'If-Match': etag })
        : await api('POST', `${base}/corrections`, { lot: f.querySelector('[data-field="lot"]').value, reason }, { 'If-Match': etag });
      if (!res.ok) return showProblem(f, res.json);
      await search();
    }));
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
  if (params.get('insz')) await search();
}

async function stockScreen() {
  await ensureVaccines();
  const r = await api('GET', `/v1/entities/${encodeURIComponent(session.entity)}/stock`);
  const s = r.json || { lots: [] };
  const names = Object.fromEntries(vaccines.map((v) => [v.code, v.name]));
  main().innerHTML = `<section class="card"><h1>${esc(t('stock'))}</h1><table><thead><tr><th>${esc(t('product'))}</th><th>${esc(t('lot'))}</th><th>${esc(t('expiry'))}</th><th>${esc(t('received'))}</th><th>${esc(t('used'))}</th><th>${esc(t('onHand'))}</th><th>${esc(t('shortfall'))}</th></tr></thead><tbody>
    ${s.lots.map((l) => `<tr><td>${esc(names[l.product] || l.product)}</td><td>${esc(l.lot)}</td><td>${esc(l.expiry)}</td><td>${esc(l.received)}</td><td>${esc(l.used)}</td><td>${esc(l.on_hand)}</td><td class="${l.shortfall ? 'shortfall' : ''}">${esc(l.shortfall)}</td></tr>`).join('')}
    </tbody></table></section>
    <section class="card"><h2>${esc(t('delivery'))}</h2><form id="delivery-form">
      <label for="d-product">${esc(t('product'))}</label><select id="d-product" name="product" data-field="product">${productOptions()}</select>
      ${field('lot', 'lot', 'required')}${field('expiry', 'expiry', 'type="date" required')}${field('quantity', 'quantity', 'type="number" min="1" required')}
      <button type="submit">${esc(t('save'))}</button></form></section>`;
  const form = $('#delivery-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = formData(form);
    const res = await api('POST', `/v1/entities/${encodeURIComponent(session.entity)}/stock/deliveries`, { product: d.product, lot: d.lot, expiry: d.expiry, quantity: Number(d.quantity) });
    if (!res.ok) return showProblem(form, res.json);
    await stockScreen();
  });
}

async function adminScreen() {
  const r = await api('GET', '/v1/requests');
  const list = r.json?.requests || [];
  main().innerHTML = `<section class="card"><h1>${esc(t('queue'))}</h1>${list.length ? '' : `<p>${esc(t('none'))}</p>`}
    ${list.map((q) => `<form class="decide card" novalidate data-id="${esc(q.id)}"><h2>${esc(q.kind)}: ${esc(q.name || (q.members || []).join(', '))}</h2>
      <p class="muted">${esc(q.id)} · ${esc(q.entity || (q.new_entity ? q.new_entity.name : ''))} ${q.riziv ? '· RIZIV ' + esc(q.riziv) : ''} ${q.role ? '· ' + esc(t(q.role)) : ''}</p>
      ${field('reason', `reason-${q.id}`).replace(`data-field="reason-${esc(q.id)}"`, 'data-field="reason"')}
      <button type="submit" name="action" value="approve">${esc(t('approve'))}</button><button type="submit" name="action" value="reject" class="secondary">${esc(t('reject'))}</button></form>`).join('')}</section>`;
  document.querySelectorAll('form.decide').forEach((f) => f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = f.querySelector('[data-field="reason"]').value;
    const action = e.submitter?.value === 'reject' ? 'reject' : 'approve';
    const res = await api('POST', `/v1/requests/${encodeURIComponent(f.dataset.id)}/${action}`, reason ? { reason } : {});
    if (!res.ok) return showProblem(f, res.json);
    await adminScreen();
  }));
}

// RFC 9162 inclusion proof verification with WebCrypto SHA-256.
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0; for (const p of parts) { all.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}
async function verifyInclusion(index, size, leafHash, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
    } else {
      r = await sha256(new Uint8Array([1]), r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && r.length === root.length && r.every((x, i) => x === root[i]);
}

async function auditScreen() {
  const cp = await (await fetch('/v1/ledger/checkpoint')).text();
  const lines = cp.split('\n');
  const size = Number(lines[1]);
  main().innerHTML = `<section class="card"><h1>${esc(t('checkpoint'))}</h1><pre id="checkpoint">${esc(cp)}</pre></section>
    <section class="card"><h2>${esc(t('proof'))}</h2><form id="proof-form">${field('index', 'index', `type="number" min="0" max="${size - 1}"`, '0')}
      <button type="submit">${esc(t('verify'))}</button></form><p id="proof-result" role="status"></p></section>
    <section class="card"><h2>${esc(t('feed'))}</h2><ol id="feed" aria-live="polite" reversed></ol></section>`;
  const form = $('#proof-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('GET', `/v1/ledger/proof/inclusion?index=${Number(form.index.value)}&size=${size}`);
    if (!r.ok) return showProblem(form, r.json);
    const ok = await verifyInclusion(r.json.index, size, b64(r.json.leaf_hash), r.json.proof.map(b64), b64(lines[2]));
    $('#proof-result').textContent = ok ? t('proofOk') : t('proofBad');
    $('#proof-result').className = ok ? 'notice' : 'alert';
  });
  feed?.close();
  feed = new EventSource(`/v1/events?from=${Math.max(0, size - 20)}`);
  feed.onmessage = null;
  const add = (ev) => {
    const d = JSON.parse(ev.data);
    const li = document.createElement('li');
    li.textContent = `#${d.position} ${d.type} ${d.entity || ''}`;
    $('#feed')?.prepend(li);
  };
  ['access.requested', 'access.approved', 'access.rejected', 'entity.created', 'link.requested', 'link.approved', 'link.rejected',
    'unlink.requested', 'unlink.approved', 'unlink.rejected', 'member.linked', 'member.unlinked', 'vaccination.registered',
    'vaccination.corrected', 'vaccination.entered_in_error', 'consent.recorded', 'stock.received', 'stock.adjusted',
    'role.granted', 'role.revoked', 'patient.read', 'qualification.changed', 'registry.initialised'].forEach((type) => feed.addEventListener(type, add));
}

async function logout() {
  await api('DELETE', '/v1/session');
  session = null;
  location.hash = '#/login';
}

const screens = {
  '#/login': loginScreen, '#/entity': entityScreen, '#/access': accessScreen, '#/members': membersScreen,
  '#/register': registerScreen, '#/patient': patientScreen, '#/stock': stockScreen, '#/admin': adminScreen,
  '#/audit': auditScreen, '#/logout': logout,
};

// Routes run one after another: a screen still loading when the hash changes again finishes
// first, then the newer one renders over it (never the other way round).
let routeChain = Promise.resolve();
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
  const screen = screens[hash] || loginScreen;
  await screen();
  renderNav();
  main().focus();
}

$('#lang').addEventListener('click', () => { lang = lang === 'nl' ? 'en' : 'nl'; localStorage.setItem('lang', lang); route(); });
window.addEventListener('hashchange', route);
loadSession().then(route);
