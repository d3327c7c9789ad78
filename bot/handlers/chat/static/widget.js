/* Helpdesk live chat widget (docs/chat.md). Plain ES2019: no dependencies, no build step. */
(function () {
  "use strict";

  // currentScript is only set while this file first runs: read everything from it now.
  const script = document.currentScript;
  if (!script || !script.src || document.getElementById("helpdesk-chat")) return;
  const ORIGIN = new URL(script.src).origin; // the helpdesk's, even when embedded in a shop
  const API = ORIGIN + "/chat/api";
  const KEY = "helpdesk-chat:" + ORIGIN;
  const PAGE = script.dataset.mode === "page";
  const cfg = { title: "Chat with us", color: "#1f6feb", greeting: "", open: true,
    back_at: null, max_message_chars: 5000 };

  let conv = load(); // {id, token} of the conversation this browser started
  let resumed = false;
  let lastId = 0;
  const shown = new Map(); // message id -> element: the stream repeats what we POSTed
  const outbox = []; // messages not yet stored, sent one at a time so they keep their order
  let sending = false;
  const live = { on: false, gen: 0, ctrl: null, timer: 0, dog: 0, failures: 0 };
  // Self-service before the first message: this page visit's session (a deflection is
  // counted server-side when an article was opened and the chat closed without writing),
  // and the proof of an order looked up, attached to the first message if the visitor asks.
  const selfService = { session: null, asking: null, opened: false, seq: 0, timer: 0, lookup: null };
  const ui = {};

  const CSS = `
:host{all:initial!important;display:block!important}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;text-align:left}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button,input,textarea{font:inherit;color:inherit;margin:0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;padding:0;border:0;border-radius:50%;background:var(--accent);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.3);cursor:pointer;display:grid;place-items:center}
.launcher:focus-visible{outline-color:#111;box-shadow:0 0 0 2px #fff,0 4px 14px rgba(0,0,0,.3)}
svg{width:26px;height:26px;fill:currentColor}
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);height:min(600px,calc(100vh - 108px));background:#fff;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden}
header{background:var(--accent);color:var(--on);padding:10px 12px 10px 16px;display:flex;align-items:center;gap:8px;min-height:56px}
h2{margin:0;font-size:17px;font-weight:600;flex:1;overflow-wrap:anywhere}
.help{color:inherit;font-size:14px;white-space:nowrap}
.close{width:36px;height:36px;padding:5px;border:0;border-radius:6px;background:none;cursor:pointer}
header :focus-visible{outline-color:currentColor;outline-offset:-2px}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;background:#f6f6f7}
.msg{max-width:85%;display:flex;flex-direction:column;align-items:flex-start}
.visitor{align-self:flex-end;align-items:flex-end}
.bubble{padding:8px 12px;border:1px solid #d6d7db;border-radius:14px 14px 14px 4px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere}
.visitor .bubble{background:var(--accent);color:var(--on);border-color:transparent;border-radius:14px 14px 4px 14px}
.who,.when,.note{margin:0 4px;font-size:12px;color:#555}
.note{align-self:center;text-align:center}
.pending{opacity:.65}
form{padding:10px 12px 12px;border-top:1px solid #e2e2e5;display:flex;flex-direction:column;gap:8px;background:#fff}
.notice{margin:0;padding:8px 10px;border-radius:8px;background:#fff4ce;color:#3b2f00;font-size:14px}
.error{margin:0;color:#b3261e;font-size:14px}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px}
label{display:flex;flex-direction:column;gap:2px;font-size:13px;color:#444}
input,textarea{width:100%;padding:8px 10px;border:1px solid #8a8d93;border-radius:8px;background:#fff;font-size:16px}
[aria-invalid=true]{border-color:#b3261e}
.row{display:flex;gap:8px;align-items:flex-end}
textarea{resize:none;height:42px;max-height:140px}
.send{flex:none;height:42px;padding:0 16px;border:0;border-radius:8px;background:var(--accent);color:var(--on);font-weight:600;cursor:pointer}
.suggest{padding:8px 12px;border-top:1px solid #e2e2e5;background:#fff;max-height:40%;overflow-y:auto}
h3{margin:0 0 6px;font-size:14px;font-weight:600}
h4{margin:4px 0 2px;font-size:15px}
.suggest ul,.tracking{margin:0;padding:0;list-style:none;display:flex;flex-direction:column;gap:8px}
.suggest a,.tracking a{color:#0b57d0;font-weight:600}
.snippet{margin:2px 0 0;font-size:13px;color:#444}
.track{flex:1;overflow-y:auto;padding:16px;gap:10px}
.link{align-self:flex-start;padding:2px 0;border:0;background:none;color:#0b57d0;text-decoration:underline;cursor:pointer;font-size:14px}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:0}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
.page .panel{top:0;right:0;bottom:0;left:0;width:auto;max-width:none;height:auto;border-radius:0;box-shadow:none}
.page header,.page .log,.page form{padding-left:max(16px,calc(50% - 360px));padding-right:max(16px,calc(50% - 360px))}
@media (max-width:480px){.panel{top:0;right:0;bottom:0;left:0;width:auto;max-width:none;height:auto;border-radius:0}.open .launcher{display:none}.fields{grid-template-columns:1fr}}
`;
  const CHAT_ICON = "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z";
  const CLOSE_ICON = "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6z";

  // -- helpers -------------------------------------------------------------------------

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY));
      return saved && saved.id && saved.token ? saved : null;
    } catch (e) {
      return null; // storage blocked (private mode, sandboxed frame): no resuming
    }
  }

  function save(value) {
    try {
      if (value) localStorage.setItem(KEY, JSON.stringify(value));
      else localStorage.removeItem(KEY);
    } catch (e) {
      /* the chat still works, until a reload */
    }
  }

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Builds elements. Text only ever goes in as textContent, never as HTML.
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== false && v != null) node.setAttribute(k, v === true ? "" : v);
    }
    node.append(...kids.filter(Boolean));
    return node;
  }

  function icon(d) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.append(document.createElementNS(ns, "path"));
    svg.firstChild.setAttribute("d", d);
    return svg;
  }

  // White or near-black, whichever contrasts more with the colour (WCAG relative luminance).
  function textOn(hex) {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0556 ? "#fff" : "#111";
  }

  // In the visitor's own locale and time zone.
  function format(iso, options) {
    const when = new Date(iso);
    return isNaN(when) ? "" : new Intl.DateTimeFormat(undefined, options).format(when);
  }

  async function call(method, path, body, token) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(API + path, { method, headers, body: body && JSON.stringify(body),
      credentials: "omit", cache: "no-store" });
    let data = {};
    try {
      data = (await res.json()) || {};
    } catch (e) {
      /* an empty or non-JSON body, e.g. from a proxy */
    }
    return { status: res.status, data, retryAfter: Number(res.headers.get("Retry-After")) || 0 };
  }

  // -- drawing -------------------------------------------------------------------------

  function build() {
    const host = el("div", { id: "helpdesk-chat" });
    const root = (ui.root = el("div", { class: PAGE ? "root page" : "root", onkeydown: onKey }));
    root.style.setProperty("--accent", cfg.color);
    root.style.setProperty("--on", textOn(cfg.color));
    ui.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages",
      tabindex: "0" });
    ui.greeting = cfg.greeting &&
      el("div", { class: "msg" }, el("div", { class: "bubble", text: cfg.greeting }));
    ui.away = el("p", { class: "notice", "data-testid": "away", hidden: true });
    ui.name = el("input", { autocomplete: "name", maxlength: "200", "data-testid": "name" });
    ui.email = el("input", { type: "email", autocomplete: "email", "data-testid": "email" });
    ui.emailLabel = el("span");
    ui.fields = el("div", { class: "fields" }, el("label", {}, "Name (optional)", ui.name),
      el("label", {}, ui.emailLabel, ui.email));
    ui.error = el("p", { class: "error", role: "alert", "data-testid": "error", hidden: true });
    ui.input = el("textarea", { id: "hc-input", rows: "1", placeholder: "Write a message…",
      "data-testid": "input", onkeydown: onEnter, oninput: onType });
    const send = el("button", { type: "submit", class: "send", "data-testid": "send", text: "Send" });
    ui.attached = el("p", { class: "notice", "data-testid": "attached", hidden: true });
    ui.trackOpen = cfg.order_tracking && el("button", { type: "button", class: "link",
      "data-testid": "track-open", text: "Track my order", onclick: () => showTrack(true) });
    ui.form = el("form", { novalidate: true, onsubmit: (e) => (e.preventDefault(), submit()) },
      ui.away, ui.attached, ui.fields, ui.error, el("div", { class: "row" },
        el("label", { for: "hc-input", class: "sr", text: "Message" }), ui.input, send),
      ui.trackOpen);
    const close = !PAGE && el("button", { type: "button", class: "close", "aria-label": "Close chat",
      onclick: () => toggle(false) }, icon(CLOSE_ICON));
    // The shop's help centre, when it has a knowledge base: answers without waiting for one.
    const help = /^https?:\/\//.test(cfg.help_url || "") &&
      el("a", { class: "help", href: cfg.help_url, target: "_blank", rel: "noopener",
        "data-testid": "help", text: "Help centre" });
    ui.panel = el("div", { id: "hc-panel", class: "panel", role: "dialog", "aria-label": cfg.title,
      "data-testid": "panel", hidden: !PAGE },
      el("header", {}, el("h2", { text: cfg.title }), help, close), ui.log, buildSuggestions(),
      ui.suggestStatus, buildTrack(), ui.form);
    root.append(ui.panel);
    if (!PAGE) {
      ui.icons = [icon(CHAT_ICON), icon(CLOSE_ICON)];
      ui.icons[1].setAttribute("hidden", "");
      ui.launcher = el("button", { type: "button", class: "launcher", "aria-label": "Open chat",
        "aria-expanded": "false", "aria-controls": "hc-panel", "data-testid": "launcher",
        onclick: () => toggle(ui.panel.hidden) }, ...ui.icons);
      root.append(ui.launcher);
    }
    host.attachShadow({ mode: "open" }).append(el("style", { text: CSS }), root);
    clearLog();
    started(Boolean(conv));
    document.body.append(host);
  }

  function toggle(open) {
    if (!open && !conv && selfService.opened && selfService.session) {
      // Read an article, and leaving without writing: the server counts it, once.
      call("POST", "/self-service/closed", {}, selfService.session).catch(() => {});
    }
    ui.panel.hidden = !open;
    ui.root.classList.toggle("open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.icons[0].toggleAttribute("hidden", open);
    ui.icons[1].toggleAttribute("hidden", !open);
    (open ? (ui.track.hidden ? ui.input : ui.orderNumber) : ui.launcher).focus();
    if (open) ui.log.scrollTop = ui.log.scrollHeight;
    wake();
  }

  function onKey(e) {
    if (e.key === "Escape" && !PAGE && !ui.panel.hidden) {
      e.preventDefault();
      toggle(false);
    }
  }

  function onEnter(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function grow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 140) + "px";
  }

  function showError(text) {
    ui.error.textContent = text || "";
    ui.error.hidden = !text;
  }

  // Before a conversation exists the visitor may give a name and email; afterwards not.
  function started(yes) {
    const away = !cfg.open;
    const back = cfg.back_at && format(cfg.back_at, { weekday: "long", hour: "numeric",
      minute: "2-digit", timeZoneName: "short" });
    ui.fields.hidden = yes;
    if (ui.trackOpen) ui.trackOpen.hidden = yes;
    if (yes) showSuggestions([]);
    ui.away.hidden = !away;
    ui.away.textContent = `We're away right now${back ? " — back " + back : ""}.` +
      (yes ? "" : " Leave your email and we'll answer there.");
    ui.email.required = away && !yes;
    ui.emailLabel.textContent = away ? "Email" : "Email (optional)";
  }

  function clearLog(note) {
    shown.clear();
    lastId = 0;
    ui.log.replaceChildren(ui.greeting || "", ...outbox.map((item) => item.el));
    if (note) ui.log.append(el("p", { class: "note", text: note }));
  }

  function render(m, pending) {
    const agent = m.from === "agent";
    const node = el("div", { class: `msg ${m.from}${pending ? " pending" : ""}`,
      "data-testid": "message", "data-from": agent ? "agent" : "visitor" },
      el("span", { class: agent ? "who" : "sr", text: agent ? m.name || "Support" : "You:" }),
      el("div", { class: "bubble", text: m.text }),
      el("span", { class: "when", text: "Sending…" }));
    if (pending) place(node);
    else stored(node, m);
    return node;
  }

  // Marks an element as stored message m and moves it into id order.
  function stored(node, m) {
    node.dataset.id = m.id;
    node.classList.remove("pending");
    node.children[1].textContent = m.text; // as stored, which is what the agent sees
    node.lastChild.textContent = format(m.sent_at, { hour: "numeric", minute: "2-digit" });
    shown.set(m.id, node);
    lastId = Math.max(lastId, m.id);
    place(node, m.id);
  }

  // Stored messages go in id order, before any still being sent; those go last.
  function place(node, id) {
    const log = ui.log;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const next = id == null ? null : Array.from(log.children).find((c) =>
      c !== node && (c.dataset.id ? Number(c.dataset.id) > id : c.classList.contains("pending")));
    log.insertBefore(node, next || null);
    if (atEnd || id == null) log.scrollTop = log.scrollHeight;
  }

  function receive(messages) {
    for (const m of messages || []) {
      if (!m || m.id == null || shown.has(m.id)) continue;
      // Our own message may come back on the stream before its POST has answered.
      const mine = m.from === "visitor" && outbox.find((i) => !i.el.dataset.id && i.text === m.text);
      if (mine) stored(mine.el, m);
      else render(m);
    }
  }

  // -- self-service --------------------------------------------------------------------

  function buildSuggestions() {
    // Outside the list, so it is in the page (not hidden) when results come and go.
    ui.suggestStatus = el("p", { class: "sr", "aria-live": "polite", "data-testid": "suggest-status" });
    ui.suggestList = el("ul", { "data-testid": "suggestions" });
    ui.suggest = el("section", { class: "suggest", "aria-labelledby": "hc-suggest-title", hidden: true },
      el("h3", { id: "hc-suggest-title", text: "These articles may answer your question" }),
      ui.suggestList);
    return ui.suggest;
  }

  function onType() {
    grow();
    if (conv || !cfg.suggestions) return;
    clearTimeout(selfService.timer);
    selfService.timer = setTimeout(suggest, 350); // debounced: one search when typing pauses
  }

  async function suggest() {
    const query = ui.input.value.trim().slice(0, 200);
    const seq = ++selfService.seq;
    if ([...query].length < 3) return showSuggestions([]);
    try {
      if (!selfService.session) {
        selfService.asking = selfService.asking || call("POST", "/self-service");
        const res = await selfService.asking;
        if (res.status === 201) selfService.session = res.data.session;
        else selfService.asking = null;
      }
      const res = await call("GET", "/articles?q=" + encodeURIComponent(query));
      // A slower answer to an older query must not replace a newer one's.
      if (seq === selfService.seq && !conv && res.status === 200) showSuggestions(res.data.articles || []);
    } catch (e) {
      /* suggestions are a help, not the chat: say nothing */
    }
  }

  function showSuggestions(articles) {
    const safe = articles.filter((a) => /^https?:\/\//.test(a.url || ""));
    ui.suggestList.replaceChildren(...safe.map((a) => el("li", {},
      el("a", { href: a.url, target: "_blank", rel: "noopener", "data-testid": "suggestion",
        onclick: () => opened(a.slug), onauxclick: () => opened(a.slug), text: a.title }),
      a.snippet && el("p", { class: "snippet", text: a.snippet }))));
    const shown = !ui.suggest.hidden;
    ui.suggest.hidden = !safe.length;
    const n = safe.length;
    if (n || shown) {
      ui.suggestStatus.textContent = n
        ? `${n} help article${n === 1 ? "" : "s"} may answer this, above your message.`
        : "No suggested articles.";
    }
  }

  function opened(slug) {
    if (!selfService.session) return;
    selfService.opened = true;
    call("POST", "/self-service/opened", { slug }, selfService.session).catch(() => {});
  }

  function buildTrack() {
    ui.orderNumber = el("input", { inputmode: "numeric", autocomplete: "off", maxlength: "40",
      required: true, "data-testid": "order-number" });
    ui.orderEmail = el("input", { type: "email", autocomplete: "email", maxlength: "320",
      required: true, "data-testid": "order-email" });
    ui.trackError = el("p", { class: "error", role: "alert", "data-testid": "track-error",
      hidden: true });
    ui.trackResult = el("div", { "aria-live": "polite", "data-testid": "order-result" });
    ui.track = el("form", { class: "track", novalidate: true, hidden: true,
      "aria-labelledby": "hc-track-title", onsubmit: (e) => (e.preventDefault(), lookUp()) },
      el("h3", { id: "hc-track-title", text: "Track my order" }),
      el("label", {}, "Order number, such as #1001", ui.orderNumber),
      el("label", {}, "The email address you ordered with", ui.orderEmail),
      ui.trackError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "send", "data-testid": "track-submit",
          text: "Find my order" }),
        el("button", { type: "button", class: "link", "data-testid": "track-back",
          text: "Back to chat", onclick: () => showTrack(false) })),
      ui.trackResult);
    return ui.track;
  }

  function showTrack(yes) {
    ui.track.hidden = !yes;
    ui.log.hidden = yes;
    ui.form.hidden = yes;
    if (yes) ui.suggest.hidden = true;
    (yes ? ui.orderNumber : ui.input).focus();
  }

  async function lookUp() {
    const order = ui.orderNumber.value.trim();
    const email = ui.orderEmail.value.trim();
    for (const input of [ui.orderNumber, ui.orderEmail]) input.removeAttribute("aria-invalid");
    const missing = [!order && ui.orderNumber, !ui.orderEmail.checkValidity() && ui.orderEmail]
      .filter(Boolean);
    if (missing.length) {
      missing.forEach((input) => input.setAttribute("aria-invalid", "true"));
      missing[0].focus();
      return trackError("Give the order number and the email address you ordered with.");
    }
    trackError("");
    ui.trackResult.replaceChildren(el("p", { text: "Looking for your order…" }));
    let res;
    try {
      res = await call("POST", "/orders/lookup", { order, email });
    } catch (e) {
      res = { status: 0, data: {} };
    }
    if (res.status === 200) return showOrder(res.data.order, res.data.lookup);
    ui.trackResult.replaceChildren();
    trackError(res.data.error || "We can't look orders up right now; try again shortly.");
    const fields = Object.keys(res.data.fields || {});
    if (fields.includes("order")) ui.orderNumber.setAttribute("aria-invalid", "true");
    if (fields.includes("email")) ui.orderEmail.setAttribute("aria-invalid", "true");
  }

  function trackError(text) {
    ui.trackError.textContent = text;
    ui.trackError.hidden = !text;
  }

  function showOrder(order, lookup) {
    const facts = [["Placed", format(order.placed_at, { dateStyle: "medium" })],
      ["Payment", order.payment || "unknown"], ["Delivery", order.fulfilment]];
    if (order.cancelled) facts.unshift(["Status", "cancelled"]);
    const tracking = order.tracking.map((t) => {
      const label = [t.company, t.number].filter(Boolean).join(" ") || "Tracking";
      return el("li", {}, /^https?:\/\//i.test(t.url || "")
        ? el("a", { href: t.url, target: "_blank", rel: "noopener noreferrer",
          "data-testid": "tracking-link", text: label })
        : el("span", { text: label }));
    });
    ui.trackResult.replaceChildren(
      el("h4", { "data-testid": "order-name", text: `Order ${order.name}` }),
      el("dl", {}, ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
      el("h4", { text: "Tracking" }),
      tracking.length ? el("ul", { class: "tracking" }, ...tracking)
        : el("p", { text: "No tracking number yet." }),
      el("button", { type: "button", class: "link", "data-testid": "ask-human",
        text: "Talk to a person about this order", onclick: () => askHuman(order.name, lookup) }));
  }

  // The next message starts the conversation with this order attached, proven by the match.
  function askHuman(name, lookup) {
    selfService.lookup = lookup;
    ui.attached.textContent = `Order ${name} will be attached to your message.`;
    ui.attached.hidden = false;
    showTrack(false);
  }

  function unattach() {
    selfService.lookup = null;
    ui.attached.hidden = true;
  }

  // -- sending -------------------------------------------------------------------------

  function submit() {
    const text = ui.input.value.trim();
    ui.input.focus();
    if (!text) return;
    for (const input of [ui.input, ui.name, ui.email]) input.removeAttribute("aria-invalid");
    if ([...text].length > cfg.max_message_chars) {
      return showError(`That message is too long: the limit is ${cfg.max_message_chars} characters.`);
    }
    if (!conv && !ui.email.checkValidity()) {
      ui.email.setAttribute("aria-invalid", "true");
      ui.email.focus();
      return showError("Please give your email address, so that our answer can reach you.");
    }
    showError("");
    ui.input.value = "";
    grow();
    outbox.push({ text, clientId: randomId(), tries: 0, el: render({ from: "visitor", text }, true) });
    flush();
  }

  async function flush() {
    if (sending || !outbox.length) return;
    sending = true;
    const item = outbox[0];
    const starting = !conv;
    const body = starting
      ? { message: item.text, name: ui.name.value.trim() || undefined,
          email: ui.email.value.trim() || undefined, page_url: location.href,
          client_id: item.clientId, self_service: selfService.session || undefined,
          order_lookup: selfService.lookup || undefined }
      : { text: item.text, client_id: item.clientId };
    let res = null;
    try {
      res = await call("POST", starting ? "/conversations" : `/conversations/${conv.id}/messages`,
        body, conv && conv.token);
    } catch (e) {
      /* offline or unreachable: retried below with the same client_id, so stored once */
    }
    sending = false;
    const status = res ? res.status : 0;
    const data = res ? res.data : {};
    if (status === 200 || status === 201) {
      outbox.shift();
      showError("");
      const m = data.message || (data.messages || []).find((x) => x.from === "visitor");
      if (m && !item.el.dataset.id) {
        if (shown.has(m.id)) item.el.remove(); // the stream brought it first
        else stored(item.el, m);
      }
      if (starting) {
        unattach();
        conv = { id: data.conversation.id, token: data.token };
        save(conv);
        resumed = true;
        started(true);
        receive(data.messages);
        wake();
      }
    } else if (!starting && gone(status)) {
      // The conversation is over: this message starts a new one, on the next round.
    } else if (!res || status >= 500 || status === 408 || status === 429) {
      const backoff = Math.min(30000, 1000 * 2 ** item.tries++);
      const wait = res && res.retryAfter ? res.retryAfter * 1000 : backoff;
      if (status === 429) showError(`${data.error || "Too many messages."} Sending again shortly.`);
      else if (item.tries > 1) showError("We can't reach the helpdesk right now; still trying…");
      setTimeout(flush, wait);
      return;
    } else {
      // Refused (422 and the like): say why, and give the text back to correct.
      outbox.shift();
      item.el.remove();
      ui.input.value = item.text + (ui.input.value ? "\n" + ui.input.value : "");
      grow();
      showError(data.error || "That message couldn't be sent.");
      const fields = Object.keys(data.fields || {}).join(" ");
      if (fields.includes("order_lookup")) unattach(); // expired: the message goes without it
      if (data.code === "email_required" || fields.includes("email")) {
        ui.email.setAttribute("aria-invalid", "true");
      }
    }
    flush();
  }

  // -- receiving -----------------------------------------------------------------------

  // The token no longer opens the conversation: forget it; the next message starts anew.
  function gone(status) {
    if (![401, 403, 404, 410].includes(status)) return false;
    stopLive();
    conv = null;
    save(null);
    clearLog(status === 410 ? "This conversation has ended. Write to start a new one." : "");
    started(false);
    return true;
  }

  // The server counts what it delivered as seen, and emails replies that weren't: so listen
  // only while the chat is actually on screen.
  async function wake() {
    const want = Boolean(conv) && !ui.panel.hidden && !document.hidden;
    if (want && !resumed) {
      resumed = true;
      await resume();
      return wake();
    }
    if (want && !live.on) {
      live.on = true;
      live.failures = 0;
      connect(live.gen);
    } else if (!want && live.on) {
      stopLive();
    }
  }

  async function resume() {
    try {
      const res = await call("GET", `/conversations/${conv.id}`, null, conv.token);
      if (!gone(res.status) && res.status === 200) receive(res.data.messages);
    } catch (e) {
      /* unreachable: the stream retries, and sends the history when it connects */
    }
  }

  function stopLive() {
    live.on = false;
    live.gen++; // a loop still running sees a newer generation and stops
    if (live.ctrl) live.ctrl.abort();
    clearTimeout(live.timer);
    clearTimeout(live.dog);
  }

  async function connect(gen) {
    const ctrl = (live.ctrl = new AbortController());
    let got = false;
    // The server sends a keep-alive every 15 s; 45 s of silence means a dead connection.
    const watchdog = () => {
      clearTimeout(live.dog);
      live.dog = setTimeout(() => ctrl.abort(), 45000);
    };
    watchdog();
    try {
      const res = await fetch(`${API}/conversations/${conv.id}/events?after=${lastId}`, {
        headers: { Authorization: "Bearer " + conv.token, Accept: "text/event-stream" },
        signal: ctrl.signal, credentials: "omit", cache: "no-store" });
      if (gen === live.gen && gone(res.status)) return;
      const type = res.headers.get("Content-Type") || "";
      if (!res.ok || !res.body || !type.includes("event-stream")) throw new Error("no stream");
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let event = { data: [] };
      for (;;) {
        const { done, value } = await reader.read();
        if (done || gen !== live.gen) break;
        watchdog();
        got = true;
        live.failures = 0;
        buffer += decoder.decode(value, { stream: true });
        // A CR at the very end may be half of a CRLF: keep it for the next chunk.
        const end = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
        const lines = buffer.slice(0, end).split(/\r\n|\r|\n/);
        buffer = lines.pop() + buffer.slice(end);
        for (const line of lines) event = sseLine(line, event);
      }
    } catch (e) {
      /* a network error, or the watchdog: reconnect below */
    }
    clearTimeout(live.dog);
    if (gen !== live.gen) return; // stopped on purpose
    if (!got && ++live.failures >= 3) return poll(gen); // streaming doesn't get through here
    const delay = Math.min(30000, 1000 * 2 ** live.failures) * (0.5 + Math.random() / 2);
    live.timer = setTimeout(() => connect(gen), delay);
  }

  // One line of text/event-stream: fields gather into an event, which a blank line ends.
  function sseLine(line, event) {
    if (line === "") {
      if (event.data.length && (event.type || "message") === "message") {
        try {
          receive([JSON.parse(event.data.join("\n"))]);
        } catch (e) {
          /* not a message: ignore it */
        }
      }
      return { data: [] };
    }
    if (line[0] === ":") return event; // a comment, such as the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") event.data.push(value);
    else if (field === "event") event.type = value;
    // `id:` repeats the message's own id; `retry:` is ignored, as we back off ourselves.
    return event;
  }

  async function poll(gen) {
    let wait = 3000;
    try {
      const res = await call("GET", `/conversations/${conv.id}/messages?after=${lastId}`, null,
        conv.token);
      if (gen !== live.gen || gone(res.status)) return;
      if (res.status === 200) receive(res.data.messages);
      wait = Math.max(wait, res.retryAfter * 1000);
    } catch (e) {
      /* offline: try again next round */
    }
    if (gen === live.gen) live.timer = setTimeout(() => poll(gen), wait);
  }

  // -- start ---------------------------------------------------------------------------

  async function init() {
    try {
      const res = await call("GET", "/config");
      if (res.status === 403) return console.warn("helpdesk chat:", res.data.error);
      if (res.status === 200) {
        for (const [k, v] of Object.entries(res.data)) if (v != null || k === "back_at") cfg[k] = v;
      }
    } catch (e) {
      // Down, or this site isn't allowed to embed the chat (CORS): a chat that can't send
      // would only frustrate, so draw nothing.
      return console.warn("helpdesk chat: can't reach", API, "from this page");
    }
    const data = script.dataset;
    if (data.title) cfg.title = data.title;
    if (data.greeting) cfg.greeting = data.greeting;
    if (/^#[0-9a-f]{6}$/i.test(data.color || "")) cfg.color = data.color;
    if (!/^#[0-9a-f]{6}$/i.test(cfg.color)) cfg.color = "#1f6feb";
    if (document.readyState === "loading") {
      await new Promise((done) => document.addEventListener("DOMContentLoaded", done));
    }
    build();
    document.addEventListener("visibilitychange", wake);
    if (PAGE) {
      document.title = cfg.title;
      ui.input.focus();
      wake();
    }
  }

  init();
})();
