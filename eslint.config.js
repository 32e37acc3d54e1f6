import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Storage keys of the index: key prefixes, fixed sort keys, key attribute and index names (see adapters/dynamo-index/layout.ts). */
const STORAGE_KEY = String.raw`/(VIDEO#|LABEL#|CLIP#|SEG#|^META$|^VIDEOS$|^UNFINISHED$|^GSI\d|^(GSI\d)?P?K$|^(GSI\d)?SK$|^byList$|^byUnfinished$|^(list|sweep)(Pk|Sk)$)/`;

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.vidx/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly', structuredClone: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // The domain speaks through ports in its own words: no AWS SDK in core/ (adapters/ owns them).
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*'], message: 'core/ knows nothing of AWS: put this in adapters/ behind a port.' }, { group: ['**/adapters/**'], message: 'core/ must not import adapters/.' }] }],
      // The index's layout (keys, key prefixes, index names) is its adapter's (adapters/dynamo-index/layout.ts):
      // core/ speaks through core/index/port.ts and never names a storage key.
      'no-restricted-syntax': [
        'error',
        ...[
          ['Literal', 'value'],
          ['TemplateElement', 'value.raw'],
        ].map(([node, field]) => ({
          selector: `${node}[${field}=${STORAGE_KEY}]`,
          message: 'storage keys belong to the index adapter (adapters/dynamo-index/layout.ts); core/ uses the index port (core/index/port.ts).',
        })),
      ],
    },
  },
);
