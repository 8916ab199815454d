// SPDX-License-Identifier: Apache-2.0
// The session's notice (it ends soon, or stops for being idle) as a banner over its pages.
// Asks the gateway for the session's status every minute; asking is not activity.
const url = document.currentScript?.dataset.panalysisStatus;
let banner;
function show(text) {
  if (!text) {
    banner?.remove();
    banner = undefined;
    return;
  }
  if (!banner) {
    banner = document.createElement('div');
    banner.id = 'panalysis-notice';
    banner.setAttribute('role', 'status');
    banner.style.cssText = 'position:fixed;top:0;left:0;right:0;z-index:2147483647;padding:6px 40px 6px 12px;background:#fff3cd;color:#533f03;border-bottom:1px solid #e0c36c;font:14px/1.4 system-ui,sans-serif';
    const text = document.createElement('span');
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.title = 'Hide until the notice changes';
    close.style.cssText = 'position:absolute;right:8px;top:2px;border:0;background:none;font-size:20px;cursor:pointer;color:inherit';
    close.addEventListener('click', () => {
      banner.dataset.hidden = banner.firstChild.textContent;
      banner.style.display = 'none';
    });
    banner.append(text, close);
    document.body.append(banner);
  }
  if (banner.firstChild.textContent !== text) banner.style.display = '';
  if (banner.dataset.hidden === text) return;
  banner.firstChild.textContent = text;
}
async function poll() {
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) show((await res.json()).notice);
  } catch {
    // The gateway restarted or the network blinked: ask again at the next minute.
  }
  setTimeout(poll, 60_000);
}
if (url) poll();
