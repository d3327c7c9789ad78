// The sidebar, and moving between channels, the app's Home and Messages tabs, and the mail catcher.

import { post } from "./api.js";
import { renderChannel, openThread, renderThread } from "./channel.js";
import { $, el } from "./dom.js";
import { renderHome } from "./home.js";
import { safeUrl } from "./links.js";
import { renderMail } from "./mail.js";
import { S, channels, appMessages, findMessage } from "./state.js";

export function countUnread(first) {
  for (const c of channels()) {
    const count = c.messages.reduce((n, m) => n + 1 + (m.replies || []).length, 0);
    const seen = S.seen.get(c.id);
    const looking = S.view === "channel" && S.channel === c.id && !document.hidden;
    if (first || looking || seen === undefined) S.seen.set(c.id, count);
    else if (count > seen) S.unread.add(c.id);
  }
  const mail = S.data.mail.length;
  if (S.mailSeen === null || (S.view === "mail" && !document.hidden)) S.mailSeen = mail;
}

export function renderSidebar() {
  const list = $(".channel-list");
  const keep = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const items = channels().filter((c) => !c.dm_user).map((c) => {
    let li = keep.get(c.id);
    if (!li) {
      li = el("li", { "data-id": c.id }, el("button", { type: "button", class: "side-link",
        "data-testid": `channel-${c.name}`, onclick: () => showChannel(c.id) },
      el("span", { class: "side-icon", "aria-hidden": "true", text: c.dm_user ? "●" : "#" }),
      el("span", { class: "side-name", text: c.name }),
      el("span", { class: "unread-dot", title: "New messages" })));
    }
    const button = li.firstChild;
    const current = S.view === "channel" && S.channel === c.id;
    button.classList.toggle("current", current);
    button.classList.toggle("unread", S.unread.has(c.id));
    if (current) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
    $(".unread-dot", button).hidden = !S.unread.has(c.id);
    $(".side-name", button).textContent = c.name;
    button.setAttribute("aria-label", `${c.dm_user ? "" : "#"}${c.name}${S.unread.has(c.id) ? ", new messages" : ""}`);
    return li;
  });
  if (items.some((li, i) => list.children[i] !== li) || list.children.length !== items.length) {
    list.replaceChildren(...items);
  }
  const app = $('[data-testid="app-helpdesk"]');
  const dm = appMessages();
  const appUnread = Boolean(dm && S.unread.has(dm.id));
  const inApp = S.view === "home" || (S.view === "channel" && dm && S.channel === dm.id);
  app.classList.toggle("current", Boolean(inApp));
  app.classList.toggle("unread", appUnread);
  $(".unread-dot", app).hidden = !appUnread;
  app.setAttribute("aria-label", `Helpdesk app${appUnread ? ", new messages" : ""}`);
  if (inApp) app.setAttribute("aria-current", "page");
  else app.removeAttribute("aria-current");
  const mail = $('[data-testid="mail-catcher"]');
  const count = $(".count", mail);
  const total = S.data.mail.length;
  count.textContent = String(total);
  count.dataset.count = String(total);
  count.classList.toggle("new", total > (S.mailSeen || 0));
  mail.classList.toggle("current", S.view === "mail");
  mail.setAttribute("aria-label", `Mail catcher, ${total} ${total === 1 ? "email" : "emails"}` +
    (total > (S.mailSeen || 0) ? `, ${total - S.mailSeen} new` : ""));
  if (S.view === "mail") mail.setAttribute("aria-current", "page");
  else mail.removeAttribute("aria-current");
  renderTry();
}

function renderTry() {
  const smtp = S.data.smtp || {};
  $(".smtp-where").textContent = smtp.to ? `${smtp.to} at ${smtp.host}:${smtp.port}` : "the SMTP server";
  for (const name of ["swaks", "python"]) {
    const box = $(`[data-snippet="${name}"]`);
    box.hidden = !smtp[name];
    $("code", box).textContent = smtp[name] || "";
  }
  for (const [name, url] of Object.entries(S.data.links || {})) {
    const a = $(`[data-link="${name}"]`);
    const href = safeUrl(url, true);
    if (a && href) a.href = href;
  }
}

export function showChannel(id) {
  S.view = "channel";
  if (S.channel !== id && S.thread && S.thread.channel !== id) S.thread = null;
  S.channel = id;
  S.unread.delete(id);
  countUnread(false);
  renderSidebar();
  renderChannel(true);
  renderThread(true);
  renderMail();
  renderHome();
}

// Slack opens an app on its Home tab, and tells the app each time a tab is opened.
export function showHome() {
  S.view = "home";
  renderSidebar();
  renderChannel(false);
  renderThread(false);
  renderMail();
  renderHome();
  post("app", { tab: "home" });
}

export function showAppMessages() {
  const dm = appMessages();
  if (!dm) return;
  showChannel(dm.id);
  post("app", { tab: "messages" });
}

export function showMail() {
  S.view = "mail";
  S.mailSeen = S.data.mail.length;
  if (S.mailId == null && S.data.mail.length) S.mailId = S.data.mail[S.data.mail.length - 1].id;
  renderSidebar();
  renderChannel(false);
  renderThread(false);
  renderMail();
  renderHome();
}

// A Slack permalink to a message of this workspace opens its thread here, as in Slack.
export function showPermalink(href) {
  const found = /\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})(?:\?.*thread_ts=(\d+\.\d+))?/.exec(href);
  if (!found || !S.data) return false;
  const [, channel, seconds, micros, threadTs] = found;
  const ts = threadTs || `${seconds}.${micros}`;
  if (!findMessage(channel, ts)) return false;
  showChannel(channel);
  openThread(channel, ts);
  return true;
}
