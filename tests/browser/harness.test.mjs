// The suite's own tools: one-time codes must be the ones the helper's app shows, the choice of
// step must follow the server's rule (each step once, in increasing order, one step of drift either
// way), and the accessibility check must really fail a page that breaks the rules.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { launchBrowser, newHelperPage, useServer, visit } from './harness.mjs';
import { base32Decode, codeAtStep, nextStep, STEP_SECONDS } from './totp.mjs';

const server = await useServer();
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('codes match RFC 6238 appendix B (SHA-1, 6 low digits)', () => {
  const key = Buffer.from('12345678901234567890');
  for (const [time, code8] of [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ]) {
    assert.equal(codeAtStep(key, Math.floor(time / STEP_SECONDS)), code8.slice(2));
  }
});

test('base32 secrets decode as authenticator apps read them ("Hello!" and 0xDEADBEEF)', () => {
  assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), Buffer.from('12345678901234567890'));
  assert.equal(base32Decode('JBSWY3DPEHPK3PXP').toString('hex'), '48656c6c6f21deadbeef');
});

test('the next step is the oldest one still safe, then the following ones, then a wait', () => {
  const start = 1000 * STEP_SECONDS + 10; // 20 s left in step 1000
  assert.deepEqual(nextStep(null, start), { step: 999, waitMs: 0 });
  assert.deepEqual(nextStep(999, start), { step: 1000, waitMs: 0 });
  assert.deepEqual(nextStep(1000, start), { step: 1001, waitMs: 0 });
  // 1002 is accepted once the server's current step is 1001, 20 s later.
  assert.deepEqual(nextStep(1001, start), { step: 1002, waitMs: 20_200 });
  // Close to the end of a step, the previous one might expire in transit.
  assert.deepEqual(nextStep(null, 1000 * STEP_SECONDS + 27), { step: 1000, waitMs: 0 });
  // Steps spent long ago do not hold the next code back.
  assert.deepEqual(nextStep(10, start), { step: 999, waitMs: 0 });
});

test('visit fails a page with a serious accessibility violation, and still saves its screenshot', async () => {
  const page = await newHelperPage(browser);
  // A field nobody can name: axe's rule `label`, impact critical.
  const withField = (field) =>
    `<!doctype html><html lang="fr"><title>Essai</title><main><h1>Essai</h1>${field}</main></html>`;
  await page.setContent(withField('<input type="text">'));
  let file;
  await assert.rejects(
    visit(page, server, 'axe-self-check').catch((error) => {
      file = error.message.match(/, (\/[^,]*\.png)\)/)?.[1];
      throw error;
    }),
    /\[critical\] label: Form elements must have labels/,
  );
  assert.ok(file && existsSync(file), `the screenshot of the failing page (${file})`);
  await page.setContent(withField('<label>Nom <input type="text"></label>'));
  await visit(page, server, 'axe-self-check-fixed');
  await page.context().close();
});
