// Habilitation, as a helper meets it. A helper just added by the operator, with only their
// training recorded, signs in: the charter comes first, then their home says "En cours
// d'habilitation" and what is missing, and a service's request is refused with a page that says
// why and leads back to the service. A helper whose training and PIX are recorded but who has not
// accepted the charter in force signs in from a service's request: the charter comes first, and
// once accepted the request carries on to the choice of usager.
//
// Both helpers are made with the `idp` command against the run's database, each with its own
// authenticator secret (so their one-time codes do not touch the demo helper's).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { alerts, andWaitForPage, launchBrowser, newHelperPage, pathOf, useServer, visit } from './harness.mjs';
import { base32Decode, codeAtStep, STEP_SECONDS } from './totp.mjs';

const SERVICE = { clientId: 'demo-service', name: 'Service de démonstration' };
const SERVICE_CALLBACK = 'http://127.0.0.1:8765/callback';

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const today = () => new Date().toISOString().slice(0, 10);

/** Adds a helper to the demo organisation with `idp aidant add`; returns email, password, secret. */
function addHelper(email, givenName, familyName) {
  const organisation = server.seed.organisation.id;
  const out = server.idp([
    'aidant',
    'add',
    '--email',
    email,
    '--given-name',
    givenName,
    '--family-name',
    familyName,
    '--organisation',
    organisation,
  ]);
  assert.equal(out.status, 0, out.stderr);
  const added = JSON.parse(out.stdout);
  const secret = new URL(added.totp_enrolment_uri).searchParams.get('secret');
  return { email, password: added.password, secret };
}

function recordHabilitation(email, steps) {
  const out = server.idp(['aidant', 'habilitation', email, ...steps]);
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

/** Password, then the one-time code of the helper's own authenticator, from the login page shown. */
async function signIn(page, helper, prefix) {
  assert.equal(pathOf(page), '/login');
  await page.getByLabel('Adresse e-mail').fill(helper.email);
  await page.getByLabel('Mot de passe').fill(helper.password);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.equal(pathOf(page), '/login/otp', `the password was refused: ${await alerts(page)}`);
  await visit(page, server, `${prefix}-one-time-code`);
  const step = Math.floor(Date.now() / 1000 / STEP_SECONDS);
  await page.getByLabel('Code à 6 chiffres').fill(codeAtStep(base32Decode(helper.secret), step));
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.notEqual(pathOf(page), '/login/otp', `the one-time code was refused: ${await alerts(page)}`);
}

/** Sends the browser to `/authorize` as the demo service would; returns the `state`. */
async function authorize(page) {
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: SERVICE.clientId,
    redirect_uri: SERVICE_CALLBACK,
    scope: 'openid identite_pivot',
    state,
    nonce: `nonce-${Math.random().toString(36).slice(2)}`,
  });
  await page.goto(server.url(`/authorize?${query}`));
  return state;
}

async function acceptCharter(page, name) {
  assert.equal(pathOf(page), '/charte', `the charter comes first, not ${page.url()}`);
  await page.getByRole('heading', { level: 1, name: "Charte de l'aidant" }).waitFor();
  await page.getByRole('heading', { name: "3. Ne jamais garder les identifiants de l'usager" }).waitFor();
  await visit(page, server, name);
  await andWaitForPage(page, () => page.getByRole('button', { name: "J'accepte la charte" }).click());
}

test('a helper in habilitation sees what is missing and is refused by a service with the way back', async () => {
  const helper = addHelper('lea.roux@france-services.example.fr', 'Léa', 'Roux');
  const status = recordHabilitation(helper.email, ['--training', today()]);
  assert.match(status, /missing: PIX certification, charter acceptance/);

  const page = await newHelperPage(browser);
  await page.goto(server.url('/login'));
  await signIn(page, helper, 'habilitation-login');
  await acceptCharter(page, 'habilitation-charter');

  assert.equal(pathOf(page), '/espace-aidant');
  await visit(page, server, 'habilitation-home');
  const callout = page.locator('#habilitation');
  await callout.getByRole('heading', { name: "En cours d'habilitation" }).waitFor();
  const said = await callout.innerText();
  assert.match(said, /la certification PIX/);
  assert.doesNotMatch(said, /formation des aidants/, 'the training is recorded');
  assert.doesNotMatch(said, /charte/, 'the charter is accepted');
  assert.equal(await page.locator('main a.fr-btn', { hasText: 'Créer un mandat' }).count(), 0, 'no new-mandate button');

  // A service asks: the flow refuses, says why and who to ask, and leads back to the service.
  const answers = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.url().startsWith(`${SERVICE_CALLBACK}?`)) answers.push(request);
  });
  const state = await authorize(page);
  assert.equal(pathOf(page), '/delegation/choix');
  await page.getByRole('heading', { level: 1, name: 'Vous ne pouvez pas encore agir pour un usager' }).waitFor();
  await visit(page, server, 'habilitation-refused');
  const text = await page.getByRole('main').innerText();
  assert.ok(text.includes(SERVICE.name), `the service is named: ${text}`);
  assert.match(text, /la certification PIX/);
  assert.match(text, /référent de votre structure/);
  const sent = page.waitForRequest((request) => answers.includes(request));
  await page.getByRole('button', { name: 'Annuler et revenir au service', exact: true }).click();
  const answer = new URL((await sent).url());
  assert.equal(answer.searchParams.get('error'), 'access_denied');
  assert.equal(answer.searchParams.get('state'), state);
  assert.equal(answer.searchParams.get('code'), null);
  await page.context().close();
});

test('a helper who has not accepted the charter in force accepts it, then the request carries on', async () => {
  const helper = addHelper('noe.bernard@france-services.example.fr', 'Noé', 'Bernard');
  const status = recordHabilitation(helper.email, ['--training', today(), '--pix', today()]);
  assert.match(status, /missing: charter acceptance/);

  const page = await newHelperPage(browser);
  await authorize(page);
  assert.equal(pathOf(page), '/login');
  await signIn(page, helper, 'charter-login');
  await page.getByText('Avant de continuer, lisez la charte').waitFor();
  const cancel = page.getByRole('button', { name: 'Annuler et revenir au service', exact: true });
  assert.equal(await cancel.count(), 1, 'the way back to the service stays offered');
  await acceptCharter(page, 'charter-pending-request');

  // Where the helper was going: the choice for the service, with the demo usagers' démarches.
  assert.equal(pathOf(page), '/delegation/choix');
  await visit(page, server, 'charter-then-choice');
  const logement = page.getByRole('button', { name: `Logement — pour Angela Claire Louise DUBOIS sur ${SERVICE.name}` });
  await logement.waitFor();

  // The charter page now says when it was accepted, without the form.
  await page.goto(server.url('/charte'));
  await page.getByText('Vous avez accepté cette version de la charte le').waitFor();
  assert.equal(await page.getByRole('button', { name: "J'accepte la charte" }).count(), 0);
  await visit(page, server, 'charter-accepted');
  const shown = server.idp(['aidant', 'show', helper.email]);
  assert.match(shown.stdout, /habilitation: habilitated/);
  await page.context().close();
});
