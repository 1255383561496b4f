import { defineConfig } from 'vite';

// Relative asset URLs: the built app works from any directory (a static host, the tests).
export default defineConfig({ base: './' });
