// SPDX-License-Identifier: Apache-2.0
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Module boundaries: see README "Layout". */
const boundaries = {
  'src/api/**': ['**/runtime/**', '**/controllers/**', '**/desired/**', '**/cluster/**', '**/cli/**'],
  'src/runtime/**': ['**/api/**', '**/controllers/**', '**/desired/**', '**/identity/**', '**/cluster/**', '**/cli/**'],
  // Builders are pure: no I/O modules; node:crypto only for hashes in names.
  'src/desired/**': ['**/runtime/**', '**/controllers/**', '**/cluster/**', '**/cli/**', 'node:*', '!node:crypto'],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', 'charts/**', 'crds/**', 'manifests/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  { files: ['**/*.test.ts', 'test/**', 'e2e/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // Scripts the gateway serves to browsers.
  {
    files: ['src/gateway/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['document', 'window', 'location', 'fetch', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'console', 'WebSocket', 'URL', 'URLSearchParams', 'navigator', 'Guacamole'].map((g) => [g, 'readonly'])),
    },
  },
  ...Object.entries(boundaries).map(([files, patterns]) => ({
    files: [files],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  })),
);
