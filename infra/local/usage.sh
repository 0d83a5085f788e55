# shellcheck shell=bash
# `--help` and command-line mistakes for the infra scripts (up.sh, down.sh, status.sh,
# ../tools/helm.sh and ../tools/promtool.sh), sourced after lib.sh. The help is read off
# the scripts themselves: what a script does is its opening comment, and the environment
# it reads is every CHURN_* variable it or the lib.sh settings it uses expand, with the
# default there.

# The CHURN_* variables FILE... read, one a line as NAME=DEFAULT: those the files expand
# themselves, and those behind the lib.sh settings they use (directly or through another).
script_env() {
  awk '
    # Each ${CHURN_NAME:-DEFAULT} in s (one level of ${...} inside DEFAULT), in order.
    function churn_expansions(s, out,    i, depth, c, body, k) {
      while ((i = index(s, "${CHURN_")) > 0) {
        s = substr(s, i + 2); depth = 1; body = ""
        for (k = 1; k <= length(s) && depth > 0; k++) {
          c = substr(s, k, 1)
          if (c == "{") depth++
          else if (c == "}") depth--
          if (depth > 0) body = body c
        }
        s = substr(s, k)
        if (index(body, ":-") > 0) out[++out[0]] = substr(body, 1, index(body, ":-") - 1) "=" substr(body, index(body, ":-") + 2)
        else out[++out[0]] = body "="
      }
    }
    # Marks every $NAME or ${NAME in s as used.
    function mark_refs(s) {
      while (match(s, /\$\{?[A-Z_][A-Z0-9_]*/)) {
        name = substr(s, RSTART + 1, RLENGTH - 1); sub(/^\{/, "", name)
        used[name] = 1
        s = substr(s, RSTART + RLENGTH)
      }
    }
    FNR == NR {
      if (match($0, /^[A-Z_][A-Z0-9_]*=/)) {
        name = substr($0, 1, RLENGTH - 1); rhs[name] = substr($0, RLENGTH + 1); order[++settings] = name
      }
      next
    }
    /^[ \t]*#/ { next }
    {
      mark_refs($0)
      delete found; found[0] = 0; churn_expansions($0, found)
      for (j = 1; j <= found[0]; j++) if (!(found[j] in seen)) { seen[found[j]] = 1; own[++owns] = found[j] }
    }
    END {
      do {
        grew = 0
        for (j = 1; j <= settings; j++) {
          name = order[j]
          if ((name in used) && !(name in expanded)) { expanded[name] = 1; mark_refs(rhs[name]); grew = 1 }
        }
      } while (grew)
      for (j = 1; j <= settings; j++) {
        if (!(order[j] in used)) continue
        delete found; found[0] = 0; churn_expansions(rhs[order[j]], found)
        for (k = 1; k <= found[0]; k++) if (!(found[k] in seen)) { seen[found[k]] = 1; print "  " found[k] }
      }
      for (j = 1; j <= owns; j++) print "  " own[j]
    }
  ' "$INFRA_LOCAL_DIR/lib.sh" "$@"
}

# script_usage SYNOPSIS SCRIPT [FILE...]: the usage of SCRIPT on stdout: SYNOPSIS, what it
# does (its opening comment) and the environment SCRIPT and FILE... read (see script_env).
script_usage() {
  local synopsis="$1" script="$2"
  shift 2
  printf 'Usage: %s\n\n' "$synopsis"
  sed -n '2,/^[^#]/{/^#/{s/^# \{0,1\}//;p;}}' "$script"
  printf '\nEnvironment (NAME=default):\n'
  script_env "$script" "$@"
}

# usage_error SCRIPT MESSAGE: one line naming the mistake on stderr, exit code 2.
usage_error() {
  printf '%s: %s (see %s --help)\n' "$1" "$2" "$1" >&2
  exit 2
}

# For a script that takes no arguments: `--help` prints its usage (SYNOPSIS) and exits 0,
# anything else is a one-line mistake with exit code 2.
#   no_arguments SYNOPSIS SCRIPT "$@"
no_arguments() {
  local synopsis="$1" script="$2" name
  name="$(basename "$script")"
  shift 2
  for arg in "$@"; do
    case "$arg" in
      -h | --help)
        script_usage "$synopsis" "$script"
        exit 0
        ;;
      -*) usage_error "$name" "unknown option $arg" ;;
      *) usage_error "$name" "unknown argument $arg" ;;
    esac
  done
}
