// The demo upstream provider (`/demo-upstream`, demo mode) is a real OpenID provider: a certified
// relying-party library, openid-client, discovers it, sends the browser to it with state, nonce,
// PKCE S256, acr_values=eidas1 and FranceConnect's claim-named scopes, and — after a citizen is
// picked on its page — handles the callback itself: code exchange, ID token validation (signature
// against the provider's JWKS, iss, aud, exp, nonce), then userinfo.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as oidc from 'openid-client';

import { andWaitForPage, launchBrowser, newHelperPage, useServer, visit } from './harness.mjs';

// The demo upstream provider's one client, this server itself in demo mode; fixed and public like
// the other demo values (idp/src/configuration.rs).
const DEMO_UPSTREAM_CLIENT_ID = 'aidants-idp-demo';
const DEMO_UPSTREAM_CLIENT_SECRET = 'demo-upstream-secret-for-local-use-only-0123456789';
// Its redirect URIs are compared exactly (RFC 6749 §3.1.2.3); the test uses the one it registers
// for this server's own login, and stands in for that relying party in the browser.
const REDIRECT_PATH = '/espace-aidant/franceconnect/retour';
const FRANCECONNECT_SCOPES =
  'openid given_name family_name birthdate gender birthplace birthcountry email preferred_username';

// Angela, whose pivot identity `idp demo seed` also records (idp/src/admin/demo.rs), under the
// same upstream subject.
const ANGELA = {
  button: 'Angela Claire Louise DUBOIS',
  subject: 'demo-usager-1',
  claims: {
    given_name: 'Angela Claire Louise',
    family_name: 'DUBOIS',
    birthdate: '1962-08-24',
    gender: 'female',
    birthplace: '75107',
    birthcountry: '99100',
    email: 'angela.dubois@example.fr',
    preferred_username: 'DUPONT',
  },
};

const server = await useServer();
const redirectUri = server.url(REDIRECT_PATH);
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function discover() {
  return oidc.discovery(
    new URL(server.url('/demo-upstream')),
    DEMO_UPSTREAM_CLIENT_ID,
    undefined,
    oidc.ClientSecretBasic(DEMO_UPSTREAM_CLIENT_SECRET),
    // The run's server speaks plain HTTP on 127.0.0.1.
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** A fresh authorization request, as a relying party keeps it in its session. */
async function authorizationRequest(config) {
  const checks = {
    pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
    expectedState: oidc.randomState(),
    expectedNonce: oidc.randomNonce(),
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: FRANCECONNECT_SCOPES,
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
    code_challenge_method: 'S256',
    acr_values: 'eidas1',
  });
  return { url, checks };
}

/**
 * Opens the provider's page at `url` and presses `button`; returns the URL the provider sends the
 * browser back to. The test is the relying party at that URI, so the server's own relying party
 * must never see the code: the provider's answer to the choice (a redirect) is caught in the
 * browser and answered by the test (Playwright cannot route a request made by following a redirect).
 */
async function pressOnProviderPage(url, button, screenshot) {
  const page = await newHelperPage(browser);
  let returned = null;
  await page.route(
    (target) => target.pathname === '/demo-upstream/authorize/decision',
    async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const location = response.headers().location;
      const target = location ? new URL(location, route.request().url()) : null;
      if (!target || `${target.origin}${target.pathname}` !== redirectUri) return route.fulfill({ response });
      returned = target;
      return route.fulfill({
        contentType: 'text/html; charset=utf-8',
        body: '<!doctype html><html lang="fr"><title>Retour</title><main><h1>Retour</h1></main></html>',
      });
    },
  );
  await page.goto(url.toString());
  await visit(page, server, screenshot);
  await andWaitForPage(page, () => page.getByRole('button', { name: button, exact: button === 'Refuser' }).click());
  await page.context().close();
  assert.ok(returned, `the provider did not send the browser back to ${redirectUri}`);
  return returned;
}

test('openid-client discovers the demo upstream provider', async () => {
  const config = await discover();
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, server.url('/demo-upstream'));
  assert.ok(metadata.jwks_uri, 'a JWKS of its own');
  assert.ok(metadata.userinfo_endpoint, 'a userinfo endpoint');
  assert.ok(metadata.code_challenge_methods_supported?.includes('S256'), 'PKCE S256');
  for (const scope of FRANCECONNECT_SCOPES.split(' ')) {
    assert.ok(metadata.scopes_supported?.includes(scope), `scope ${scope} listed`);
  }
});

test("a citizen picked on the demo page: openid-client's code flow, ID token and userinfo", async () => {
  const config = await discover();
  const { url, checks } = await authorizationRequest(config);
  const returned = await pressOnProviderPage(url, ANGELA.button, 'demo-upstream-citizens');

  const tokens = await oidc.authorizationCodeGrant(config, returned, { ...checks, idTokenExpected: true });
  const idToken = tokens.claims();
  assert.equal(idToken.iss, server.url('/demo-upstream'));
  assert.deepEqual([idToken.aud].flat(), [DEMO_UPSTREAM_CLIENT_ID]);
  assert.equal(idToken.nonce, checks.expectedNonce);
  assert.equal(idToken.acr, 'eidas1');
  assert.equal(idToken.sub, ANGELA.subject, 'the subject idp demo seed recorded for Angela');

  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
  for (const [claim, value] of Object.entries(ANGELA.claims)) {
    assert.equal(userinfo[claim], value, `userinfo ${claim}`);
  }


  // A code works once (RFC 6749 §4.1.2): openid-client replaying it is refused.
  await assert.rejects(
    oidc.authorizationCodeGrant(config, returned, checks),
    (error) => error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant',
  );
});

test('a citizen who refuses: openid-client gets access_denied with the same state', async () => {
  const config = await discover();
  const { url, checks } = await authorizationRequest(config);
  const returned = await pressOnProviderPage(url, 'Refuser', 'demo-upstream-refusal');
  assert.equal(returned.searchParams.get('error'), 'access_denied');
  await assert.rejects(
    oidc.authorizationCodeGrant(config, returned, checks),
    (error) => error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied',
  );
});
