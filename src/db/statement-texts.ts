/**
 * Statement texts made once per key (a row count, a grain): a hot path repeats a handful of
 * shapes, and building a multi-row statement's text on every write was measurable. Past `max`
 * kept texts, odd keys are built each time and not kept, so the cache stays small.
 */
export class StatementTexts<K> {
  private readonly texts = new Map<K, string>();

  constructor(private readonly max: number) {}

  get(key: K, build: () => string): string {
    let text = this.texts.get(key);
    if (text === undefined) {
      text = build();
      if (this.texts.size < this.max) this.texts.set(key, text);
    }
    return text;
  }
}
