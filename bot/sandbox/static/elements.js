// Block Kit's interactive elements: one builder per type, and where a click or pick is sent.

import { post, showError } from "./api.js";
import { comboElement } from "./combo.js";
import { confirmDialog, overflowElement } from "./dialogs.js";
import { el, unsupported, debounce } from "./dom.js";
import { openUrl } from "./links.js";
import {
  staticOptions, userOptions, channelOptions, selectElement, checkboxesElement, radioElement,
  multiElement,
} from "./selects.js";
import { textOf } from "./text.js";
import { values } from "./view_state.js";

// One interactive element. `dispatch`: a change is sent as an action at once (always in
// messages; in modals for actions blocks, accessories and dispatch_action inputs). In a
// modal, an element with an action_id registers a reader for view.state.values.
export function element_(element, blockId, ctx, dispatch, opts) {
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
