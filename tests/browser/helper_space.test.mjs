// The helper's space, end to end as a France Services helper uses it (issue 9, against the page
// contract): a new mandate for two démarches over six months with the usager's identity verified
// by the demo upstream provider; its attestation, printed, whose hash `idp attestation verify`
// accepts; the practice service used with one of the démarches; that démarche revoked, after
// which the practice service can no longer get it; the mandate renewed. Then the whole wizard
// again, with the keyboard alone.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  alerts,
  andWaitForPage,
  escapeRegExp,
  launchBrowser,
  newHelperPage,
  oneTimeCode,
  pathOf,
  printScreenshot,
  signedInState,
  tick,
  useServer,
  visit,
} from './harness.mjs';

// Citizens of the demo upstream provider (idp/src/demo_upstream/citizens.rs) with no mandate in
// the demo data (`idp demo seed` gives mandates to Angela DUBOIS and João SILVA), one per test so
// that neither depends on the other. Fatoumata was born abroad on an unknown day.
const NEW_USAGER = { fullName: 'Fatoumata DIALLO', familyName: 'DIALLO' };
const KEYBOARD_USAGER = { fullName: 'Jean-Pierre Marcel LEFEBVRE', familyName: 'LEFEBVRE' };

const DEMARCHES = [
  ...['papiers', 'famille', 'social', 'travail', 'logement'],
  ...['transports', 'argent', 'justice', 'etranger', 'loisirs'],
];
const LOGEMENT = { key: 'logement', title: 'Logement' };
const FAMILLE = { key: 'famille', title: 'Famille - Scolarité' };
const SEMESTER = { key: 'semester', label: '6 mois', days: 182 };
const LONG = { key: 'long', label: '1 an', days: 365 };

const MANDATE_ATTESTATION = /^\/espace-aidant\/mandats\/([^/]+)\/attestation$/;
const USAGER_PAGE = /^\/espace-aidant\/usagers\/([^/]+)$/;

const server = await useServer();
let browser;
/** Cookies of a signed-in helper: the tests start signed in (each login spends a time step). */
let signedIn;
before(async () => {
  browser = await launchBrowser();
  signedIn = await signedInState(browser, server, 'helper-space-login');
});
after(async () => {
  await browser?.close();
});


/** The text of the labels of a form control. */
const labelOf = (control) => control.evaluate((el) => [...el.labels].map((l) => l.innerText).join(' ').trim());

/** The text of what describes a form control (`aria-describedby`). */
const descriptionOf = (control) =>
  control.evaluate((el) =>
    (el.getAttribute('aria-describedby') || '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.innerText ?? '')
      .join(' '),
  );

/** The mandate id in the attestation page's path. */
function mandateIdOf(page) {
  const match = pathOf(page).match(MANDATE_ATTESTATION);
  assert.ok(match, `expected a mandate's attestation, the browser is on ${page.url()}`);
  return match[1];
}

/** Possible renderings of the end date of a mandate of `days` days starting today (UTC), ±1 day. */
function endDateTexts(days) {
  const long = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const numeric = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeZone: 'UTC' });
  const texts = [];
  for (const shift of [-1, 0, 1]) {
    const date = new Date(Date.now() + (days + shift) * 86_400_000);
    const words = long.format(date);
    // French writes the first of the month "1er".
    texts.push(words, words.replace(/^1 /, '1er '), numeric.format(date), date.toISOString().slice(0, 10));
  }
  return texts;
}

/** The journal's `mandate_created` entry of a mandate, read with `idp journal list`. */
function mandateCreatedEntry(mandateId) {
  const listed = server.idp(['journal', 'list', '--format', 'json', '--action', 'mandate_created', '--limit', '1000']);
  assert.equal(listed.status, 0, listed.stderr);
  const entry = JSON.parse(listed.stdout).find((e) => e.mandate_id === mandateId);
  assert.ok(entry, `no mandate_created entry for ${mandateId} in the journal`);
  return { ...entry, details: JSON.parse(entry.details) };
}

/**
 * The attestation the browser shows: its hash is the one journalled at creation, and
 * `idp attestation verify` recomputes it from the stored data (exit 0).
 */
async function checkAttestation(page, mandateId, name) {
  await page.getByRole('heading', { level: 1, name: 'Attestation de mandat' }).waitFor();
  const hash = (await page.locator('#attestation-hash').innerText()).trim();
  assert.match(hash, /^[0-9a-f]{64}$/, 'the attestation hash as hexadecimal SHA-256');
  assert.equal(mandateCreatedEntry(mandateId).details.attestation_sha256, hash, 'the hash journalled at creation');
  assert.ok((await page.locator('svg').count()) > 0, 'a QR code as SVG');
  await page.getByRole('button', { name: 'Imprimer', exact: true }).waitFor();
  await printScreenshot(page, server, `${name}-print`);
  const verified = server.idp(['attestation', 'verify', mandateId]);
  assert.equal(verified.status, 0, `idp attestation verify ${mandateId}: ${verified.stdout}${verified.stderr}`);
  return hash;
}

/** Opens the helper space's home. */
async function openHome(page, name = 'espace-aidant') {
  await page.goto(server.url('/espace-aidant'));
  assert.equal(pathOf(page), '/espace-aidant', `the helper space's home, not ${page.url()}`);
  await visit(page, server, name);
  await page.getByRole('heading', { level: 1, name: 'Mes usagers' }).waitFor();
}

/** The link to a usager's page on the home: its text is their full name. */
const usagerLink = (page, fullName) => page.getByRole('link', { name: fullName, exact: true });

/** The link to the new-mandate wizard (the space's navigation has one too: both lead there). */
const createMandateLink = (page) => page.getByRole('link', { name: 'Créer un mandat', exact: true }).first();

/** Clicks `locator` (a button or link) and waits for the page it leads to. */
const press = (page, locator) => andWaitForPage(page, () => locator.click());

/** The demo upstream provider's page: the usager picks themselves. */
async function upstreamLogin(page, usager, name) {
  assert.equal(pathOf(page), '/demo-upstream/authorize', `expected the demo upstream page, got ${page.url()}`);
  await visit(page, server, name);
  await press(page, page.getByRole('button', { name: usager.fullName }));
}

/**
 * The practice service from its start page to where the delegation pages lead, pressing the
 * button of `usager` and `demarche` when it is offered (one click), confirming `argent`. Returns
 * where it stopped: `callback` (the service received a token), `usager` (no button for them),
 * `demarche` (buttons for them, not this one), or `error` (a page refusing the request).
 */
async function practiceService(page, usager, demarche, name) {
  await page.goto(server.url('/sandbox'));
  await visit(page, server, `${name}-sandbox`);
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
      await visit(page, server, `${name}-delegation-confirmation`);
      await press(page, page.getByRole('button', { name: 'Je confirme, continuer' }));
    } else {
      await visit(page, server, `${name}-sandbox-refused`);
      return { stop: 'error', text: await page.locator('main').innerText() };
    }
  }
  assert.fail(`the practice service did not end: ${page.url()}`);
}

test('the home lists the usagers, flags mandates expiring within 30 days, finds a usager by name', async () => {
  const page = await newHelperPage(browser, { storageState: signedIn });
  // `GET /` sends a signed-in helper to their space.
  await page.goto(server.url('/'));
  assert.equal(pathOf(page), '/espace-aidant', `GET / led a signed-in helper to ${page.url()}`);
  await openHome(page, 'espace-aidant-demo-data');
  const angela = usagerLink(page, 'Angela Claire Louise DUBOIS');
  const joao = usagerLink(page, 'João SILVA');
  assert.equal(await angela.count(), 1, "Angela's link");
  assert.equal(await joao.count(), 1, "João's link");
  assert.match(await angela.getAttribute('href'), new RegExp(`/espace-aidant/usagers/${server.seed.usagers[0].id}$`));
  // The header names the helper and their current organisation.
  assert.match(await page.getByRole('banner').innerText(), /France Services Démo/, 'the current organisation shown');
  // The demo mandates last a year: none is flagged, until João gets a one-day mandate.
  const soon = page.getByText('Expire bientôt');
  const flaggedBefore = await soon.count();
  const added = server.idp([
    'mandate', 'add',
    '--organisation', server.seed.organisation.id,
    '--usager', server.seed.usagers[1].id,
    '--aidant', server.seed.aidant.id,
    '--demarche', 'transports',
    '--duration', 'short',
  ]);
  assert.equal(added.status, 0, added.stderr);
  await openHome(page, 'espace-aidant-expiring');
  assert.equal(await soon.count(), flaggedBefore + 1, "João's one-day mandate flagged");

  const search = page.getByLabel('Rechercher un usager');
  await search.fill('silva');
  await andWaitForPage(page, () => search.press('Enter'));
  assert.equal(pathOf(page), '/espace-aidant');
  assert.equal(new URL(page.url()).searchParams.get('q'), 'silva');
  await visit(page, server, 'espace-aidant-search');
  assert.equal(await joao.count(), 1, 'João found');
  assert.equal(await angela.count(), 0, 'Angela not listed when looking for SILVA');
  await page.context().close();
});

test('a new mandate through the demo upstream; attestation; practice service; revocation; renewal', async () => {
  const page = await newHelperPage(browser, { storageState: signedIn });
  await openHome(page);

  // Step 1: démarches.
  await press(page, createMandateLink(page));
  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau');
  await visit(page, server, 'nouveau-demarches');
  const keys = await page.locator('input[type="checkbox"][name="demarche"]').evaluateAll((b) => b.map((x) => x.value));
  assert.deepEqual(keys.toSorted(), DEMARCHES.toSorted(), 'every démarche offered');
  for (const demarche of [FAMILLE, LOGEMENT]) {
    const box = page.locator(`input[type="checkbox"][name="demarche"][value="${demarche.key}"]`);
    assert.match(await labelOf(box), new RegExp(escapeRegExp(demarche.title)), `the label of ${demarche.key}`);
    await tick(box);
  }
  // Money matters carry a warning, read out with the box (its description) and not only seen.
  const argent = page.locator('input[name="demarche"][value="argent"]');
  assert.match(await labelOf(argent), /Argent/);
  assert.match(await descriptionOf(argent), /Attention/, 'the warning of argent');
  await press(page, page.getByRole('button', { name: 'Continuer', exact: true }));

  // Step 2: duration.
  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/duree', `after the démarches: ${await alerts(page)}`);
  const draft = new URL(page.url()).searchParams.get('brouillon');
  assert.ok(draft, 'the draft in the address');
  await visit(page, server, 'nouveau-duree');
  const semester = page.locator(`input[type="radio"][name="duree"][value="${SEMESTER.key}"]`);
  assert.match(await labelOf(semester), new RegExp(SEMESTER.label));
  await tick(semester);
  await press(page, page.getByRole('button', { name: 'Continuer', exact: true }));

  // Step 3: the usager's identity, verified upstream.
  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/identite', `after the duration: ${await alerts(page)}`);
  assert.equal(new URL(page.url()).searchParams.get('brouillon'), draft);
  await visit(page, server, 'nouveau-identite');
  await press(page, page.getByRole('button', { name: /S.identifier avec FranceConnect/ }));
  await upstreamLogin(page, NEW_USAGER, 'demo-upstream');

  // Step 4: recap, consent and signature.
  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/recapitulatif', `after the upstream login: ${page.url()}`);
  assert.equal(new URL(page.url()).searchParams.get('brouillon'), draft);
  await visit(page, server, 'nouveau-recapitulatif');
  const recap = await page.locator('main').innerText();
  assert.match(recap, new RegExp(escapeRegExp(NEW_USAGER.familyName)), 'the usager in the recap');
  for (const demarche of [FAMILLE, LOGEMENT]) assert.match(recap, new RegExp(escapeRegExp(demarche.title)));
  assert.match(recap, new RegExp(SEMESTER.label));
  assert.ok(endDateTexts(SEMESTER.days).some((d) => recap.includes(d)), `the end date in the recap:\n${recap}`);
  const consent = page.locator('input[type="checkbox"][name="consentement"]');
  assert.match(await labelOf(consent), /^L['’]usager a lu/);
  await tick(consent);
  await page.getByLabel('Code à usage unique').fill(await oneTimeCode(server));
  await press(page, page.getByRole('button', { name: 'Signer le mandat', exact: true }));

  // The attestation, its translations, and its hash verified from the command line.
  const mandateId = mandateIdOf(page);
  await visit(page, server, 'attestation');
  await checkAttestation(page, mandateId, 'attestation');
  for (const langue of ['en', 'es', 'pt', 'ar']) {
    const link = page.locator(`a[href*="langue=${langue}"]`);
    assert.ok((await link.count()) > 0, `a link to the ${langue} translation`);
  }
  for (const langue of ['en', 'es', 'pt', 'ar']) {
    await page.goto(server.url(`/espace-aidant/mandats/${mandateId}/attestation?langue=${langue}`));
    await visit(page, server, `attestation-${langue}`);
  }
  assert.ok((await page.locator('[dir="rtl"]').count()) > 0, 'the Arabic translation is laid out right to left');

  // The practice service gets the logement démarche for the new usager.
  const used = await practiceService(page, NEW_USAGER, LOGEMENT, 'practice');
  assert.equal(used.stop, 'callback', `the practice service stopped at ${used.stop}: ${used.text ?? ''}`);
  assert.match(used.text, /Démarche\s+Logement/, 'the démarche the service received, in words');
  assert.ok(endDateTexts(SEMESTER.days).some((d) => used.text.includes(d)), `the mandate's end date:\n${used.text}`);
  assert.match(used.text, new RegExp(escapeRegExp(NEW_USAGER.familyName), 'i'), 'the usager the service received');

  // Revoking logement on the usager's page.
  await openHome(page);
  await press(page, usagerLink(page, NEW_USAGER.fullName));
  const usagerPath = pathOf(page);
  assert.match(usagerPath, USAGER_PAGE);
  await visit(page, server, 'usager');
  const revokeLogement = page.getByRole('button', { name: /^(?=.*révoquer)(?=.*logement)/i });
  const revokeFamille = page.getByRole('button', { name: /^(?=.*révoquer)(?=.*famille)/i });
  assert.equal(await revokeLogement.count(), 1, 'one Révoquer button for logement');
  const form = page.locator('form').filter({ has: revokeLogement });
  await form.locator('input[name="otp"]').fill(await oneTimeCode(server));
  await press(page, revokeLogement);
  assert.equal(pathOf(page), usagerPath, `after the revocation: ${await alerts(page)}`);
  await visit(page, server, 'usager-logement-revoked');
  assert.equal(await revokeLogement.count(), 0, 'logement is no longer revocable: it is revoked');
  assert.equal(await revokeFamille.count(), 1, 'famille stays in force');

  // The practice service can no longer get logement for this usager.
  const refused = await practiceService(page, NEW_USAGER, LOGEMENT, 'practice-after-revocation');
  assert.notEqual(refused.stop, 'callback', `the practice service still got logement: ${refused.text}`);

  // Renewal with what is still in force (famille), for a year.
  await page.goto(server.url(usagerPath));
  await press(page, page.getByRole('link', { name: 'Renouveler le mandat', exact: true }));
  assert.equal(pathOf(page), `/espace-aidant/mandats/${mandateId}/renouvellement`);
  await visit(page, server, 'renouvellement');
  const offered = page.locator('input[type="checkbox"][name="demarche"]');
  const values = await offered.evaluateAll((boxes) => boxes.map((b) => [b.value, b.checked]));
  assert.deepEqual(values, [[FAMILLE.key, true]], 'the démarches in force, ticked');
  await tick(page.locator(`input[type="radio"][name="duree"][value="${LONG.key}"]`));
  await tick(page.locator('input[type="checkbox"][name="consentement"]'));
  await page.getByLabel('Code à usage unique').fill(await oneTimeCode(server));
  await press(page, page.getByRole('button', { name: 'Renouveler le mandat', exact: true }));
  const renewedId = mandateIdOf(page);
  assert.notEqual(renewedId, mandateId, 'a renewal is a new mandate');
  await visit(page, server, 'attestation-renewed');
  await checkAttestation(page, renewedId, 'attestation-renewed');
  await page.context().close();
});

/**
 * Moves the focus to `target` with Tab or Shift+Tab (arrow keys inside a radio group, as browsers
 * move between radios), never clicking; fails when it cannot be reached.
 */
async function focusWithKeyboard(page, target, what, maxPresses = 60) {
  await target.waitFor({ state: 'attached' });
  for (let presses = 0; presses <= maxPresses; presses += 1) {
    const move = await target.evaluate((el) => {
      const active = document.activeElement;
      if (el === active) return null;
      if (!active || active === document.body) return 'Tab';
      const ahead = active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
      if (active.type === 'radio' && el.type === 'radio' && active.name === el.name && active.form === el.form) {
        return ahead ? 'ArrowDown' : 'ArrowUp';
      }
      return ahead ? 'Tab' : 'Shift+Tab';
    });
    if (move === null) return;
    await page.keyboard.press(move);
  }
  assert.fail(`${what}: not reached with the keyboard in ${maxPresses} key presses`);
}

/** Focuses `target` with the keyboard and presses Enter, waiting for the page it leads to. */
async function enterOn(page, target, what) {
  await focusWithKeyboard(page, target, what);
  await andWaitForPage(page, () => page.keyboard.press('Enter'));
}

/** Focuses a checkbox with the keyboard and ticks it with Space. */
async function tickWithSpace(page, box, what) {
  await focusWithKeyboard(page, box, what);
  await page.keyboard.press('Space');
  assert.ok(await box.isChecked(), `${what} ticked with Space`);
}

/** Focuses a text field with the keyboard and types into it. */
async function typeInto(page, field, text, what) {
  await focusWithKeyboard(page, field, what);
  await page.keyboard.type(text);
}

test('the whole new-mandate wizard with the keyboard alone', async () => {
  const page = await newHelperPage(browser, { storageState: signedIn });
  await page.goto(server.url('/espace-aidant'));
  await visit(page, server, 'keyboard-espace-aidant');
  await enterOn(page, createMandateLink(page), 'the link Créer un mandat');

  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau');
  await visit(page, server, 'keyboard-nouveau-demarches');
  for (const demarche of [FAMILLE, LOGEMENT]) {
    const box = page.locator(`input[type="checkbox"][name="demarche"][value="${demarche.key}"]`);
    await tickWithSpace(page, box, `the démarche ${demarche.key}`);
  }
  await enterOn(page, page.getByRole('button', { name: 'Continuer', exact: true }), 'the button Continuer (démarches)');

  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/duree', `after the démarches: ${await alerts(page)}`);
  await visit(page, server, 'keyboard-nouveau-duree');
  const semester = page.locator(`input[type="radio"][name="duree"][value="${SEMESTER.key}"]`);
  await focusWithKeyboard(page, semester, 'the duration 6 mois');
  // Arrow keys select the radio they land on; Space selects one focused by Tab.
  if (!(await semester.isChecked())) await page.keyboard.press('Space');
  assert.ok(await semester.isChecked(), '6 mois chosen with the keyboard');
  await enterOn(page, page.getByRole('button', { name: 'Continuer', exact: true }), 'the button Continuer (duration)');

  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/identite', `after the duration: ${await alerts(page)}`);
  await visit(page, server, 'keyboard-nouveau-identite');
  await enterOn(page, page.getByRole('button', { name: /S.identifier avec FranceConnect/ }), 'FranceConnect');

  assert.equal(pathOf(page), '/demo-upstream/authorize', `expected the demo upstream page, got ${page.url()}`);
  await visit(page, server, 'keyboard-demo-upstream');
  await enterOn(page, page.getByRole('button', { name: KEYBOARD_USAGER.fullName }), 'the citizen on the demo page');

  assert.equal(pathOf(page), '/espace-aidant/mandats/nouveau/recapitulatif', `after the upstream login: ${page.url()}`);
  await visit(page, server, 'keyboard-nouveau-recapitulatif');
  await tickWithSpace(page, page.locator('input[type="checkbox"][name="consentement"]'), 'the consent box');
  await typeInto(page, page.getByLabel('Code à usage unique'), await oneTimeCode(server), 'the one-time code');
  const sign = page.getByRole('button', { name: 'Signer le mandat', exact: true });
  await enterOn(page, sign, 'the button Signer le mandat');

  const mandateId = mandateIdOf(page);
  await visit(page, server, 'keyboard-attestation');
  await checkAttestation(page, mandateId, 'keyboard-attestation');
  await page.context().close();
});
