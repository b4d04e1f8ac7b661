import { EventEmitter } from 'node:events';
import type { Delivery } from './delivery.entity';

/**
 * In-process notifications about deliveries, always fired after the change has committed:
 * - `queued`: new deliveries were stored (the inline dispatcher starts them at once);
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

  statusChanged(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('statusChanged', deliveries);
  }

  onQueued(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('queued', listener);
    return () => this.emitter.off('queued', listener);
  }

  onStatusChanged(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('statusChanged', listener);
    return () => this.emitter.off('statusChanged', listener);
  }
}
