// SPDX-License-Identifier: Apache-2.0
// The waiting page: shows the session's phase and message and reloads once it is ready.
const url = document.body.dataset.status;
async function poll() {
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) {
      const s = await res.json();
      document.getElementById('phase').textContent = s.phase;
      document.getElementById('message').textContent = s.message;
      if (s.ready) {
        location.reload();
        return;
      }
    }
  } catch {
    // The gateway restarted or the network blinked: try again.
  }
  setTimeout(poll, 2000);
}
setTimeout(poll, 2000);
