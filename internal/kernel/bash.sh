# Paddock bash harness: one persistent shell; cells are sourced in it, so cwd, variables and
# functions survive between cells. See package kernel for the protocol. A cell arrives as two
# NUL-terminated fields (its environment as __pd_env lines, then its code), which the shell
# reads and runs with builtins only: a cell starts no process of the harness's own, so an
# `echo` costs what it costs in a terminal.
#
# Interrupts: the guest sends SIGINT to the shell's process group, which stops the cell's
# foreground command. The INT trap keeps the shell alive and arms a DEBUG trap that makes
# every level of the sourced cell (and of functions it called) return at its next command,
# so loops stop too; the shell then reports the interruption and reads the next cell.
declare -A __pd_prev=() __pd_attr=()
__pd_env() { # __pd_env NAME VALUE: export NAME=VALUE for the running cell only
  if [[ -z ${__pd_attr[$1]+set} ]]; then
    if [[ -n ${!1+set} ]]; then
      __pd_prev[$1]=${!1}
      if [[ -n $__pd_attrs ]]; then
        __pd_attr[$1]=set:${!1@a}
      else
        __pd_attr[$1]=set:x # bash < 4.4 cannot tell: taken as exported
      fi
    else
      __pd_attr[$1]=unset
    fi
  fi
  export "$1=$2"
}
__pd_restore() { # put back what __pd_env changed in this cell
  local n
  for n in "${!__pd_attr[@]}"; do
    case ${__pd_attr[$n]} in
      unset) unset "$n" ;;
      *x*) export "$n=${__pd_prev[$n]}" ;;
      *) export -n "$n"; printf -v "$n" '%s' "${__pd_prev[$n]}" ;;
    esac
  done
  __pd_prev=() __pd_attr=()
}
__pd_attrs=
(: "${PATH@a}") 2>/dev/null && __pd_attrs=1
__pd_unwind() { # DEBUG trap: return 2 (with extdebug: "return from here") inside the cell only
  [[ -n $__pd_intr && " ${FUNCNAME[*]:1} " == *" source "* ]] && return 2
  return 0
}
__pd_reset() { __pd_intr=; trap - DEBUG; shopt -u extdebug; }
trap '__pd_intr=1; shopt -s extdebug; trap __pd_unwind DEBUG' INT
__pd_n=0
while :; do
  __pd_reset
  IFS= read -r -d '' __pd_envs <&3 || {
    (($? > 128)) && continue # a late interrupt while waiting for a cell
    break
  }
  IFS= read -r -d '' __pd_code <&3 || break
  __pd_n=$((__pd_n + 1))
  eval "$__pd_envs"
  source /dev/fd/5 5<<<"$__pd_code" </dev/null
  __pd_status=$?
  __pd_was=$__pd_intr
  __pd_reset
  __pd_restore
  printf '%s' "$PADDOCK_SENTINEL"
  printf '%s' "$PADDOCK_SENTINEL" >&2
  if [[ -n $__pd_was ]]; then
    printf '{"type":"error","name":"KeyboardInterrupt","value":"the cell was interrupted","traceback":""}\n' >&4
    __pd_status=130
  fi
  printf '{"type":"done","exit_code":%d,"execution_count":%d}\n' "$__pd_status" "$__pd_n" >&4
done
