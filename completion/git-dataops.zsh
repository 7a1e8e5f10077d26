#compdef git-dataops
#
# zsh completion for git-dataops. zsh's own _git completes `git dataops ...` by calling
# _git-dataops (with `dataops` as words[1]); the #compdef line makes it complete `git-dataops ...`
# too. Install it as _git-dataops in a directory of $fpath: the Debian package puts it in
# /usr/share/zsh/vendor-completions; for ~/.local add `fpath=(~/.local/share/zsh/site-functions
# $fpath)` before `compinit` in ~/.zshrc.
#
# As in the bash completion, nothing here is a copy of what the binaries know: verbs come from
# `git dataops -h`, options and their values from `git dataops <verb> -h`, stages from the
# pipeline in git config (the defaults when unset), environments and plugins from
# `git dataops env list|show --format json`.

(( $+functions[__git_dataops_run] )) ||
__git_dataops_run () {
  git dataops "$@" 2>/dev/null
}

# The usage lines and the option list of a verb's -h text (not its prose); with a subcommand,
# only the usage lines of that subcommand.
(( $+functions[__git_dataops_help] )) ||
__git_dataops_help () {
  if [[ -z $2 ]]; then
    __git_dataops_run $1 -h | awk 'NR == 1, /^$/ { print; next } /^    -/ { print }'
    return
  fi
  __git_dataops_run $1 -h | awk -v want="$2" '
    /^$/ { exit }
    /^(usage|   or): git dataops / { current = $5 }
    current == want { print }'
}

# What an option takes: "<stage>", "<stage>=<remote>", "text|json", or nothing for a flag.
(( $+functions[__git_dataops_option_value] )) ||
__git_dataops_option_value () {
  local value
  value=$(print -r -- "$1" | grep -o -e "$2 <[^ ]*>" -e "\[$2 [a-z|]*\]" | head -n 1)
  value=${value#\[}
  value=${value%\]}
  value=${value#$2}
  print -r -- ${value# }
}

(( $+functions[__git_dataops_stages] )) ||
__git_dataops_stages () {
  local stages
  stages=$(git config --get dataops.stages 2>/dev/null)
  print -l -- ${(s: :)${stages:-dev staging prod}//,/ }
}

# The "name" keys one level into a JSON document printed with an indent of 2.
(( $+functions[__git_dataops_json_names] )) ||
__git_dataops_json_names () {
  sed -n 's/^      "name": "\(.*\)",$/\1/p'
}

(( $+functions[__git_dataops_complete_value] )) ||
__git_dataops_complete_value () {
  local takes=$1
  case $takes in
    (*'|'*)
      compadd -- ${(s:|:)takes} ;;
    ('<'*'>=<'*'>')
      if compset -P '*='; then
        __git_dataops_complete_value "<${takes#*=<}"
      else
        compadd -S '=' -- ${(f)"$(__git_dataops_stages)"}
      fi ;;
    ('<stage>'|'<list>')
      compadd -- ${(f)"$(__git_dataops_stages)"} ;;
    ('<env>'|'<environment>'|'<name>')
      compadd -- ${(f)"$(__git_dataops_run env list --format json | __git_dataops_json_names)"} ;;
    ('<remote>')
      compadd -- ${(f)"$(git remote 2>/dev/null)"} ;;
    ('<rev>'|'<commit>')
      compadd -- HEAD ${(f)"$(git for-each-ref --format='%(refname:short)' 2>/dev/null)"} ;;
    ('<dir>')
      _directories ;;
    (*)
      return 1 ;;
  esac
}

_git-dataops () {
  local -a verbs subcommands positionals
  local help verb sub previous takes
  integer first i

  if (( CURRENT == 2 )); then
    if [[ $PREFIX == -* ]]; then
      compadd -- -h --version
      return
    fi
    verbs=(${(f)"$(__git_dataops_run -h |
      sed -n '/^commands:$/,/^$/s/^   \([a-z][a-z0-9-]*\)  *\(.*\)$/\1:\2/p')"})
    _describe -t commands 'git dataops command' verbs
    return
  fi

  verb=$words[2]
  first=3
  subcommands=(${(f)"$(__git_dataops_run $verb -h |
    awk '/^$/ { exit } /^(usage|   or): git dataops / && $5 ~ /^[a-z][a-z-]*$/ { print $5 }' | sort -u)"})
  if (( $#subcommands )); then
    if (( CURRENT == 3 )); then
      compadd -a subcommands
      return
    fi
    sub=$words[3]
    first=4
  fi
  help=$(__git_dataops_help $verb $sub)

  # The value of an option: "--opt=<TAB>" or "--opt <TAB>".
  if [[ $PREFIX == --*=* ]]; then
    takes=$(__git_dataops_option_value "$help" "${PREFIX%%=*}")
    compset -P '*='
    __git_dataops_complete_value "$takes"
    return
  fi
  if [[ $PREFIX == -* ]]; then
    compadd -- ${(f)"$(print -r -- "$help" | grep -o -e '--[a-z][a-z-]*' | sort -u)"}
    return
  fi
  previous=$words[CURRENT-1]
  if (( CURRENT > first )) && [[ $previous == -* && $previous != *=* ]]; then
    takes=$(__git_dataops_option_value "$help" "$previous")
    if [[ -n $takes ]]; then
      __git_dataops_complete_value "$takes"
      return
    fi
  fi

  # Positional arguments: count those before the cursor, skipping options and their values.
  for (( i = first; i < CURRENT; i++ )); do
    case $words[i] in
      (--*=*) ;;
      (-*) [[ -n $(__git_dataops_option_value "$help" "$words[i]") ]] && (( i++ )) ;;
      (*) positionals+=($words[i]) ;;
    esac
  done
  case "$verb${sub:+ $sub}" in
    (promote|log|rollback)
      (( $#positionals == 0 )) && __git_dataops_complete_value '<stage>' ;;
    ('env show')
      if (( $#positionals == 0 )); then
        __git_dataops_complete_value '<env>'
      else
        compadd -- ${(f)"$(__git_dataops_run env show $positionals[1] --format json | __git_dataops_json_names)"}
      fi ;;
    ('env diff')
      (( $#positionals < 2 )) && __git_dataops_complete_value '<env>' ;;
    ('hooks run')
      (( $#positionals == 0 )) && compadd pre-push pre-receive ;;
    (*)
      return 1 ;;
  esac
}

_git-dataops "$@"
