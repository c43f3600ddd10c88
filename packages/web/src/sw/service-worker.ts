// The service worker: keeps the app's shell (page, entry script, styles, icons) so the app opens
// instantly and offline, and caches each hashed asset (math, highlighting) the first time it is
// used. It never touches /v1 or /api: answers and personal data always come from the server.

declare const self: ServiceWorkerGlobalScope;
/** Set by the build: the shell's URLs, and a version that changes with them. */
declare const __PRECACHE__: readonly string[];
declare const __BUILD_VERSION__: string;

const CACHE = `atelier-shell-${__BUILD_VERSION__}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // 'reload': straight from the server, not from the browser's HTTP cache.
      await cache.addAll(__PRECACHE__.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('atelier-shell-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (/^\/(v1|api)(\/|$)/.test(url.pathname) || url.pathname === '/healthz') return;

  if (request.mode === 'navigate') {
    // The newest page when online; the cached shell when not (the app's routes are all one page).
    event.respondWith(
      fetch(request).catch(async () => (await caches.match('/', { cacheName: CACHE })) ?? Response.error()),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    // Hashed names never change content: the cache is always right.
    event.respondWith(
      (async () => {
        const cached = await caches.match(request, { cacheName: CACHE });
        if (cached) return cached;
        const response = await fetch(request);
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })(),
    );
    return;
  }
  // Icons, manifest: the network first, the cache when offline.
  event.respondWith(
    fetch(request).catch(async () => (await caches.match(request, { cacheName: CACHE })) ?? Response.error()),
  );
});

export {};
