// SPDX-License-Identifier: Apache-2.0
// The desktop page: noVNC connected to the gateway's VNC bridge, which logs in to the desktop
// itself, so the page never holds a password. The bridge's address is in <body data-ws>.
import RFB from '/_panalysis/novnc/core/rfb.js';

const status = document.getElementById('status');
const screen = document.getElementById('screen');

/** Shows the connection state in #status (data-state lets the stylesheet colour it). */
function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

/** The bridge's ws:/wss: URL: a path is taken on this page's origin, with wss: under https:. */
function bridgeUrl(path) {
  const url = new URL(path, location.href);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  return url.href;
}

let connected = false;
show('connecting', 'Connecting');
const rfb = new RFB(screen, bridgeUrl(document.body.dataset.ws));
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.addEventListener('connect', () => {
  connected = true;
  show('connected', 'Connected');
  rfb.focus(); // typed keys reach the desktop without a click first
});
rfb.addEventListener('disconnect', (ev) => {
  let reason = 'the connection to the desktop was lost';
  if (ev.detail.clean) reason = 'the desktop session ended';
  else if (!connected) reason = 'the desktop could not be reached';
  show('disconnected', `Disconnected: ${reason}`);
});
rfb.addEventListener('securityfailure', (ev) => {
  show('disconnected', `Disconnected: ${ev.detail.reason || 'the desktop refused the login'}`);
});
rfb.addEventListener('credentialsrequired', () => {
  // The gateway answers the desktop's password check; a prompt here means something is wrong.
  rfb.disconnect();
});
