import type { DataSource } from 'typeorm';
import { HttpMethod } from '../../../src/common/enums';
import { BUILT_IN_MACRO_NAMES } from '../../../src/macros/built-in-macros';
import { compileCallbackTemplates } from '../../../src/macros/render-postback';
import { MACRO_NAME_PATTERN } from '../../../src/macros/template';
import { partnerPresets, type CatalogPreset } from '../../../src/presets/preset-catalog';
import { PresetService } from '../../../src/presets/preset.service';

const presets = [...partnerPresets().values()];

describe('the partner preset files', () => {
  it('are found by the loader, one per file', () => {
    expect(presets.map((p) => p.id)).toEqual(expect.arrayContaining(['advertiser-server', 'amplitude', 'ga4', 'mixpanel', 'segment', 'slack']));
  });

  describe.each(presets.map((p) => [p.id, p] as const))('%s', (_id, preset) => {
    it('cites public documentation over HTTPS', () => {
      expect(preset.documentationUrl).toMatch(/^https:\/\/[a-z0-9.-]+\.[a-z]+\//);
      expect(preset.name.length).toBeGreaterThan(3);
      expect(preset.description.length).toBeGreaterThan(20);
    });

    it('compiles, and names only built-ins and its own credentials', () => {
      const compiled = compileCallbackTemplates(preset);
      const credentials = new Set(preset.credentials.map((c) => c.name));
      expect(compiled.macroNames.filter((name) => !BUILT_IN_MACRO_NAMES.has(name) && !credentials.has(name))).toEqual([]);
      for (const name of credentials) expect(compiled.macroNames).toContain(name);
    });

    it('has credentials that can be app macros, and an example value for each', () => {
      for (const c of preset.credentials) {
        expect(MACRO_NAME_PATTERN.test(c.name)).toBe(true);
        expect(BUILT_IN_MACRO_NAMES.has(c.name)).toBe(false);
        expect(c.description.length).toBeGreaterThan(5);
      }
      expect(preset.example.credentials.map((c) => c.name).sort()).toEqual(preset.credentials.map((c) => c.name).sort());
    });

    it('has an example of the same method, whose JSON body parses', () => {
      expect(preset.example.rendered.method).toBe(preset.method);
      if (preset.method === HttpMethod.POST && preset.bodyTemplate && preset.example.rendered.body) {
        expect(() => JSON.parse(preset.example.rendered.body as string)).not.toThrow();
      }
    });
  });
});

describe('createCallbackFromTemplate before it writes', () => {
  const networkPreset: CatalogPreset = {
    ...(partnerPresets().get('amplitude') as CatalogPreset),
    id: 'some-network',
    attributedOnly: true,
  };
  const service = new PresetService({} as DataSource, {} as never, {} as never, () => new Map([[networkPreset.id, networkPreset]]));

  it('refuses an attributedOnly preset without networkId, as createCallback would', async () => {
    await expect(service.createCallback({ templateId: 'some-network', appId: 'a', credentials: [{ name: 'amplitude_api_key', value: 'k' }] })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      problems: [{ field: 'input.networkId', reason: expect.stringContaining('networkId') }],
    });
  });

  it('lists every credential problem at once', async () => {
    await expect(
      service.createCallback({ templateId: 'some-network', appId: 'a', networkId: 'n', credentials: [{ name: 'other', value: 'x' }, { name: 'other2', value: 'y' }] }),
    ).rejects.toMatchObject({
      problems: [
        { field: 'input.credentials.0.name', reason: expect.stringContaining('"other"') },
        { field: 'input.credentials.1.name', reason: expect.stringContaining('"other2"') },
        { field: 'input.credentials', reason: expect.stringContaining('missing credential amplitude_api_key') },
      ],
    });
  });
});
