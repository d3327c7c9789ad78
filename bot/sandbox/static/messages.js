// One message as Slack shows it: author, time, blocks or text, files and reactions.

import { renderBlocks } from "./blocks.js";
import { el } from "./dom.js";
import { safeUrl, link } from "./links.js";
import { S, users } from "./state.js";
import { emoji, mrkdwn } from "./text.js";
import { when, fullDate } from "./time.js";

function author(message) {
  const user = users()[message.user];
  const bot = Boolean(message.bot_id || (user && user.is_bot));
  const name = message.username || (user ? user.real_name || user.name : null) ||
    (message.bot_profile && message.bot_profile.name) || message.user || "unknown";
  return { name, bot };
}

function avatar(name, bot) {
  const letter = (name.trim()[0] || "?").toUpperCase();
  let hue = 0;
  for (const ch of name) hue = (hue * 31 + ch.codePointAt(0)) % 360;
  const node = el("div", { class: `avatar${bot ? " bot" : ""}`, "aria-hidden": "true", text: letter });
  node.style.background = bot ? "#4a154b" : `hsl(${hue} 45% 42%)`;
  return node;
}

// A message's DOM; unchanged messages keep theirs (and what the user picked in them).
export function messageNode(message, channelId, testid) {
  const { replies, ...own } = message;
  const key = `${testid}:${channelId}:${message.ts}`;
  const sig = JSON.stringify(own) + JSON.stringify(users());
  const cached = S.cache.get(key);
  if (cached && cached.sig === sig) return cached.node;
  const ctx = { surface: "message", channel: channelId, ts: message.ts };
  const node = messageShell(message, testid, ctx);
  S.cache.set(key, { sig, node });
  return node;
}

export function messageShell(message, testid, ctx, extraHead) {
  const who = author(message);
  const date = new Date(Number(message.ts) * 1000);
  const head = el("div", { class: "msg-head" },
    el("span", { class: "msg-author", text: who.name }),
    who.bot && el("span", { class: "badge", text: "APP" }),
    message.ts && el("time", { class: "msg-time", datetime: isNaN(date) ? null : date.toISOString(),
      title: fullDate(date), text: when(message.ts) }),
    extraHead);
  const content = el("div", { class: "msg-content" });
  if (message.blocks && message.blocks.length) content.append(...renderBlocks(message.blocks, ctx));
  else content.append(el("div", { class: "bk-text" }, mrkdwn(message.text || "")));
  if (message.edited) content.append(el("span", { class: "edited", text: "(edited)" }));
  return el("div", { class: `msg${testid === "ephemeral" ? " ephemeral" : ""}`,
    "data-testid": testid, "data-ts": message.ts || null, role: "listitem" },
  avatar(who.name, who.bot),
  el("div", { class: "msg-body" }, head, content, files(message.files), reactions(message.reactions),
    el("div", { class: "msg-foot" })));
}

function files(list) {
  if (!list || !list.length) return null;
  return el("ul", { class: "files" }, list.map((file) => {
    const name = file.title || file.name || "file";
    const url = file.url || file.url_private || file.permalink;
    const kind = file.mimetype || file.filetype || "";
    const href = url && safeUrl(url, true);
    const picture = href && /^image\//.test(file.mimetype || "") && !href.startsWith("mailto:");
    return el("li", { class: "file" }, el("span", { class: "file-icon", "aria-hidden": "true", text: "📄" }),
      href ? link(href, name, true) : el("span", { text: name }),
      kind && el("span", { class: "file-kind", text: ` ${kind}` }),
      picture && el("a", { class: "file-preview", href, target: "_blank", rel: "noopener noreferrer",
        "aria-hidden": "true", tabindex: "-1" },
      el("img", { src: href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })));
  }));
}

function reactions(list) {
  if (!list || !list.length) return null;
  return el("ul", { class: "reactions", "aria-label": "Reactions" }, list.map((r) =>
    el("li", { class: "reaction", title: `:${r.name}:` },
      `${emoji(r.name) || ":" + r.name + ":"} ${r.count || 1}`)));
}
