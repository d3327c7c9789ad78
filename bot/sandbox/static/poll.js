// Keeps the page live: long-polls GET /sandbox/api/state and redraws what changed.

import { ApiError, Unreachable, api, showError } from "./api.js";
import { renderChannel, renderThread } from "./channel.js";
import { $ } from "./dom.js";
import { renderHome } from "./home.js";
import { renderMail } from "./mail.js";
import { renderModal } from "./modal.js";
import { countUnread, renderSidebar } from "./navigation.js";
import { S, channels, findMessage } from "./state.js";

const POLL_TIMEOUT_MS = 40000; // the server answers within ~25 s

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

export async function poll() {
  let backoff = 1000;
  let resync = true; // after a failure, ask for the state at once: the server may be new
  for (;;) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), POLL_TIMEOUT_MS);
    try {
      const state = await api(`state?after=${resync ? 0 : S.version}`, undefined, ctrl.signal);
      clearTimeout(timer);
      connected(true);
      backoff = 1000;
      resync = false;
      S.pollError = null;
      // A restarted helpdesk counts from zero again: any other version is news.
      if (!S.data || state.version !== S.version) apply(state);
    } catch (e) {
      resync = true;
      clearTimeout(timer);
      connected(false);
      // Unreachable is shown quietly, in the sidebar; a refusal is worth the error bar.
      const refused = e instanceof ApiError && !(e instanceof Unreachable);
      if (refused && e.message !== S.pollError) showError(e.message);
      S.pollError = refused ? e.message : null;
      await sleep(backoff * (0.75 + Math.random() / 2));
      backoff = Math.min(backoff * 2, 15000);
    }
  }
}

function connected(yes) {
  if (S.connected === yes) return;
  S.connected = yes;
  const note = $(".connection");
  note.textContent = yes ? "● live" : "disconnected, retrying…";
  note.classList.toggle("offline", !yes);
}

function apply(state) {
  const first = !S.data;
  S.data = state;
  S.version = state.version;
  if (!channels().some((c) => c.id === S.channel)) S.channel = channels()[0] && channels()[0].id;
  if (S.thread && !findMessage(S.thread.channel, S.thread.ts)) S.thread = null;
  countUnread(first);
  renderSidebar();
  renderChannel(false);
  renderThread(false);
  renderMail();
  renderHome();
  renderModal(state.view);
  for (const [key, entry] of S.cache) if (!entry.node.isConnected) S.cache.delete(key);
}
