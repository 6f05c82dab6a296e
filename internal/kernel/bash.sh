# Paddock bash harness: one persistent shell; cells are eval'd in it, so cwd, variables and
# functions survive between cells. See package kernel for the protocol. The guest sends the
# cell and its environment base64-encoded (code64, env64, unenv64), so no JSON parser is needed.
__pd_field() { # __pd_field NAME LINE: the decoded value of a base64 field, or nothing
  case $2 in
    *"\"$1\":\""*) ;;
    *) return 0 ;;
  esac
  local v=${2#*\"$1\":\"}
  printf '%s' "${v%%\"*}" | base64 -d
}
__pd_n=0
while IFS= read -r __pd_line <&3; do
  __pd_n=$((__pd_n + 1))
  eval "$(__pd_field env64 "$__pd_line")"
  eval "$(__pd_field code64 "$__pd_line")" </dev/null
  __pd_status=$?
  eval "$(__pd_field unenv64 "$__pd_line")"
  printf '%s' "$PADDOCK_SENTINEL"
  printf '%s' "$PADDOCK_SENTINEL" >&2
  printf '{"type":"done","exit_code":%d,"execution_count":%d}\n' "$__pd_status" "$__pd_n" >&4
done
