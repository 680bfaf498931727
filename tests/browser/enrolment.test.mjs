// A helper added without password nor second factor (`idp aidant add --pending`, as a manager's
// page will) opens their one-time enrolment link: a weak password is refused with its reason, a
// strong one accepted; the authenticator app's QR code and secret are shown, the first code
// confirms the app, and the helper signs in with it. Their account page lists the app and
// changes the password. The link, once used, says so.

import assert from 'node:assert/strict';
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

const HELPER = { email: 'sacha.bernard@france-services.example.fr', given: 'Sacha', family: 'Bernard' };
const STRONG = 'vélo orange piano nuage';

function addPendingHelper() {
  const out = server.idp([
    'aidant', 'add', '--pending',
    '--email', HELPER.email,
    '--given-name', HELPER.given,
    '--family-name', HELPER.family,
    '--profession', "Agent d'accueil",
    '--organisation', server.seed.organisation.id,
  ]);
  assert.equal(out.status, 0, out.stderr);
  const created = JSON.parse(out.stdout);
  return new URL(created.enrolment_link).pathname;
}

test('a new helper enrols through the link, signs in with the app, and changes their password', async () => {
  const link = addPendingHelper();
  const page = await newHelperPage(browser);
  await page.goto(server.url(link));
  await page.getByRole('heading', { level: 1, name: /Choisissez votre mot de passe/ }).waitFor();
  await visit(page, server, 'enrolment-password');

  await page.locator('#password').fill('motdepasse123');
  await page.locator('#confirmation').fill('motdepasse123');
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.match(await alerts(page), /pas assez sûr/);
  await visit(page, server, 'enrolment-weak-password');

  await page.locator('#password').fill(STRONG);
  await page.locator('#confirmation').fill(STRONG);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  await page.getByRole('heading', { level: 1, name: /Installez votre code à usage unique/ }).waitFor();
  assert.equal(await page.getByRole('img', { name: /QR code à scanner/ }).count(), 1, 'the QR code is shown');
  const shown = await page.locator('.enrolment-secret code').innerText();
  assert.match(shown, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, 'the secret in groups of four');
  await visit(page, server, 'enrolment-app');

  // The first code, from the secret as typed into an app.
  const key = base32Decode(shown.replace(/\s/g, ''));
  const step = Math.floor(Date.now() / 1000 / STEP_SECONDS);
  await page.getByLabel('Code à 6 chiffres').fill(codeAtStep(key, step));
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Valider le code' }).click());
  await page.getByRole('heading', { level: 1, name: 'Votre compte est prêt' }).waitFor();
  await visit(page, server, 'enrolment-done');

  // Signing in: the password chosen, and the app's next code (the first one worked once).
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Se connecter' }).click());
  await page.getByLabel('Adresse e-mail').fill(HELPER.email);
  await page.getByLabel('Mot de passe').fill(STRONG);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  await page.getByLabel('Code à 6 chiffres').fill(codeAtStep(key, step + 1));
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  // A new helper accepts the ethics charter in force before anything else.
  assert.equal(pathOf(page), '/charte', `signed in, on ${page.url()}: ${await alerts(page)}`);
  await visit(page, server, 'enrolment-charter');
  await andWaitForPage(page, () => page.getByRole('button', { name: "J'accepte la charte" }).click());
  assert.equal(pathOf(page), '/espace-aidant', `after the charter, on ${page.url()}: ${await alerts(page)}`);

  await andWaitForPage(page, () => page.getByRole('link', { name: 'Mon compte' }).click());
  await page.getByRole('heading', { level: 1, name: 'Mon compte' }).waitFor();
  const text = await page.locator('main').innerText();
  assert.match(text, /Sacha Bernard/);
  assert.match(text, /France Services Démo/);
  assert.match(text, /Application sur téléphone/);
  await visit(page, server, 'account');

  await page.getByLabel('Mot de passe actuel').fill(STRONG);
  await page.locator('#password').fill('guitare citron marée lampe');
  await page.locator('#confirmation').fill('guitare citron marée lampe');
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Changer le mot de passe' }).click());
  assert.match(await page.getByRole('status').innerText(), /Votre mot de passe est changé/);
  await visit(page, server, 'account-password-changed');

  // The link is spent.
  await page.goto(server.url(link));
  await page.getByRole('heading', { level: 1, name: /déjà servi/ }).waitFor();
  await visit(page, server, 'enrolment-link-used');
  await page.context().close();
});
