// Vite's dev server pre-bundles dependencies into node_modules/.vite,
// away from the package's wasm files; excluded, the package's modules are
// served as they are and `new URL("…_bg.wasm", import.meta.url)` finds
// them. `vite build` needs nothing special.
export default {
  optimizeDeps: { exclude: ["@atelier/elements"] },
};
