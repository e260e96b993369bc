// The linter's rules: typescript-eslint's recommended set (syntax only, no type information, so it stays
// fast) and a few pragmatic changes. Run from the repository root: `npm run lint`.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**'],
  },
  {
    files: ['bin/**/*.js', 'src/**/*.{ts,tsx,js}', 'test/**/*.{ts,tsx,mjs}'],
    extends: [tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unused names are the compiler's job (noUnusedLocals, noUnusedParameters); `_name` marks one on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'prefer-const': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-debugger': 'error',
    },
  },
);
