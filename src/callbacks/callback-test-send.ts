// testCallback: one real postback of a sample event, rendered as previewCallback renders it and
// sent by the dispatcher's own sender (address guard, signing, limits), once: no retry, no
// delivery or attempt stored. Its `webhook-id` is `test_` + a random id, so a receiver that
// dedupes on it never mistakes a test for a real delivery.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config';
import type { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { postbackUserAgent } from '../common/package-info';
import { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import { attemptFromResult } from '../dispatch/attempt-classification';
import { createSender } from '../dispatch/http-sender';
import type { SendResult } from '../dispatch/sender';
import type { EventInput } from '../events/event-validation';
import type { EventService } from '../events/event.service';
import type { CallbackService } from './callback.service';
import { previousSecretInForce } from './secret-rotation';

export function testWebhookId(): string {
  return `test_${randomBytes(12).toString('hex')}`;
}

export class CallbackTestSender {
  constructor(
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly callbacks: CallbackService,
    private readonly events: EventService,
    private readonly sent: (result: SendResult) => void = () => undefined,
  ) {}

  async send(callbackId: string, input: EventInput): Promise<DeliveryAttempt> {
    const callback = await this.callbacks.getById(callbackId);
    const rendered = await this.events.preview(callbackId, input);
    const now = this.clock.now();
    const previous = previousSecretInForce(callback, now);
    // A sender of its own, closed after: test sends are rare, and the dispatcher's pool is for deliveries.
    const sender = createSender(this.config.dispatchSender, {
      allowPrivate: this.config.dispatchAllowPrivate,
      userAgent: postbackUserAgent(),
      maxSockets: 1,
      now: () => this.clock.now(),
    });
    const id = testWebhookId();
    try {
      const result = await sender.send({
        deliveryId: id,
        method: rendered.method,
        url: rendered.url,
        headers: rendered.headers,
        body: rendered.body,
        timeoutMs: callback.timeoutMs,
        signingSecret: callback.signingSecret,
        previousSigningSecret: previous?.secret ?? null,
      });
      this.sent(result);
      return Object.assign(new DeliveryAttempt(), { id: newId(), deliveryId: id, ...attemptFromResult(1, result) });
    } finally {
      await sender.close();
    }
  }
}
