import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layering rule of the architecture: a training step flows one way
// (augment/mask → encoder → head → loss), and lower layers never import higher ones.
const LAYER_RULES = {
  core: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  kernels: ['backend', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  data: ['backend', 'kernels', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  augment: ['backend', 'kernels', 'data', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  masking: ['backend', 'kernels', 'data', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  losses: ['backend', 'data', 'augment', 'masking', 'heads', 'eval', 'train', 'tasks', 'io'],
  backend: ['data', 'augment', 'masking', 'losses', 'heads', 'eval', 'train', 'tasks', 'io'],
  heads: ['backend', 'data', 'augment', 'masking', 'losses', 'eval', 'train', 'tasks', 'io'],
  eval: ['backend', 'data', 'augment', 'masking', 'heads', 'train', 'tasks', 'io'],
  // Training utilities sit between the model parts and the methods: they may
  // use core, heads and eval (collapse checks), and only tasks may use them.
  train: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'tasks', 'io'],
  tasks: ['backend', 'data'],
  // Model files sit above heads (they rebuild the ViT and the MAE decoder) and below the command line.
  io: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'eval', 'train', 'tasks'],
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
