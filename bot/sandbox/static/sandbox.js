/* The sandbox page: the fake Slack workspace as Slack would show it, and the mail catcher.
   Plain ES2019: no dependencies, no build step. Server text reaches the DOM only as
   textContent (never innerHTML), and only http(s) and mailto links are clickable.

   How it fits together:
     helpers ........ el(), api() and the error bar
     polling ........ poll() long-polls GET /sandbox/api/state; apply() redraws what changed
     text ........... mrkdwn(), textNodes(), richText(): Slack's text formats as DOM nodes
     Block Kit ...... renderBlocks() and one builder per element type; a "ctx" says where the
                      blocks live (a message, an ephemeral message or the modal) and so where
                      a click goes
     messages ....... messageNode(): author, time, blocks or text, files, the thread link
     layout ......... sidebar, channel, thread pane, composers, mail catcher
     modal .......... renderModal(): keeps what the user typed while the state re-polls;
                      values() builds Slack's view.state.values; submit, close
     dialogs ........ confirm dialogs and overflow menus
*/
(function () {
  "use strict";

  const API = "/sandbox/api/";
  const POLL_TIMEOUT_MS = 40000; // the server answers within ~25 s
  const S = {
    data: null, // the last state from the server
    version: 0,
    view: "channel", // or "mail", or "home" (the app's Home tab; its Messages tab is a channel)
    channel: null, // id of the channel shown
    thread: null, // {channel, ts} of the open thread
    mailId: null,
    seen: new Map(), // channel id -> number of messages (with replies) seen there
    unread: new Set(),
    mailSeen: null,
    local: [], // slash command answers: ephemeral messages known only to this page
    localCount: 0,
    dismissed: new Set(),
    home: new Map(), // ephemeral id -> channel it is shown in, for those Slack gave none
    cache: new Map(), // message key -> {sig, node}: unchanged messages keep their DOM
    modal: null, // the modal on screen: {id, hash, node, readers, opener, busy}
    closed: new Set(), // views closed here, while the server catches up
    stash: new Map(), // view id -> what the user entered, kept while the view is replaced
    connected: null,
  };
  const $ = (selector, root) => (root || document).querySelector(selector);
  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // -- helpers -----------------------------------------------------------------------------

  // Builds elements. Text only ever goes in as textContent, never as HTML.
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === false || v == null) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k === "value" || k === "checked") node[k] = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid != null && kid !== false) node.append(kid);
    }
    return node;
  }

  // The address if it is http(s) or mailto, else null. Links written in messages must be
  // absolute, as in Slack; the server's own file addresses may be relative to this page.
  function safeUrl(url, relative) {
    try {
      const parsed = relative ? new URL(String(url), location.href) : new URL(String(url));
      return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(url, label, relative) {
    const href = safeUrl(url, relative);
    if (!href) return el("span", { text: label || url });
    return el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label || url,
      onclick: (e) => {
        if (showPermalink(href)) e.preventDefault();
      } });
  }

  function openUrl(url) {
    const href = safeUrl(url);
    if (href && !showPermalink(href)) window.open(href, "_blank", "noopener,noreferrer");
  }

  // A Slack permalink to a message of this workspace opens its thread here, as in Slack.
  function showPermalink(href) {
    const found = /\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})(?:\?.*thread_ts=(\d+\.\d+))?/.exec(href);
    if (!found || !S.data) return false;
    const [, channel, seconds, micros, threadTs] = found;
    const ts = threadTs || `${seconds}.${micros}`;
    if (!findMessage(channel, ts)) return false;
    showChannel(channel);
    openThread(channel, ts);
    return true;
  }

  class ApiError extends Error {} // the helpdesk's answer: {"error": "…"}
  class Unreachable extends ApiError {} // no answer at all

  async function api(path, body, signal) {
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
  async function post(path, body) {
    try {
      return await api(path, body);
    } catch (e) {
      showError(e.message);
      return null;
    }
  }

  function showError(text) {
    const bar = $(".error-bar");
    $(".error-text", bar).textContent = text;
    bar.hidden = false;
  }

  function hideError() {
    $(".error-bar").hidden = true;
  }

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  function when(ts, options) {
    const date = new Date(Number(ts) * 1000);
    if (isNaN(date)) return "";
    return new Intl.DateTimeFormat(undefined, options || { hour: "numeric", minute: "2-digit" })
      .format(date);
  }

  function fullDate(date) {
    return isNaN(date) ? "" : new Intl.DateTimeFormat(undefined,
      { dateStyle: "full", timeStyle: "medium" }).format(date);
  }

  function users() {
    return (S.data && S.data.users) || {};
  }

  function channels() {
    return (S.data && S.data.channels) || [];
  }

  // The app's direct messages with the user: its Messages tab.
  function appMessages() {
    return channels().find((c) => c.dm_user);
  }

  function userName(id) {
    const user = users()[id];
    return user ? user.real_name || user.name : id;
  }

  function channelName(id) {
    const found = channels().find((c) => c.id === id);
    return found ? found.name : id;
  }

  // -- polling -----------------------------------------------------------------------------

  async function poll() {
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

  function countUnread(first) {
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

  function findMessage(channelId, ts) {
    const channel = channels().find((c) => c.id === channelId);
    return channel && channel.messages.find((m) => m.ts === ts);
  }

  // -- text --------------------------------------------------------------------------------

  const EMOJI = {
    "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", smile: "😄", slightly_smiling_face: "🙂",
    grinning: "😀", joy: "😂", wink: "😉", blush: "😊", heart: "❤️", tada: "🎉", fire: "🔥",
    eyes: "👀", pray: "🙏", clap: "👏", wave: "👋", ok_hand: "👌", thinking_face: "🤔",
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", no_entry_sign: "🚫",
    no_entry: "⛔", rotating_light: "🚨", red_circle: "🔴", large_green_circle: "🟢",
    large_yellow_circle: "🟡", large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫",
    hourglass_flowing_sand: "⏳", hourglass: "⌛", stopwatch: "⏱️", alarm_clock: "⏰",
    double_vertical_bar: "⏸️", lock: "🔒", unlock: "🔓", incoming_envelope: "📨", envelope: "✉️",
    email: "📧", outbox_tray: "📤", inbox_tray: "📥", speech_balloon: "💬", star: "⭐",
    zzz: "💤", scissors: "✂️", paperclip: "📎", package: "📦", shopping_bags: "🛍️",
    globe_with_meridians: "🌐", computer: "💻", raised_hand: "✋", leftwards_arrow_with_hook: "↩️",
    arrow_up: "⬆️", arrow_down: "⬇️", arrow_right: "➡️", arrow_left: "⬅️", bell: "🔔",
    memo: "📝", pushpin: "📌", mag: "🔍", bulb: "💡", rocket: "🚀", chart_with_upwards_trend: "📈",
    bar_chart: "📊", calendar: "📆", date: "📅", clock1: "🕐", gift: "🎁", moneybag: "💰",
    credit_card: "💳", truck: "🚚", label: "🏷️", bust_in_silhouette: "👤", busts_in_silhouette: "👥",
    robot_face: "🤖", question: "❓", exclamation: "❗", information_source: "ℹ️", sparkles: "✨",
    point_right: "👉", sos: "🆘", ticket: "🎫", telephone_receiver: "📞", link: "🔗",
    hammer_and_wrench: "🛠️", gear: "⚙️", wastebasket: "🗑️", new: "🆕", repeat: "🔁",
  };

  function emoji(name) {
    return EMOJI[String(name).replace(/::skin-tone-\d$/, "")];
  }

  // What the user types, as Slack's client sends it: &, < and > escaped, so that text such
  // as "<b>" stays text and can't be read as a link or a mention.
  function encode(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // Slack escapes &, < and > in text; mrkdwn shows them as themselves.
  function decode(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Plain text with :emoji: shortcodes turned into emoji, as Slack does for emoji: true.
  function withEmoji(text) {
    return String(text == null ? "" : text)
      .replace(/:([a-z0-9_+'-]+(?:::skin-tone-\d)?):/g, (all, name) => emoji(name) || all);
  }

  function textOf(object) {
    if (!object) return "";
    if (typeof object === "string") return object;
    const text = object.text == null ? "" : String(object.text);
    return object.type === "mrkdwn" ? decode(withEmoji(text)) : withEmoji(text);
  }

  // A Block Kit text object as nodes.
  function textNodes(object) {
    if (!object) return [];
    if (object.type === "mrkdwn") return mrkdwn(object.text);
    return [document.createTextNode(withEmoji(object.text))];
  }

  // Slack's mrkdwn as nodes: ``` blocks, > quotes, then the inline formats of each line.
  function mrkdwn(source) {
    const out = [];
    const parts = String(source == null ? "" : source).split("```");
    const isPre = (i) => i % 2 === 1 && i < parts.length - 1; // an unclosed ``` stays literal
    parts.forEach((part, i) => {
      if (isPre(i)) {
        out.push(el("pre", { class: "mrkdwn-pre", text: decode(part.replace(/^\n/, "")) }));
        return;
      }
      let text = i % 2 === 1 ? "```" + part : part;
      if (i > 0 && isPre(i - 1)) text = text.replace(/^\n/, ""); // the <pre> ended the line
      if (isPre(i + 1)) text = text.replace(/\n$/, "");
      if (text) out.push(...mrkdwnLines(text));
    });
    return out;
  }

  // Lines of mrkdwn: runs of "> " lines become one quote; other lines end with a <br>.
  function mrkdwnLines(text) {
    const out = [];
    let quote = null;
    text.split("\n").forEach((line, i) => {
      const quoted = /^(&gt;|>)\s?/.exec(line);
      if (quoted) {
        if (quote) quote.append(el("br"));
        else out.push((quote = el("blockquote", { class: "mrkdwn-quote" })));
        quote.append(...inline(line.slice(quoted[0].length)));
        return;
      }
      if (i > 0 && !quote) out.push(el("br")); // a quote ends its own line
      quote = null;
      out.push(...inline(line));
    });
    return out;
  }

  const WORDY = /[\p{L}\p{N}]/u;

  // One line of mrkdwn: <links>, `code`, *bold*, _italic_, ~strike~ and :emoji:.
  function inline(text) {
    const out = [];
    let plain = "";
    const flush = () => {
      if (plain) out.push(document.createTextNode(decode(plain)));
      plain = "";
    };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "<") {
        const end = text.indexOf(">", i + 1);
        if (end > i + 1) {
          flush();
          out.push(special(text.slice(i + 1, end)));
          i = end + 1;
          continue;
        }
      } else if (c === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i + 1) {
          flush();
          out.push(el("code", { text: decode(text.slice(i + 1, end)) }));
          i = end + 1;
          continue;
        }
      } else if ((c === "*" || c === "_" || c === "~") && !WORDY.test(text[i - 1] || "")) {
        const end = closing(text, i);
        if (end > 0) {
          flush();
          const tag = { "*": "strong", _: "em", "~": "s" }[c];
          out.push(el(tag, {}, ...inline(text.slice(i + 1, end))));
          i = end + 1;
          continue;
        }
      } else if (c === ":") {
        const found = /^:([a-z0-9_+'-]+(?:::skin-tone-\d)?):/.exec(text.slice(i));
        if (found && emoji(found[1])) {
          plain += emoji(found[1]);
          i += found[0].length;
          continue;
        }
      }
      plain += c;
      i++;
    }
    flush();
    return out;
  }

  // Where the marker opened at `start` closes: a marker after non-space, not inside <…> or
  // `…`, and not followed by a letter; -1 when none does.
  function closing(text, start) {
    const marker = text[start];
    if (!text[start + 1] || /\s/.test(text[start + 1])) return -1;
    for (let j = start + 1; j < text.length; j++) {
      const c = text[j];
      if (c === "<" || c === "`") {
        const end = text.indexOf(c === "<" ? ">" : "`", j + 1);
        if (end > 0) j = end;
      } else if (c === marker && j > start + 1 && !/\s/.test(text[j - 1]) &&
        !WORDY.test(text[j + 1] || "")) {
        return j;
      }
    }
    return -1;
  }

  // The inside of <…>: a mention, a channel, a special word, a date or a link.
  function special(inner) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : decode(inner.slice(bar + 1));
    if (target[0] === "@") {
      return el("span", { class: "mention", text: "@" + (label || userName(target.slice(1))) });
    }
    if (target[0] === "#") {
      return el("span", { class: "mention", text: "#" + (label || channelName(target.slice(1))) });
    }
    if (target[0] === "!") {
      const [word, ...rest] = target.slice(1).split("^");
      if (word === "date") return el("time", { text: slackDate(rest, label) });
      if (word === "subteam") return el("span", { class: "mention", text: label || "@group" });
      if (["here", "channel", "everyone"].includes(word)) {
        return el("span", { class: "mention broadcast", text: "@" + word });
      }
      return document.createTextNode(label || "<" + decode(inner) + ">");
    }
    return link(decode(target), label || decode(target).replace(/^mailto:/, ""));
  }

  // <!date^1732471234^{date_short_pretty} at {time}|fallback>, in this browser's time zone.
  function slackDate(parts, fallback) {
    const date = new Date(Number(parts[0]) * 1000);
    if (isNaN(date) || !parts[1]) return fallback;
    const format = (options) => new Intl.DateTimeFormat(undefined, options).format(date);
    const tokens = {
      date_num: () => format({ year: "numeric", month: "2-digit", day: "2-digit" }),
      date: () => format({ dateStyle: "long" }),
      date_short: () => format({ dateStyle: "medium" }),
      date_long: () => format({ dateStyle: "full" }),
      date_pretty: () => format({ dateStyle: "long" }),
      date_short_pretty: () => format({ dateStyle: "medium" }),
      date_long_pretty: () => format({ dateStyle: "full" }),
      time: () => format({ hour: "numeric", minute: "2-digit" }),
      time_secs: () => format({ timeStyle: "medium" }),
    };
    return parts[1].replace(/\{(\w+)\}/g, (all, token) => (tokens[token] ? tokens[token]() : all));
  }

  // A rich_text block: sections, lists, quotes and preformatted text. Its text is raw.
  function richText(block) {
    const root = el("div", { class: "rich-text" });
    for (const part of block.elements || []) root.append(richPart(part));
    return root;
  }

  function richPart(part) {
    const kids = () => (part.elements || []).map(richInline);
    switch (part.type) {
      case "rich_text_section":
        return el("div", { class: "rt-section" }, kids());
      case "rich_text_quote":
        return el("blockquote", { class: "mrkdwn-quote" }, kids());
      case "rich_text_preformatted":
        return el("pre", { class: "mrkdwn-pre" }, kids());
      case "rich_text_list": {
        const list = el(part.style === "ordered" ? "ol" : "ul", { class: "rt-list" },
          (part.elements || []).map((item) => el("li", {}, richPart(item))));
        list.style.marginLeft = `${(Number(part.indent) || 0) * 20}px`;
        if (part.offset) list.setAttribute("start", String(Number(part.offset) + 1));
        return list;
      }
      default:
        return unsupported(part.type);
    }
  }

  function richInline(item) {
    let node;
    switch (item.type) {
      case "text":
        node = document.createTextNode(item.text || "");
        break;
      case "link":
        node = link(item.url, item.text || item.url);
        break;
      case "user":
        node = el("span", { class: "mention", text: "@" + userName(item.user_id) });
        break;
      case "usergroup":
        node = el("span", { class: "mention", text: "@group" });
        break;
      case "channel":
        node = el("span", { class: "mention", text: "#" + channelName(item.channel_id) });
        break;
      case "broadcast":
        node = el("span", { class: "mention broadcast", text: "@" + (item.range || "here") });
        break;
      case "emoji":
        node = document.createTextNode(item.unicode
          ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16)))
          : emoji(item.name) || `:${item.name}:`);
        break;
      case "date":
        node = el("time", { text: slackDate([item.timestamp, item.format], item.fallback || "") });
        break;
      case "color":
        node = el("code", { text: item.value || "" });
        break;
      default:
        return unsupported(item.type);
    }
    const style = item.style || {};
    for (const [key, tag] of [["code", "code"], ["strike", "s"], ["italic", "em"], ["bold", "strong"]]) {
      if (style[key]) node = el(tag, {}, node);
    }
    return node;
  }

  function unsupported(type) {
    return el("div", { class: "unsupported", text: `[unsupported block: ${type || "?"}]` });
  }

  // -- Block Kit: blocks -------------------------------------------------------------------

  // ctx: {surface: "message" | "ephemeral" | "modal", channel, ts, ephemeral, view_id,
  //       readers: Map of modal values, presets, errors}
  function renderBlocks(blocks, ctx) {
    return (blocks || []).map((block, index) => {
      try {
        return renderBlock(block, ctx, block.block_id || `blk-${index}`);
      } catch (e) {
        console.warn("sandbox: could not draw a block", block, e);
        return unsupported(block && block.type);
      }
    });
  }

  function renderBlock(block, ctx, blockId) {
    switch (block.type) {
      case "section":
        return sectionBlock(block, ctx, blockId);
      case "context":
        return el("div", { class: "bk-context" }, (block.elements || []).map((item) =>
          item.type === "image" ? image(item.image_url, item.alt_text, "bk-context-image")
            : el("span", {}, textNodes(item))));
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "header":
        return el("h3", { class: "bk-header", text: textOf(block.text) });
      case "actions":
        return el("div", { class: "bk-actions", "data-block-id": blockId },
          (block.elements || []).map((element) => element_(element, blockId, ctx, true)));
      case "image":
        return el("figure", { class: "bk-image" },
          block.title && el("figcaption", { text: textOf(block.title) }),
          image(block.image_url || (block.slack_file && block.slack_file.url), block.alt_text));
      case "rich_text":
        return richText(block);
      case "input":
        return inputBlock(block, ctx, blockId);
      case "file":
        return el("div", { class: "bk-file", text: `📎 ${block.external_id || "a file"}` });
      default:
        return unsupported(block.type);
    }
  }

  function sectionBlock(block, ctx, blockId) {
    const body = el("div", { class: "bk-section-body" });
    if (block.text) body.append(el("div", { class: "bk-text" }, textNodes(block.text)));
    if (block.fields && block.fields.length) {
      body.append(el("div", { class: "bk-fields" },
        block.fields.map((field) => el("div", { class: "bk-field" }, textNodes(field)))));
    }
    const node = el("div", { class: "bk-section", "data-block-id": blockId }, body);
    if (block.accessory) {
      const accessory = block.accessory.type === "image"
        ? image(block.accessory.image_url, block.accessory.alt_text, "bk-accessory-image")
        : element_(block.accessory, blockId, ctx, true);
      node.append(el("div", { class: "bk-accessory" }, accessory));
    }
    return node;
  }

  function image(url, alt, className) {
    const src = safeUrl(url, true);
    if (!src || src.startsWith("mailto:")) {
      return el("span", { class: "bk-image-missing", text: `[image: ${alt || "no address"}]` });
    }
    return el("img", { src, alt: alt || "", class: className || "bk-img", loading: "lazy",
      referrerpolicy: "no-referrer" });
  }

  // An input block: label, element, hint, "(optional)", and the error Slack shows under it.
  function inputBlock(block, ctx, blockId) {
    const element = block.element || {};
    const labelId = nextId("label");
    const errorId = nextId("error");
    const inputId = nextId("input");
    const error = ctx.errors && ctx.errors[blockId];
    const built = element_(element, blockId, ctx, Boolean(block.dispatch_action), {
      inputId, labelId, errorId: error ? errorId : null, input: true,
    });
    const label = el("label", { class: "bk-label", id: labelId, for: groupType(element) ? null : inputId },
      textOf(block.label),
      block.optional && el("span", { class: "optional", text: " (optional)" }));
    return el("div", { class: "bk-input", "data-block-id": blockId, "data-testid": "input-block" },
      label, built,
      block.hint && el("p", { class: "bk-hint", text: textOf(block.hint) }),
      el("p", { class: "bk-error", id: errorId, text: error || "", hidden: !error }));
  }

  function groupType(element) {
    return ["checkboxes", "radio_buttons", "file_input"].includes(element.type) ||
      element.type.startsWith("multi_");
  }

  // -- Block Kit: elements -----------------------------------------------------------------

  // One interactive element. `dispatch`: a change is sent as an action at once (always in
  // messages; in modals for actions blocks, accessories and dispatch_action inputs). In a
  // modal, an element with an action_id registers a reader for view.state.values.
  function element_(element, blockId, ctx, dispatch, opts) {
    opts = opts || {};
    const base = { action_id: element.action_id, block_id: blockId, type: element.type };
    const key = `${blockId}\u0000${element.action_id}`;
    const preset = ctx.presets && ctx.presets.get(key);
    const seeded = preset && preset.sig === initialSig(element) ? preset.state : null;
    const control = { touched: Boolean(seeded) };
    const touch = () => (control.touched = true);
    const send = (result) => {
      touch();
      return dispatch ? sendAction(ctx, Object.assign({}, base, result)) : null;
    };
    const builder = BUILDERS[element.type];
    if (!builder) return unsupported(element.type);
    const built = builder(element, { send, touch, dispatch, seeded, opts, ctx, base });
    if (ctx.readers && element.action_id && built.read) {
      ctx.readers.set(key, {
        block_id: blockId, action_id: element.action_id, type: element.type,
        sig: initialSig(element), input: Boolean(opts.input),
        touched: () => control.touched, read: built.read, check: built.check,
      });
    }
    for (const node of built.marks || [built.node]) {
      node.setAttribute("data-block-id", blockId);
      if (element.action_id) node.setAttribute("data-action-id", element.action_id);
      if (opts.errorId) {
        node.setAttribute("aria-invalid", "true");
        node.setAttribute("aria-describedby", opts.errorId);
      }
    }
    return built.node;
  }

  // What the element starts with: a new view with a different one resets the user's value.
  function initialSig(element) {
    const keys = ["initial_value", "initial_option", "initial_options", "initial_user",
      "initial_users", "initial_conversation", "initial_conversations", "initial_channel",
      "initial_channels", "initial_date", "initial_time", "initial_date_time", "type"];
    return JSON.stringify(keys.map((k) => element[k]));
  }

  const BUILDERS = {
    button: buttonElement,
    workflow_button: buttonElement,
    overflow: overflowElement,
    static_select: (e, c) => selectElement(e, c, staticOptions(e), "selected_option"),
    users_select: (e, c) => selectElement(e, c, userOptions(), "selected_user", e.initial_user),
    conversations_select: (e, c) => selectElement(e, c, channelOptions(), "selected_conversation",
      e.initial_conversation || (e.default_to_current_conversation && c.ctx.channel)),
    channels_select: (e, c) => selectElement(e, c, channelOptions(true), "selected_channel",
      e.initial_channel),
    external_select: (e, c) => comboElement(e, c),
    multi_static_select: (e, c) => multiElement(e, c, staticOptions(e), "selected_options"),
    multi_users_select: (e, c) => multiElement(e, c, userOptions(), "selected_users", e.initial_users),
    multi_conversations_select: (e, c) => multiElement(e, c, channelOptions(),
      "selected_conversations", e.initial_conversations),
    multi_channels_select: (e, c) => multiElement(e, c, channelOptions(true), "selected_channels",
      e.initial_channels),
    multi_external_select: (e, c) => multiElement(e, c, null, "selected_options"),
    checkboxes: checkboxesElement,
    radio_buttons: radioElement,
    datepicker: (e, c) => pickerElement(e, c, "date", "selected_date", e.initial_date),
    timepicker: (e, c) => pickerElement(e, c, "time", "selected_time", e.initial_time),
    datetimepicker: datetimeElement,
    plain_text_input: (e, c) => textElement(e, c, e.multiline ? "textarea" : "text"),
    email_text_input: (e, c) => textElement(e, c, "email"),
    url_text_input: (e, c) => textElement(e, c, "url"),
    number_input: (e, c) => textElement(e, c, "number"),
    rich_text_input: (e, c) => textElement(e, c, "textarea", true),
    file_input: fileElement,
  };

  function buttonElement(element, { send }) {
    const style = element.style === "primary" || element.style === "danger" ? ` ${element.style}` : "";
    const node = el("button", { type: "button", class: `bk-button${style}`, text: textOf(element.text),
      "aria-label": element.accessibility_label || null });
    node.addEventListener("click", async () => {
      if (element.confirm && !(await confirmDialog(element.confirm))) return;
      if (element.url) openUrl(element.url);
      node.setAttribute("aria-busy", "true");
      await send(Object.assign({ text: element.text },
        element.value != null ? { value: element.value } : {}, element.url ? { url: element.url } : {}));
      node.removeAttribute("aria-busy");
    });
    return { node };
  }

  // Options of a static select as [{option, group}], flattening option groups.
  function staticOptions(element) {
    if (element.option_groups) {
      return element.option_groups.flatMap((group) =>
        (group.options || []).map((option) => ({ option, group: textOf(group.label) })));
    }
    return (element.options || []).map((option) => ({ option }));
  }

  function userOptions() {
    return Object.entries(users())
      .filter(([, user]) => !user.is_bot && !user.deleted)
      .map(([id, user]) => ({ option: { text: { type: "plain_text", text: user.real_name || user.name },
        value: id }, id }))
      .sort((a, b) => a.option.text.text.localeCompare(b.option.text.text));
  }

  // The state's conversations; `publicOnly`: channels, without direct messages.
  function channelOptions(publicOnly) {
    return channels().filter((c) => !(publicOnly && c.dm_user)).map((c) => ({ option: { text: { type: "plain_text",
      text: c.dm_user ? c.name : "#" + c.name }, value: c.id }, id: c.id }));
  }

  // The option chosen among `choices` for an initial option object or an ID.
  function indexOf(choices, initial) {
    if (initial == null) return -1;
    if (typeof initial === "string") return choices.findIndex((c) => c.id === initial);
    return choices.findIndex((c) => c.option.value === initial.value);
  }

  // What a chosen choice is in an action or in view.state.values.
  function resultOf(choice, field) {
    if (!choice) return null;
    return field === "selected_option" || field === "selected_options" ? choice.option : choice.id;
  }

  function selectElement(element, { send, seeded, opts }, choices, field, initialId) {
    const select = el("select", { class: "bk-select", id: opts.inputId || null,
      "aria-label": opts.input ? null : textOf(element.placeholder) || "Choose" });
    select.append(el("option", { value: "", text: textOf(element.placeholder) || "Choose…" }));
    let groupNode = null;
    let groupName = null;
    choices.forEach((choice, index) => {
      const option = el("option", { value: String(index), text: textOf(choice.option.text) });
      if (choice.group !== undefined && choice.group !== groupName) {
        groupName = choice.group;
        select.append((groupNode = el("optgroup", { label: groupName })));
      }
      (choice.group !== undefined ? groupNode : select).append(option);
    });
    let chosen = indexOf(choices, initialId !== undefined ? initialId : element.initial_option);
    if (seeded) chosen = indexOf(choices, seeded[field]);
    select.value = chosen >= 0 ? String(chosen) : "";
    const current = () => (select.value === "" ? null : choices[Number(select.value)]);
    select.addEventListener("change", () => {
      const choice = current();
      if (choice) send({ [field]: resultOf(choice, field) });
      else send({ [field]: null });
    });
    return { node: select, read: () => ({ [field]: resultOf(current(), field) }),
      check: () => current() !== null };
  }

  function checkboxesElement(element, { send, seeded, opts }) {
    const choices = (element.options || []).map((option) => ({ option }));
    const initial = (seeded ? seeded.selected_options : element.initial_options) || [];
    const boxes = [];
    const group = el("div", { class: "bk-choices", role: "group", "aria-labelledby": opts.labelId || null });
    choices.forEach((choice, index) => {
      const id = nextId("check");
      const box = el("input", { type: "checkbox", id, value: String(index),
        checked: initial.some((o) => o.value === choice.option.value) });
      boxes.push(box);
      box.addEventListener("change", () => send({ selected_options: picked() }));
      group.append(choiceLabel(id, box, choice.option));
    });
    const picked = () => boxes.filter((b) => b.checked).map((b) => choices[Number(b.value)].option);
    return { node: group, read: () => ({ selected_options: picked() }),
      check: () => picked().length > 0 };
  }

  function radioElement(element, { send, seeded, opts }) {
    const choices = (element.options || []).map((option) => ({ option }));
    const initial = seeded ? seeded.selected_option : element.initial_option;
    const name = nextId("radio");
    const radios = [];
    const group = el("div", { class: "bk-choices", role: "radiogroup", "aria-labelledby": opts.labelId || null });
    choices.forEach((choice, index) => {
      const id = nextId("radio-option");
      const radio = el("input", { type: "radio", id, name, value: String(index),
        checked: Boolean(initial && initial.value === choice.option.value) });
      radios.push(radio);
      radio.addEventListener("change", () => send({ selected_option: choice.option }));
      group.append(choiceLabel(id, radio, choice.option));
    });
    const current = () => {
      const on = radios.find((r) => r.checked);
      return on ? choices[Number(on.value)].option : null;
    };
    return { node: group, read: () => ({ selected_option: current() }), check: () => current() !== null };
  }

  function choiceLabel(id, input, option) {
    return el("div", { class: "bk-choice" }, input,
      el("label", { for: id }, el("span", {}, textNodes(option.text)),
        option.description && el("span", { class: "bk-choice-description" }, textNodes(option.description))));
  }

  function pickerElement(element, { send, seeded, opts }, type, field, initial) {
    const value = seeded ? seeded[field] : initial;
    const input = el("input", { type, class: "bk-text-input bk-picker", id: opts.inputId || null,
      value: value || "", "aria-label": opts.input ? null : textOf(element.placeholder) || type });
    input.addEventListener("change", () => send({ [field]: input.value || null }));
    return { node: input, read: () => ({ [field]: input.value || null }), check: () => Boolean(input.value) };
  }

  function datetimeElement(element, { send, seeded, opts }) {
    const toLocal = (seconds) => {
      const d = new Date(Number(seconds) * 1000);
      if (isNaN(d)) return "";
      const pad = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    const start = seeded ? seeded.selected_date_time : element.initial_date_time;
    const input = el("input", { type: "datetime-local", class: "bk-text-input bk-picker",
      id: opts.inputId || null, value: start ? toLocal(start) : "" });
    const seconds = () => (input.value ? Math.floor(new Date(input.value).getTime() / 1000) : null);
    input.addEventListener("change", () => send({ selected_date_time: seconds() }));
    return { node: input, read: () => ({ selected_date_time: seconds() }), check: () => Boolean(input.value) };
  }

  function textElement(element, { send, touch, dispatch, seeded, opts }, kind, rich) {
    const props = { class: "bk-text-input", id: opts.inputId || null,
      placeholder: textOf(element.placeholder) || null,
      maxlength: element.max_length || null, minlength: element.min_length || null,
      "aria-label": opts.input ? null : textOf(element.placeholder) || "Text" };
    let input;
    if (kind === "textarea") {
      input = el("textarea", Object.assign(props, { rows: "4" }));
    } else {
      input = el("input", Object.assign(props, { type: kind }));
      if (kind === "number") {
        input.step = element.is_decimal_allowed ? "any" : "1";
        if (element.min_value != null) input.min = element.min_value;
        if (element.max_value != null) input.max = element.max_value;
      }
    }
    let start = element.initial_value;
    if (rich && element.initial_value) start = richPlain(element.initial_value);
    if (seeded) start = rich ? richPlain(seeded.rich_text_value) : seeded.value;
    input.value = start == null ? "" : String(start);
    const read = () => (rich ? { rich_text_value: richValue(input.value) }
      : { value: input.value === "" ? null : input.value });
    input.addEventListener("input", touch);
    const trigger = (element.dispatch_action_config || {}).trigger_actions_on || ["on_enter_pressed"];
    if (dispatch && trigger.includes("on_character_entered")) {
      input.addEventListener("input", debounce(() => send(read()), 400));
    }
    if (dispatch && kind !== "textarea" && trigger.includes("on_enter_pressed")) {
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.isComposing) {
          e.preventDefault();
          send(read());
        }
      });
    }
    const check = () => {
      if (!input.value.trim()) return false;
      if (element.min_length && input.value.length < element.min_length) {
        return `Please enter at least ${element.min_length} characters.`;
      }
      if (kind !== "textarea" && !input.checkValidity()) return input.validationMessage;
      return true;
    };
    return { node: input, read, check };
  }

  function richPlain(value) {
    const sections = (value && value.elements) || [];
    return sections.map((s) => (s.elements || []).map((e) => e.text || "").join("")).join("\n");
  }

  function richValue(text) {
    return { type: "rich_text", elements: [{ type: "rich_text_section",
      elements: text ? [{ type: "text", text }] : [] }] };
  }

  function fileElement() {
    const node = el("p", { class: "bk-note", text: "File uploads aren't available in the sandbox." });
    return { node };
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // A multi-select: the chosen ones as removable chips, and a menu (or a search box) to add.
  function multiElement(element, context, choices, field, initialIds) {
    const { send, seeded, opts } = context;
    let picked = [];
    const start = seeded ? seeded[field] : initialIds || element.initial_options || [];
    for (const item of start || []) {
      if (choices) {
        const index = indexOf(choices, item);
        if (index >= 0) picked.push(choices[index]);
      } else {
        picked.push({ option: item });
      }
    }
    const chips = el("ul", { class: "chips", "aria-label": "Chosen" });
    const group = el("div", { class: "bk-multi", role: "group", "aria-labelledby": opts.labelId || null }, chips);
    const max = Number(element.max_selected_items) || Infinity;
    const results = () => picked.map((choice) => resultOf(choice, field));
    const changed = () => {
      draw();
      send({ [field]: results() });
    };
    let adder;
    if (choices) {
      adder = el("select", { class: "bk-select", id: opts.inputId || null,
        "aria-label": opts.input ? null : textOf(element.placeholder) || "Add" });
      adder.addEventListener("change", () => {
        const choice = choices[Number(adder.value)];
        if (choice && picked.length < max) {
          picked.push(choice);
          changed();
          adder.focus();
        }
      });
    } else {
      adder = comboElement(element, {
        send: () => {}, seeded: null, opts, ctx: context.ctx, base: context.base,
        onPick: (option) => {
          if (picked.length < max && !picked.some((c) => c.option.value === option.value)) {
            picked.push({ option });
            changed();
          }
        },
      }).node;
    }
    group.append(adder);
    function draw() {
      chips.replaceChildren(...picked.map((choice, i) => {
        const label = textOf(choice.option.text);
        return el("li", { class: "chip" }, el("span", { text: label }),
          el("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${label}`, text: "✕",
            onclick: () => {
              picked.splice(i, 1);
              changed();
              (chips.querySelector(".chip-remove") || adder).focus();
            } }));
      }));
      if (choices) {
        const label = picked.length >= max ? "Maximum chosen" : textOf(element.placeholder) || "Add…";
        adder.replaceChildren(el("option", { value: "", text: label }));
        choices.forEach((choice, index) => {
          if (!picked.includes(choice)) {
            adder.append(el("option", { value: String(index), text: textOf(choice.option.text) }));
          }
        });
        adder.value = "";
      }
    }
    draw();
    return { node: group, marks: [group, choices ? adder : group.querySelector("input")],
      read: () => ({ [field]: results() }), check: () => picked.length > 0 };
  }

  // external_select: a combobox whose options the app sends as the user types.
  function comboElement(element, context) {
    const { send, seeded, opts, ctx, base } = context;
    let chosen = seeded ? seeded.selected_option : element.initial_option || null;
    const listId = nextId("listbox");
    const input = el("input", { type: "text", class: "bk-text-input bk-combo-input", role: "combobox",
      id: opts.inputId || null, "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": listId, autocomplete: "off",
      placeholder: textOf(element.placeholder) || "Type to search",
      "aria-label": opts.input ? null : textOf(element.placeholder) || "Search" });
    const list = el("ul", { class: "combo-list", role: "listbox", id: listId, hidden: true });
    const wrap = el("div", { class: "bk-combo" }, input, list);
    const minLength = element.min_query_length == null ? 3 : Number(element.min_query_length);
    let items = [];
    let active = -1;
    let asked = 0;
    const showChosen = () => {
      input.value = chosen && !context.onPick ? textOf(chosen.text) : "";
    };
    showChosen();

    async function query() {
      const value = input.value;
      if (value.length < minLength) return close();
      const ticket = ++asked;
      let answer;
      try {
        answer = await api("options", { view_id: ctx.view_id || "", block_id: base.block_id,
          action_id: base.action_id, value, channel: ctx.channel || undefined,
          message_ts: ctx.ts || undefined });
      } catch (e) {
        if (ticket === asked) showError(e.message);
        return;
      }
      if (ticket !== asked || document.activeElement !== input) return;
      open(answer);
    }
    const later = debounce(query, 250);

    function open(answer) {
      items = [];
      list.replaceChildren();
      const add = (option) => {
        const index = items.push(option) - 1;
        list.append(el("li", { role: "option", id: `${listId}-${index}`, class: "combo-option",
          "aria-selected": "false", text: textOf(option.text),
          onmousedown: (e) => {
            e.preventDefault();
            pick(index);
          } }));
      };
      for (const group of answer.option_groups || []) {
        list.append(el("li", { role: "presentation", class: "combo-group", text: textOf(group.label) }));
        (group.options || []).forEach(add);
      }
      (answer.options || []).forEach(add);
      if (!items.length) list.append(el("li", { class: "combo-empty", role: "presentation", text: "No matches" }));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(items.length ? 0 : -1);
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      list.querySelectorAll("[role=option]").forEach((node, i) => {
        node.setAttribute("aria-selected", String(i === index));
        if (i === index) node.scrollIntoView({ block: "nearest" });
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", `${listId}-${index}`);
      else input.removeAttribute("aria-activedescendant");
    }

    function pick(index) {
      const option = items[index];
      if (!option) return;
      close();
      if (context.onPick) {
        context.onPick(option);
        input.value = "";
        return;
      }
      chosen = option;
      showChosen();
      send({ selected_option: option });
    }

    input.addEventListener("input", () => {
      if (!input.value && chosen && !context.onPick) {
        chosen = null;
        send({ selected_option: null });
      }
      later();
    });
    // Opens on a click, like Slack's menu; not on focus, which a redraw may move here.
    input.addEventListener("click", () => {
      if (minLength === 0 && list.hidden) {
        if (chosen) input.select();
        query();
      }
    });
    input.addEventListener("blur", () => {
      close();
      showChosen();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) return query();
        const step = e.key === "ArrowDown" ? 1 : -1;
        highlight(Math.max(0, Math.min(items.length - 1, active + step)));
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) {
          e.preventDefault();
          pick(active);
        }
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });
    return { node: wrap, marks: [input], read: () => ({ selected_option: chosen }),
      check: () => chosen !== null };
  }

  // Sends a click or pick to wherever the element lives.
  async function sendAction(ctx, action) {
    if (ctx.surface === "local") {
      showError("This answer came straight back from the command, so its buttons can't be " +
        "used in the sandbox; run the command again or use the ticket's own buttons.");
      return null;
    }
    if (ctx.surface === "modal") {
      return post("actions", { view_id: ctx.view_id, action, values: values() });
    }
    if (ctx.surface === "home") return post("actions", { view_id: ctx.view_id, action, values: {} });
    const body = { channel: ctx.channel, action };
    if (ctx.surface === "ephemeral") body.ephemeral_id = ctx.ephemeral;
    else body.message_ts = ctx.ts;
    return post("actions", body);
  }

  // -- messages ----------------------------------------------------------------------------

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
  function messageNode(message, channelId, testid) {
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

  function messageShell(message, testid, ctx, extraHead) {
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

  // -- layout: sidebar ---------------------------------------------------------------------

  function renderSidebar() {
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

  function showChannel(id) {
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
  function showHome() {
    S.view = "home";
    renderSidebar();
    renderChannel(false);
    renderThread(false);
    renderMail();
    renderHome();
    post("app", { tab: "home" });
  }

  function showAppMessages() {
    const dm = appMessages();
    if (!dm) return;
    showChannel(dm.id);
    post("app", { tab: "messages" });
  }

  function renderHome() {
    const view = $(".home-view");
    view.hidden = S.view !== "home";
    const dm = appMessages();
    const inApp = S.view === "home" || (S.view === "channel" && dm && S.channel === dm.id);
    $(".app-tabs").hidden = !inApp;
    for (const tab of document.querySelectorAll(".app-tab")) {
      const current = (tab.dataset.tab === "home") === (S.view === "home");
      tab.classList.toggle("current", current);
      if (current) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    $(".channel-view .pane-head").hidden = Boolean(inApp);
    const home = S.data && S.data.home;
    $(".home-empty").hidden = Boolean(home);
    const box = $(".home-blocks");
    const sig = home ? JSON.stringify(home) + JSON.stringify(users()) : "";
    if (box.dataset.sig === sig) return;
    box.dataset.sig = sig;
    box.replaceChildren(...(home ? renderBlocks(home.blocks, { surface: "home", view_id: home.id }) : []));
  }

  function showMail() {
    S.view = "mail";
    S.mailSeen = S.data.mail.length;
    if (S.mailId == null && S.data.mail.length) S.mailId = S.data.mail[S.data.mail.length - 1].id;
    renderSidebar();
    renderChannel(false);
    renderThread(false);
    renderMail();
    renderHome();
  }

  // -- layout: channel and thread ----------------------------------------------------------

  function atBottom(scroller) {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function renderChannel(jump) {
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

  function openThread(channelId, ts) {
    S.thread = { channel: channelId, ts };
    renderChannel(false);
    renderThread(true);
    $("#thread-composer").focus();
  }

  function closeThread() {
    const ts = S.thread && S.thread.ts;
    S.thread = null;
    renderThread(false);
    renderChannel(false);
    const back = ts && document.querySelector(`[data-testid="message"][data-ts="${ts}"] [data-testid="open-thread"]`);
    if (back) back.focus();
  }

  function renderThread(jump) {
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

  // -- layout: composers -------------------------------------------------------------------

  function setupComposers() {
    const channelBox = $("#channel-composer");
    const threadBox = $("#thread-composer");
    for (const box of [channelBox, threadBox]) {
      box.addEventListener("input", () => grow(box));
      box.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.defaultPrevented) {
          e.preventDefault();
          box.form.requestSubmit();
        }
      });
    }
    $(".thread-form").addEventListener("submit", (e) => {
      e.preventDefault();
      sendNote();
    });
    $(".channel-form").addEventListener("submit", (e) => {
      e.preventDefault();
      sendCommand();
    });
    channelBox.addEventListener("input", commandHints);
    channelBox.addEventListener("keydown", hintKeys);
    channelBox.addEventListener("blur", () => setTimeout(() => ($(".command-hints").hidden = true), 150));
  }

  function grow(box) {
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 200) + "px";
  }

  async function sendNote() {
    const box = $("#thread-composer");
    const text = box.value.trim();
    if (!text || !S.thread) return;
    const button = $('[data-testid="thread-send"]');
    button.disabled = true;
    const answer = await post("messages", { channel: S.thread.channel, thread_ts: S.thread.ts,
      text: encode(text) });
    button.disabled = false;
    if (answer) {
      box.value = "";
      grow(box);
      const scroller = $(".thread-scroller");
      scroller.scrollTop = scroller.scrollHeight;
    }
    box.focus();
  }

  async function sendCommand() {
    const box = $("#channel-composer");
    const hint = $(".composer-hint", $(".channel-form"));
    const raw = box.value.trim();
    $(".command-hints").hidden = true;
    if (!raw) return;
    if (!raw.startsWith("/")) {
      hint.hidden = false;
      hint.textContent = "Here you can type slash commands (try /helpdesk help). To write an " +
        "internal note, open a ticket's thread with “Reply in thread” or “N replies”.";
      return;
    }
    hint.hidden = true;
    const space = raw.search(/\s/);
    const command = (space < 0 ? raw : raw.slice(0, space)).toLowerCase();
    const text = space < 0 ? "" : raw.slice(space + 1).trim();
    const channel = S.channel;
    const button = $('[data-testid="channel-send"]');
    button.disabled = true;
    const answer = await post("commands", { command, text: encode(text), channel });
    button.disabled = false;
    box.focus();
    if (!answer) return;
    box.value = "";
    grow(box);
    if (answer.response) {
      const response = answer.response;
      S.local.push({ id: `local-${++S.localCount}`, local: true, channel, thread_ts: null,
        at: String(Date.now() / 1000), text: response.text || "", blocks: response.blocks || null,
        command: `${command} ${text}`.trim() });
      renderChannel(true);
    }
  }

  function commandHints() {
    const box = $("#channel-composer");
    const list = $(".command-hints");
    $(".composer-hint", $(".channel-form")).hidden = true;
    const typed = box.value;
    const commands = (S.data && S.data.commands) || [];
    const matches = /^\/\S*$/.test(typed) ? commands.filter((c) => c.command.startsWith(typed)) : [];
    list.replaceChildren(...matches.map((c, i) => el("li", { role: "option", class: "command-hint",
      id: `command-hint-${i}`, "aria-selected": String(i === 0),
      onmousedown: (e) => {
        e.preventDefault();
        useCommand(c.command);
      } },
    el("strong", { text: c.command }), " ", el("span", { class: "usage", text: c.usage_hint || "" }),
    el("span", { class: "description", text: c.description || "" }))));
    list.hidden = matches.length === 0;
  }

  function hintKeys(e) {
    const list = $(".command-hints");
    if (list.hidden) return;
    const options = [...list.children];
    let index = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      index = (index + (e.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
      options.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
    } else if ((e.key === "Tab" || e.key === "Enter") && index >= 0) {
      const chosen = $("strong", options[index]).textContent;
      if (e.key === "Enter" && $("#channel-composer").value === chosen) return;
      e.preventDefault();
      useCommand(chosen);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      list.hidden = true;
    }
  }

  function useCommand(command) {
    const box = $("#channel-composer");
    box.value = command + " ";
    $(".command-hints").hidden = true;
    box.focus();
  }

  // -- layout: mail catcher ----------------------------------------------------------------

  function renderMail() {
    const view = $(".mail-view");
    view.hidden = S.view !== "mail";
    if (view.hidden) return;
    const mail = S.data.mail || [];
    if (S.mailId == null && mail.length) S.mailId = mail[mail.length - 1].id;
    const list = $(".mail-list");
    if (!mail.length) {
      list.replaceChildren(el("li", { class: "mail-empty", text: "No mail yet. Answer a ticket " +
        "with its Reply button and the email shows up here." }));
    } else {
      list.replaceChildren(...mail.slice().reverse().map(mailItem));
    }
    const selected = mail.find((m) => m.id === S.mailId);
    const detail = $(".mail-detail");
    if (!selected) {
      detail.replaceChildren();
      return;
    }
    if (detail.dataset.id === String(selected.id)) return;
    detail.dataset.id = String(selected.id);
    detail.replaceChildren(...mailDetail(selected));
  }

  function mailItem(m) {
    const selected = m.id === S.mailId;
    const date = new Date(m.received_at);
    return el("li", {}, el("button", { type: "button", class: `mail-item${selected ? " selected" : ""}`,
      "data-testid": "mail-item", "data-id": String(m.id), "aria-current": selected ? "true" : null,
      onclick: () => {
        S.mailId = m.id;
        renderMail();
        $(".mail-detail").focus();
      } },
    el("span", { class: "mail-from", text: m.from }),
    el("time", { class: "mail-time", text: isNaN(date) ? "" : new Intl.DateTimeFormat(undefined,
      { hour: "numeric", minute: "2-digit" }).format(date), title: fullDate(date) }),
    el("span", { class: "mail-subject", text: m.subject || "(no subject)" }),
    el("span", { class: "mail-to", text: "To: " + (m.to || []).join(", ") })));
  }

  function mailDetail(m) {
    const date = new Date(m.received_at);
    const rows = [["From", m.from], ["To", (m.to || []).join(", ")], ["Date", fullDate(date)],
      ["Message-ID", m.message_id], ["In-Reply-To", m.in_reply_to], ["References", m.references]];
    const attachments = m.attachments || [];
    return [
      el("h3", { class: "mail-heading", text: m.subject || "(no subject)" }),
      el("dl", { class: "mail-headers" }, rows.map(([k, v]) => [el("dt", { text: k }),
        el("dd", { text: v || "—" })])),
      attachments.length ? el("ul", { class: "files" }, attachments.map((a) => el("li", { class: "file" },
        el("span", { class: "file-icon", "aria-hidden": "true", text: "📎" }),
        `${a.filename || "attachment"} (${a.content_type || "?"}, ${size(a.size)})`))) : null,
      el("pre", { class: "mail-body", "data-testid": "mail-body", tabindex: "0", text: m.text || "" }),
    ].filter(Boolean);
  }

  function size(bytes) {
    const n = Number(bytes) || 0;
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  // -- modal -------------------------------------------------------------------------------

  function renderModal(view) {
    if (view && S.closed.has(view.id)) view = null;
    const shown = S.modal;
    if (!view) {
      if (shown) removeModal();
      S.stash.clear();
      return;
    }
    const hash = view.hash || JSON.stringify(view);
    if (shown && shown.id === view.id && shown.hash === hash) return;
    const focused = document.activeElement;
    let refocus = null;
    if (shown) {
      // Updated, or covered by a pushed view: keep what the user typed, for when it's back.
      S.stash.set(shown.id, presetsOf(shown));
      if (shown.id === view.id && shown.node.contains(focused)) {
        refocus = focused.getAttribute("data-action-id");
      }
    }
    const presets = S.stash.get(view.id) || new Map();
    const opener = shown ? shown.opener : document.activeElement;
    if (shown) shown.node.remove();
    S.modal = buildModal(view, hash, presets, {});
    S.modal.opener = opener;
    $(".modal-root").append(S.modal.node);
    document.body.classList.add("modal-open");
    const again = refocus && S.modal.node.querySelector(`[data-action-id="${CSS.escape(refocus)}"]`);
    (again || firstFocusable(S.modal.node)).focus();
  }

  // What the user has entered in a modal, by block and action ID, with each initial value.
  function presetsOf(modal) {
    const presets = new Map();
    for (const [key, reader] of modal.readers) {
      if (reader.touched()) presets.set(key, { sig: reader.sig, state: reader.read() });
    }
    return presets;
  }

  function buildModal(view, hash, presets, errors) {
    const readers = new Map();
    const ctx = { surface: "modal", view_id: view.id, readers, presets, errors };
    const titleId = nextId("modal-title");
    const form = el("form", { class: "modal-body", novalidate: true });
    form.append(...renderBlocks(view.blocks, ctx));
    const formError = el("p", { class: "modal-error", role: "alert", hidden: true });
    const cancel = el("button", { type: "button", class: "bk-button", "data-testid": "modal-cancel",
      text: textOf(view.close) || (view.submit ? "Cancel" : "Close"), onclick: () => closeModal() });
    const submit = view.submit && el("button", { type: "submit", class: "bk-button primary",
      "data-testid": "modal-submit", text: textOf(view.submit) || "Submit" });
    if (submit) form.id = nextId("modal-form");
    if (submit) submit.setAttribute("form", form.id);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (submit) submitModal();
    });
    const dialog = el("div", { class: "modal", role: "dialog", "aria-modal": "true",
      "aria-labelledby": titleId, "data-testid": "modal", "data-callback-id": view.callback_id || "",
      "data-view-id": view.id },
    el("header", { class: "modal-head" }, el("h2", { id: titleId, text: textOf(view.title) }),
      el("button", { type: "button", class: "icon-button", "aria-label": "Close", text: "✕",
        onclick: () => closeModal() })),
    form, formError,
    el("footer", { class: "modal-foot" }, cancel, submit));
    const node = el("div", { class: "overlay", onkeydown: trapFocus }, dialog);
    node.addEventListener("mousedown", (e) => {
      if (e.target === node) e.preventDefault(); // Slack's modals don't close on an outside click
    });
    return { id: view.id, hash, view, node, readers, submit, formError, busy: false };
  }

  // Where focus goes in a new modal: its first input, as in Slack, else its first control.
  function firstFocusable(root) {
    const inputs = [...root.querySelectorAll(".bk-input")].flatMap(focusables);
    const body = root.querySelector(".modal-body");
    return inputs[0] || (body && focusables(body)[0]) || focusables(root)[0] || root;
  }

  function focusables(root) {
    return [...root.querySelectorAll("button, input, select, textarea, a[href], [tabindex]")]
      .filter((n) => !n.disabled && n.tabIndex >= 0 && n.offsetParent !== null);
  }

  function trapFocus(e) {
    if (e.key !== "Tab") return;
    const items = focusables(e.currentTarget);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  function removeModal() {
    const shown = S.modal;
    if (!shown) return;
    shown.node.remove();
    S.modal = null;
    document.body.classList.remove("modal-open");
    const back = shown.opener && document.contains(shown.opener) ? shown.opener : $("#main");
    back.focus();
  }

  // Slack's view.state.values: every input block's element, and any other element touched.
  function values() {
    const out = {};
    if (!S.modal) return out;
    for (const reader of S.modal.readers.values()) {
      if (!reader.input && !reader.touched()) continue;
      out[reader.block_id] = out[reader.block_id] || {};
      out[reader.block_id][reader.action_id] = Object.assign({ type: reader.type }, reader.read());
    }
    return out;
  }

  // What Slack checks before it sends a submission: required inputs and their lengths.
  function checkInputs() {
    const errors = {};
    const blocks = S.modal.view.blocks || [];
    blocks.forEach((block, index) => {
      if (block.type !== "input" || !block.element) return;
      const blockId = block.block_id || `blk-${index}`;
      const reader = S.modal.readers.get(`${blockId}\u0000${block.element.action_id}`);
      if (!reader || !reader.check) return;
      const verdict = reader.check();
      if (verdict === false && !block.optional) errors[blockId] = "Please complete this required field.";
      else if (typeof verdict === "string" && (!block.optional || verdict)) errors[blockId] = verdict;
    });
    return errors;
  }

  function showFieldErrors(errors) {
    const modal = S.modal;
    let first = null;
    const unknown = [];
    for (const box of modal.node.querySelectorAll(".bk-input")) {
      const message = errors[box.dataset.blockId];
      const note = $(".bk-error", box);
      note.textContent = message || "";
      note.hidden = !message;
      for (const control of box.querySelectorAll("[data-action-id]")) {
        if (message) {
          control.setAttribute("aria-invalid", "true");
          control.setAttribute("aria-describedby", note.id);
        } else {
          control.removeAttribute("aria-invalid");
        }
      }
      if (message && !first) first = box.querySelector("[data-action-id]");
    }
    for (const [blockId, message] of Object.entries(errors)) {
      if (!modal.node.querySelector(`.bk-input[data-block-id="${CSS.escape(blockId)}"]`)) {
        unknown.push(`${blockId}: ${message}`);
      }
    }
    modal.formError.textContent = unknown.join(" ");
    modal.formError.hidden = unknown.length === 0;
    if (first) first.focus();
  }

  async function submitModal() {
    const modal = S.modal;
    if (!modal || modal.busy) return;
    const local = checkInputs();
    if (Object.keys(local).length) return showFieldErrors(local);
    showFieldErrors({});
    modal.busy = true;
    modal.submit.disabled = true;
    modal.submit.setAttribute("aria-busy", "true");
    const answer = await post("submit", { view_id: modal.id, values: values() });
    if (S.modal !== modal) return; // already replaced or closed by a newer state
    if (answer && answer.errors) showFieldErrors(answer.errors);
    if (answer && answer.ok) {
      // Closed or replaced: the next state shows what is open now. Until then, wait.
      setTimeout(() => release(modal), 5000);
      return;
    }
    release(modal);
  }

  function release(modal) {
    modal.busy = false;
    if (!modal.submit) return;
    modal.submit.disabled = false;
    modal.submit.removeAttribute("aria-busy");
  }

  async function closeModal() {
    const modal = S.modal;
    if (!modal) return;
    S.closed.add(modal.id);
    removeModal();
    const answer = await post("close", { view_id: modal.id });
    if (!answer) {
      S.closed.delete(modal.id);
      if (S.data) renderModal(S.data.view);
    }
  }

  // -- dialogs -----------------------------------------------------------------------------

  // Slack's confirm object as a small dialog; resolves true when confirmed.
  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const opener = document.activeElement;
      const titleId = nextId("confirm-title");
      const done = (yes) => {
        overlay.remove();
        if (opener && document.contains(opener)) opener.focus();
        resolve(yes);
      };
      const ok = el("button", { type: "button", "data-testid": "confirm-ok",
        class: `bk-button ${confirm.style === "danger" ? "danger" : "primary"}`,
        text: textOf(confirm.confirm) || "Yes", onclick: () => done(true) });
      const deny = el("button", { type: "button", class: "bk-button", "data-testid": "confirm-deny",
        text: textOf(confirm.deny) || "Cancel", onclick: () => done(false) });
      const overlay = el("div", { class: "overlay confirm-overlay",
        onkeydown: (e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            done(false);
          } else {
            trapFocus(e);
          }
        } },
      el("div", { class: "modal confirm", role: "alertdialog", "aria-modal": "true",
        "aria-labelledby": titleId, "data-testid": "confirm" },
      el("header", { class: "modal-head" }, el("h2", { id: titleId, text: textOf(confirm.title) || "Are you sure?" })),
      el("div", { class: "modal-body" }, el("div", { class: "bk-text" }, textNodes(confirm.text))),
      el("footer", { class: "modal-foot" }, deny, ok)));
      document.body.append(overlay);
      ok.focus();
    });
  }

  function overflowElement(element, { send }) {
    const menuId = nextId("menu");
    const button = el("button", { type: "button", class: "bk-button overflow", "aria-haspopup": "menu",
      "aria-expanded": "false", "aria-controls": menuId, "aria-label": "More actions", text: "⋯" });
    const menu = el("div", { class: "menu", role: "menu", id: menuId, hidden: true });
    const wrap = el("div", { class: "overflow-wrap" }, button, menu);
    const items = (element.options || []).map((option) => el("button", { type: "button", role: "menuitem",
      class: "menu-item", tabindex: "-1", text: textOf(option.text),
      onclick: async () => {
        hide(true);
        if (element.confirm && !(await confirmDialog(element.confirm))) return;
        if (option.url) openUrl(option.url);
        send({ selected_option: option });
      } }));
    menu.append(...items);
    const hide = (refocus) => {
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      document.removeEventListener("mousedown", outside, true);
      if (refocus) button.focus();
    };
    const outside = (e) => {
      if (!wrap.contains(e.target)) hide(false);
    };
    button.addEventListener("click", () => {
      if (!menu.hidden) return hide(true);
      menu.hidden = false;
      button.setAttribute("aria-expanded", "true");
      document.addEventListener("mousedown", outside, true);
      if (items[0]) items[0].focus();
    });
    menu.addEventListener("keydown", (e) => {
      const index = items.indexOf(document.activeElement);
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        items[(index + step + items.length) % items.length].focus();
      } else if (e.key === "Escape" || e.key === "Tab") {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
        }
        hide(e.key === "Escape");
      }
    });
    return { node: wrap, marks: [button] };
  }

  // -- start -------------------------------------------------------------------------------

  async function copy(button) {
    const text = $("code", button.closest(".snippet")).textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // No clipboard permission (http, or an old browser): select it for Ctrl-C instead.
      const range = document.createRange();
      range.selectNodeContents($("code", button.closest(".snippet")));
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Press Ctrl-C";
      return;
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  }

  async function trySomething(button, path, done) {
    const status = $(".try-status");
    button.disabled = true;
    status.textContent = "Working…";
    const answer = await post(path, {});
    button.disabled = false;
    status.textContent = answer ? done(answer) : "";
  }

  function setup() {
    $(".error-close").addEventListener("click", hideError);
    $('[data-testid="mail-catcher"]').addEventListener("click", showMail);
    $(".thread-close").addEventListener("click", closeThread);
    for (const button of document.querySelectorAll(".copy")) {
      button.addEventListener("click", () => copy(button));
    }
    $('[data-testid="sample-email"]').addEventListener("click", (e) => trySomething(e.currentTarget,
      "sample-email", (answer) => {
        if (S.data && channels()[0]) showChannel(channels()[0].id);
        return `Sent: the SMTP server answered ${answer.code} ${answer.message || ""}. The ticket ` +
          "appears in the first channel in a moment.";
      }));
    $('[data-testid="post-digest"]').addEventListener("click", (e) => trySomething(e.currentTarget,
      "digest", () => "Asked for the digest: it is posted to the metrics channel in a moment."));
    $('[data-testid="reset"]').addEventListener("click", (e) => trySomething(e.currentTarget,
      "reset", () => {
        location.reload(); // the page starts over with the workspace
        return "Starting over…";
      }));
    $('[data-testid="app-helpdesk"]').addEventListener("click", showHome);
    $('[data-testid="app-tab-home"]').addEventListener("click", showHome);
    $('[data-testid="app-tab-messages"]').addEventListener("click", showAppMessages);
    setupComposers();
    if (matchMedia("(max-width: 760px)").matches) $(".try").open = false; // the channel first
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      if (S.modal && !document.querySelector(".confirm-overlay")) {
        e.preventDefault();
        closeModal();
      } else if (!S.modal && S.thread && $(".thread-pane").contains(document.activeElement)) {
        e.preventDefault();
        closeThread();
      }
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && S.data) {
        countUnread(false);
        if (S.view === "channel") S.unread.delete(S.channel);
        renderSidebar();
      }
    });
    // A reloaded Slack client shows no modal: those left open are closed before the first look.
    post("page-loaded", {}).finally(poll);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
