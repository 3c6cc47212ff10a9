// OpenID Connect sign-in (authorization code + PKCE, S256) for the provider
// console and the clinic dashboard: the local dev issuer, or the Cognito
// hosted UI in AWS. Tokens live in memory only; only the PKCE verifier,
// state and nonce cross the redirect, in sessionStorage, and are removed
// as soon as the code comes back.

export interface Config {
  issuer: string;
  client_id: string;
  api: string;
  idle_seconds: string;
  poll_ms: string;
  // signal: the signaling WebSocket's URL when it is not /v1/signal on
  // the API's origin (AWS: the WebSocket API's own endpoint).
  signal?: string;
}

export interface Session {
  token: string;
  claims: Record<string, unknown>;
  expiresAt: number;
}

const KEY = "goodfaith.pkce";

function b64url(bytes: Uint8Array): string {
  let s = "";
  bytes.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

export function decodeJWT(t: string): Record<string, unknown> {
  const p = t.split(".")[1] || "";
  const json = atob(p.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(p.length / 4) * 4, "="));
  return JSON.parse(decodeURIComponent(Array.from(json, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")));
}

async function discover(cfg: Config): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const r = await fetch(cfg.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  if (!r.ok) throw new Error("discovery failed");
  return r.json();
}

function redirectURI(): string {
  return location.origin + location.pathname;
}

export async function signIn(cfg: Config): Promise<void> {
  const d = await discover(cfg);
  const verifier = random(48);
  const state = random(16);
  const nonce = random(16);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  // The page's own query (such as ?idle=N) comes back after the redirect;
  // the redirect_uri itself stays fixed, as Cognito requires.
  sessionStorage.setItem(KEY, JSON.stringify({ verifier, state, nonce, search: location.search }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: redirectURI(),
    scope: "openid profile",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(d.authorization_endpoint + "?" + q.toString());
}

// completeSignIn finishes a sign-in when the page was opened with ?code=…;
// it returns null when there is nothing to finish.
export async function completeSignIn(cfg: Config): Promise<Session | null> {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return null;
  const saved = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  const back = saved ? String(JSON.parse(saved).search || "") : "";
  history.replaceState(null, "", location.pathname + (back.startsWith("?") && !/[?&](code|state)=/.test(back) ? back : ""));
  if (q.has("error")) throw new Error(q.get("error_description") || q.get("error") || "sign-in failed");
  const pk = saved ? JSON.parse(saved) : null;
  if (!pk || pk.state !== q.get("state")) throw new Error("The sign-in answer does not match this browser's request. Sign in again.");
  const d = await discover(cfg);
  const r = await fetch(d.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code") || "", client_id: cfg.client_id, redirect_uri: redirectURI(), code_verifier: pk.verifier }).toString(),
  });
  const t = await r.json();
  if (!r.ok || !t.id_token) throw new Error(t.error_description || "token exchange failed");
  const claims = decodeJWT(t.id_token);
  if (claims.nonce !== pk.nonce) throw new Error("The sign-in token's nonce does not match. Sign in again.");
  return { token: t.id_token, claims, expiresAt: Date.now() + (t.expires_in || 3600) * 1000 };
}

export async function loadConfig(base: string): Promise<Config> {
  const r = await fetch(base + "config.json");
  return r.json();
}
