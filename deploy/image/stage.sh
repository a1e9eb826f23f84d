#!/bin/sh
# The container image's recipe, one step per subcommand. The Dockerfile runs these steps,
# and test/deploy.test.ts runs the same script in a staging folder, so the recipe is
# exercised where no image can be built.
#
#   stage.sh build SRC         install every dependency in SRC and compile the vitrine
#                              bundle (cli/dist/vitrine.mjs), dated with its newest source
#   stage.sh runtime SRC DEST  copy what the command needs at run time from SRC to DEST and
#                              install production dependencies only (no dev dependencies,
#                              no install scripts); DEST is then read-only for the process
set -eu

step=${1:?usage: stage.sh build SRC | runtime SRC DEST}

case "$step" in
build)
  src=${2:?stage.sh build SRC}
  cd "$src"
  npm ci --no-audit --no-fund --prefer-offline
  node --input-type=module -e "const { buildBundle } = await import('./bin/bundle.js'); await buildBundle();"
  ;;
runtime)
  src=${2:?stage.sh runtime SRC DEST}
  dest=${3:?stage.sh runtime SRC DEST}
  mkdir -p "$dest"
  # cp -p keeps modification times: the bundle stays as new as its sources, so the
  # command never rebuilds it (which would need a writable folder and esbuild).
  cp -p "$src/package.json" "$src/package-lock.json" "$dest/"
  mkdir -p "$dest/bin" "$dest/cli"
  cp -p "$src"/bin/*.js "$dest/bin/"
  cp -p "$src/cli/package.json" "$dest/cli/"
  cp -Rp "$src/cli/src" "$src/cli/dist" "$dest/cli/"
  for pkg in "$src"/libs/* "$src"/services/*; do
    [ -f "$pkg/package.json" ] || continue
    rel=${pkg#"$src"/}
    mkdir -p "$dest/$rel"
    cp -p "$pkg/package.json" "$dest/$rel/"
    cp -Rp "$pkg/src" "$dest/$rel/"
  done
  cd "$dest"
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline
  ;;
*)
  echo "stage.sh: unknown step '$step' (build or runtime)" >&2
  exit 2
  ;;
esac
