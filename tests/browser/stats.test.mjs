// The public statistics (`/stats`), as anyone sees them without signing in: three charts drawn as
// SVG, each named by its caption and its table, small counts written in words; in French, then
// in English through the language link. Axe checks both.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { andWaitForPage, launchBrowser, newHelperPage, useServer, visit } from './harness.mjs';

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the statistics page shows its charts with their text alternative, in French and English', async () => {
  const page = await newHelperPage(browser);
  await page.goto(server.url('/stats'));
  await visit(page, server, 'stats');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), "Statistiques d'utilisation");

  const charts = page.locator('svg.stats-chart[role="img"]');
  assert.equal(await charts.count(), 4);
  for (const id of ['mandats', 'personnes', 'connexions']) {
    const chart = page.locator(`svg[aria-labelledby="${id}-legende ${id}-tableau"]`);
    assert.equal(await chart.count(), 1, id);
    assert.equal(await chart.locator('rect').count(), 12, `${id}: one bar per month`);
    assert.equal(await page.locator(`#${id}-tableau tbody tr`).count(), 12, `${id}: one row per month`);
  }
  const helpers = page.locator('svg[aria-labelledby="aidants-legende aidants-tableau"]');
  assert.equal(await helpers.locator('rect').count(), 3, 'habilitated, in habilitation, inactive');
  assert.equal(await page.locator('#aidants-tableau tbody tr').count(), 3);
  // The demo data is too small to be shown as numbers.
  assert.ok((await page.locator('td', { hasText: 'moins de 5' }).count()) > 0);

  await andWaitForPage(page, () => page.getByRole('link', { name: 'English' }).click());
  assert.equal(new URL(page.url()).pathname, '/stats');
  await visit(page, server, 'stats-en');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Usage statistics');
  assert.ok((await page.locator('td', { hasText: 'fewer than 5' }).count()) > 0);
  await page.context().close();
});
