// The dashboard's only way to the server: the public JSON API with bearer tokens.
// Tokens live in sessionStorage (this tab only); the access token is refreshed a
// minute before it expires, and once more when an answer says 401.

const BASE = "/api/v1";
const STORAGE_KEY = "easytravels.dashboard.session";
const REFRESH_MARGIN_MS = 60_000;

let session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
let refreshTimer = null;
let refreshing = null;

/** An error answer of the API (RFC 9457 problem details) or a network failure. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.fields = problem.errors || {};
  }
}

function save(next) {
  session = next;
  if (next) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(STORAGE_KEY);
  scheduleRefresh();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const wait = Math.max(5_000, session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

function tokensFrom(body, previous) {
  return {
    ...previous,
    access: body.access_token,
    refresh: body.refresh_token || previous?.refresh,
    expiresAt: Date.now() + (body.expires_in || 900) * 1000,
  };
}

/** The signed-in employee ({access, refresh, expiresAt, me}) or null. */
export function currentSession() {
  return session;
}

/** Log in as an employee; resolves to the session with `me` (GET /auth/me). */
export async function login(email, password) {
  const body = await request("POST", "/auth/login", {
    body: { email, password, account: "employee" },
    auth: false,
  });
  save(tokensFrom(body, null));
  const me = await request("GET", "/auth/me");
  if (me.type !== "employee") {
    await logout();
    throw new ApiError(403, {
      title: "Forbidden",
      detail: "The dashboard is for staff accounts.",
    });
  }
  save({ ...session, me });
  return session;
}

/** Exchange the refresh token for a new access token (POST /auth/refresh). */
export async function refresh() {
  if (!session)
    throw new ApiError(401, { title: "Unauthorized", detail: "Not signed in." });
  if (!refreshing) {
    refreshing = (async () => {
      const answer = await fetch(`${BASE}/auth/refresh`, {
        method: "POST",
        headers: { Authorization: `Bearer ${session.refresh}` },
      });
      if (!answer.ok) {
        save(null);
        window.dispatchEvent(new CustomEvent("session-ended"));
        throw new ApiError(answer.status, await problemOf(answer));
      }
      save(tokensFrom(await answer.json(), session));
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Revoke the session on the server (POST /auth/logout) and forget it here. */
export async function logout() {
  const token = session?.access;
  save(null);
  if (token) {
    await fetch(`${BASE}/auth/logout`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
    }).catch(() => {});
  }
}

async function problemOf(answer) {
  const text = await answer.text();
  try {
    return JSON.parse(text);
  } catch {
    return {
      title: answer.statusText || "Error",
      status: answer.status,
      detail: text.slice(0, 300),
    };
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const qs = params.toString();
  return `${BASE}${path}${qs ? `?${qs}` : ""}`;
}

async function send(method, path, { body, query, headers = {}, auth = true }) {
  const all = { Accept: "application/json", ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  if (auth && session) all.Authorization = `Bearer ${session.access}`;
  try {
    return await fetch(url(path, query), {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, {
      title: "Network error",
      detail: `The server could not be reached (${error.message}).`,
    });
  }
}

/**
 * Call the API; resolves to the parsed JSON body (null for 204), rejects with
 * ApiError carrying the problem details. A 401 triggers one refresh and retry.
 */
export async function request(method, path, options = {}) {
  let answer = await send(method, path, options);
  if (answer.status === 401 && options.auth !== false && session) {
    await refresh();
    answer = await send(method, path, options);
  }
  if (!answer.ok) throw new ApiError(answer.status, await problemOf(answer));
  if (answer.status === 204) return null;
  const type = answer.headers.get("Content-Type") || "";
  return type.includes("json") ? answer.json() : answer.text();
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body, headers) => request("POST", path, { body, headers });
export const patch = (path, body) => request("PATCH", path, { body });

/** Download `path` as CSV (Accept: text/csv) under `filename`. */
export async function downloadCsv(path, query, filename) {
  let answer = await send("GET", path, {
    query: { ...query, format: "csv" },
    headers: { Accept: "text/csv" },
  });
  if (answer.status === 401 && session) {
    await refresh();
    answer = await send("GET", path, {
      query: { ...query, format: "csv" },
      headers: { Accept: "text/csv" },
    });
  }
  if (!answer.ok) throw new ApiError(answer.status, await problemOf(answer));
  const blob = await answer.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** A fresh Idempotency-Key header for a POST that creates money or bookings. */
export function idempotency() {
  const key = crypto.randomUUID
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return { "Idempotency-Key": key };
}

scheduleRefresh();
