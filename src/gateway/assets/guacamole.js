// SPDX-License-Identifier: Apache-2.0
// The Guacamole desktop page: connects guacamole-common-js to the gateway's tunnel with the
// page's one-time token, shows the remote display scaled to the window, sends mouse and
// keyboard, and keeps #status up to date. Everything it needs is in #screen's data attributes.
import Guacamole from '../guacamole/guacamole-common.js';

const host = document.getElementById('screen');
const statusEl = document.getElementById('status');
const { ws: wsPath, token } = host.dataset;

/** Guacamole.Client.State, in order. */
const STATES = [
  ['idle', 'Idle'],
  ['connecting', 'Connecting'],
  ['connecting', 'Waiting for the desktop'],
  ['connected', 'Connected'],
  ['disconnected', 'Disconnecting'],
  ['disconnected', 'Disconnected'],
];

/** What a Guacamole status code (the tunnel's close reason, or guacd's error) means to a user. */
const MESSAGES = new Map([
  [0x0202, 'The desktop did not answer in time.'],
  [0x0203, 'The desktop sent something unexpected.'],
  [0x0204, 'The desktop connection does not exist.'],
  [0x0207, 'The desktop cannot be reached. It may still be starting or may have stopped.'],
  [0x0208, 'The desktop is not available right now.'],
  [0x0300, 'The connection was refused.'],
  [0x0301, 'This page has expired. Reload it to connect again.'],
  [0x0303, 'You may not open this desktop.'],
]);

function show(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function showError(status) {
  const known = MESSAGES.get(status.code);
  show('disconnected', `${known ?? 'The connection failed.'} (code ${status.code})`);
}

const tunnel = new Guacamole.WebSocketTunnel(wsPath);
const client = new Guacamole.Client(tunnel);
const display = client.getDisplay();
host.appendChild(display.getElement());

let failed = false;
tunnel.onerror = (status) => {
  failed = true;
  showError(status);
};
client.onerror = (status) => {
  failed = true;
  showError(status);
};
client.onstatechange = (state) => {
  const [name, text] = STATES[state] ?? ['unknown', String(state)];
  if (!failed || name !== 'disconnected') show(name, text);
};

// The desktop layout of desktop.css (a bar above a screen filling the window).
document.body.classList.add('desktop');

// Scale the remote screen to fit the space below the bar, never above its own size.
function fit() {
  const w = display.getWidth();
  const h = display.getHeight();
  const aw = host.clientWidth || window.innerWidth;
  const ah = host.clientHeight || window.innerHeight - host.getBoundingClientRect().top;
  if (w > 0 && h > 0 && aw > 0 && ah > 0) display.scale(Math.min(aw / w, ah / h, 1));
}
display.onresize = fit;
window.addEventListener('resize', fit);

const mouse = new Guacamole.Mouse(display.getElement());
mouse.onEach(['mousedown', 'mousemove', 'mouseup'], (e) => client.sendMouseState(e.state, true));
mouse.on('mouseout', () => display.showCursor(false));

const keyboard = new Guacamole.Keyboard(document);
keyboard.onkeydown = (keysym) => {
  client.sendKeyEvent(1, keysym);
};
keyboard.onkeyup = (keysym) => {
  client.sendKeyEvent(0, keysym);
};

window.addEventListener('pagehide', () => client.disconnect());
show('connecting', 'Connecting');
client.connect(`token=${encodeURIComponent(token)}`);
