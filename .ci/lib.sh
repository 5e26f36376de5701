# Helpers for the .ci scripts (sourced, not run).

# Build and test with the pinned toolchain unless the caller chose one
# (e.g. GOTOOLCHAIN=local to see what the installed Go would give).
export GOTOOLCHAIN="${GOTOOLCHAIN:-$STOREKEEP_GO_TOOLCHAIN}"

# Where the vulnerability database and other derived data are cached.
STOREKEEP_CACHE="${STOREKEEP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/storekeep}"

gobin() {
  local d
  d=$(go env GOBIN)
  [ -n "$d" ] || d="$(go env GOPATH | cut -d: -f1)/bin"
  printf '%s\n' "$d"
}

# ensure_tool BIN PACKAGE VERSION: print the path of BIN in GOBIN, first
# installing PACKAGE@VERSION unless the binary there was built from exactly
# that package and module version (go version -m tells).
ensure_tool() {
  local bin=$1 pkg=$2 version=$3 path
  path="$(gobin)/$bin"
  if [ -x "$path" ] && go version -m "$path" 2>/dev/null |
    awk -v p="$pkg" -v v="$version" '
      $1 == "path" && $2 == p { okp = 1 }
      $1 == "mod" && $3 == v { okv = 1 }
      END { exit !(okp && okv) }'; then
    printf '%s\n' "$path"
    return
  fi
  echo "installing $pkg@$version" >&2
  go install "$pkg@$version" >&2
  printf '%s\n' "$path"
}

# allow_entries FILE: print the entries of an allow-list, without comment
# lines (first non-blank character '#') and blank lines, with each
# '|'-separated field trimmed.
allow_entries() {
  awk -F'|' 'BEGIN { OFS = "|" }
    /^[ \t]*(#|$)/ { next }
    { for (i = 1; i <= NF; i++) gsub(/^[ \t]+|[ \t]+$/, "", $i); $1 = $1; print }' "$1"
}
