// The manager's space as the demo organisation's manager uses it: from the helper space to
// "Ma structure", a helper added (the enrolment link shown once, never again), the helper's page,
// training and PIX dates recorded, the account deactivated then reactivated, then locked by wrong
// passwords and unlocked; every action with the manager's one-time code. Then the helper's page
// with the keyboard alone: every action's fields and button are reached by Tab, and one action is
// done without the mouse. Last, a TOTP card imported by the operator, assigned by the manager with
// a code read from it, signs its helper in; wrong codes lock that helper out until the manager
// unlocks them.
//
// Every action asks for the manager's one-time code, and the server accepts three time steps at
// once (the previous, the current, the next), each once per authenticator: a fourth code in a row
// would wait for the clock. So no manager here gives more than three codes: the demo manager
// does the keyboard test, and managers the operator adds to the demo organisation (as any
// organisation may have several) share the other stories.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  alerts,
  andWaitForPage,
  authenticator,
  launchBrowser,
  newHelperPage,
  pathOf,
  useServer,
  visit,
} from './harness.mjs';
import { base32Decode, codeAtStep } from './totp.mjs';

const MANAGER = {
  email: 'responsable.demo@example.fr',
  password: 'demo-manager-1234',
  totpSecret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  name: 'Dominique Bernard',
};
const NEW_HELPER = {
  givenName: 'Maëlle',
  familyName: 'Rousseau',
  email: 'maelle.rousseau@example.fr',
  profession: 'Conseillère numérique',
};
const HELPER_PAGE = /^\/structure\/aidants\/([^/]+)$/;

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

MANAGER.code = authenticator(server, MANAGER.totpSecret);

/**
 * A manager of the demo organisation added by the operator (`idp aidant add --role manager`) and
 * habilitated as the demo manager is, with an authenticator of their own; they accept the charter
 * at their first sign-in.
 */
function addManager(email, givenName, familyName) {
  const out = server.idp([
    'aidant', 'add', '--email', email, '--given-name', givenName, '--family-name', familyName,
    '--profession', 'Responsable de structure', '--organisation', server.seed.organisation.id, '--role', 'manager',
  ]);
  assert.equal(out.status, 0, out.stderr);
  const added = JSON.parse(out.stdout);
  const habilitated = server.idp(['aidant', 'habilitation', email, '--training', '2026-01-05', '--pix', '2026-01-19']);
  assert.equal(habilitated.status, 0, habilitated.stderr);
  const secret = new URL(added.totp_enrolment_uri).searchParams.get('secret');
  return { email, password: added.password, code: authenticator(server, secret) };
}

async function signIn(page, manager, prefix) {
  await page.goto(server.url('/login'));
  await page.getByLabel('Adresse e-mail').fill(manager.email);
  await page.getByLabel('Mot de passe').fill(manager.password);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.equal(pathOf(page), '/login/otp', `the password was refused: ${await alerts(page)}`);
  await page.getByLabel('Code à 6 chiffres').fill(await manager.code());
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  if (pathOf(page) === '/charte') {
    // A new account accepts the charter in force first, then goes on.
    await andWaitForPage(page, () => page.getByRole('button', { name: "J'accepte la charte" }).click());
  }
  assert.equal(pathOf(page), '/espace-aidant', `the one-time code was refused: ${await alerts(page)}`);
  await visit(page, server, `${prefix}-helper-space`);
}

/** The section of the helper's page whose heading is `title`. */
const section = (page, title) => page.locator('section', { has: page.getByRole('heading', { name: title }) });

/** Fills `manager`'s code in `form` and presses `button`; returns the notice shown after. */
async function act(page, manager, form, button) {
  await form.getByLabel('Votre code à usage unique').fill(await manager.code());
  await andWaitForPage(page, () => form.getByRole('button', { name: button }).click());
  const notice = await page.getByRole('status').allInnerTexts();
  assert.ok(notice.length > 0, `no notice after « ${button} »: ${await alerts(page)}`);
  return notice.join(' ');
}

test('the manager adds a helper, records their habilitation, deactivates, reactivates and unlocks them', async () => {
  // Three managers of the organisation share the story, three codes each.
  const first = addManager('responsable.accueil@example.fr', 'Sacha', 'Girard');
  const second = addManager('responsable.formation@example.fr', 'Lou', 'Mercier');
  const third = addManager('responsable.comptes@example.fr', 'Alix', 'Fontaine');
  let page = await newHelperPage(browser);
  await signIn(page, first, 'manager');
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Ma structure' }).click());
  assert.equal(pathOf(page), '/structure');
  await visit(page, server, 'manager-list');
  const demoRow = page.getByRole('row', { name: /Camille Martin/ });
  await assert.doesNotReject(demoRow.waitFor(), 'the demo helper is listed');
  assert.match(await demoRow.innerText(), /actif/i);

  // Adding a helper: errors beside the fields, then the link, once.
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Ajouter un aidant' }).click());
  await visit(page, server, 'manager-new-helper');
  await page.getByLabel('Prénom').fill(NEW_HELPER.givenName);
  await page.getByLabel('Adresse électronique').fill('aidant.demo@example.fr');
  await page.getByLabel('Votre code à usage unique').fill('000000');
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Créer le compte' }).click());
  await visit(page, server, 'manager-new-helper-errors');
  assert.match(await page.locator('#erreur-nom').innerText(), /obligatoire/);
  assert.match(await page.locator('#erreur-email').innerText(), /déjà celle d'un compte/);
  await page.getByLabel('Nom', { exact: true }).fill(NEW_HELPER.familyName);
  await page.getByLabel('Adresse électronique').fill(NEW_HELPER.email);
  await page.getByLabel(/^Profession/).fill(NEW_HELPER.profession);
  await page.getByLabel('Votre code à usage unique').fill(await first.code());
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Créer le compte' }).click());
  await visit(page, server, 'manager-enrolment-link');
  const link = await page.getByLabel(/Lien d'inscription de/).inputValue();
  assert.ok(link.startsWith(`${server.seed.issuer}/inscription/`), link);
  assert.match(await page.locator('main').innerText(), /Valable 72 heures/);
  const token = link.split('/').pop();

  await andWaitForPage(page, () => page.getByRole('link', { name: "Voir la page de l'aidant" }).click());
  const match = pathOf(page).match(HELPER_PAGE);
  assert.ok(match, page.url());
  const helperUrl = pathOf(page);
  await visit(page, server, 'manager-helper-new');
  assert.ok(!(await page.content()).includes(token), 'the link is never shown again');
  assert.match(await page.locator('main').innerText(), /En cours d'habilitation/);

  // Habilitation dates.
  const training = section(page, /Formation suivie le/);
  await training.getByLabel('Formation suivie le').fill('2026-11-02');
  assert.match(await act(page, first, training, 'Enregistrer la date de formation'), /date de formation a été enregistrée/);
  await page.context().close();

  // Another manager finds the new helper in the list and goes on.
  page = await newHelperPage(browser);
  await signIn(page, second, 'manager-second');
  await page.goto(server.url('/structure'));
  await andWaitForPage(page, () => page.getByRole('link', { name: `${NEW_HELPER.givenName} ${NEW_HELPER.familyName}` }).click());
  assert.equal(pathOf(page), helperUrl);
  const pix = section(page, /Certification PIX obtenue le/);
  await pix.getByLabel('Certification PIX obtenue le').fill('2026-11-16');
  assert.match(await act(page, second, pix, 'Enregistrer la date de certification PIX'), /certification PIX a été enregistrée/);
  await visit(page, server, 'manager-helper-habilitation');
  const facts = await page.locator('main').innerText();
  assert.match(facts, /2 novembre 2026/);
  assert.match(facts, /16 novembre 2026/);

  // Deactivated, then reactivated.
  assert.match(await act(page, second, section(page, 'Désactiver le compte'), 'Désactiver le compte'), /désactivé/);
  await visit(page, server, 'manager-helper-deactivated');
  assert.match(await page.locator('main').innerText(), /Désactivé \(par un responsable/);
  await page.context().close();

  page = await newHelperPage(browser);
  await signIn(page, third, 'manager-third');
  await page.goto(server.url(helperUrl));
  assert.match(await act(page, third, section(page, 'Réactiver le compte'), 'Réactiver le compte'), /réactivé/);

  // Locked by wrong passwords typed at the login page, then unlocked.
  const intruder = await newHelperPage(browser);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await intruder.goto(server.url('/login'));
    await intruder.getByLabel('Adresse e-mail').fill(NEW_HELPER.email);
    await intruder.getByLabel('Mot de passe').fill(`mauvais-mot-de-passe-${attempt}`);
    await andWaitForPage(intruder, () => intruder.getByRole('button', { name: 'Continuer' }).click());
  }
  await intruder.context().close();
  await page.goto(server.url('/structure'));
  const row = page.getByRole('row', { name: new RegExp(`${NEW_HELPER.givenName} ${NEW_HELPER.familyName}`) });
  assert.match(await row.innerText(), /bloqué[\s\S]*après des connexions échouées/i);
  await visit(page, server, 'manager-list-locked');
  await page.goto(server.url(helperUrl));
  assert.match(await act(page, third, section(page, 'Débloquer le compte'), 'Débloquer le compte'), /débloqué/);
  await visit(page, server, 'manager-helper-unlocked');
  assert.equal(await section(page, 'Débloquer le compte').count(), 0);
  await page.context().close();
});

test('the keyboard alone reaches every action of a helper page and does one', async () => {
  const page = await newHelperPage(browser);
  await signIn(page, MANAGER, 'manager-keyboard');
  await page.goto(server.url('/structure'));
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Camille Martin' }).click());
  assert.match(pathOf(page), HELPER_PAGE);
  // Tab from the top of the page, noting each control reached.
  const reached = new Set();
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => {
      const el = document.activeElement;
      return el ? `${el.tagName}:${el.id || el.innerText || el.getAttribute('name') || ''}`.trim() : '';
    });
    reached.add(name);
  }
  const wanted = [
    'INPUT:date-formation',
    'INPUT:otp-formation',
    'BUTTON:Enregistrer la date de formation',
    'INPUT:date-pix',
    'INPUT:otp-pix',
    'BUTTON:Enregistrer la date de certification PIX',
    'INPUT:otp-second-facteur',
    'BUTTON:Réinitialiser et créer un lien',
    'INPUT:carte-serie',
    'INPUT:carte-code',
    'INPUT:otp-carte',
    'BUTTON:Attribuer la carte',
    'INPUT:otp-desactivation',
    'BUTTON:Désactiver le compte',
  ];
  for (const control of wanted) assert.ok(reached.has(control), `${control} is not reached by Tab: ${[...reached]}`);

  // The training date, recorded from the keyboard: type the date (day, month, year), the code,
  // then Enter sends the form.
  await page.locator('#date-formation').focus();
  await page.keyboard.type('02112026');
  await page.locator('#otp-formation').focus();
  await page.keyboard.type(await MANAGER.code());
  await andWaitForPage(page, () => page.keyboard.press('Enter'));
  assert.match((await page.getByRole('status').allInnerTexts()).join(' '), /date de formation a été enregistrée/);
  await visit(page, server, 'manager-keyboard-recorded');
  await page.context().close();
});

test('a card imported by the operator is assigned by the manager and signs its helper in; wrong codes lock them out until the manager unlocks', async () => {
  // The operator imports the organisation's cards (`idp card import`), and adds a helper.
  const CARD = { serial: 'FS75-000123', secret: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU' };
  const csv = path.join(server.workDir, 'cartes.csv');
  await writeFile(csv, `serial,secret\n${CARD.serial},${CARD.secret}\n`);
  const imported = server.idp(['card', 'import', csv]);
  assert.equal(imported.status, 0, imported.stderr);
  const added = server.idp([
    'aidant', 'add', '--email', 'noa.petit@example.fr', '--given-name', 'Noa', '--family-name', 'Petit',
    '--profession', 'Agent France Services', '--organisation', server.seed.organisation.id,
  ]);
  assert.equal(added.status, 0, added.stderr);
  const helper = JSON.parse(added.stdout);

  // The manager assigns the card, confirmed by the code it shows (60-second steps).
  const manager = addManager('responsable.cartes@example.fr', 'Maxime', 'Roux');
  const page = await newHelperPage(browser);
  await signIn(page, manager, 'manager-card');
  await page.goto(server.url('/structure'));
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Noa Petit' }).click());
  const helperUrl = pathOf(page);
  const cardKey = base32Decode(CARD.secret);
  const cardStep = Math.floor(Date.now() / 1000 / 60);
  const card = section(page, 'Attribuer une carte à code');
  await card.getByLabel('Numéro de série de la carte').fill(CARD.serial);
  await card.getByLabel(/^Code affiché par la carte/).fill(codeAtStep(cardKey, cardStep));
  assert.match(await act(page, manager, card, 'Attribuer la carte'), /La carte a été attribuée/);
  await visit(page, server, 'manager-card-assigned');

  // The helper signs in with the card's next code.
  const signInWithPassword = async (helperPage) => {
    await helperPage.goto(server.url('/login'));
    await helperPage.getByLabel('Adresse e-mail').fill(helper.email);
    await helperPage.getByLabel('Mot de passe').fill(helper.password);
    await andWaitForPage(helperPage, () => helperPage.getByRole('button', { name: 'Continuer' }).click());
    assert.equal(pathOf(helperPage), '/login/otp', `the password was refused: ${await alerts(helperPage)}`);
  };
  const helperPage = await newHelperPage(browser);
  await signInWithPassword(helperPage);
  await helperPage.getByLabel('Code à 6 chiffres').fill(codeAtStep(cardKey, cardStep + 1));
  await andWaitForPage(helperPage, () => helperPage.getByRole('button', { name: 'Continuer' }).click());
  assert.ok(['/espace-aidant', '/charte'].includes(pathOf(helperPage)), `the card's code was refused: ${await alerts(helperPage)}`);
  await helperPage.context().close();

  // Wrong codes, five times: the account is locked, even for the right code.
  const intruder = await newHelperPage(browser);
  await signInWithPassword(intruder);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await intruder.getByLabel('Code à 6 chiffres').fill(String(111111 * (attempt + 1)).slice(0, 6));
    await andWaitForPage(intruder, () => intruder.getByRole('button', { name: 'Continuer' }).click());
  }
  assert.match(await alerts(intruder), /votre compte est bloqué/);
  await visit(intruder, server, 'otp-locked');
  await intruder.context().close();

  await page.goto(server.url(helperUrl));
  assert.match(await act(page, manager, section(page, 'Débloquer le compte'), 'Débloquer le compte'), /débloqué/);
  await page.context().close();
});
