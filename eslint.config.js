import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layering rule of the architecture: a training step flows one way
// (augment/mask → encoder → head → loss), and lower layers never import higher ones.
const LAYER_RULES = {
  core: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks'],
  kernels: ['backend', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks'],
  data: ['backend', 'kernels', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks'],
  augment: ['backend', 'kernels', 'data', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks'],
  masking: ['backend', 'kernels', 'data', 'losses', 'heads', 'eval', 'train', 'tasks'],
  losses: ['backend', 'data', 'augment', 'masking', 'heads', 'eval', 'train', 'tasks'],
  backend: ['data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks'],
  heads: ['backend', 'data', 'augment', 'masking', 'losses', 'eval', 'train', 'tasks'],
  eval: ['backend', 'data', 'augment', 'masking', 'heads', 'train', 'tasks'],
  // Training utilities sit between the model parts and the methods: they may
  // use core, heads and eval (collapse checks), and only tasks may use them.
  train: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'tasks'],
  tasks: ['backend', 'data'],
};

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'docs/site/**', 'node_modules/**', 'src/data/assets/**', 'test-output/**', 'coverage/**', 'examples/browser/dist/**', 'src/kernels/generated/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  ...Object.entries(LAYER_RULES).map(([layer, forbidden]) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbidden.map((f) => `../${f}/*`),
              message: `src/${layer} is a lower layer and must not import from these areas (see STYLE: lower layers never import higher ones).`,
            },
            { group: ['selfsup', 'selfsup/*'], message: 'Inside src/, import relative files, not the package name.' },
          ],
        },
      ],
    },
  })),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/backend/**'],
    rules: {
      'no-console': 'error',
    },
  },
);
