# oi-voice: restores a shell session's state; bash reads this file through BASH_ENV.
#
# Every run is a fresh "bash -c" whose one-line script (see process.py) evaluates the
# code file and then calls __oi_save. OI_VOICE_SHELL_SESSION names the session directory:
# "code" (the block to run) and "state" (written by the previous run). The state is
# saved to "state.new" at the end, on exit and on SIGINT (an EXIT trap); the caller moves
# it over "state" once it is complete. Nothing of this reaches the output: the state
# travels through files, and completion is the process exit.

__oi_dir=$OI_VOICE_SHELL_SESSION
# Not for the code's own child shells.
unset BASH_ENV OI_VOICE_SHELL_SESSION
shopt -s expand_aliases

# Variables bash maintains itself, or that are read-only: never saved or restored.
declare -A __oi_special=()
for __oi_v in BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS \
    BASH_COMMAND BASH_EXECUTION_STRING BASH_LINENO BASH_REMATCH BASH_SOURCE BASH_SUBSHELL \
    BASH_VERSINFO BASH_VERSION COMP_WORDBREAKS DIRSTACK EPOCHREALTIME EPOCHSECONDS EUID FUNCNAME \
    GROUPS HISTCMD HOSTNAME HOSTTYPE LINENO MACHTYPE OSTYPE PIPESTATUS PPID PWD RANDOM SECONDS \
    SHELLOPTS SHLVL SRANDOM UID _; do
    __oi_special[$__oi_v]=1
done

__oi_save() {
    [[ -n ${__oi_saved-} ]] && return
    __oi_saved=1
    local __oi_v __oi_line
    local -a __oi_list=() __oi_vars=() __oi_funcs=() __oi_xfuncs=()
    # Builtins writing to a file and mapfile reading it back: no subshell, no fork.
    compgen -v >"$__oi_dir/names"
    mapfile -t __oi_list <"$__oi_dir/names"
    for __oi_v in "${__oi_list[@]}"; do
        [[ $__oi_v == __oi_* || -n ${__oi_special[$__oi_v]-} ]] || __oi_vars+=("$__oi_v")
    done
    declare -F >"$__oi_dir/names"
    mapfile -t __oi_list <"$__oi_dir/names"
    for __oi_line in "${__oi_list[@]}"; do
        __oi_v=${__oi_line##* }
        [[ $__oi_v == __oi_* ]] && continue
        __oi_funcs+=("$__oi_v")
        [[ $__oi_line == "declare -fx "* ]] && __oi_xfuncs+=("$__oi_v")
    done
    {
        printf '__oi_cwd=%q\n' "$PWD"
        if ((${#__oi_vars[@]})); then
            printf '__oi_names=('
            printf '%q ' "${__oi_vars[@]}"
            printf ')\n'
            declare -p "${__oi_vars[@]}"
        fi
        ((${#__oi_funcs[@]})) && declare -f "${__oi_funcs[@]}"
        ((${#__oi_xfuncs[@]})) && printf 'export -f %q\n' "${__oi_xfuncs[@]}"
        alias -p
        shopt -p
        printf '%s\n' '#oi-voice-state-end'
    } >"$__oi_dir/state.new" 2>/dev/null
}

if [[ -f $__oi_dir/state ]]; then
    # Errors come from variables that cannot be assigned (read-only ones): harmless.
    . "$__oi_dir/state" 2>/dev/null
    # Environment variables the session unset are back in our inherited environment.
    declare -A __oi_keep=()
    for __oi_v in "${__oi_names[@]}"; do __oi_keep[$__oi_v]=1; done
    compgen -e >"$__oi_dir/names"
    mapfile -t __oi_list <"$__oi_dir/names"
    for __oi_v in "${__oi_list[@]}"; do
        [[ -n ${__oi_keep[$__oi_v]-} || -n ${__oi_special[$__oi_v]-} ]] || unset "$__oi_v" 2>/dev/null
    done
    unset __oi_keep __oi_list __oi_names __oi_v
    if ! cd -- "$__oi_cwd" 2>/dev/null; then
        printf 'The working directory %s no longer exists; continuing in %s.\n' "$__oi_cwd" "${HOME:-/}" >&2
        cd -- "${HOME:-/}" 2>/dev/null || cd /
    fi
fi

# With set -x on, the save would trace its own commands: tracing goes off quietly first.
trap '{ set +x; } 2>/dev/null; __oi_save' EXIT
