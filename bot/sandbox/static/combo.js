// external_select: a combobox whose options the app sends as the user types.

import { api, showError } from "./api.js";
import { nextId, el, debounce } from "./dom.js";
import { textOf } from "./text.js";

// external_select: a combobox whose options the app sends as the user types.
export function comboElement(element, context) {
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
