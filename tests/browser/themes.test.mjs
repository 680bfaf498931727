// Both themes, as a helper sees them: the run's server in the State design system's theme (with
// the Marianne identity), and a second server in the neutral theme (`ui.theme = "neutral"`, for
// an operator that is not a State service: no Marianne block, no Marianne font, no State colour).
// In each, the login page, a delegation page (reached through the practice service), the helper
// space's home and the three pages of the footer are checked with axe and kept as screenshots
// named with the theme.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  andWaitForPage,
  DEMO_HELPER,
  launchBrowser,
  logIn,
  newHelperPage,
  pathOf,
  useServer,
  visit,
} from './harness.mjs';
import { startServer } from './server.mjs';

const dsfr = await useServer();
const neutral = await startServer({ env: { IDP__UI__THEME: 'neutral' } });
after(neutral.stop);

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** What the frame of the page shows: the Marianne block, the body's font, the links. */
async function frameOf(page) {
  return page.evaluate(() => ({
    marianneBlocks: document.querySelectorAll('.fr-logo').length,
    text: document.body.innerText,
    font: getComputedStyle(document.body).fontFamily,
    stylesheets: [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => new URL(l.href).pathname),
    headerHelper: document.querySelector('.fr-header .idp-header__helper')?.innerText ?? null,
    footerLinks: [...document.querySelectorAll('.fr-footer__bottom-link')].map((a) => new URL(a.href).pathname),
  }));
}

function assertTheme(frame, theme, where) {
  assert.ok(
    frame.stylesheets.some((s) => /^\/static\/dsfr\/[^/]+\/dsfr\.min\.css$/.test(s)),
    `${where}: the design system's stylesheet is linked (${frame.stylesheets})`,
  );
  if (theme === 'dsfr') {
    assert.ok(frame.marianneBlocks > 0, `${where}: the Marianne block is shown`);
    assert.match(frame.text, /République\s+Française/i, `${where}: the block says République Française`);
    assert.match(frame.font, /^Marianne/, `${where}: the Marianne font`);
    assert.ok(!frame.stylesheets.includes('/static/neutral.css'), `${where}: no neutral stylesheet`);
  } else {
    assert.equal(frame.marianneBlocks, 0, `${where}: no Marianne block`);
    assert.doesNotMatch(frame.text, /République/i, `${where}: no "République française"`);
    assert.doesNotMatch(frame.font, /Marianne/, `${where}: no Marianne font (${frame.font})`);
    assert.ok(frame.stylesheets.includes('/static/neutral.css'), `${where}: the neutral stylesheet`);
  }
  assert.deepEqual(frame.footerLinks, ['/accessibilite', '/mentions-legales', '/donnees-personnelles', '/espace-usager']);
}

for (const [theme, server] of [
  ['dsfr', dsfr],
  ['neutral', neutral.info],
]) {
  test(`${theme} theme: login, a delegation page, the helper space and the footer's pages`, async () => {
    const page = await newHelperPage(browser);

    // The practice service sends the browser to /authorize as a real service would; the helper
    // signs in on the way.
    await page.goto(server.url('/sandbox'));
    await andWaitForPage(page, () => page.getByRole('button', { name: "Commencer une démarche d'essai" }).click());
    assert.equal(pathOf(page), '/login', `the practice service leads to the login (${page.url()})`);
    await page.getByLabel('Adresse e-mail').waitFor();
    assertTheme(await frameOf(page), theme, 'login');
    assert.equal((await frameOf(page)).headerHelper, null, 'nobody is named before signing in');
    await logIn(page, server, { prefix: `${theme}-login` });

    assert.match(pathOf(page), /^\/delegation\//, `after login, a delegation page (${page.url()})`);
    await visit(page, server, `${theme}-delegation`);
    const delegation = await frameOf(page);
    assertTheme(delegation, theme, 'delegation');
    assert.match(delegation.headerHelper ?? '', new RegExp(DEMO_HELPER.name), 'the header names the helper');
    assert.match(delegation.headerHelper ?? '', /France Services/, 'and their organisation');

    await page.goto(server.url('/espace-aidant'));
    await visit(page, server, `${theme}-helper-space`);
    assertTheme(await frameOf(page), theme, 'helper space');
    await page.locator('.fr-header').getByRole('button', { name: 'Se déconnecter' }).waitFor();

    for (const [link, path, heading] of [
      ['Accessibilité : non conforme', '/accessibilite', "Déclaration d'accessibilité"],
      ['Mentions légales', '/mentions-legales', 'Mentions légales'],
      ['Données personnelles', '/donnees-personnelles', 'Données personnelles'],
    ]) {
      await andWaitForPage(page, () => page.locator('.fr-footer').getByRole('link', { name: link }).click());
      assert.equal(pathOf(page), path);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await visit(page, server, `${theme}-footer${path.replace('/', '-')}`);
      assertTheme(await frameOf(page), theme, path);
    }

    // Signing out from the header ends the session: the header names nobody any more.
    await andWaitForPage(page, () =>
      page.locator('.fr-header').getByRole('button', { name: 'Se déconnecter' }).click(),
    );
    await visit(page, server, `${theme}-signed-out`);
    assert.equal((await frameOf(page)).headerHelper, null, 'signed out, the header names nobody');
    await page.context().close();
  });
}
