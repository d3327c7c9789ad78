// The composers: slash commands (with hints) in the channel, internal notes in the thread.

import { post } from "./api.js";
import { renderChannel } from "./channel.js";
import { $, el } from "./dom.js";
import { S } from "./state.js";

// What the user types, as Slack's client sends it: &, < and > escaped, so that text such
// as "<b>" stays text and can't be read as a link or a mention.
function encode(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function setupComposers() {
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
