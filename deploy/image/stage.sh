#!/bin/sh
# The container image's recipe, one step per subcommand. The Dockerfile runs these steps,
# and test/deploy.test.ts runs the same script in a staging folder, so the recipe is
# exercised where no image can be built.
#
#   stage.sh build SRC         install every dependency in SRC; `npm ci` builds vitrine
#                              (scripts/build.mjs: cli/dist and the PGlite template)
#   stage.sh runtime SRC DEST  copy the build to DEST (bin/, cli/dist, build/, no sources)
#                              and install production dependencies only: no dev
#                              dependencies, no compilers, no install scripts
set -eu

step=${1:?usage: stage.sh build SRC | runtime SRC DEST}

case "$step" in
build)
  src=${2:?stage.sh build SRC}
  cd "$src"
  npm ci --no-audit --no-fund --prefer-offline
  node scripts/build.mjs --if-stale
  ;;
runtime)
  src=${2:?stage.sh runtime SRC DEST}
  dest=${3:?stage.sh runtime SRC DEST}
  mkdir -p "$dest/cli"
  cp -p "$src/package.json" "$src/package-lock.json" "$dest/"
  cp -Rp "$src/bin" "$dest/"
  cp -Rp "$src/cli/dist" "$dest/cli/"
  [ -d "$src/build" ] && cp -Rp "$src/build" "$dest/"
  # npm ci installs the workspaces' dependencies from their package.json files; the
  # workspaces themselves are compiled into cli/dist, so their links go afterwards.
  for pkg in "$src"/libs/* "$src"/services/* "$src"/cli; do
    [ -f "$pkg/package.json" ] || continue
    rel=${pkg#"$src"/}
    mkdir -p "$dest/$rel"
    cp -p "$pkg/package.json" "$dest/$rel/"
  done
  cd "$dest"
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline
  rm -rf node_modules/@vitrine node_modules/.bin libs services cli/package.json
  ;;
*)
  echo "stage.sh: unknown step '$step' (build or runtime)" >&2
  exit 2
  ;;
esac
