// The modal on screen: keeps what the user typed while the state re-polls; submit and close.

import { post } from "./api.js";
import { renderBlocks } from "./blocks.js";
import { $, nextId, el } from "./dom.js";
import { focusables, trapFocus } from "./focus.js";
import { S } from "./state.js";
import { textOf } from "./text.js";
import { presetsOf, values, checkInputs } from "./view_state.js";

export function renderModal(view) {
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

function removeModal() {
  const shown = S.modal;
  if (!shown) return;
  shown.node.remove();
  S.modal = null;
  document.body.classList.remove("modal-open");
  const back = shown.opener && document.contains(shown.opener) ? shown.opener : $("#main");
  back.focus();
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

export async function closeModal() {
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
