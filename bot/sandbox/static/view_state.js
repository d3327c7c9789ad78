// What the user has entered in the modal on screen, as Slack's view.state.values reports it.

import { S } from "./state.js";

// Slack's view.state.values: every input block's element, and any other element touched.
export function values() {
  const out = {};
  if (!S.modal) return out;
  for (const reader of S.modal.readers.values()) {
    if (!reader.input && !reader.touched()) continue;
    out[reader.block_id] = out[reader.block_id] || {};
    out[reader.block_id][reader.action_id] = Object.assign({ type: reader.type }, reader.read());
  }
  return out;
}

// What the user has entered in a modal, by block and action ID, with each initial value.
export function presetsOf(modal) {
  const presets = new Map();
  for (const [key, reader] of modal.readers) {
    if (reader.touched()) presets.set(key, { sig: reader.sig, state: reader.read() });
  }
  return presets;
}

// What Slack checks before it sends a submission: required inputs and their lengths.
export function checkInputs() {
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
