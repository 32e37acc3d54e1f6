/// <reference lib="dom" />
/**
 * Sign-in with Cognito's hosted UI (authorization code + PKCE, no client secret). Tokens live in
 * sessionStorage (gone with the tab); the access token is what the API's JWT authorizer checks.
 */
import type { WebConfig } from '../core/web-config.ts';

type Auth = NonNullable<WebConfig['auth']>;

const TOKEN = 'vidx.accessToken';
const EXPIRES = 'vidx.expiresAt';
const VERIFIER = 'vidx.pkceVerifier';

function redirectUri(): string {
  return `${location.origin}/`;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function currentToken(): string | undefined {
  const token = sessionStorage.getItem(TOKEN);
  const expires = Number(sessionStorage.getItem(EXPIRES) ?? 0);
  return token && Date.now() < expires ? token : undefined;
}

export async function signIn(auth: Auth): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(VERIFIER, verifier);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: auth.scopes.join(' '),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${auth.domain}/oauth2/authorize?${q}`);
}

export function signOut(auth: Auth): void {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(EXPIRES);
  location.assign(`${auth.domain}/logout?${new URLSearchParams({ client_id: auth.clientId, logout_uri: redirectUri() })}`);
}

/** After the hosted UI sends the browser back with ?code=: trade it for tokens, clean the URL. */
export async function completeSignIn(auth: Auth): Promise<void> {
  const code = new URLSearchParams(location.search).get('code');
  const verifier = sessionStorage.getItem(VERIFIER);
  if (!code || !verifier) return;
  history.replaceState(null, '', location.pathname + location.hash);
  sessionStorage.removeItem(VERIFIER);
  const r = await fetch(`${auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: auth.clientId, code, redirect_uri: redirectUri(), code_verifier: verifier }),
  });
  if (!r.ok) throw new Error(`sign-in failed (${r.status})`);
  const t = (await r.json()) as { access_token?: unknown; expires_in?: unknown };
  if (typeof t.access_token !== 'string') throw new Error('sign-in answered without an access token');
  sessionStorage.setItem(TOKEN, t.access_token);
  sessionStorage.setItem(EXPIRES, String(Date.now() + (typeof t.expires_in === 'number' ? t.expires_in : 3600) * 1000 - 30_000));
}
