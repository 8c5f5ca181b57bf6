/**
 * The install snippet of the browser SDK, in the format src/web/sdk-route.ts sdkSnippet writes
 * (kept in step with it): a stub `window.vigil` that queues calls until `<origin>/sdk.js` has
 * loaded, then `vigil.init(writeKey, { host: origin })`. Strings are JSON-escaped, `<` too.
 */
export function sdkSnippet(host: string, writeKey: string): string {
  const origin = host.replace(/\/+$/, '');
  const literal = (s: string) => JSON.stringify(s).replace(/</g, '\\u003c');
  return `<script>
!function(w,d,h,k){var v=w.vigil=w.vigil||[];if(v.init)return;"init track page identify group reset flush".split(" ").forEach(function(m){v[m]=function(){v.push([m].concat([].slice.call(arguments)))}});var s=d.createElement("script");s.async=!0;s.src=h+"/sdk.js";d.head.appendChild(s);v.init(k,{host:h})}(window,document,${literal(origin)},${literal(writeKey)});
</script>`;
}
