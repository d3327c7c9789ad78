// The sandbox's JSON API at /sandbox/api/, and the error bar that shows what it refused.

import { $ } from "./dom.js";

const API = "/sandbox/api/";

export class ApiError extends Error {} // the helpdesk's answer: {"error": "…"}

export class Unreachable extends ApiError {} // no answer at all

export async function api(path, body, signal) {
  const init = { cache: "no-store", signal };
  if (body !== undefined) {
    init.method = "POST";
    // X-Sandbox: the server refuses changes without it, so other sites' pages can't make them.
    init.headers = { "Content-Type": "application/json", "X-Sandbox": "1" };
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new Unreachable("Can't reach the helpdesk: is `helpdesk serve` still running?");
  }
  let data = {};
  try {
    data = (await res.json()) || {};
  } catch (e) {
    /* an empty or non-JSON body */
  }
  if (!res.ok || typeof data.error === "string") throw new ApiError(errorText(data, res.status));
  return data;
}

function errorText(data, status) {
  if (typeof data.error === "string") return data.error;
  if (Array.isArray(data.detail)) {
    // FastAPI's own validation answer
    return data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  if (typeof data.detail === "string") return data.detail;
  return `The helpdesk answered HTTP ${status}.`;
}

// A POST whose failure the person should see; resolves to the answer, or null.
export async function post(path, body) {
  try {
    return await api(path, body);
  } catch (e) {
    showError(e.message);
    return null;
  }
}

export function showError(text) {
  const bar = $(".error-bar");
  $(".error-text", bar).textContent = text;
  bar.hidden = false;
}

export function hideError() {
  $(".error-bar").hidden = true;
}
