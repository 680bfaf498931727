// The organisation's journal as its manager reads it: in words, filtered by action and by day,
// page after page, exported as CSV (the file's content checked); then a helper deactivated by
// `idp maintenance` after six months without sign-in, who signs in and is told so, and whom to ask.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { alerts, andWaitForPage, launchBrowser, newHelperPage, pathOf, useServer, visit } from './harness.mjs';
import { base32Decode, codeAtStep, STEP_SECONDS } from './totp.mjs';

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const ORGANISATION = server.seed.organisation;

/** A helper of the demo organisation added by the operator (`idp aidant add`, password generated). */
function addHelper(email, givenName, familyName, role = 'aidant') {
  const out = server.idp([
    'aidant',
    'add',
    '--email',
    email,
    '--given-name',
    givenName,
    '--family-name',
    familyName,
    '--profession',
    'Conseillère France Services',
    '--organisation',
    ORGANISATION.id,
    '--role',
    role,
  ]);
  assert.equal(out.status, 0, out.stderr);
  const added = JSON.parse(out.stdout);
  return { ...added, totpSecret: new URL(added.totp_enrolment_uri).searchParams.get('secret') };
}

/** Runs SQL on the run's SQLite database, as an operator with database access could: waiting,
 * as every writer beside the server must, for a lock the server holds (a commit, or the log's
 * checkpoint each second). */
function sql(statement) {
  const file = server.env.IDP__DATABASE__URL.replace(/^sqlite:\/\//, '');
  const out = spawnSync('sqlite3', ['-cmd', '.timeout 5000', file, statement], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
}

async function signIn(page, helper, prefix) {
  await page.goto(server.url('/login'));
  await page.getByLabel('Adresse e-mail').fill(helper.email);
  await page.getByLabel('Mot de passe').fill(helper.password);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  if (pathOf(page) !== '/login/otp') return;
  const step = Math.floor(Date.now() / 1000 / STEP_SECONDS);
  await page.getByLabel('Code à 6 chiffres').fill(codeAtStep(base32Decode(helper.totpSecret), step));
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.notEqual(pathOf(page), '/login/otp', `${prefix}: the code was refused: ${await alerts(page)}`);
}

const rows = (page) => page.locator('table.journal-table tbody tr');

test('a manager filters the journal by action and day, pages through it and exports it as CSV', async () => {
  const manager = addHelper('responsable.journal@example.fr', 'Dominique', 'Lefort', 'manager');
  const page = await newHelperPage(browser);
  await signIn(page, manager, 'manager');
  await page.goto(server.url('/structure'));
  if (pathOf(page) === '/charte') {
    // A new account accepts the charter in force before anything else.
    await andWaitForPage(page, () => page.getByRole('button', { name: "J'accepte la charte" }).click());
    await page.goto(server.url('/structure'));
  }
  // The manager's space leads to the journal.
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Voir le journal de la structure' }).click());
  assert.equal(pathOf(page), '/structure/journal');
  await visit(page, server, 'journal');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Journal de la structure');
  // In words: what the demo helper did (the newest entries come first) and this very sign-in.
  await page.getByText(/^Camille Martin a /).first().waitFor();
  await page.getByText('Connexion de Dominique Lefort à son compte.').first().waitFor();

  // By action and by day (today, in UTC as the page says).
  const [year, month, day] = new Date().toISOString().slice(0, 10).split('-');
  const today = `${day}/${month}/${year}`;
  await page.locator('#action').selectOption({ label: 'Mandat créé' });
  await page.getByRole('textbox', { name: /^Du\b/ }).fill(today);
  await page.getByRole('textbox', { name: /^Au\b/ }).fill(today);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Filtrer', exact: true }).click());
  await visit(page, server, 'journal-filtered');
  assert.equal(await page.getByRole('textbox', { name: /^Du\b/ }).inputValue(), today, 'the day shown again');
  const created = await rows(page).count();
  assert.ok(created >= 2, 'the demo mandates');
  for (const text of await rows(page).locator('td:nth-child(3)').allInnerTexts()) assert.equal(text, 'Mandat créé');

  // The export with these filters: the CLI's columns, ids only, this action only.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Exporter en CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^journal-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
  assert.equal(
    csv[0],
    'seq,created_at,action,aidant_id,organisation_id,usager_id,mandate_id,authorisation_id,demarche,client_id,details,hash',
  );
  assert.equal(csv.length - 1, created, 'one line per entry shown');
  for (const line of csv.slice(1)) {
    const cells = line.split(',');
    assert.equal(cells[2], 'mandate_created', line);
    assert.equal(cells[4], ORGANISATION.id, line);
  }
  assert.ok(!csv.join('\n').includes('DUBOIS'), 'no names in the file');

  // More exports than a page holds, then their pages.
  const token = await page.locator('input[name="csrf_token"]').first().inputValue();
  for (let i = 0; i < 21; i += 1) {
    const response = await page.request.post(server.url('/structure/journal/export'), { form: { csrf_token: token } });
    assert.equal(response.status(), 200);
  }
  await page.getByRole('link', { name: 'Effacer les filtres' }).click();
  await page.waitForURL(/\/structure\/journal$/);
  await page.locator('#action').selectOption({ label: 'Journal exporté' });
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Filtrer', exact: true }).click());
  assert.equal(await rows(page).count(), 20, 'a page holds 20 entries');
  await page.getByText('Dominique Lefort a exporté le journal en CSV.').first().waitFor();
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Entrées plus anciennes' }).click());
  await visit(page, server, 'journal-older');
  assert.equal(await rows(page).count(), 2, '22 exports in all');
  assert.equal(await page.locator('#action').inputValue(), 'journal_exported', 'the filter is kept');
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Revenir aux entrées les plus récentes' }).click());
  assert.equal(await rows(page).count(), 20);

  // A date that is not one: the page says what to write.
  await page.goto(server.url('/structure/journal?du=31%2F02%2F2026'));
  await visit(page, server, 'journal-bad-date');
  assert.match(await alerts(page), /« 31\/02\/2026 » n'est pas une date\. Écrivez-la jj\/mm\/aaaa/);
  await page.context().close();
});

test('a helper deactivated after six months without sign-in is told so on signing in', async () => {
  const helper = addHelper('aidant.inactif@example.fr', 'Sacha', 'Dubreuil');
  sql(`UPDATE aidants SET created_at = '2025-01-06 09:00:00' WHERE id = '${helper.id}'`);
  const maintenance = server.idp(['maintenance']);
  assert.equal(maintenance.status, 0, maintenance.stderr);
  assert.ok(maintenance.stdout.includes(helper.id), maintenance.stdout);

  const page = await newHelperPage(browser);
  await page.goto(server.url('/login'));
  await page.getByLabel('Adresse e-mail').fill(helper.email);
  await page.getByLabel('Mot de passe').fill(helper.password);
  const response = await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.equal(response.status(), 403);
  assert.equal(pathOf(page), '/login');
  await visit(page, server, 'deactivated');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Votre compte est désactivé');
  assert.match(await alerts(page), /désactivé automatiquement le .*, parce qu'il n'a servi à aucune connexion pendant six mois/);
  await page.getByText(`Demandez à un responsable de ${ORGANISATION.name} de réactiver votre compte.`).waitFor();
  assert.equal(await page.getByLabel('Code à 6 chiffres').count(), 0, 'no one-time code asked');
  await page.context().close();
});
