declare const __ATTNLAB_VERSION__: string | undefined;

/** attnlab's version: set by build.mjs from package.json; `0.0.0-dev` when run from source. */
export const ATTNLAB_VERSION: string = typeof __ATTNLAB_VERSION__ === 'string' ? __ATTNLAB_VERSION__ : '0.0.0-dev';
