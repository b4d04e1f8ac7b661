// The sender contract: one attempt of one postback, behind a small interface so the
// dispatcher's tests use a fake. `send` never throws: every failure is a SendResult with an
// error kind, classified by attempt-classification.ts. The limits every sender keeps are here
// too, so the address guard, the senders and the classification depend on this file and not
// on each other.
import { RENDERED_LIMITS } from '../macros/render-postback';

/** A rendered URL longer than this fails the delivery without a request. */
export const MAX_RENDERED_URL_LENGTH = RENDERED_LIMITS.url;
/** How much of a receiver's response body is kept on the attempt. */
export const RESPONSE_SNIPPET_BYTES = 1024;
/** Past this many response bytes the connection is dropped instead of drained for reuse. */
export const MAX_DRAINED_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 64;
/** Idle keep-alive sockets close before the common 5 s server-side idle timeout. */
export const IDLE_SOCKET_TIMEOUT_MS = 4000;

export interface OutgoingPostback {
  deliveryId: string;
  method: 'GET' | 'POST';
  url: string;
  headers: { name: string; value: string }[];
  body: string | null;
  timeoutMs: number;
  signingSecret: string | null;
  /** Also signs, after the current one (a rotation's overlap). */
  previousSigningSecret?: string | null;
}

/**
 * `invalid-request` (beyond the brief's list): the postback cannot be put on the wire as
 * configured, e.g. a header value with a newline. Like `invalid-url` it is permanent.
 */
export type SendErrorKind = 'timeout' | 'connection' | 'blocked' | 'invalid-url' | 'invalid-request';

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  errorKind: SendErrorKind | null;
  latencyMs: number;
  responseSnippet: string | null;
  retryAfter: string | null;
  startedAt: Date;
}

export interface PostbackSender {
  /** One attempt. Never throws and never rejects. */
  send(p: OutgoingPostback): Promise<SendResult>;
  close(): Promise<void>;
}

export interface SenderOptions {
  allowPrivate: boolean;
  userAgent: string;
  maxSockets?: number;
  now?: () => Date;
}

export type SenderKind = 'got' | 'undici';

