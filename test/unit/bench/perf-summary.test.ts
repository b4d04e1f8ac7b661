import { ownerOfSample, parsePerfScript, perfOwnerOf, summarize } from '../../../bench/perf-summary';

// Three samples as `perf script -F tid,ip,sym` prints them: two on the main thread, one on a
// V8 background thread.
const SCRIPT = [
  '12048 ',
  '\t          882a4b node::Buffer::StringSlice<(node::encoding)5>',
  '\t    7f6a568f48ab JS:*slice node:buffer:711:12',
  '\t    7f6a56a1a04e JS:*newId /work/main/dist/src/common/ids.js:26:15',
  '\t    7f6a569c6a70 JS:^recordAttempts /work/main/dist/src/deliveries/typeorm-delivery-store.js:214:25',
  '',
  '12048 ',
  '\tffffffff8100 [k] pvm_irq_enable',
  '\t    7f6a56a1 JS:* /work/main/node_modules/undici/lib/dispatcher/client-h1.js:1143:10',
  '',
  '  9104 ',
  '\t          c4993d v8::internal::compiler::GraphReducer::ReduceTop',
  '',
].join('\n');

describe('perf-summary', () => {
  it('reads each sample’s thread and frames, leaf first', () => {
    const samples = parsePerfScript(SCRIPT);
    expect(samples.map((s) => s.tid)).toEqual([12048, 12048, 9104]);
    expect(samples[0]?.frames[2]).toBe('JS:*newId /work/main/dist/src/common/ids.js:26:15');
    expect(samples[1]?.frames[0]).toBe('[k] pvm_irq_enable');
  });

  it('charges a sample to the nearest package or service folder up its stack', () => {
    const [first, second, third] = parsePerfScript(SCRIPT);
    expect(perfOwnerOf('JS:*slice node:buffer:711:12')).toBeNull();
    expect(ownerOfSample(first!)).toBe('src/common');
    // The kernel's work for a socket write counts for the library that made it.
    expect(ownerOfSample(second!)).toBe('undici');
    expect(ownerOfSample(third!)).toBe('(native I/O and Node internals, no owner above)');
    expect(ownerOfSample({ tid: 1, frames: ['v8::internal::Scavenger::ScavengeObject', 'JS:*f /x/dist/src/a/b.js:1:1'] })).toBe('(gc)');
  });

  it('splits the samples by thread and the main thread’s by owner', () => {
    const text = summarize(parsePerfScript(SCRIPT));
    expect(text).toContain(' 66.7 %  12048 (main)');
    expect(text).toContain(' 33.3 %  9104');
    expect(text).toContain('main thread by owner');
    expect(text).toContain(' 50.0 %  undici');
    expect(text).toContain(' 50.0 %  src/common');
  });
});
