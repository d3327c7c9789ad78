/* The sandbox page: the fake Slack workspace as Slack would show it, and the mail catcher.
   Native ES modules: no dependencies, no build step. Server text reaches the DOM only as
   textContent (never innerHTML), and only http(s) and mailto links are clickable.

   This module starts the page: the buttons of the sidebar, the keys that close things, then
   the long poll. The others, each with one job:
     state.js ........ what the page knows and what the person is looking at
     api.js .......... the JSON API (with the X-Sandbox header) and the error bar
     poll.js ......... long-polls the state; redraws what changed
     dom.js, time.js, links.js, focus.js ... small helpers: elements, times, safe links, focus
     text.js, rich_text.js ... Slack's text formats as DOM nodes
     blocks.js, elements.js, selects.js, combo.js, dialogs.js ... Block Kit
     view_state.js ... Slack's view.state.values of the modal
     messages.js ..... one message
     navigation.js, channel.js, composer.js, home.js, mail.js, modal.js ... the layout
*/

import { post, hideError } from "./api.js";
import { closeThread } from "./channel.js";
import { setupComposers } from "./composer.js";
import { $ } from "./dom.js";
import { openPermalinksWith } from "./links.js";
import { closeModal } from "./modal.js";
import {
  countUnread, renderSidebar, showChannel, showHome, showAppMessages, showMail, showPermalink,
} from "./navigation.js";
import { poll } from "./poll.js";
import { S, channels } from "./state.js";

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
  openPermalinksWith(showPermalink);
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

// A module runs once the document is parsed, as a deferred script does.
setup();
