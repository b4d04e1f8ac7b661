// got and its dependencies are ESM-only; Jest on Node 20 cannot require() ESM, so swc
// transforms them to CommonJS along with our TypeScript.
const esmOnly = [
  'got', '@sindresorhus/is', 'byte-counter', 'cacheable-lookup', 'cacheable-request',
  'get-stream', '@sec-ant/readable-stream', 'is-stream', 'keyv', '@keyv/serialize',
  'mimic-response', 'normalize-url', 'responselike', 'lowercase-keys',
  'decompress-response', 'form-data-encoder', 'p-cancelable',
];

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  setupFiles: ['reflect-metadata'],
  testTimeout: 30000,
};
