// The app's Home tab: the view the app published for the user.

import { renderBlocks } from "./blocks.js";
import { $ } from "./dom.js";
import { S, users, appMessages } from "./state.js";

export function renderHome() {
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
