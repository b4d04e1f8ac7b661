import { EventEmitter } from 'node:events';
import type { Delivery } from './delivery.entity';

/**
 * In-process notifications about deliveries, always fired after the change has committed:
 * - `queued`: new deliveries were stored (the inline dispatcher starts them at once);
 * - `scheduled`: deliveries were stored due later (a paced redeliverMany): counted, not
 *   claimed at once; dispatchers' due scans take them as they fall due;
 * - `statusChanged`: deliveries changed status, PENDING on queue included (subscriptions
 *   publish these, through Redis when configured).
 * Listeners must not throw; a failing listener is logged by whoever registered it.
 */
export class DeliveryHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  queued(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('queued', deliveries);
  }

  scheduled(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('scheduled', deliveries);
  }

  statusChanged(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('statusChanged', deliveries);
  }

  onQueued(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('queued', listener);
    return () => this.emitter.off('queued', listener);
  }

  onScheduled(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('scheduled', listener);
    return () => this.emitter.off('scheduled', listener);
  }

  onStatusChanged(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('statusChanged', listener);
    return () => this.emitter.off('statusChanged', listener);
  }
}
