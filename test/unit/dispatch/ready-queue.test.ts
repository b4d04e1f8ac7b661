import { ReadyQueue } from '../../../src/dispatch/ready-queue';

const claim = (callbackId: string, id: string) => ({ id, delivery: { callbackId } });
type C = ReturnType<typeof claim>;

/** Takes claims the way the dispatcher does: one pass, while `room` says so, at most `max`. */
function take(queue: ReadyQueue<C>, room: (callbackId: string) => boolean, max = Infinity): { id: string; waited: boolean }[] {
  const taken: { id: string; waited: boolean }[] = [];
  const pass = queue.pass(room);
  while (taken.length < max) {
    const next = pass.next();
    if (!next) break;
    taken.push({ id: next.claim.id, waited: next.waited });
  }
  return taken;
}

describe('the ready queue', () => {
  it('keeps each callback first in, first out, and lets callbacks take turns in the order they arrived', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'a1'), claim('a', 'a2'), claim('b', 'b1'), claim('a', 'a3')]);
    queue.push([claim('c', 'c1'), claim('b', 'b2')]);
    expect(queue.length).toBe(6);
    // One callback's backlog does not hold back the others' claims.
    expect(take(queue, () => true).map((t) => t.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(queue.length).toBe(0);
  });

  it('asks a callback found at its limit once per pass', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('slow', 's1'), claim('slow', 's2'), claim('fast', 'f1'), claim('fast', 'f2'), claim('fast', 'f3')]);
    const asked: string[] = [];
    const taken = take(queue, (id) => {
      asked.push(id);
      return id !== 'slow';
    });
    expect(taken.map((t) => t.id)).toEqual(['f1', 'f2', 'f3']);
    expect(asked.filter((id) => id === 'slow')).toEqual(['slow']);
  });

  it('puts claims pushed first ahead of the rest of their callback', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'old1'), claim('a', 'old2')]);
    queue.push([claim('a', 'new1')], true);
    queue.push([claim('a', 'new2')], true);
    expect(take(queue, () => true).map((t) => t.id)).toEqual(['new1', 'new2', 'old1', 'old2']);
  });

  it('leaves a callback at its limit in place and goes on with the others', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('slow', 's1'), claim('slow', 's2'), claim('fast', 'f1')]);
    expect(take(queue, (id) => id !== 'slow').map((t) => t.id)).toEqual(['f1']);
    expect(queue.length).toBe(2);
    expect(queue.waitingFor((id) => id === 'slow')).toBe(2);
    expect(queue.waitingFor(() => false)).toBe(0);
  });

  it('tells which claims waited for their callback: those queued when it was found at its limit', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'a1'), claim('a', 'a2')]);
    take(queue, () => false);
    queue.push([claim('a', 'a3')]);
    expect(take(queue, () => true)).toEqual([
      { id: 'a1', waited: true },
      { id: 'a2', waited: true },
      { id: 'a3', waited: false },
    ]);
  });

  it('drops a callback once it has no claims, and starts it again at the back', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'a1'), claim('b', 'b1')]);
    take(queue, () => true, 1);
    queue.push([claim('a', 'a2')]);
    expect(take(queue, () => true).map((t) => t.id)).toEqual(['b1', 'a2']);
  });

  it('ends a pass when no callback with room has a claim, and a new pass asks again', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'a1'), claim('a', 'a2')]);
    let room = 1;
    const pass = queue.pass(() => room-- > 0);
    expect(pass.next()?.claim.id).toBe('a1');
    expect(pass.next()).toBeUndefined();
    expect(pass.next()).toBeUndefined();
    expect(queue.length).toBe(1);
    expect(take(queue, () => true).map((t) => t.id)).toEqual(['a2']);
  });

  it('gives every claim back on drain', () => {
    const queue = new ReadyQueue<C>();
    queue.push([claim('a', 'a1'), claim('b', 'b1')]);
    queue.push([claim('a', 'a0')], true);
    expect(queue.drain().map((c) => c.id).sort()).toEqual(['a0', 'a1', 'b1']);
    expect(queue.length).toBe(0);
    expect(queue.pass(() => true).next()).toBeUndefined();
  });

  it('takes thousands from the head without losing order', () => {
    const queue = new ReadyQueue<C>();
    const ids = Array.from({ length: 5000 }, (_, i) => `x${i}`);
    queue.push(ids.map((id) => claim('a', id)));
    const firstHalf = take(queue, () => true, 2500).map((t) => t.id);
    queue.push([claim('a', 'tail')]);
    const rest = take(queue, () => true).map((t) => t.id);
    expect([...firstHalf, ...rest]).toEqual([...ids, 'tail']);
  });
});
