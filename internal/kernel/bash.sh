# Paddock bash harness: one persistent shell; cells are sourced in it, so cwd, variables and
# functions survive between cells. See package kernel for the protocol. The guest sends the
# cell and its environment base64-encoded (code64, env64, unenv64), so no JSON parser is needed.
#
# Interrupts: the guest sends SIGINT to the shell's process group, which stops the cell's
# foreground command. The INT trap keeps the shell alive and arms a DEBUG trap that makes
# every level of the sourced cell (and of functions it called) return at its next command,
# so loops stop too; the shell then reports the interruption and reads the next cell.
__pd_field() { # __pd_field NAME LINE: the decoded value of a base64 field, or nothing
  case $2 in
    *"\"$1\":\""*) ;;
    *) return 0 ;;
  esac
  local v=${2#*\"$1\":\"}
  printf '%s' "${v%%\"*}" | base64 -d
}
__pd_unwind() { # DEBUG trap: return 2 (with extdebug: "return from here") inside the cell only
  [[ -n $__pd_intr && " ${FUNCNAME[*]:1} " == *" source "* ]] && return 2
  return 0
}
__pd_reset() { __pd_intr=; trap - DEBUG; shopt -u extdebug; }
trap '__pd_intr=1; shopt -s extdebug; trap __pd_unwind DEBUG' INT
__pd_n=0
while :; do
  __pd_reset
  IFS= read -r __pd_line <&3 || {
    (($? > 128)) && continue # a late interrupt while waiting for a cell
    break
  }
  __pd_n=$((__pd_n + 1))
  eval "$(__pd_field env64 "$__pd_line")"
  source /dev/fd/5 5< <(__pd_field code64 "$__pd_line") </dev/null
  __pd_status=$?
  __pd_was=$__pd_intr
  __pd_reset
  eval "$(__pd_field unenv64 "$__pd_line")"
  printf '%s' "$PADDOCK_SENTINEL"
  printf '%s' "$PADDOCK_SENTINEL" >&2
  if [[ -n $__pd_was ]]; then
    printf '{"type":"error","name":"KeyboardInterrupt","value":"the cell was interrupted","traceback":""}\n' >&4
    __pd_status=130
  fi
  printf '{"type":"done","exit_code":%d,"execution_count":%d}\n' "$__pd_status" "$__pd_n" >&4
done
