// What every browser test file uses: the server of the run, Debian's Chromium driven by
// Playwright, axe-core on every page visited, screenshots, one-time codes, the helper's login.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import axe from 'axe-core';
import { chromium } from 'playwright-core';

import { readServerInfo, REPOSITORY, startServer } from './server.mjs';
import { base32Decode, codeAtStep, nextStep } from './totp.mjs';

// The whole suite runs once per theme (`make browser-test`); each theme's screenshots have their
// own folder: `target/browser` for the State design system, `target/browser/neutral` for the other.
export const THEME = process.env.BROWSER_THEME || 'dsfr';
export const SCREENSHOTS = path.join(REPOSITORY, 'target', 'browser', ...(THEME === 'dsfr' ? [] : [THEME]));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const DEMO_HELPER = {
  email: 'aidant.demo@example.fr',
  password: 'demo-password-1234',
  totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  name: 'Camille Martin',
};

/** axe impacts that fail a page; `minor` and `moderate` ones are printed only. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * The server of the run (see server.mjs): the one `run.mjs` started, or one of this file's own,
 * stopped when its tests end.
 */
export async function useServer() {
  if (process.env.IDP_BROWSER_SERVER) return readServerInfo(process.env.IDP_BROWSER_SERVER);
  await clearScreenshots();
  const { info, stop } = await startServer();
  after(stop);
  return info;
}

/** Removes this theme's screenshots of an earlier run; another theme's folder inside stays (the
 * themes' runs may go on at the same time). */
export async function clearScreenshots() {
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const entry of await readdir(SCREENSHOTS, { withFileTypes: true })) {
    if (entry.isFile()) await rm(path.join(SCREENSHOTS, entry.name), { force: true });
  }
}

/**
 * Debian's Chromium, headless, never a browser Playwright would download. Each launch gets a new
 * empty profile (Playwright makes a fresh --user-data-dir); the flags keep Chromium from calling
 * Google's services, which this machine's closed network refuses.
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A browser context as a French helper's: French first, a laptop-sized window; `storageState`
 * (from `context.storageState()`) starts it signed in.
 */
export async function newHelperPage(browser, { storageState } = {}) {
  const context = await browser.newContext({
    locale: 'fr-FR',
    viewport: { width: 1280, height: 900 },
    storageState,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context.newPage();
}

async function nextCounter(info, name) {
  const file = path.join(info.workDir, name);
  const value = existsSync(file) ? Number(await readFile(file, 'utf8')) + 1 : 1;
  await writeFile(file, String(value));
  return value;
}

async function screenshotPath(info, name) {
  const number = String(await nextCounter(info, 'screenshot-counter')).padStart(2, '0');
  await mkdir(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${number}-${name}.png`);
}

function describeViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const summary = (n.failureSummary || '').replace(/\s*\n\s*/g, ' ');
          return `    at ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${summary}`;
        })
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/**
 * Checks the page the browser shows with axe-core and saves a full-page screenshot
 * `target/browser/NN-name.png`; fails on any violation of impact serious or critical.
 */
export async function visit(page, info, name) {
  await page.waitForLoadState('load');
  const file = await screenshotPath(info, name);
  await page.screenshot({ path: file, fullPage: true });
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy (which
  // rightly allows no injected script) does not stop it.
  await page.evaluate(axe.source);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const failing = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact));
  const others = results.violations.filter((v) => !FAILING_IMPACTS.has(v.impact));
  if (others.length > 0) {
    console.log(`axe, ${name} (${page.url()}), not failing:\n${describeViolations(others)}`);
  }
  assert.equal(
    failing.length,
    0,
    `axe found ${failing.length} serious or critical violation(s) on ${name} (${page.url()}, ${file}):\n` +
      describeViolations(failing),
  );
  return file;
}

/** A full-page screenshot of the page as printed (print stylesheet), `NN-name.png`. */
export async function printScreenshot(page, info, name) {
  const file = await screenshotPath(info, name);
  await page.emulateMedia({ media: 'print' });
  try {
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await page.emulateMedia({ media: null });
  }
  return file;
}

/**
 * The demo helper's next one-time code. Waits for the next 30-s step when the steps the server
 * would accept now are spent (the last step used is kept beside the server's database, so that
 * every test file of the run agrees).
 */
export async function oneTimeCode(info) {
  const file = path.join(info.workDir, 'totp-last-step');
  const last = existsSync(file) ? Number(await readFile(file, 'utf8')) : null;
  const { step, waitMs } = nextStep(last, Date.now() / 1000);
  if (waitMs > 0) await sleep(waitMs);
  await writeFile(file, String(step));
  await noteCode(info, waitMs);
  return codeAtStep(base32Decode(DEMO_HELPER.totpSecret), step);
}

/**
 * The authenticator app of an account a test file adds (its base32 secret, from `idp aidant add`):
 * each call gives the next time step the server still accepts. The server accepts three steps at
 * once (the previous, the current, the next) and each step once per factor, so a fourth code in a
 * row waits for the clock (up to 30 s): a test that needs more codes shares them between accounts.
 */
export function authenticator(info, secretBase32) {
  const key = base32Decode(secretBase32);
  let last = null;
  return async () => {
    const { step, waitMs } = nextStep(last, Date.now() / 1000);
    if (waitMs > 0) await sleep(waitMs);
    last = step;
    await noteCode(info, waitMs);
    return codeAtStep(key, step);
  };
}

const CODES_FILE = 'one-time-codes';

/** Notes a code given and the time waited for its step, beside the server's database. */
async function noteCode(info, waitMs) {
  await appendFile(path.join(info.workDir, CODES_FILE), `${waitMs}\n`);
}

/**
 * The one-time codes the run's tests gave and the time they waited for a free step (`run.mjs`
 * prints them: waiting is what a run should not spend its time on).
 */
export async function codeWaits(workDir) {
  const text = await readFile(path.join(workDir, CODES_FILE), 'utf8').catch(() => '');
  const waits = text.split('\n').filter(Boolean).map(Number);
  return { codes: waits.length, waitedMs: waits.reduce((sum, ms) => sum + ms, 0) };
}

/**
 * Ticks a checkbox or chooses a radio button as a keyboard user does (focus, then Space). The
 * design system draws its own box over the native input, which it keeps invisible under the
 * label, so a pointer click would land on the label rather than on the input.
 */
export async function tick(input) {
  if (!(await input.isChecked())) {
    await input.focus();
    await input.press('Space');
  }
  assert.ok(await input.isChecked(), 'the box is ticked');
}

/** The path of the page the browser shows (`/espace-aidant`, …). */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/**
 * Runs `action` (a click, a key press) and waits for the page it leads to to load. Fails, with
 * the page's alert, when the browser stays on an error status page.
 */
export async function andWaitForPage(page, action) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return response;
}

/** The text of the page's alerts (errors shown by a form), for failure messages. */
export async function alerts(page) {
  return (await page.getByRole('alert').allInnerTexts()).join(' / ');
}

/**
 * Logs the demo helper in from the login page the browser shows (or opens it): password, then
 * one-time code. Each page is checked with `visit`. Returns, once the code is accepted, the code.
 */
/** `text` as a regular expression matching it literally. */
export const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Signs the demo helper in once in a page of its own and returns the cookies, for the tests of a
 * file that start signed in (each login spends a one-time code's time step).
 */
export async function signedInState(browser, info, prefix) {
  const page = await newHelperPage(browser);
  await logIn(page, info, { prefix });
  const state = await page.context().storageState();
  await page.context().close();
  return state;
}

export async function logIn(page, info, { prefix = 'login' } = {}) {
  if (pathOf(page) !== '/login') await page.goto(info.url('/login'));
  await visit(page, info, `${prefix}-password`);
  await page.getByLabel('Adresse e-mail').fill(DEMO_HELPER.email);
  await page.getByLabel('Mot de passe').fill(DEMO_HELPER.password);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.equal(pathOf(page), '/login/otp', `the password was refused: ${await alerts(page)}`);
  await visit(page, info, `${prefix}-one-time-code`);
  const code = await oneTimeCode(info);
  await page.getByLabel('Code à 6 chiffres').fill(code);
  await andWaitForPage(page, () => page.getByRole('button', { name: 'Continuer' }).click());
  assert.notEqual(pathOf(page), '/login/otp', `the one-time code was refused: ${await alerts(page)}`);
  return code;
}
