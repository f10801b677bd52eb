// The proof-of-vaccination panel on a patient's history (issue 10, SPEC §2 flow 7):
// "Vaccinatiebewijs aanmaken" with the names prefilled where the registry knows them, then the
// QR code, the UVCI and links to the printable page (A4 and phone); the certificates issued so
// far, each with "Intrekken". Its own words in Dutch, French and English.

const W = {
  nl: {
    title: 'Vaccinatiebewijs', create: 'Vaccinatiebewijs aanmaken', family: 'Familienaam',
    given: 'Voornaam', dose: 'Dosis', latest: 'laatste COVID-19-dosis', make: 'Aanmaken',
    issued: 'Uitgegeven bewijzen', uvci: 'UVCI', expires: 'Geldig tot', status: 'Status',
    print: 'Afdrukken', revoke: 'Intrekken', reason: 'Reden van intrekking', valid: 'geldig',
    revoked: 'ingetrokken', none: 'Nog geen bewijzen.', done: 'Het vaccinatiebewijs is aangemaakt.',
    qr: 'QR-code van het vaccinatiebewijs',
  },
  fr: {
    title: 'Certificat de vaccination', create: 'Créer un certificat de vaccination', family: 'Nom',
    given: 'Prénom', dose: 'Dose', latest: 'dernière dose COVID-19', make: 'Créer',
    issued: 'Certificats délivrés', uvci: 'UVCI', expires: "Valable jusqu'au", status: 'Statut',
    print: 'Imprimer', revoke: 'Révoquer', reason: 'Motif de la révocation', valid: 'valable',
    revoked: 'révoqué', none: 'Aucun certificat.', done: 'Le certificat de vaccination est créé.',
    qr: 'Code QR du certificat de vaccination',
  },
  en: {
    title: 'Proof of vaccination', create: 'Create a proof of vaccination', family: 'Family name',
    given: 'Given name', dose: 'Dose', latest: 'latest COVID-19 dose', make: 'Create',
    issued: 'Certificates issued', uvci: 'UVCI', expires: 'Valid until', status: 'Status',
    print: 'Print', revoke: 'Revoke', reason: 'Reason for revoking', valid: 'valid',
    revoked: 'revoked', none: 'No certificates yet.', done: 'The proof of vaccination is created.',
    qr: 'QR code of the proof of vaccination',
  },
};

const COVID = ['EU/1/20/1528', 'EU/1/20/1507', 'EU/1/21/1529', 'EU/1/20/1525'];
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

async function call(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { ok: r.ok, status: r.status, json };
}

// The registered name "Given Family" as prefill, when the registry has one.
function splitName(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (parts.length < 2) return { family: parts[0] || '', given: '' };
  return { family: parts[parts.length - 1], given: parts.slice(0, -1).join(' ') };
}

// Adds the panel to `container` for `patient` (the record GET /v1/patients/{id} answers).
export async function certificatesPanel(container, patient, lang) {
  const w = W[lang] || W.nl;
  const printLang = W[lang] ? lang : 'nl';
  const base = `/v1/patients/${encodeURIComponent(patient.id)}/certificates`;
  const section = document.createElement('section');
  section.id = 'certificates';
  section.setAttribute('aria-labelledby', 'certificates-title');
  container.appendChild(section);
  const doses = (patient.vaccinations || []).filter((v) => v.status === 'active' && COVID.includes(v.product));
  const name = splitName(patient.name);

  const render = async (created) => {
    const list = await call('GET', base);
    const items = list.ok ? list.json.certificates : [];
    section.innerHTML = `<h2 id="certificates-title">${esc(w.title)}</h2>
      ${doses.length ? `<details id="certificate-create" ${created ? '' : 'open'}><summary>${esc(w.create)}</summary>
      <form id="certificate-form" novalidate>
        <label>${esc(w.family)} <input name="family_name" data-field="family_name" required autocomplete="off" value="${esc(name.family)}"></label>
        <label>${esc(w.given)} <input name="given_name" data-field="given_name" autocomplete="off" value="${esc(name.given)}"></label>
        <label>${esc(w.dose)} <select name="vaccination"><option value="">${esc(w.latest)}</option>
          ${doses.map((v) => `<option value="${esc(v.id)}">${esc(v.date)} — ${esc(v.product_name || v.product)} (${esc(v.dose)})</option>`).join('')}</select></label>
        <button type="submit">${esc(w.make)}</button>
        <p class="error" role="alert" id="certificate-error"></p>
      </form></details>` : ''}
      ${created ? `<div class="certificate-issued" id="certificate-issued"><p class="notice">${esc(w.done)}</p>
        <img src="${esc(created.links.qr_svg)}" alt="${esc(w.qr)}" width="240" height="240">
        <p><strong>${esc(w.uvci)}:</strong> <code id="certificate-uvci">${esc(created.uvci)}</code> — ${esc(w.expires)} ${esc(created.expires_at.slice(0, 10))}</p>
        <p>${['nl', 'fr', 'en'].map((l) => `<a href="${esc(created.links.print)}?lang=${l}" target="_blank" rel="noopener">${esc(w.print)} (${l.toUpperCase()})</a>`).join(' · ')}</p></div>` : ''}
      <h3>${esc(w.issued)}</h3>
      ${items.length ? `<table id="certificates-table"><thead><tr><th>${esc(w.uvci)}</th><th>${esc(w.dose)}</th><th>${esc(w.expires)}</th><th>${esc(w.status)}</th><th></th></tr></thead><tbody>
        ${items.map((c) => `<tr><td><code>${esc(c.uvci)}</code></td><td>${esc(c.dn)}/${esc(c.sd)}</td><td>${esc(c.expires_at.slice(0, 10))}</td>
          <td>${esc(c.status === 'revoked' ? w.revoked : w.valid)}${c.revoked_reason ? ` — ${esc(c.revoked_reason)}` : ''}</td>
          <td><a href="${esc(c.links.print)}?lang=${printLang}" target="_blank" rel="noopener">${esc(w.print)}</a>
          ${c.status === 'valid' ? `<form class="revoke" data-path="${esc(c.links.self)}" novalidate><label>${esc(w.reason)} <input name="reason" required></label>
            <button type="submit" class="secondary">${esc(w.revoke)}</button></form>` : ''}</td></tr>`).join('')}</tbody></table>`
      : `<p>${esc(w.none)}</p>`}`;
    const form = section.querySelector('#certificate-form');
    form?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { family_name: form.family_name.value.trim(), given_name: form.given_name.value.trim() };
      if (form.vaccination.value) body.vaccination = form.vaccination.value;
      const r = await call('POST', base, body);
      if (!r.ok) {
        section.querySelector('#certificate-error').textContent = r.json?.detail || `HTTP ${r.status}`;
        const input = r.json?.field && form.querySelector(`[data-field="${r.json.field}"]`);
        if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
        return;
      }
      await render(r.json);
    });
    section.querySelectorAll('form.revoke').forEach((f) => f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const r = await call('POST', `${f.dataset.path}/revocation`, { reason: f.reason.value.trim() });
      if (!r.ok) { f.reason.setAttribute('aria-invalid', 'true'); f.reason.title = r.json?.detail || ''; return; }
      await render(null);
    }));
  };
  await render(null);
}
