// SPDX-License-Identifier: Apache-2.0
/** Desktop sessions in the browser (wired to the noVNC and Guacamole parts). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Viewer } from '../policy/session-access.ts';
import type { GatewayContext } from './context.ts';
import { refuseUpgrade } from './session-routes.ts';
import type { SessionTarget } from './session-routes.ts';
import type { SessionView } from './session-index.ts';
import { messagePage } from './pages.ts';

export function serveDesktopAsset(_path: string, _res: ServerResponse): boolean {
  return false;
}

export async function renderDesktopPage(_ctx: GatewayContext, _view: SessionView, _viewer: Viewer, _t: SessionTarget): Promise<string> {
  return messagePage('Desktop', 'not yet');
}

export async function handleDesktopUpgrade(_ctx: GatewayContext, _req: IncomingMessage, socket: Duplex, _head: Buffer, _view: SessionView, _viewer: Viewer, _t: SessionTarget, _register: (close: (reason: string) => void) => () => void): Promise<void> {
  refuseUpgrade(socket, 404, 'no desktop');
}
