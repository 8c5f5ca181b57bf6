/**
 * Bundles the browser SDK (sdk/src/browser.ts) into one minified IIFE with esbuild.
 * `node sdk/build.mjs` writes dist/sdk/vigil.js (npm run build does it); the server and the
 * tests import bundleSdk() to build from source when no built file fits (see src/web/sdk-route.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_OUTPUT = path.join(root, 'dist', 'sdk', 'vigil.js');

/** The SDK as one script; `minify: false` for reading (and for the raw size). */
export async function bundleSdk({ minify = true } = {}) {
  const { build } = await import('esbuild');
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const result = await build({
    entryPoints: [path.join(root, 'sdk', 'src', 'browser.ts')],
    bundle: true,
    format: 'iife',
    // browsers of 2018 on (Safari 12, Chrome 64, Firefox 58)
    target: ['es2018'],
    minify,
    legalComments: 'none',
    define: { __VIGIL_VERSION__: JSON.stringify(version) },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await bundleSdk();
  fs.mkdirSync(path.dirname(SDK_OUTPUT), { recursive: true });
  fs.writeFileSync(SDK_OUTPUT, code);
  console.log(`sdk: ${path.relative(process.cwd(), SDK_OUTPUT)} (${code.length} bytes)`);
}
