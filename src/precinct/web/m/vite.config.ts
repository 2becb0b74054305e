import { defineConfig } from "vite";

// The patrol officer's terminal (移动警务通), served by the FastAPI app under /m (see precinct/app.py).
// Built after the dashboard into dist/m; public/ (manifest, service worker, icons) is copied as is.
export default defineConfig({
  root: import.meta.dirname,
  base: "/m/",
  publicDir: "public",
  build: { outDir: "../dist/m", emptyOutDir: true, sourcemap: false },
});
