import { defineConfig } from "vite";

// The bundle is served by the FastAPI app under /ui (see precinct/app.py).
export default defineConfig({
  base: "/ui/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});
