// The web application in a real browser: Debian's chromium driven by playwright-core, against
// `vaxledger serve --demo` on a loopback port. The path of SPEC §2 a user takes:
// request access -> an administrator approves -> log in -> link a HAIO -> approved -> register a
// vaccination (a wrong field is shown at the field) -> it appears in the history -> unlinking the
// last people is refused with the explanation; then staff acting for a chosen physician,
// correction and retraction with a reason, stock with a shortfall and a delivery, a rejection
// with a reason, and the auditors' screen. Screenshots of a failing step are kept in
// $VX_SCREENSHOTS (default build/tests/e2e/screenshots).
//
//   node tests/e2e/browser/flow.test.mjs   (VX_BINARY = path of vaxledger)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const binary = process.env.VX_BINARY;
const shots = process.env.VX_SCREENSHOTS || 'build/tests/e2e/screenshots';
if (!binary) throw new Error('set VX_BINARY to the vaxledger binary');

const dir = mkdtempSync(join(tmpdir(), 'vaxledger-browser-'));
execFileSync(binary, ['init', '--data', join(dir, 'd'), '--demo'], { stdio: 'ignore' });
const server = spawn(binary, ['serve', '--data', join(dir, 'd'), '--listen', '127.0.0.1:0', '--demo'],
  { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stdout });
  lines.once('line', (line) => {
    const m = line.match(/127\.0\.0\.1:(\d+)/);
    m ? resolve(Number(m[1])) : reject(new Error(`unexpected first line: ${line}`));
  });
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const base = `http://127.0.0.1:${port}/`;

const browser = await chromium.launch({
  executablePath: process.env.VX_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
let failures = 0;
let current = null;

// Runs one step; on failure keeps a screenshot of the page and stops the run.
async function step(name, page, fn) {
  current = name;
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures += 1;
    mkdirSync(shots, { recursive: true });
    const file = join(shots, `${name.replace(/\W+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    console.log(`not ok - ${name}: ${e.message}\n  screenshot: ${file}`);
    throw e;
  }
}

async function loginAs(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  await page.goto(base);
  await page.getByRole('button', { name }).click();
  await page.waitForURL((url) => url.hash !== '' && !url.hash.startsWith('#/login'));
  return page;
}

try {
  const nina = await loginAs('Dr. Nina Nieuw');
  await step('a person without access is taken to the access request', nina, async () => {
    await nina.waitForURL(/#\/access/);
    await nina.getByRole('heading', { name: 'Gebruiksvoorwaarden' }).waitFor();
  });
  await step('access request: terms, RIZIV, form, review with Vorige and Bevestigen', nina, async () => {
    await nina.getByLabel('Ik aanvaard de gebruiksvoorwaarden').check();
    await nina.getByRole('button', { name: 'Volgende' }).click();
    await nina.getByLabel('RIZIV-nummer').fill('10000403004');
    await nina.getByRole('button', { name: 'Volgende' }).click();
    await nina.getByLabel('E-mail').fill('nina@example.be');
    await nina.getByLabel('Soort').selectOption('group_practice');
    await nina.getByLabel('Naam van de entiteit').fill('Praktijk Nieuw');
    await nina.getByRole('button', { name: 'Volgende' }).click();
    await nina.getByText('Praktijk Nieuw (group_practice, flanders)').waitFor();
    await nina.getByRole('button', { name: 'Vorige' }).click();   // back, then on again
    await nina.getByRole('button', { name: 'Volgende' }).click();
    await nina.getByRole('button', { name: 'Bevestigen' }).click();
    await nina.locator('#access-done', { hasText: 'wacht op goedkeuring door een beheerder' }).waitFor();
  });

  const admin = await loginAs('An Beheerder');
  const approveAll = async () => {
    await admin.goto(`${base}#/admin`);
    await admin.reload();  // the queue as it is now
    await admin.getByRole('heading', { name: 'Wachtrij' }).waitFor();
    const approve = admin.getByRole('button', { name: 'Goedkeuren' });
    await approve.first().click();
    await admin.getByText('Geen').waitFor();
  };
  await step('the administrator approves the access request', admin, approveAll);

  const nina2 = await loginAs('Dr. Nina Nieuw');
  await step('logged in, the physician sees Mijn medewerkers', nina2, async () => {
    await nina2.waitForURL(/#\/members/);
    await nina2.getByRole('heading', { name: /Mijn medewerkers/ }).waitFor();
  });
  await step('link a HAIO: Aanvraag nieuw, Is het een arts? Ja, Opslaan', nina2, async () => {
    await nina2.getByLabel('INSZ (rijksregisternummer)').fill('95070706127');
    await nina2.getByLabel('Naam', { exact: true }).fill('Tom Wouters');
    await nina2.getByLabel('E-mail').fill('tom@example.be');
    await nina2.getByLabel('Ja').check();
    await nina2.getByLabel('RIZIV-nummer').fill('11000590005');
    await nina2.getByRole('button', { name: 'Opslaan' }).click();
    await nina2.locator('#link-done').waitFor();
    await nina2.getByText('link: Tom Wouters').waitFor();   // shown as pending
  });
  await step('the administrator approves the link', admin, approveAll);
  await step('the HAIO is a member', nina2, async () => {
    await nina2.reload();
    await nina2.getByRole('cell', { name: 'Tom Wouters', exact: true }).waitFor();
    await nina2.getByRole('cell', { name: 'arts in opleiding (HAIO)' }).waitFor();
  });
  await step('register a vaccination: a wrong INSZ is shown at the field', nina2, async () => {
    await nina2.getByRole('link', { name: 'Vaccinatie registreren' }).click();
    await nina2.getByRole('heading', { name: 'Vaccinatie registreren' }).waitFor();
    await nina2.getByLabel('INSZ (rijksregisternummer)').fill('85073003329');
    await nina2.getByLabel('Lotnummer').fill('FK1234');
    await nina2.getByRole('button', { name: 'Opslaan' }).click();
    const insz = nina2.getByLabel('INSZ (rijksregisternummer)');
    await nina2.locator('.field-error', { hasText: 'check digits' }).waitFor();
    if ((await insz.getAttribute('aria-invalid')) !== 'true') throw new Error('the INSZ field is not marked invalid');
    await insz.fill('85073003328');
    await nina2.getByRole('button', { name: 'Opslaan' }).click();
    await nina2.locator('#register-done').waitFor();
  });
  await step('the vaccination appears in the history', nina2, async () => {
    await nina2.locator('#register-done a').click();
    await nina2.getByRole('heading', { name: 'Vaccinatiegeschiedenis' }).waitFor();
    await nina2.locator('#history-table').getByRole('cell', { name: 'FK1234' }).first().waitFor();
  });
  await step('Vaccinatiebewijs aanmaken: QR code, UVCI and the printable page', nina2, async () => {
    await nina2.getByRole('heading', { name: 'Vaccinatiebewijs' }).waitFor();
    await nina2.getByLabel('Familienaam').fill('Van den Bossche');
    await nina2.getByLabel('Voornaam').fill('Marie Louise');
    await nina2.getByRole('button', { name: 'Aanmaken' }).click();
    const uvci = await nina2.locator('#certificate-uvci').textContent();
    if (!/^URN:UVCI:01:BE:[A-Z0-9]+#[A-Z0-9\/:]$/.test(uvci)) throw new Error(`bad UVCI ${uvci}`);
    const qr = nina2.getByRole('img', { name: 'QR-code van het vaccinatiebewijs' });
    await qr.waitFor();
    await nina2.waitForFunction(() => document.querySelector('#certificate-issued img')?.naturalWidth > 0);
    await nina2.locator('#certificates-table').getByText(uvci).waitFor();
    const page = await nina2.context().newPage();
    await page.goto(new URL(await nina2.locator('#certificate-issued a').first().getAttribute('href'), nina2.url()).href);
    await page.getByRole('heading', { name: 'Vaccinatiebewijs' }).waitFor();
    await page.getByText(uvci).waitFor();
    await page.close();
  });
  await step('unlinking the last people is refused, saying what to do', nina2, async () => {
    await nina2.getByRole('link', { name: 'Mijn medewerkers' }).click();
    await nina2.getByRole('heading', { name: /Mijn medewerkers/ }).waitFor();
    for (const box of await nina2.getByRole('checkbox').all()) await box.check();
    await nina2.getByRole('button', { name: 'Aanvraag ontkoppelen' }).click();
    await nina2.getByRole('button', { name: 'Akkoord' }).click();
    await nina2.locator('#unlink-refused').getByText('link someone new first').waitFor();
  });
  await step('English switch, phone width, keyboard', nina2, async () => {
    await nina2.getByRole('button', { name: 'Language / Taal' }).click();
    await nina2.getByRole('link', { name: 'My staff' }).waitFor();
    await nina2.setViewportSize({ width: 375, height: 700 });
    const overflow = await nina2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) throw new Error(`the page is ${overflow}px wider than a phone`);
    await nina2.keyboard.press('Tab');
    const focused = await nina2.evaluate(() => document.activeElement?.tagName);
    if (!['A', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA'].includes(focused)) {
      throw new Error(`Tab reaches ${focused}, not a control`);
    }
  });
  const staff = await loginAs('Lies Staf');
  await step('staff choose the physician they act for, then register', staff, async () => {
    await staff.waitForURL(/#\/entity/);
    await staff.getByLabel('Namens welke arts?').selectOption({ label: 'Dr. Jan Janssens' });
    await staff.getByRole('button', { name: 'Kiezen' }).click();
    await staff.waitForURL(/#\/members/);
    await staff.getByRole('link', { name: 'Vaccinatie registreren' }).click();
    await staff.getByRole('heading', { name: 'Vaccinatie registreren' }).waitFor();
    // A lot that was never delivered: the stock shows the shortfall, the registration stands.
    await staff.getByLabel('INSZ (rijksregisternummer)').fill('85073004417');
    await staff.getByLabel('Lotnummer').fill('NOSTOCK');
    const created = staff.waitForResponse((r) => r.url().endsWith('/v1/vaccinations') && r.status() === 201);
    await staff.getByRole('button', { name: 'Opslaan' }).click();
    await created;
    await staff.getByLabel('INSZ (rijksregisternummer)').fill('17073003384');
    await staff.getByLabel('Lotnummer').fill('FK5127');
    await staff.getByRole('button', { name: 'Opslaan' }).click();
    await staff.locator('#register-done').waitFor();
  });
  await step('correct and retract from the history, with a reason', staff, async () => {
    await staff.locator('#register-done a').click();
    await staff.getByRole('heading', { name: 'Vaccinatiegeschiedenis' }).waitFor();
    const row = staff.locator('#history-table form.fix').first();
    await row.getByLabel('Lotnummer').fill('FK5128');
    await row.getByRole('button', { name: 'Corrigeren' }).click();
    await row.locator('.field-error', { hasText: 'reason is required' }).waitFor();  // at its field
    await row.getByLabel('Reden').fill('typo in lot');
    await row.getByRole('button', { name: 'Corrigeren' }).click();
    await staff.locator('#history-table').getByRole('cell', { name: 'FK5128', exact: true }).waitFor();
    const again = staff.locator('#history-table form.fix').first();
    await again.getByLabel('Reden').fill('wrong patient');
    await again.getByRole('button', { name: 'Foutief ingevoerd' }).click();
    await staff.locator('#history-table').getByText('entered_in_error — wrong patient').waitFor();
  });
  await step('stock: a shortfall shows, a delivery is recorded', staff, async () => {
    await staff.getByRole('link', { name: 'Voorraad' }).click();
    await staff.getByRole('heading', { name: 'Voorraad' }).waitFor();
    const row = staff.getByRole('row').filter({ hasText: 'NOSTOCK' });
    await row.locator('td.shortfall', { hasText: '1' }).waitFor();
    await staff.getByLabel('Lotnummer').fill('NEW1');
    await staff.getByLabel('Vervaldatum').fill('2027-12-31');
    await staff.getByLabel('Aantal').fill('25');
    await staff.getByRole('button', { name: 'Opslaan' }).click();
    await staff.getByRole('cell', { name: 'NEW1' }).waitFor();
  });
  await step('an administrator rejects a request with a reason', admin, async () => {
    const nobody = await loginAs('Dr. Pieter Claes');
    await nobody.goto(`${base}#/access`);
    await nobody.getByLabel('Ik aanvaard de gebruiksvoorwaarden').check();
    await nobody.getByRole('button', { name: 'Volgende' }).click();
    await nobody.getByLabel('RIZIV-nummer').fill('11000491004');
    await nobody.getByRole('button', { name: 'Volgende' }).click();
    await nobody.getByLabel('E-mail').fill('pieter@example.be');
    await nobody.getByLabel('Bestaande entiteit (id) om bij aan te sluiten').fill('demo-linde');
    await nobody.getByRole('button', { name: 'Volgende' }).click();
    await nobody.getByRole('button', { name: 'Bevestigen' }).click();
    await nobody.locator('#access-done').waitFor();
    await admin.goto(`${base}#/admin`);
    await admin.reload();
    const form = admin.locator('form.decide').first();
    await form.getByRole('button', { name: 'Weigeren' }).click();
    await form.locator('.field-error', { hasText: 'reason is required' }).waitFor();
    await form.getByLabel('Reden').fill('join your own organisation');
    await form.getByRole('button', { name: 'Weigeren' }).click();
    await admin.getByText('Geen').waitFor();
  });
  const auditor = await loginAs('Oscar Auditeur');
  await step('auditors: checkpoint, an inclusion proof checked in the browser, the live feed', auditor, async () => {
    await auditor.goto(`${base}#/audit`);
    await auditor.locator('#checkpoint').getByText('vaxledger.local/registry').waitFor();
    await auditor.getByRole('button', { name: 'Controleren' }).click();
    await auditor.getByText('Het bewijs klopt:').waitFor();
    await auditor.locator('#feed li').first().waitFor();
  });
} catch (e) {
  if (!failures) { failures += 1; console.log(`not ok - ${current}: ${e.message}`); }
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
