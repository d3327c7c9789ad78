// The elements that choose among options: selects, multi-selects, checkboxes and radio buttons.

import { comboElement } from "./combo.js";
import { nextId, el } from "./dom.js";
import { users, channels } from "./state.js";
import { textOf, textNodes } from "./text.js";

// Options of a static select as [{option, group}], flattening option groups.
export function staticOptions(element) {
  if (element.option_groups) {
    return element.option_groups.flatMap((group) =>
      (group.options || []).map((option) => ({ option, group: textOf(group.label) })));
  }
  return (element.options || []).map((option) => ({ option }));
}

export function userOptions() {
  return Object.entries(users())
    .filter(([, user]) => !user.is_bot && !user.deleted)
    .map(([id, user]) => ({ option: { text: { type: "plain_text", text: user.real_name || user.name },
      value: id }, id }))
    .sort((a, b) => a.option.text.text.localeCompare(b.option.text.text));
}

// The state's conversations; `publicOnly`: channels, without direct messages.
export function channelOptions(publicOnly) {
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

export function selectElement(element, { send, seeded, opts }, choices, field, initialId) {
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

export function checkboxesElement(element, { send, seeded, opts }) {
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

export function radioElement(element, { send, seeded, opts }) {
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

// A multi-select: the chosen ones as removable chips, and a menu (or a search box) to add.
export function multiElement(element, context, choices, field, initialIds) {
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
