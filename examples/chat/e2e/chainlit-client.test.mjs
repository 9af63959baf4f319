// Chainlit's own web client, @chainlit/react-client, as a test client of the
// chatauth demo chat: the ChainlitAPI class that Chainlit's React frontend
// uses for every authentication call, unchanged, with a cookie jar around
// fetch so that cookies travel as in a browser.
//
// examples/chat/chainlit_client_test.go starts the demo (and the
// authenticating proxy of examples/proxy in front of it), mints the tokens,
// and runs this file with `node --test`, passing everything in
// CHATAUTH_E2E_* variables. See that file for their meaning.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ChainlitAPI, ClientError, fetcher } from '@chainlit/react-client';
import makeFetchCookie from 'fetch-cookie';
import { CookieJar } from 'tough-cookie';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through examples/chat/chainlit_client_test.go`);
  return v;
};

const server = env('CHATAUTH_E2E_URL'); // the demo, root path included
const proxy = env('CHATAUTH_E2E_PROXY_URL'); // examples/proxy in front of it
const cookieName = 'access_token';
const nativeFetch = globalThis.fetch;

// browser gives the test a fresh cookie jar: ChainlitAPI calls the global
// fetch, which from now on stores and sends cookies like a browser.
function browser(t) {
  const jar = new CookieJar();
  globalThis.fetch = makeFetchCookie(nativeFetch, jar);
  t.after(() => {
    globalThis.fetch = nativeFetch;
  });
  return jar;
}

// client is a ChainlitAPI for base, counting the 401s it reports through
// its on401 hook, as Chainlit's frontend uses it to show the login page.
function client(base) {
  const api = new ChainlitAPI(base, 'webapp', undefined, () => {
    api.unauthorized += 1;
  });
  api.unauthorized = 0;
  return api;
}

// refused asserts that call fails with Chainlit's ClientError, with the
// status and detail given. ChainlitAPI logs every failure with
// console.error; that noise is silenced for the expected ones.
async function refused(t, call, status, detail) {
  t.mock.method(console, 'error', () => {});
  await assert.rejects(call, (err) => {
    assert.ok(err instanceof ClientError, `want a ClientError, got ${err}`);
    assert.equal(err.status, status);
    if (detail !== undefined) assert.equal(err.detail, detail);
    return true;
  });
  t.mock.restoreAll();
}

// sessionCookie is the session cookie the jar holds for url, or undefined.
async function sessionCookie(jar, url) {
  const cookies = await jar.getCookies(url);
  return cookies.find((c) => c.key === cookieName);
}

// logsOut logs out with api and checks the session is gone for the client
// and for the jar.
async function logsOut(t, api, jar, base) {
  assert.deepEqual(await api.logout(), { success: true });
  assert.equal(await sessionCookie(jar, `${base}/user`), undefined, 'logout left the session cookie');
  await refused(t, api.getUser(), 401, 'Not authenticated');
  assert.equal(api.unauthorized, 1, 'the client did not see the 401');
}

test('auth config, as the login page reads it', async (t) => {
  browser(t);
  const config = await fetcher(client(server), '/auth/config');
  assert.equal(config.requireLogin, true);
  assert.equal(config.passwordAuth, true);
  assert.equal(config.headerAuth, true);
  assert.deepEqual(config.oauthProviders, [env('CHATAUTH_E2E_OAUTH_PROVIDER')]);
  // The login page's look, as Chainlit's defaults have it.
  assert.equal(config.default_theme, 'dark');
  assert.deepEqual(config.ui, { login_page_image: null, login_page_image_filter: null, login_page_image_dark_filter: null });
});

test('passwordAuth, getUser, logout', async (t) => {
  const jar = browser(t);
  const api = client(server);
  const form = new FormData();
  form.append('username', env('CHATAUTH_E2E_USER'));
  form.append('password', env('CHATAUTH_E2E_PASSWORD'));
  assert.deepEqual(await api.passwordAuth(form), { success: true });

  const cookie = await sessionCookie(jar, `${server}/user`);
  assert.ok(cookie, 'no session cookie after passwordAuth');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'lax');
  assert.equal(cookie.path, new URL(server).pathname.replace(/\/$/, '') || '/');

  const user = await api.getUser();
  assert.equal(user.identifier, env('CHATAUTH_E2E_USER'));
  assert.equal(user.metadata.provider, 'credentials');
  await logsOut(t, api, jar, server);
});

test('passwordAuth with a wrong password', async (t) => {
  const jar = browser(t);
  const api = client(server);
  const form = new FormData();
  form.append('username', env('CHATAUTH_E2E_USER'));
  form.append('password', 'not the password');
  await refused(t, api.passwordAuth(form), 401, 'credentialssignin');
  assert.equal(await sessionCookie(jar, `${server}/user`), undefined);
});

test('jwtAuth with a token minted by the Go side', async (t) => {
  const jar = browser(t);
  const api = client(server);
  assert.deepEqual(await api.jwtAuth(env('CHATAUTH_E2E_TOKEN')), { success: true });
  assert.ok(await sessionCookie(jar, `${server}/user`), 'no session cookie after jwtAuth');
  const user = await api.getUser();
  assert.equal(user.identifier, env('CHATAUTH_E2E_TOKEN_USER'));
  assert.equal(user.display_name, env('CHATAUTH_E2E_TOKEN_NAME'));
  assert.equal(user.metadata.role, 'admin');
  await logsOut(t, api, jar, server);
});

test('jwtAuth with a token signed by another secret', async (t) => {
  const jar = browser(t);
  await refused(t, client(server).jwtAuth(env('CHATAUTH_E2E_FOREIGN_TOKEN')), 401, 'Invalid token');
  assert.equal(await sessionCookie(jar, `${server}/user`), undefined);
});

test('headerAuth straight to the app: nobody vouches, refused', async (t) => {
  browser(t);
  await refused(t, client(server).headerAuth(), 401, 'credentialssignin');
});

test('headerAuth through the authenticating proxy', async (t) => {
  const jar = browser(t);
  // A browser shows the proxy its key once, in the URL; the proxy swaps
  // it for a cookie and redirects.
  const entry = await fetch(`${proxy}/login?api_key=${encodeURIComponent(env('CHATAUTH_E2E_PROXY_KEY'))}`);
  assert.equal(entry.status, 200);
  assert.ok(entry.redirected, 'the proxy did not swap its key for a cookie');

  const api = client(proxy);
  assert.deepEqual(await api.headerAuth(), { success: true });
  const user = await api.getUser();
  assert.equal(user.identifier, env('CHATAUTH_E2E_PROXY_USER'));
  assert.equal(user.metadata.provider, 'header');
  assert.equal(user.metadata.email, env('CHATAUTH_E2E_PROXY_EMAIL'));
  await logsOut(t, api, jar, proxy);
});

test('getOAuthEndpoint starts a PKCE login at the provider', async (t) => {
  const jar = browser(t);
  const provider = env('CHATAUTH_E2E_OAUTH_PROVIDER');
  const start = client(server).getOAuthEndpoint(provider);
  const res = await fetch(start, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const to = new URL(res.headers.get('location'));
  assert.equal(`${to.origin}${to.pathname}`, env('CHATAUTH_E2E_OAUTH_AUTHORIZE_URL'));
  assert.equal(to.searchParams.get('response_type'), 'code');
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(to.searchParams.get('redirect_uri'), `${server}/auth/oauth/${provider}/callback`);
  assert.ok(to.searchParams.get('state'), 'no state');
  assert.ok(to.searchParams.get('nonce'), 'no nonce');
  const state = (await jar.getCookies(`${server}/auth/oauth/${provider}/callback`)).find((c) => c.key === 'oauth_state');
  assert.ok(state, 'no state cookie for the callback');
  assert.equal(state.httpOnly, true);
});
