// Registers the service worker (built as /sw.js) in production builds, after the page loaded so
// it never competes with the first paint.
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      // Not fatal: the app works without it, only not offline or installed.
    });
  });
}
