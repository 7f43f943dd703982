import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTNLAB_VERSION, EXPERIMENT_IDS, getExperiment, toJsonSchema } from './index.js';

describe('experiments package', () => {
  it('ATTNLAB_VERSION equals package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(ATTNLAB_VERSION).toBe(pkg.version);
  });
  it('every experiment has valid presets and a JSON Schema', () => {
    for (const id of EXPERIMENT_IDS) {
      const e = getExperiment(id);
      expect(e.id).toBe(id);
      const js = toJsonSchema(e.configSchema);
      expect(js.type).toBe('object');
    }
    expect(() => getExperiment('nope')).toThrow(/unknown experiment "nope"; allowed: /);
  });
});
