// The usager's own space (issue 12), as the person helped uses it: a helper uses the practice
// service twice for Angela DUBOIS (a mandate of the demo data: argent, logement, social); then
// Angela, in a browser of her own, signs in through the demo upstream provider from the home page,
// sees the two accesses (date and time, service, démarche, the helper's first name), revokes the
// démarche Logement with the keyboard after a confirmation page, and the practice service is then
// refused Logement for her while Argent still works; she signs out. axe on every page.
//
// This file revokes Angela's Logement: it runs last in the suite (files run in name order).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  andWaitForPage,
  escapeRegExp,
  launchBrowser,
  newHelperPage,
  pathOf,
  signedInState,
  useServer,
  visit,
} from './harness.mjs';

const ANGELA = { fullName: 'Angela Claire Louise DUBOIS' };
const LOGEMENT = { key: 'logement', title: 'Logement' };
const ARGENT = { key: 'argent', title: 'Argent - Impôts - Consommation' };
const SERVICE = 'Service de démonstration';
const HELPER_FIRST_NAME = 'Camille';

const server = await useServer();
let browser;
let signedIn;
before(async () => {
  browser = await launchBrowser();
  signedIn = await signedInState(browser, server, 'usager-space-helper-login');
});
after(async () => {
  await browser?.close();
});

/** Clicks `locator` (a button or link) and waits for the page it leads to. */
const press = (page, locator) => andWaitForPage(page, () => locator.click());

/**
 * The practice service from its start page, pressing the button of `usager` and `demarche` when
 * it is offered (confirming `argent`). Returns where it stopped: `callback` (the service received
 * a token), `usager` (no button for them), `demarche` (buttons for them, not this one), `error`.
 */
async function practiceService(page, usager, demarche, name) {
  await page.goto(server.url('/sandbox'));
  await press(page, page.getByRole('button', { name: /Commencer une démarche d.essai/ }));
  for (let step = 0; step < 4; step += 1) {
    const path = pathOf(page);
    if (path === '/sandbox/callback') {
      await visit(page, server, `${name}-sandbox-callback`);
      return { stop: 'callback', text: await page.locator('main').innerText() };
    }
    if (path === '/delegation/choix') {
      await visit(page, server, `${name}-delegation-choix`);
      const forUsager = page.getByRole('button', { name: new RegExp(`— pour ${escapeRegExp(usager.fullName)} sur`) });
      const choice = page.getByRole('button', {
        name: new RegExp(`^${escapeRegExp(demarche.title)} — pour ${escapeRegExp(usager.fullName)} sur`),
      });
      if ((await choice.count()) === 0) return { stop: (await forUsager.count()) === 0 ? 'usager' : 'demarche' };
      await press(page, choice);
    } else if (path === '/delegation/confirmation') {
      await press(page, page.getByRole('button', { name: 'Je confirme, continuer' }));
    } else {
      await visit(page, server, `${name}-sandbox-refused`);
      return { stop: 'error', text: await page.locator('main').innerText() };
    }
  }
  assert.fail(`the practice service did not end: ${page.url()}`);
}

/** Today in Paris, as the space writes dates ("29 novembre 2026"; "1er" for the first). */
function todayInParis() {
  const words = new Intl.DateTimeFormat('fr-FR', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Europe/Paris',
  }).format(new Date());
  return words.replace(/^1 /, '1er ');
}

/** The rows of the accesses table of Angela's mandate that name `demarche` today. */
async function accessesToday(page, demarche) {
  const table = page.getByRole('table', { name: /Chaque fois qu'un aidant a utilisé ce mandat/ });
  const rows = await table.getByRole('row').allInnerTexts();
  return rows.filter((row) => row.includes(todayInParis()) && row.includes(demarche.title) && row.includes(SERVICE));
}

test('the usager sees two accesses, revokes Logement, and the practice service is refused it', async () => {
  // A helper uses the practice service twice for Angela, with Logement.
  const helper = await newHelperPage(browser, { storageState: signedIn });
  for (const n of [1, 2]) {
    const used = await practiceService(helper, ANGELA, LOGEMENT, `usager-space-access-${n}`);
    assert.equal(used.stop, 'callback', `access ${n}: the practice service got its token`);
  }

  // Angela, at her own computer: from the home page to her space.
  const page = await newHelperPage(browser);
  await page.goto(server.url('/'));
  await press(page, page.getByRole('link', { name: 'voir mes mandats', exact: true }));
  assert.equal(pathOf(page), '/espace-usager');
  await visit(page, server, 'usager-space-sign-in');
  await page.getByRole('heading', { level: 1, name: 'Mon espace : mes mandats' }).waitFor();
  await press(page, page.getByRole('button', { name: "S'identifier avec FranceConnect" }));
  assert.equal(pathOf(page), '/demo-upstream/authorize', `the demo upstream provider, not ${page.url()}`);
  await visit(page, server, 'usager-space-demo-upstream');
  await press(page, page.getByRole('button', { name: ANGELA.fullName }));
  assert.equal(pathOf(page), '/espace-usager', `back in the space, not ${page.url()}`);
  await visit(page, server, 'usager-space-mandates');
  await page.getByRole('heading', { level: 1, name: 'Mes mandats' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Vous êtes connecté\(e\) : Angela Claire Louise DUBOIS/);
  await page.getByRole('heading', { level: 2, name: server.seed.organisation.name }).waitFor();

  // The two accesses, each with its time, the service, the démarche, the helper's first name.
  const accesses = await accessesToday(page, LOGEMENT);
  assert.ok(accesses.length >= 2, `two accesses for Logement today, found: ${accesses.join(' / ')}`);
  for (const row of accesses.slice(0, 2)) {
    assert.match(row, new RegExp(`à \\d{1,2} h \\d{2}`), 'the time of day');
    assert.ok(row.includes(HELPER_FIRST_NAME), `the helper's first name in ${row}`);
    assert.ok(!row.includes('Martin'), "the helper's first name only");
  }
  const demarches = page.getByRole('table', { name: 'Démarches de ce mandat' }).first();
  const logementRow = demarches.getByRole('row', { name: new RegExp(`^${LOGEMENT.title}`) });
  assert.match(await logementRow.innerText(), /en cours/);

  // Revoking Logement, with the keyboard: the link, then the confirmation's button.
  const revoke = page.getByRole('link', { name: `Révoquer la démarche ${LOGEMENT.title}` });
  await revoke.focus();
  await andWaitForPage(page, () => page.keyboard.press('Enter'));
  assert.match(pathOf(page), /^\/espace-usager\/autorisations\/[^/]+\/revocation$/);
  await visit(page, server, 'usager-space-confirm-revocation');
  await page.getByRole('heading', { level: 1, name: `Révoquer la démarche « ${LOGEMENT.title} » ?` }).waitFor();
  const confirm = page.getByRole('button', { name: 'Oui, révoquer cette démarche' });
  await confirm.focus();
  await andWaitForPage(page, () => page.keyboard.press('Enter'));
  assert.equal(pathOf(page), '/espace-usager');
  await visit(page, server, 'usager-space-revoked');
  assert.match(await page.getByRole('status').first().innerText(), /La démarche est révoquée/);
  assert.match(await logementRow.innerText(), /révoquée par vous le/);
  assert.equal(await revoke.count(), 0, 'nothing left to revoke for Logement');

  // The practice service is now refused Logement for Angela; Argent still works.
  const refused = await practiceService(helper, ANGELA, LOGEMENT, 'usager-space-after-revocation');
  assert.equal(refused.stop, 'demarche', 'Logement is no longer offered for Angela');
  const argent = await practiceService(helper, ANGELA, ARGENT, 'usager-space-argent-still');
  assert.equal(argent.stop, 'callback', 'the mandate’s other démarches still work');

  // The attestation of the mandate, then signing out.
  await press(page, page.getByRole('link', { name: /^Voir l'attestation du mandat/ }).first());
  await visit(page, server, 'usager-space-attestation');
  await page.getByRole('heading', { level: 1, name: 'Attestation de mandat' }).waitFor();
  assert.match((await page.locator('#attestation-hash').innerText()).trim(), /^[0-9a-f]{64}$/);
  await press(page, page.getByRole('link', { name: 'Revenir à mes mandats' }));
  await press(page, page.getByRole('button', { name: 'Se déconnecter' }));
  assert.equal(pathOf(page), '/espace-usager');
  await visit(page, server, 'usager-space-signed-out');
  assert.match(await page.getByRole('status').first().innerText(), /Vous êtes déconnecté/);
  await page.getByRole('button', { name: "S'identifier avec FranceConnect" }).waitFor();
  await helper.context().close();
  await page.context().close();
});

test('someone with no mandate is told so plainly', async () => {
  // Marie-Thérèse ROUSSEAU is a citizen of the demo upstream provider that no test gives a mandate.
  const page = await newHelperPage(browser);
  await page.goto(server.url('/espace-usager'));
  await press(page, page.getByRole('button', { name: "S'identifier avec FranceConnect" }));
  await press(page, page.getByRole('button', { name: 'Marie-Thérèse ROUSSEAU' }));
  await visit(page, server, 'usager-space-no-mandate');
  await page.getByRole('heading', { level: 1, name: "Aucun mandat n'est enregistré à votre nom" }).waitFor();
  await page.context().close();
});
