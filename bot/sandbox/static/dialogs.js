// Small pop-ups of Block Kit elements: the confirm dialog and the overflow menu.

import { nextId, el } from "./dom.js";
import { trapFocus } from "./focus.js";
import { openUrl } from "./links.js";
import { textOf, textNodes } from "./text.js";

// Slack's confirm object as a small dialog; resolves true when confirmed.
export function confirmDialog(confirm) {
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

export function overflowElement(element, { send }) {
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
