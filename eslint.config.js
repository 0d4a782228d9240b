import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layering rule of the architecture: a training step flows one way
// (augment/mask → encoder → head → loss), and lower layers never import higher ones.
const LAYER_RULES = {
  core: ['backend', 'kernels', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'tasks'],
  kernels: ['backend', 'data', 'augment', 'masking', 'losses', 'heads', 'eval', 'tasks'],
  data: ['backend', 'kernels', 'augment', 'masking', 'losses', 'heads', 'eval', 'tasks'],
  augment: ['backend', 'kernels', 'data', 'masking', 'losses', 'heads', 'eval', 'tasks'],
  masking: ['backend', 'kernels', 'data', 'losses', 'heads', 'eval', 'tasks'],
  losses: ['backend', 'data', 'augment', 'masking', 'heads', 'eval', 'tasks'],
  backend: ['data', 'augment', 'masking', 'losses', 'heads', 'eval', 'tasks'],
  heads: ['backend', 'data', 'augment', 'masking', 'losses', 'eval', 'tasks'],
  eval: ['backend', 'data', 'augment', 'masking', 'heads', 'tasks'],
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
