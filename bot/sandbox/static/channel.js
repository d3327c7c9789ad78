// The channel and the thread pane: their messages, ephemeral ones among them, by time.

import { $, el } from "./dom.js";
import { messageNode, messageShell } from "./messages.js";
import { S, users, channels, findMessage } from "./state.js";
import { when } from "./time.js";

function threadFoot(node, message, channelId) {
  const foot = $(".msg-foot", node);
  const count = (message.replies || []).length;
  const label = count ? `${count} ${count === 1 ? "reply" : "replies"}` : "Reply in thread";
  const open = S.thread && S.thread.channel === channelId && S.thread.ts === message.ts;
  const last = count ? message.replies[count - 1] : null;
  const existing = foot.firstChild;
  if (existing && existing.dataset.label === label + open) return;
  foot.replaceChildren(el("button", { type: "button", "data-testid": "open-thread",
    "data-label": label + open, class: `thread-link${count ? "" : " quiet"}${open ? " open" : ""}`,
    "aria-expanded": String(Boolean(open)),
    onclick: () => openThread(channelId, message.ts) },
  el("span", { text: label }),
  last && el("span", { class: "thread-last", text: ` Last reply ${when(last.ts)}` })));
}

// Ephemeral messages: Slack's, and the answers to this page's slash commands.
function ephemerals(channelId, threadTs) {
  const all = [...(S.data.ephemeral || []), ...S.local];
  return all.filter((m) => {
    if (S.dismissed.has(m.id)) return false;
    let home = m.channel;
    if (!home) {
      if (!S.home.has(m.id)) S.home.set(m.id, S.channel);
      home = S.home.get(m.id);
    }
    if (home !== channelId) return false;
    const inOpenThread = m.thread_ts && S.thread && S.thread.channel === home && S.thread.ts === m.thread_ts;
    return threadTs ? m.thread_ts === threadTs : !inOpenThread;
  });
}

function ephemeralNode(message) {
  const key = `ephemeral:${message.id}`;
  const sig = JSON.stringify(message);
  const cached = S.cache.get(key);
  if (cached && cached.sig === sig) return cached.node;
  const ctx = message.local ? { surface: "local" }
    : { surface: "ephemeral", channel: message.channel || S.home.get(message.id), ephemeral: message.id };
  const bot = Object.keys(users()).find((id) => users()[id].is_bot) || "";
  const shown = Object.assign({ user: bot, bot_id: "app" }, message,
    { ts: message.ts || (message.local ? message.at : null) });
  const note = el("span", { class: "only-you" }, el("span", { "aria-hidden": "true", text: "👁 " }),
    "Only visible to you",
    el("button", { type: "button", class: "link-button", text: "Dismiss",
      onclick: () => {
        S.dismissed.add(message.id);
        renderChannel(false);
        renderThread(false);
      } }));
  const node = messageShell(shown, "ephemeral", ctx, note);
  S.cache.set(key, { sig, node });
  return node;
}

function atBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

export function renderChannel(jump) {
  const view = $(".channel-view");
  view.hidden = S.view !== "channel";
  const channel = channels().find((c) => c.id === S.channel);
  if (!channel || view.hidden) return;
  const scroller = $(".channel-scroller");
  const stick = jump || atBottom(scroller);
  $("#channel-title").textContent = (channel.dm_user ? "" : "# ") + channel.name;
  $(".pane-purpose", view).textContent = channel.purpose || "";
  const items = channel.messages.map((m) => {
    const node = messageNode(m, channel.id, "message");
    threadFoot(node, m, channel.id);
    return { ts: m.ts, node };
  });
  syncChildren($(".messages", view), inTimeOrder(items, ephemerals(channel.id, null)));
  const empty = $(".empty-channel", view);
  empty.hidden = channel.messages.length > 0;
  empty.textContent = S.channel === channels()[0].id
    ? "No tickets yet. Send a sample customer email (on the left) and its thread appears here."
    : "Nothing here yet.";
  $("#channel-composer").placeholder = `Type a slash command in ${channel.dm_user ? "" : "#"}${channel.name}, e.g. /helpdesk help`;
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

// Messages and the ephemeral ones among them, as Slack shows them: by time.
function inTimeOrder(items, extra) {
  for (const m of extra) items.push({ ts: m.ts || m.at, node: ephemeralNode(m) });
  return items.sort((a, b) => Number(a.ts) - Number(b.ts)).map((item) => item.node);
}

// Puts `nodes` into `parent` in order, moving as little as possible (keeps focus).
function syncChildren(parent, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...parent.children]) if (!wanted.has(child)) child.remove();
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] || null);
  });
}

export function openThread(channelId, ts) {
  S.thread = { channel: channelId, ts };
  renderChannel(false);
  renderThread(true);
  $("#thread-composer").focus();
}

export function closeThread() {
  const ts = S.thread && S.thread.ts;
  S.thread = null;
  renderThread(false);
  renderChannel(false);
  const back = ts && document.querySelector(`[data-testid="message"][data-ts="${ts}"] [data-testid="open-thread"]`);
  if (back) back.focus();
}

export function renderThread(jump) {
  const pane = $(".thread-pane");
  const root = S.thread && findMessage(S.thread.channel, S.thread.ts);
  pane.hidden = !root || S.view !== "channel";
  document.body.classList.toggle("with-thread", !pane.hidden);
  if (pane.hidden) return;
  const scroller = $(".thread-scroller");
  const stick = jump || atBottom(scroller);
  const channel = channels().find((c) => c.id === S.thread.channel);
  $(".thread-where").textContent = (channel.dm_user ? "" : "#") + channel.name;
  syncChildren($(".thread-root"), [messageNode(root, channel.id, "thread-root")]);
  const replies = root.replies || [];
  $(".reply-count").textContent = replies.length
    ? `${replies.length} ${replies.length === 1 ? "reply" : "replies"}` : "No replies yet";
  const items = replies.map((m) => ({ ts: m.ts, node: messageNode(m, channel.id, "reply") }));
  syncChildren($(".replies"), inTimeOrder(items, ephemerals(channel.id, root.ts)));
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}
