#!/bin/sh
# Bundles scripts/make-icl-example.ts with esbuild (workspace packages from source) and runs it on Node's CPU backend.
set -e
cd "$(dirname "$0")/.."
ESBUILD="${ESBUILD:-../../node_modules/.bin/esbuild}"
"$ESBUILD" scripts/make-icl-example.ts --bundle --platform=node --format=esm --target=node20 \
  --conditions=@attnlab/source --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
  --ignore-annotations --log-level=error --outfile=node_modules/.cache/make-icl-example.mjs
node node_modules/.cache/make-icl-example.mjs "$@"
