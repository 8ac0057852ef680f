// Builds the dashboard into ../static (served by the Flask app at /dashboard).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/dashboard/",
  build: {
    outDir: "../static",
    emptyOutDir: true,
    assetsDir: "assets",
    // One script and one stylesheet: the page has no CDN and no inline code
    // (the Flask view serves it with script-src 'self').
    modulePreload: false,
    chunkSizeWarningLimit: 600,
  },
});
