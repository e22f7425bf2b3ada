/** esbuild bundles CSS imported from the client code into the page's stylesheet. */
declare module '*.css';
