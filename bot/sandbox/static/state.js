// What the page knows: the last state from the server, what the person is looking at, and
// lookups in that state. Every module reads and changes this one object.

export const S = {
  data: null, // the last state from the server
  version: 0,
  view: "channel", // or "mail", or "home" (the app's Home tab; its Messages tab is a channel)
  channel: null, // id of the channel shown
  thread: null, // {channel, ts} of the open thread
  mailId: null,
  seen: new Map(), // channel id -> number of messages (with replies) seen there
  unread: new Set(),
  mailSeen: null,
  local: [], // slash command answers: ephemeral messages known only to this page
  localCount: 0,
  dismissed: new Set(),
  home: new Map(), // ephemeral id -> channel it is shown in, for those Slack gave none
  cache: new Map(), // message key -> {sig, node}: unchanged messages keep their DOM
  modal: null, // the modal on screen: {id, hash, node, readers, opener, busy}
  closed: new Set(), // views closed here, while the server catches up
  stash: new Map(), // view id -> what the user entered, kept while the view is replaced
  connected: null,
};

export function users() {
  return (S.data && S.data.users) || {};
}

export function channels() {
  return (S.data && S.data.channels) || [];
}

// The app's direct messages with the user: its Messages tab.
export function appMessages() {
  return channels().find((c) => c.dm_user);
}

export function userName(id) {
  const user = users()[id];
  return user ? user.real_name || user.name : id;
}

export function channelName(id) {
  const found = channels().find((c) => c.id === id);
  return found ? found.name : id;
}

export function findMessage(channelId, ts) {
  const channel = channels().find((c) => c.id === channelId);
  return channel && channel.messages.find((m) => m.ts === ts);
}
