// The LIFF SDK from npm (@line/liff, pinned in package-lock.json), bundled by
// `make` with esbuild into build/*/www/liff/sdk.js and served by
// hotline-webhook as /liff/sdk.js: no CDN at run time.  app.js uses
// window.liff, as with LINE's CDN build.
import liff from '@line/liff';

window.liff = liff;
