// Service worker of the patrol terminal (scope /m/): the app shell is cached so the app opens with
// no connection; the API (/api/) is never cached here (the page's own offline queue handles it).
const CACHE = "precinct-m-v1";
const SHELL = ["/m/", "/m/manifest.webmanifest", "/m/icon.svg", "/m/icon-192.png", "/m/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    // the hashed bundle files the shell page names
    const html = await (await cache.match("/m/")).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/m\/assets\/[^"]+)"/g)].map((m) => m[1]);
    await cache.addAll(assets);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/m/")) return;
  if (event.request.mode === "navigate") {
    // network first (a new release shows at once), the cached shell when offline
    event.respondWith(fetch(event.request).then((r) => {
      const copy = r.clone();
      if (r.ok) caches.open(CACHE).then((c) => c.put("/m/", copy));
      return r;
    }).catch(async () => (await caches.match("/m/")) ?? Response.error()));
    return;
  }
  event.respondWith(caches.match(event.request).then((hit) => hit ?? fetch(event.request).then((r) => {
    if (r.ok && url.pathname.startsWith("/m/assets/")) {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return r;
  })));
});
