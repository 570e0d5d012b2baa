import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.data', '.scratch', 'migrations', 'bench/results', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' },
      ],
    },
  },
  {
    // The server is built from src/ alone: the CLIs, the generator and the
    // benchmark (seed/, bench/) and the client's generator call into it,
    // never the other way round.
    files: ['src/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' },
        // Hono's `c.var` copies every variable of the request into a new object at each use.
        { object: 'c', property: 'var', message: "Use c.get('name'): c.var builds an object of all the request's variables each time." },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/seed/**', '**/bench/**', '**/test/**', '**/client/**'], message: 'src/ imports nothing from seed/, bench/, test/ or client/.' }] },
      ],
    },
  },
  {
    // Entry points, CI scripts and test helpers may read the environment they were started with.
    files: ['src/config.ts', 'test/**', 'bench/**', 'seed/**', '.ci/**', 'vitest.config.ts', 'drizzle.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Plain JavaScript run by Node as it is (CI scripts, a relay run on a test host).
    files: ['**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
