// A helper logs in with their password and the one-time code of their app, and lands on their
// signed-in home. A code already used is refused: each one works once. (One test, and one code,
// because each 30-s step gives one code: the fewer codes, the faster the suite.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  alerts,
  andWaitForPage,
  DEMO_HELPER,
  launchBrowser,
  logIn,
  newHelperPage,
  pathOf,
  useServer,
  visit,
} from './harness.mjs';
import { base32Decode, codeAtStep, STEP_SECONDS } from './totp.mjs';

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The signed-in home: the helper space once it exists (`GET /` sends the helper there). */
async function assertSignedInHome(page) {
  if (pathOf(page) === '/espace-aidant') {
    await page.getByRole('heading', { level: 1, name: 'Mes usagers' }).waitFor();
  } else {
    assert.equal(pathOf(page), '/', `after the one-time code the browser is on ${page.url()}`);
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(`connecté en tant que\\s+${DEMO_HELPER.name}`));
  }
  assert.equal(await page.getByLabel('Mot de passe').count(), 0, 'no login form on the signed-in home');
}

test("the suite's one-time codes are the ones the server computes", () => {
  const before = Math.floor(Date.now() / 1000 / STEP_SECONDS);
  const printed = server.idp(['demo', 'code']);
  const afterStep = Math.floor(Date.now() / 1000 / STEP_SECONDS);
  assert.equal(printed.status, 0, printed.stderr);
  const key = base32Decode(DEMO_HELPER.totpSecret);
  // The step may change while the command runs.
  const ours = new Set([codeAtStep(key, before), codeAtStep(key, afterStep)]);
  assert.ok(ours.has(printed.stdout.trim()), `idp demo code printed ${printed.stdout.trim()}, ours ${[...ours]}`);
});

test('login with password and one-time code lands on the signed-in home; the code then works no more', async () => {
  const page = await newHelperPage(browser);
  await page.goto(server.url('/'));
  await visit(page, server, 'home-anonymous');
  await andWaitForPage(page, () => page.getByRole('link', { name: 'Connexion aidant' }).click());
  const code = await logIn(page, server);
  await visit(page, server, 'home-signed-in');
  await assertSignedInHome(page);
  await page.context().close();

  // The same code in a second browser, as if read over the helper's shoulder.
  const other = await newHelperPage(browser);
  await other.goto(server.url('/login'));
  await other.getByLabel('Adresse e-mail').fill(DEMO_HELPER.email);
  await other.getByLabel('Mot de passe').fill(DEMO_HELPER.password);
  await andWaitForPage(other, () => other.getByRole('button', { name: 'Continuer' }).click());
  await other.getByLabel('Code à 6 chiffres').fill(code);
  await andWaitForPage(other, () => other.getByRole('button', { name: 'Continuer' }).click());
  assert.equal(pathOf(other), '/login/otp');
  await visit(other, server, 'one-time-code-refused');
  assert.match(await alerts(other), /n'est pas valide ou a déjà été utilisé/);
  await other.context().close();
});
