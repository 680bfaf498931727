// The delegation flow as a helper goes through it for a service (issue 10): the whole flow through
// the practice service with the keyboard alone, from a browser not signed in to what the service
// received, for a one-click démarche and for `argent` with its warning and confirmation; then
// "Annuler et revenir au service" from each page of the flow (login, one-time code, choice,
// argent confirmation, and the page that says nobody can be represented), which must bring the
// service `error=access_denied` with the `state` of its request (RFC 6749 §4.1.2.1). The name of
// the service is read on every page of the flow.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  alerts,
  andWaitForPage,
  DEMO_HELPER,
  escapeRegExp,
  launchBrowser,
  newHelperPage,
  oneTimeCode,
  pathOf,
  signedInState,
  useServer,
  visit,
} from './harness.mjs';

/** The client `idp demo seed` registers; the practice service uses it too. */
const SERVICE = { clientId: 'demo-service', name: 'Service de démonstration' };
/** The demo client's second redirect URI: nothing listens there, the tests answer for it. */
const SERVICE_CALLBACK = 'http://127.0.0.1:8765/callback';

// Angela DUBOIS holds argent, logement and social in the demo data (`idp demo seed`).
const ANGELA = { fullName: 'Angela Claire Louise DUBOIS', givenName: 'Angela Claire Louise', familyName: 'DUBOIS' };
const LOGEMENT = { key: 'logement', title: 'Logement' };
const ARGENT = { key: 'argent', title: 'Argent - Impôts - Consommation' };
// A démarche no usager holds: neither the demo data nor any test of the suite gives a mandate
// for it, so a service asking only for it finds nobody to represent.
const JUSTICE = 'justice';

/** Key presses allowed to reach an element with Tab; a page needing more is a page to fix. */
const MAX_TABS = 60;

const server = await useServer();
let browser;
/** Cookies of a signed-in helper, for the tests that start after the login. */
let signedIn;
before(async () => {
  browser = await launchBrowser();
  signedIn = await signedInState(browser, server, 'delegation-login');
});
after(async () => {
  await browser?.close();
});


/** The button of a démarche for a usager on the choice page ("Logement — pour Angela … sur …"). */
const demarcheButton = (page, demarche, usager) =>
  page.getByRole('button', {
    name: new RegExp(
      `^${escapeRegExp(demarche.title)} — pour ${escapeRegExp(usager.fullName)} sur ${escapeRegExp(SERVICE.name)}$`,
    ),
  });

const cancelButton = (page) => page.getByRole('button', { name: 'Annuler et revenir au service', exact: true });

/**
 * Presses Tab until `target` has the focus, from wherever the page put it (the start of the page,
 * or a field with `autofocus`), and never anything else: the target must come next in the focus
 * order. Returns how many presses it took.
 */
async function tabTo(page, target, what) {
  await target.waitFor({ state: 'visible' });
  for (let presses = 0; presses <= MAX_TABS; presses += 1) {
    if (await target.evaluate((el) => el === document.activeElement)) return presses;
    await page.keyboard.press('Tab');
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120) ?? 'nothing');
  return assert.fail(`${what}: not reached with Tab in ${MAX_TABS} presses on ${page.url()} (focus on ${focused})`);
}

/** Tabs to a button or link and presses Enter, waiting for the page it leads to. */
async function enterOn(page, target, what) {
  await tabTo(page, target, what);
  return andWaitForPage(page, () => page.keyboard.press('Enter'));
}

/** Tabs to a text field and types `text` into it, as the focused field. */
async function typeInto(page, field, text, what) {
  await tabTo(page, field, what);
  await page.keyboard.type(text);
  assert.equal(await field.inputValue(), text, `${what}: typed with the keyboard`);
}

/** The service the helper acts on is named on the page, in what the page shows. */
async function assertServiceNamed(page, where) {
  const shown = await page.locator('main').innerText();
  assert.ok(shown.includes(SERVICE.name), `${where}: the service's name is not shown (${page.url()}):\n${shown}`);
}

/** Visits (axe, screenshot) a page of the flow, checks its path and that it names the service. */
async function flowPage(page, expectedPath, name) {
  const where = `expected ${expectedPath}, the browser is on ${page.url()}`;
  assert.equal(pathOf(page), expectedPath, `${where}: ${await alerts(page)}`);
  await visit(page, server, name);
  await assertServiceNamed(page, name);
}

/** What the practice service's result page lists: each `<dt>` with its `<dd>`, and the raw claims. */
async function received(page) {
  const fields = await page
    .locator('main dl dt')
    .evaluateAll((terms) => terms.map((dt) => [dt.innerText.trim(), dt.nextElementSibling?.innerText.trim()]));
  const claims = JSON.parse(await page.locator('main pre').innerText());
  return { fields: Object.fromEntries(fields), claims };
}

/** The practice service's start page, then its button pressed with the keyboard. */
async function startPracticeService(page, name) {
  await page.goto(server.url('/sandbox'));
  assert.equal(pathOf(page), '/sandbox');
  await visit(page, server, name);
  await enterOn(page, page.getByRole('button', { name: "Commencer une démarche d'essai" }), 'the button Commencer');
}

/** The `state` of the last authorization request the browser sent (`/authorize?…`). */
function watchAuthorizationRequests(page) {
  const sent = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === server.baseUrl && url.pathname === '/authorize') sent.push(url);
  });
  return {
    lastState() {
      assert.ok(sent.length > 0, 'no authorization request was sent');
      return sent.at(-1).searchParams.get('state');
    },
  };
}

test('the whole flow through the practice service with the keyboard alone, then argent after its warning', async () => {
  const page = await newHelperPage(browser);

  // Not signed in: the practice service's request leads to the login page.
  await startPracticeService(page, 'keyboard-sandbox');
  await flowPage(page, '/login', 'keyboard-login');
  await typeInto(page, page.getByLabel('Adresse e-mail'), DEMO_HELPER.email, 'the e-mail field');
  await typeInto(page, page.getByLabel('Mot de passe'), DEMO_HELPER.password, 'the password field');
  await andWaitForPage(page, () => page.keyboard.press('Enter'));

  await flowPage(page, '/login/otp', 'keyboard-one-time-code');
  await typeInto(page, page.getByLabel('Code à 6 chiffres'), await oneTimeCode(server), 'the one-time code field');
  await andWaitForPage(page, () => page.keyboard.press('Enter'));

  // The choice: one button per usager and démarche, nothing chosen in advance.
  await flowPage(page, '/delegation/choix', 'keyboard-delegation-choix');
  await enterOn(page, demarcheButton(page, LOGEMENT, ANGELA), 'the button Logement for Angela DUBOIS');

  assert.equal(pathOf(page), '/sandbox/callback', `after the choice the browser is on ${page.url()}`);
  await visit(page, server, 'keyboard-sandbox-received');
  let got = await received(page);
  assert.equal(got.fields['Nom de naissance'], ANGELA.familyName);
  assert.equal(got.fields['Prénoms'], ANGELA.givenName);
  assert.equal(got.fields['Démarche'], LOGEMENT.title);
  assert.equal(got.fields['Aidant'], DEMO_HELPER.name);
  assert.equal(got.claims.mandate?.demarche, LOGEMENT.key, 'the démarche in the ID token');
  assert.equal(got.claims.act?.email, DEMO_HELPER.email, 'the acting helper in the ID token');

  // Again, for argent: the helper is signed in, so the service's request leads to the choice.
  await startPracticeService(page, 'keyboard-argent-sandbox');
  await flowPage(page, '/delegation/choix', 'keyboard-argent-delegation-choix');
  const argent = demarcheButton(page, ARGENT, ANGELA);
  // The warning is on the page, visible, and read out with the button (its description).
  const warningId = await argent.getAttribute('aria-describedby');
  assert.ok(warningId, 'the argent button is described by its warning');
  const warning = page.locator(`[id="${warningId}"]`);
  assert.ok(await warning.isVisible(), 'the argent warning is visible on the choice page');
  assert.match(await warning.innerText(), /^Attention/);
  await enterOn(page, argent, 'the button Argent for Angela DUBOIS');

  await flowPage(page, '/delegation/confirmation', 'keyboard-argent-confirmation');
  const confirmation = await page.locator('main').innerText();
  assert.match(confirmation, /Attention/, 'the warning again before the choice is final');
  assert.ok(confirmation.includes(ANGELA.fullName), 'the usager named on the confirmation');
  assert.ok(confirmation.includes(ARGENT.title), 'the démarche named on the confirmation');
  const confirm = page.getByRole('button', { name: 'Je confirme, continuer', exact: true });
  await enterOn(page, confirm, 'the button Je confirme');

  assert.equal(pathOf(page), '/sandbox/callback', `after the confirmation the browser is on ${page.url()}`);
  await visit(page, server, 'keyboard-argent-sandbox-received');
  got = await received(page);
  assert.equal(got.fields['Nom de naissance'], ANGELA.familyName);
  assert.equal(got.fields['Démarche'], ARGENT.title);
  assert.equal(got.claims.mandate?.demarche, ARGENT.key, 'the démarche in the ID token');
  await page.context().close();
});

/**
 * A browser page whose answers to the demo client's second redirect URI are remembered. Nothing
 * listens on that port: the browser's navigation there is read from its request (Playwright's
 * `page.route` does not see the target of a redirect, and the answer to the service is one), and
 * then fails, which is fine since the service's page is not what is tested.
 */
async function serviceBrowser({ signedIn: storageState } = {}) {
  const page = await newHelperPage(browser, { storageState });
  const answers = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.url().startsWith(`${SERVICE_CALLBACK}?`)) answers.push(request);
  });
  return { page, answers };
}

/**
 * Sends the browser to `/authorize` as the demo client would, with a fresh `state`; `repScope`
 * narrows the démarches (FranceConnect v2's `claims` parameter). Returns the `state`.
 */
async function authorize(page, { repScope } = {}) {
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: SERVICE.clientId,
    redirect_uri: SERVICE_CALLBACK,
    scope: 'openid identite_pivot',
    state,
    nonce: `nonce-${Math.random().toString(36).slice(2)}`,
  });
  if (repScope) query.set('claims', JSON.stringify({ id_token: { rep_scope: { essential: true, values: repScope } } }));
  await page.goto(server.url(`/authorize?${query}`));
  return state;
}

/**
 * Presses "Annuler et revenir au service" with the keyboard and checks the service's answer, sent
 * by the cancel form's response: `error=access_denied` with the request's `state`, and no code.
 */
async function cancelAndCheck(page, answers, state, where) {
  await tabTo(page, cancelButton(page), `the cancel button (${where})`);
  const sent = page.waitForRequest((request) => answers.includes(request));
  await page.keyboard.press('Enter');
  const request = await sent;
  assert.equal(answers.length, 1, `${where}: the service got ${answers.length} answers`);
  const from = request.redirectedFrom();
  const sentBy = from && `${from.method()} ${new URL(from.url()).pathname}`;
  assert.equal(sentBy, 'POST /delegation/annuler', `${where}: the answer of the cancel form`);
  const answer = new URL(request.url());
  assert.equal(answer.searchParams.get('error'), 'access_denied', `${where}: ${answer}`);
  assert.equal(answer.searchParams.get('state'), state, `${where}: the request's state`);
  assert.equal(answer.searchParams.get('code'), null, `${where}: no code`);
}

test('cancel from the login page', async () => {
  const { page, answers } = await serviceBrowser();
  const state = await authorize(page);
  await flowPage(page, '/login', 'cancel-login');
  await cancelAndCheck(page, answers, state, 'login');
  await page.context().close();
});

test('cancel from the one-time code page', async () => {
  const { page, answers } = await serviceBrowser();
  const state = await authorize(page);
  await flowPage(page, '/login', 'cancel-otp-login');
  await typeInto(page, page.getByLabel('Adresse e-mail'), DEMO_HELPER.email, 'the e-mail field');
  await typeInto(page, page.getByLabel('Mot de passe'), DEMO_HELPER.password, 'the password field');
  await andWaitForPage(page, () => page.keyboard.press('Enter'));
  await flowPage(page, '/login/otp', 'cancel-otp');
  await cancelAndCheck(page, answers, state, 'one-time code');
  await page.context().close();
});

test('cancel from the choice page', async () => {
  const { page, answers } = await serviceBrowser({ signedIn });
  const state = await authorize(page);
  await flowPage(page, '/delegation/choix', 'cancel-choix');
  await cancelAndCheck(page, answers, state, 'choice');
  await page.context().close();
});

test('cancel from the argent confirmation page', async () => {
  const { page, answers } = await serviceBrowser({ signedIn });
  const state = await authorize(page);
  await flowPage(page, '/delegation/choix', 'cancel-confirmation-choix');
  await enterOn(page, demarcheButton(page, ARGENT, ANGELA), 'the button Argent for Angela DUBOIS');
  await flowPage(page, '/delegation/confirmation', 'cancel-confirmation');
  await cancelAndCheck(page, answers, state, 'argent confirmation');
  await page.context().close();
});

test('a request nobody can satisfy says so, and cancel from that page', async () => {
  const { page, answers } = await serviceBrowser({ signedIn });
  const state = await authorize(page, { repScope: [JUSTICE] });
  await flowPage(page, '/delegation/choix', 'cancel-nobody');
  await page.getByRole('heading', { level: 1, name: 'Aucune démarche possible' }).waitFor();
  assert.match(await alerts(page), /Aucune personne .* ne peut être représentée sur ce service/);
  assert.equal(await page.locator('button[name="choix"]').count(), 0, 'no démarche button to press');
  await cancelAndCheck(page, answers, state, 'nobody can be represented');
  await page.context().close();
});

test('cancelled from the practice service, the service hears access_denied and explains it', async () => {
  const page = await newHelperPage(browser, { storageState: signedIn });
  const requests = watchAuthorizationRequests(page);
  await startPracticeService(page, 'cancel-sandbox');
  await flowPage(page, '/delegation/choix', 'cancel-sandbox-choix');
  await enterOn(page, cancelButton(page), 'the cancel button');

  assert.equal(pathOf(page), '/sandbox/callback', `after cancel the browser is on ${page.url()}`);
  const answer = new URL(page.url()).searchParams;
  assert.equal(answer.get('error'), 'access_denied');
  assert.equal(answer.get('state'), requests.lastState(), "the practice service's state");
  await visit(page, server, 'cancel-sandbox-callback');
  await page.getByRole('heading', { level: 1, name: "Le service d'essai n'a rien reçu" }).waitFor();
  assert.match(await alerts(page), /annulé/, 'the page says the helper cancelled');
  await page.context().close();
});
