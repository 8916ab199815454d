// SPDX-License-Identifier: Apache-2.0
/**
 * The client side of guacd's handshake, done by the gateway so that the browser never
 * chooses the target nor sees the VNC password.
 *
 * Follows "The Guacamole protocol", section "Handshake phase", Apache Guacamole Manual
 * v1.5.5 (https://guacamole.apache.org/doc/1.5.5/gug/guacamole-protocol.html): the client
 * sends `select`; the server answers `args` with its protocol version first
 * (`VERSION_x_y_z`) then the parameter names; the client sends `size`, `audio`, `video`,
 * `image`, (from `VERSION_1_1_0`) `timezone`, then `connect` with one value per `args`
 * element, in the same order; the server answers `ready,<connection id>`, or `error,
 * <message>,<status>`. Status codes: "Status codes" in the protocol reference of the same
 * manual.
 */
import type { Socket } from 'node:net';
import { encodeInstructions, GuacParser } from './guac-protocol.ts';
import type { Instruction } from './guac-protocol.ts';

/** Protocol versions we speak, oldest first (manual v1.5.5, "Handshake phase"). */
export const GUAC_VERSIONS = ['VERSION_1_0_0', 'VERSION_1_1_0', 'VERSION_1_3_0', 'VERSION_1_5_0'] as const;

/** Guacamole status codes we use (protocol reference, "Status codes"). */
export const GUAC_STATUS = {
  SUCCESS: 0x0000,
  SERVER_ERROR: 0x0200,
  UPSTREAM_TIMEOUT: 0x0202,
  UPSTREAM_ERROR: 0x0203,
  UPSTREAM_NOT_FOUND: 0x0207,
  CLIENT_BAD_REQUEST: 0x0300,
  CLIENT_BAD_TYPE: 0x030f,
} as const;

/** The VNC server guacd connects to. */
export interface GuacConnection {
  readonly protocol: 'vnc';
  readonly hostname: string;
  readonly port: number;
  readonly password: string;
}

/** The browser's display; `timezone` (IANA) is sent only when given and guacd speaks 1.1.0+. */
export interface GuacDisplay {
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  readonly timezone?: string;
}

/** A failed handshake; `status` is the Guacamole status code (guacd's own, for an `error` instruction). */
export class GuacdError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'GuacdError';
    this.status = status;
  }
}

/** Mimetypes guacamole-common-js plays in every current browser. */
const AUDIO = ['audio/L8', 'audio/L16'];
const IMAGE = ['image/png', 'image/jpeg', 'image/webp'];

/**
 * The client's answer to guacd's `args` (pure): `size`, `audio`, `video`, `image`,
 * `timezone` (1.1.0+ only, when given), then `connect`. The version element is answered
 * with guacd's own version when we speak it, else with our latest; `hostname`, `port` and
 * `password` are filled in; every other parameter is left empty (guacd's default).
 */
export function handshakeReply(args: readonly string[], connection: GuacConnection, display: GuacDisplay): Instruction[] {
  const offered = args[0]?.startsWith('VERSION_') ? args[0] : undefined;
  const version = offered === undefined ? undefined : (GUAC_VERSIONS as readonly string[]).includes(offered) ? offered : GUAC_VERSIONS.at(-1)!;
  const names = offered === undefined ? args : args.slice(1);
  const fill: Record<string, string> = { hostname: connection.hostname, port: String(connection.port), password: connection.password };
  const values = names.map((n) => fill[n] ?? '');
  const out: Instruction[] = [
    ['size', String(display.width), String(display.height), String(display.dpi)],
    ['audio', ...AUDIO],
    ['video'],
    ['image', ...IMAGE],
  ];
  if (version !== undefined && version !== 'VERSION_1_0_0' && display.timezone) out.push(['timezone', display.timezone]);
  out.push(['connect', ...(version === undefined ? [] : [version]), ...values]);
  return out;
}

/** What follows a successful handshake: guacd's connection id, and the stream left to read. */
export interface GuacdReady {
  readonly id: string;
  /** Instructions guacd sent after `ready` in the same reads. */
  readonly after: string[][];
  /** The parser holding any partial instruction; keep feeding it the socket's data. */
  readonly parser: GuacParser;
}

/**
 * Performs the handshake on `socket` (connecting or connected to guacd).
 *
 * Guarantees: on success the socket is paused with no listener of ours left, so the caller
 * reads on from `parser` without losing data. On failure the socket is destroyed and the
 * promise rejects with a {@link GuacdError}: guacd's `error` instruction gives its message
 * and status code; an unreachable guacd gives UPSTREAM_NOT_FOUND; the time limit gives
 * UPSTREAM_TIMEOUT; anything unexpected gives UPSTREAM_ERROR.
 */
export function guacdHandshake(socket: Socket, connection: GuacConnection, display: GuacDisplay, timeoutMs: number): Promise<GuacdReady> {
  return new Promise((resolve, reject) => {
    const parser = new GuacParser('codepoint');
    let state: 'args' | 'ready' = 'args';
    const timer = setTimeout(() => fail(new GuacdError(`guacd did not finish the handshake within ${timeoutMs} ms`, GUAC_STATUS.UPSTREAM_TIMEOUT)), timeoutMs);
    const off = () => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
    };
    const fail = (err: GuacdError) => {
      off();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(new GuacdError(`cannot reach guacd: ${(err as NodeJS.ErrnoException).code ?? err.message}`, GUAC_STATUS.UPSTREAM_NOT_FOUND));
    const onClose = () => fail(new GuacdError('guacd closed the connection during the handshake', GUAC_STATUS.UPSTREAM_ERROR));
    const onData = (chunk: Buffer) => {
      let list: string[][];
      try {
        list = parser.push(chunk);
      } catch (err) {
        return fail(new GuacdError(`guacd sent a malformed instruction: ${(err as Error).message}`, GUAC_STATUS.UPSTREAM_ERROR));
      }
      for (let i = 0; i < list.length; i++) {
        const [opcode, ...rest] = list[i]!;
        if (opcode === 'error') return fail(new GuacdError(`guacd refused the connection: ${rest[0] ?? ''} (status ${rest[1] ?? '?'})`, Number(rest[1]) || GUAC_STATUS.UPSTREAM_ERROR));
        if (state === 'args' && opcode === 'args') {
          socket.write(encodeInstructions(handshakeReply(rest, connection, display)));
          state = 'ready';
        } else if (state === 'ready' && opcode === 'ready') {
          off();
          socket.pause();
          return resolve({ id: rest[0] ?? '', after: list.slice(i + 1), parser });
        } else {
          return fail(new GuacdError(`guacd sent "${opcode}" during the handshake, expected "${state}"`, GUAC_STATUS.UPSTREAM_ERROR));
        }
      }
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write(encodeInstructions([['select', connection.protocol]]));
  });
}
