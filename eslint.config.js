// Lint: typescript-eslint's recommended rules plus the import directions of design.md,
// enforced with ESLint's core `no-restricted-imports` (pattern zones per folder). A
// resolver-based plugin (import-x/no-restricted-paths) would need unrs-resolver's native
// builds, which not every registry mirror serves; path patterns need nothing native.
import tseslint from 'typescript-eslint';

const layer = (name) => ({ group: [`**/${name}/**`, `**/${name}`], message: `import direction (design.md): this folder may not import ${name}/` });
// From outside src (viewer), name src's folders by path so a package such as
// 'react-dom/client' is not mistaken for src/client. The viewer may import the session
// messages (src/server/messages.ts: browser-safe, type-only dependencies) and nothing else of src/server.
// (gitignore semantics: a file can be let through only when its folder itself is not matched.)
const srcLayer = (name, allowed = []) => ({
  group: allowed.length ? [`**/src/${name}/**`, ...allowed.map((f) => `!**/src/${name}/${f}`)] : [`**/src/${name}/**`, `**/src/${name}`],
  message: `import direction (design.md): this folder may not import src/${name}/${allowed.length ? ` (but ${allowed.join(', ')})` : ''}`,
});
const mlx = { group: ['@frost-beta/mlx', '**/models/mlx*'], message: 'browser-safe code must not load MLX' };
const node = { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'ws'], message: 'browser-safe code: no Node-only APIs' };
const outside = ['harness', 'bench', 'viewer', 'test', 'fixtures'].map(layer);

const zone = (files, groups) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns: groups }] } });

export default tseslint.config(
  { ignores: ['node_modules/**', 'viewer/dist/**', 'bench/results/**', '.scratch/**', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // protocol → audio → models → engine → server/client; telemetry beside; src never imports harness/bench/viewer/test.
  zone(['src/protocol/**'], [...['audio', 'models', 'engine', 'server', 'client', 'telemetry'].map(layer), ...outside, mlx, node]),
  zone(['src/audio/**'], [...['models', 'engine', 'server', 'client', 'telemetry'].map(layer), ...outside, mlx]),
  // Ogg and Opus also run in the page: no Node-only APIs there (Node loads the .wasm in opus/node.ts).
  { ...zone(['src/audio/ogg/**', 'src/audio/opus/**'], [...['models', 'engine', 'server', 'client', 'telemetry'].map(layer), ...outside, mlx, node]), ignores: ['src/audio/opus/node.ts'] },
  zone(['src/telemetry/**'], [...['audio', 'models', 'engine', 'server', 'client'].map(layer), ...outside, mlx]),
  zone(['src/models/**'], [...['engine', 'server', 'client'].map(layer), ...outside]),
  zone(['src/engine/**'], [...['server', 'client'].map(layer), ...outside]),
  zone(['src/server/**', 'src/client/**', 'src/cli/**', 'src/cli.ts', 'src/index.ts'], outside),
  // no-restricted-imports does not see import(): forbid dynamic imports out of src too.
  {
    files: ['src/**'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "ImportExpression[source.value=/(^|\\/)(harness|bench|viewer|test|fixtures)\\//]",
        message: 'import direction (design.md): src may not import harness/bench/viewer/test, not even dynamically',
      }],
    },
  },
  zone(['harness/**'], [...['bench', 'viewer', 'test'].map(layer)]),
  // The Vite config is build tooling run by Node, not browser code.
  { ...zone(['viewer/**'], [...['models', 'engine', 'client'].map((n) => srcLayer(n)), srcLayer('server', ['messages.ts']), mlx, node]), ignores: ['viewer/vite.config.ts'] },
);
