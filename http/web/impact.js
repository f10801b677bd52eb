// The Impact page (issue 11, SPEC §2 flow 8; docs/impact.md): doses per day (or week) as a bar
// chart stacked by product, coverage bars by age band and region, both drawn here as inline SVG
// (no library, no CDN; presentation attributes only, as the Content-Security-Policy allows), each
// with its numbers as a table under it and a CSV download. "As of" a past date replays the log
// (?as_of=). Counts below 5 arrive as "<5" (everyone but administrators): the charts draw them
// as 0 and the tables show "<5". Its own words in Dutch, French and English.

const W = {
  nl: {
    title: 'Impact van de vaccinaties', from: 'Van', to: 'Tot en met', by: 'Per', day: 'dag', week: 'week',
    asOf: 'Zoals op (leeg: nu)', date: 'Dekking op', show: 'Tonen', doses: 'Toegediende dosissen',
    coverage: 'Vaccinatiegraad COVID-19', csv: 'CSV downloaden', product: 'Vaccin', region: 'Regio',
    kind: 'Soort dosis', count: 'Dosissen', first: 'eerste', completed: 'basisschema voltooid',
    booster: 'booster', other: 'ander vaccin', age: 'Leeftijd', population: 'Bevolking',
    atLeastOne: 'Minstens één dosis', completedSeries: 'Basisschema voltooid', boosted: 'Booster',
    none: 'Geen dosissen in deze periode.', masked: 'Aantallen onder 5 worden getoond als "<5".',
    own: 'Alleen de dosissen van uw entiteit.', unknown: 'onbekend', all: 'alle', chartDoses: 'Dosissen per {by}, gestapeld per vaccin',
    chartCoverage: 'Aandeel van de bevolking per leeftijdsgroep en regio', noPopulation: 'Geen bevolking geladen: aantallen in plaats van aandelen.',
    share: 'Aandeel', total: 'totaal',
  },
  fr: {
    title: 'Impact des vaccinations', from: 'Du', to: 'Au', by: 'Par', day: 'jour', week: 'semaine',
    asOf: 'Tel que le (vide : maintenant)', date: 'Couverture au', show: 'Afficher', doses: 'Doses administrées',
    coverage: 'Couverture vaccinale COVID-19', csv: 'Télécharger en CSV', product: 'Vaccin', region: 'Région',
    kind: 'Type de dose', count: 'Doses', first: 'première', completed: 'schéma de base complet',
    booster: 'rappel', other: 'autre vaccin', age: 'Âge', population: 'Population',
    atLeastOne: 'Au moins une dose', completedSeries: 'Schéma de base complet', boosted: 'Rappel',
    none: 'Aucune dose pendant cette période.', masked: 'Les nombres inférieurs à 5 sont affichés « <5 ».',
    own: 'Uniquement les doses de votre entité.', unknown: 'inconnu', all: 'toutes', chartDoses: 'Doses par {by}, empilées par vaccin',
    chartCoverage: "Part de la population par tranche d'âge et région", noPopulation: 'Aucune population chargée : des nombres au lieu de parts.',
    share: 'Part', total: 'total',
  },
  en: {
    title: 'Impact of the vaccinations', from: 'From', to: 'To', by: 'By', day: 'day', week: 'week',
    asOf: 'As of (empty: now)', date: 'Coverage on', show: 'Show', doses: 'Doses given',
    coverage: 'COVID-19 vaccination coverage', csv: 'Download CSV', product: 'Vaccine', region: 'Region',
    kind: 'Dose kind', count: 'Doses', first: 'first', completed: 'primary series completed',
    booster: 'booster', other: 'other vaccine', age: 'Age', population: 'Population',
    atLeastOne: 'At least one dose', completedSeries: 'Primary series completed', boosted: 'Booster',
    none: 'No doses in this period.', masked: 'Counts below 5 are shown as "<5".',
    own: "Only your entity's doses.", unknown: 'unknown', all: 'all', chartDoses: 'Doses per {by}, stacked by vaccine',
    chartCoverage: 'Share of the population by age band and region', noPopulation: 'No population loaded: counts instead of shares.',
    share: 'Share', total: 'total',
  },
};

const COLOURS = ['#0b6e4f', '#2f6fb3', '#c2571a', '#7a4fa3', '#a3861f', '#1f8a99', '#b3366b', '#5b7a2e', '#6b6b6b'];
const MILESTONE_COLOURS = ['#8fc9b3', '#2f6fb3', '#0b6e4f'];
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const num = (v) => (typeof v === 'number' ? v : 0);  // "<5" draws as 0
const isoDay = (d) => d.toISOString().slice(0, 10);

async function get(path, csv) {
  const r = await fetch(path, { credentials: 'same-origin', headers: csv ? { Accept: 'text/csv' } : {} });
  if (csv) return { ok: r.ok, text: await r.text() };
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { ok: r.ok, status: r.status, json };
}

function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A stacked bar chart: one bar per date, one segment per product.
function dosesChart(series, w, by) {
  const dates = [...new Set(series.map((r) => r.date))].sort();
  const products = [...new Set(series.map((r) => r.product_name))].sort();
  const sums = new Map();
  for (const r of series) {
    const key = `${r.date}|${r.product_name}`;
    sums.set(key, (sums.get(key) || 0) + num(r.doses));
  }
  const totals = dates.map((d) => products.reduce((s, p) => s + (sums.get(`${d}|${p}`) || 0), 0));
  const max = Math.max(1, ...totals);
  const width = 720, height = 260, left = 40, bottom = 40, top = 10;
  const bw = Math.max(2, (width - left - 10) / Math.max(1, dates.length) - 2);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const title = w.chartDoses.replace('{by}', by === 'week' ? w.week : w.day);
  let bars = '';
  dates.forEach((d, i) => {
    let acc = 0;
    products.forEach((p, j) => {
      const v = sums.get(`${d}|${p}`) || 0;
      if (!v) return;
      const x = left + i * (bw + 2);
      bars += `<rect x="${x.toFixed(1)}" y="${y(acc + v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(acc) - y(acc + v)).toFixed(1)}" fill="${COLOURS[j % COLOURS.length]}"><title>${esc(`${d} · ${p}: ${v}`)}</title></rect>`;
      acc += v;
    });
  });
  const labelEvery = Math.max(1, Math.ceil(dates.length / 8));
  const labels = dates.map((d, i) => (i % labelEvery ? '' : `<text x="${(left + i * (bw + 2)).toFixed(1)}" y="${height - bottom + 14}" font-size="10" fill="#1b2733">${esc(d.slice(5))}</text>`)).join('');
  const legend = products.map((p, j) => `<rect x="${left + j * 130}" y="${height - 16}" width="10" height="10" fill="${COLOURS[j % COLOURS.length]}"/><text x="${left + j * 130 + 14}" y="${height - 7}" font-size="11" fill="#1b2733">${esc(p)}</text>`).join('');
  return `<svg id="impact-doses-chart" role="img" aria-labelledby="impact-doses-title" viewBox="0 0 ${width} ${height}" width="100%">
    <title id="impact-doses-title">${esc(title)}</title>
    <line x1="${left}" y1="${y(0)}" x2="${width - 10}" y2="${y(0)}" stroke="#8c959f"/>
    <text x="2" y="${top + 10}" font-size="10" fill="#1b2733">${max}</text><text x="2" y="${y(0)}" font-size="10" fill="#1b2733">0</text>
    ${bars}${labels}${legend}</svg>`;
}

// Grouped bars: per (region, age band) three bars (at least one dose, completed, booster), as
// shares of the population (or counts without one).
function coverageChart(rows, w, shares) {
  const groups = rows.filter((r) => !r.age_unknown);
  const keys = ['at_least_one_dose', 'completed', 'booster'];
  const value = (r, k) => (shares ? (r[`share_${k}`] ?? 0) : num(r[k]));
  // The highest bar fills the chart (shares of a few demo doses are tiny).
  const max = Math.max(shares ? 1e-9 : 1, ...groups.flatMap((r) => keys.map((k) => value(r, k))));
  const width = 720, height = 280, left = 50, bottom = 60, top = 10;
  const gw = (width - left - 10) / Math.max(1, groups.length);
  const bw = Math.max(2, gw / 4);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const fmt = (v) => (shares ? percent(v) : String(v));
  let bars = '';
  groups.forEach((r, i) => {
    const label = `${r.region ? regionName(r.region, w) : w.total} ${ageText(r, w)}`;
    keys.forEach((k, j) => {
      const v = value(r, k);
      const x = left + i * gw + j * bw;
      bars += `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${MILESTONE_COLOURS[j]}"><title>${esc(`${label} · ${[w.atLeastOne, w.completedSeries, w.boosted][j]}: ${shares ? fmt(v) : r[k]}`)}</title></rect>`;
    });
    bars += `<text x="${(left + i * gw).toFixed(1)}" y="${height - bottom + 14}" font-size="10" fill="#1b2733">${esc(ageText(r, w))}</text>`;
    if (r.region) bars += `<text x="${(left + i * gw).toFixed(1)}" y="${height - bottom + 26}" font-size="9" fill="#5a6b7b">${esc(regionName(r.region, w))}</text>`;
  });
  const names = [w.atLeastOne, w.completedSeries, w.boosted];
  const legend = names.map((n, j) => `<rect x="${left + j * 200}" y="${height - 16}" width="10" height="10" fill="${MILESTONE_COLOURS[j]}"/><text x="${left + j * 200 + 14}" y="${height - 7}" font-size="11" fill="#1b2733">${esc(n)}</text>`).join('');
  return `<svg id="impact-coverage-chart" role="img" aria-labelledby="impact-coverage-title" viewBox="0 0 ${width} ${height}" width="100%">
    <title id="impact-coverage-title">${esc(w.chartCoverage)}</title>
    <line x1="${left}" y1="${y(0)}" x2="${width - 10}" y2="${y(0)}" stroke="#8c959f"/>
    <text x="2" y="${top + 10}" font-size="10" fill="#1b2733">${max > 1e-9 ? esc(fmt(max)) : ''}</text>
    ${bars}${legend}</svg>`;
}

// 12.3%, or two significant digits below 0.1% (0.00017%).
const percent = (v) => (v === 0 ? '0%' : 100 * v >= 0.1 ? `${(100 * v).toFixed(1)}%` : `${(100 * v).toPrecision(2)}%`);
let regionLabel = (r) => r;
function regionName(r, w) { return r === 'unknown' ? w.unknown : regionLabel(r); }
function ageText(r, w) {
  if (r.age_unknown) return `${w.age}: ${w.unknown}`;
  if (r.age_from === undefined) return w.all;
  return r.age_to === null || r.age_to === undefined ? `${r.age_from}+` : `${r.age_from}–${r.age_to}`;
}

function tableOf(id, caption, headers, rows) {
  return `<div class="table-wrap"><table id="${id}"><caption>${esc(caption)}</caption><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>
    ${rows.map((cells) => `<tr>${cells.map((c, i) => `<td data-label="${esc(headers[i])}">${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

// Renders the page into `main`. ctx: { lang, session, regionText(region) -> name }.
export async function impactScreen(main, ctx) {
  const w = W[ctx.lang] || W.nl;
  regionLabel = ctx.regionText || ((r) => r);
  const roles = ctx.session?.roles || [];
  const everything = roles.includes('administrator') || roles.includes('auditor');
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const now = new Date();
  const to = params.get('to') || isoDay(now);
  const from = params.get('from') || isoDay(new Date(now.getTime() - 89 * 86400000));
  const by = params.get('by') === 'week' ? 'week' : 'day';
  const asOf = params.get('as_of') || '';
  const date = params.get('date') || asOf || isoDay(now);
  main.innerHTML = `<section class="card"><h1>${esc(w.title)}</h1>
    <form id="impact-form" class="fix">
      <label for="impact-from">${esc(w.from)}</label><input id="impact-from" type="date" name="from" value="${esc(from)}">
      <label for="impact-to">${esc(w.to)}</label><input id="impact-to" type="date" name="to" value="${esc(to)}">
      <label for="impact-by">${esc(w.by)}</label><select id="impact-by" name="by"><option value="day" ${by === 'day' ? 'selected' : ''}>${esc(w.day)}</option><option value="week" ${by === 'week' ? 'selected' : ''}>${esc(w.week)}</option></select>
      ${everything ? `<label for="impact-date">${esc(w.date)}</label><input id="impact-date" type="date" name="date" value="${esc(date)}">` : ''}
      <label for="impact-as-of">${esc(w.asOf)}</label><input id="impact-as-of" type="date" name="as_of" value="${esc(asOf)}">
      <button type="submit">${esc(w.show)}</button>
    </form></section>
    <section class="card" id="impact-doses" aria-labelledby="impact-doses-h"><h2 id="impact-doses-h">${esc(w.doses)}</h2><div class="body"></div></section>
    ${everything ? `<section class="card" id="impact-coverage" aria-labelledby="impact-coverage-h"><h2 id="impact-coverage-h">${esc(w.coverage)}</h2><div class="body"></div></section>` : ''}`;
  main.querySelector('#impact-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target).entries());
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    location.hash = `#/impact?${q}`;
  });
  // As of a date: every event recorded up to the end of that day (UTC).
  const asOfParam = asOf ? `&as_of=${encodeURIComponent(`${asOf}T23:59:59Z`)}` : '';
  const dosesPath = `/v1/impact/doses?from=${from}&to=${to}&by=${by}${asOfParam}`;
  const coveragePath = `/v1/impact/coverage?date=${date}&by=age,region${asOfParam}`;

  const dosesBox = main.querySelector('#impact-doses .body');
  const doses = await get(dosesPath);
  if (!doses.ok) {
    dosesBox.innerHTML = `<p class="error" role="alert">${esc(doses.json?.detail || doses.status)}</p>`;
  } else {
    const s = doses.json.series;
    const kindName = { first: w.first, completed: w.completed, booster: w.booster, other: w.other };
    dosesBox.innerHTML = `${doses.json.entity ? `<p class="muted">${esc(w.own)}</p>` : ''}
      ${doses.json.masked ? `<p class="muted">${esc(w.masked)}</p>` : ''}
      ${s.length ? dosesChart(s, w, by) : `<p>${esc(w.none)}</p>`}
      ${tableOf('impact-doses-table', w.doses, [by === 'week' ? w.week : w.day, w.product, w.region, w.kind, w.count],
    s.map((r) => [r.week || r.date, r.product_name, regionName(r.region, w), kindName[r.kind] || r.kind, String(r.doses)]))}
      <button type="button" class="secondary" id="impact-doses-csv">${esc(w.csv)}</button>`;
    dosesBox.querySelector('#impact-doses-csv').addEventListener('click', async () => {
      const r = await get(dosesPath, true);
      if (r.ok) download(r.text, `doses-${from}-${to}.csv`);
    });
  }
  if (!everything) return;
  const coverageBox = main.querySelector('#impact-coverage .body');
  const coverage = await get(coveragePath);
  if (!coverage.ok) {
    coverageBox.innerHTML = `<p class="error" role="alert">${esc(coverage.json?.detail || coverage.status)}</p>`;
    return;
  }
  const rows = coverage.json.rows;
  const shares = coverage.json.population !== null;
  const pct = (v) => (v === null || v === undefined ? '' : percent(v));
  coverageBox.innerHTML = `<p class="muted">${esc(coverage.json.date)}${coverage.json.population ? ` · ${esc(coverage.json.population.source)}` : ''}</p>
    ${coverage.json.masked ? `<p class="muted">${esc(w.masked)}</p>` : ''}
    ${shares ? '' : `<p class="muted">${esc(w.noPopulation)}</p>`}
    ${coverageChart(rows, w, shares)}
    ${tableOf('impact-coverage-table', w.coverage, [w.region, w.age, w.population, w.atLeastOne, w.share, w.completedSeries, w.share, w.boosted, w.share],
    rows.map((r) => [r.region ? regionName(r.region, w) : w.all, ageText(r, w), String(r.population),
      String(r.at_least_one_dose), pct(r.share_at_least_one_dose), String(r.completed), pct(r.share_completed),
      String(r.booster), pct(r.share_booster)]))}
    <button type="button" class="secondary" id="impact-coverage-csv">${esc(w.csv)}</button>`;
  coverageBox.querySelector('#impact-coverage-csv').addEventListener('click', async () => {
    const r = await get(coveragePath, true);
    if (r.ok) download(r.text, `coverage-${date}.csv`);
  });
}
