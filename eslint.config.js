import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const notInShared = (what, why) => ({ name: what, message: why });

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/out/**',
      '**/node_modules/**',
      'coverage/**',
      'server/drizzle/**',
      '.vitest/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One program over sources and tests alike; the build configs leave tests out.
      parserOptions: {
        project: ['./tsconfig.lint.json', './desktop/tsconfig.lint.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Fastify plugins and handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain scripts run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.test.ts', 'bench/**/*.ts'],
    rules: {
      // Tests read loosely typed JSON responses; asserting on them is the point.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Raw SQL rows are typed by a cast; the rule mistakes it for an inferable generic.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'shared/ runs in the browser too: no Node built-ins.' },
            {
              group: ['@webguard/*'],
              message: 'shared/ is the bottom layer: it imports no other workspace.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        notInShared('process', 'shared/ runs in the browser too: take values as parameters.'),
        notInShared('Buffer', 'shared/ runs in the browser too: use Uint8Array.'),
        notInShared('window', 'shared/ runs in Node too.'),
        notInShared('document', 'shared/ runs in Node too.'),
      ],
    },
  },
  {
    files: ['skills/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@webguard/server', '@webguard/server/*', '../../server/*'],
              message: 'Skills depend only on the SDK in @webguard/shared.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['skills/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(@webguard/server(/.*)?|(\\.\\./)+server/(?!src/engine/(browser/)?index\\.js$|test/support/).*)$',
              message:
                'Skill tests run a skill through the engine (its browser support included) and its test support, and use no other server code.',
            },
          ],
        },
      ],
    },
  },
);
