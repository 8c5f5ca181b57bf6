// The browser SDK's size: the bundle as written (raw), minified, and minified + gzipped (what a
// browser downloads). The budget is 5 KB gzipped; test/unit/sdk.test.ts fails above it.
import zlib from 'node:zlib';
import { bundleSdk } from '../sdk/build.mjs';

const SDK_BUDGET_GZIP_BYTES = 5 * 1024;

const raw = Buffer.byteLength(await bundleSdk({ minify: false }));
const minified = await bundleSdk();
const gzipped = zlib.gzipSync(minified, { level: 9 }).length;
const brotli = zlib.brotliCompressSync(minified).length;
const kb = (n: number) => `${n.toLocaleString('en')} B (${(n / 1024).toFixed(2)} KB)`;
console.log(`sdk.js raw (bundled, not minified): ${kb(raw)}`);
console.log(`sdk.js minified:                    ${kb(Buffer.byteLength(minified))}`);
console.log(
  `sdk.js minified + gzip -9:          ${kb(gzipped)}  (budget ${kb(SDK_BUDGET_GZIP_BYTES)}, ${((gzipped / SDK_BUDGET_GZIP_BYTES) * 100).toFixed(0)}% used)`,
);
console.log(`sdk.js minified + brotli:           ${kb(brotli)}`);
