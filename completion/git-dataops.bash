# bash completion for git-dataops                                    -*- shell-script -*-
#
# git's own completion (the `git` package's completions/git) completes `git dataops ...` by
# calling _git_dataops, which bash-completion loads on demand from a file named git-dataops in
# its completions directories (~/.local/share/bash-completion/completions, then
# share/bash-completion/completions under each of $XDG_DATA_DIRS: /usr/local/share, /usr/share).
# Without bash-completion, source this file after git's completion script.
#
# Nothing here is a copy of what the binaries know: verbs come from `git dataops -h`, options and
# their values from `git dataops <verb> -h`, stages from the pipeline in git config (the defaults
# when unset), environments from `git dataops env list --format json` and plugins from
# `git dataops env show <env> --format json`.

# The verbs, one per line.
__git_dataops_verbs ()
{
	__git dataops -h | sed -n '/^commands:$/,/^$/s/^   \([a-z][a-z0-9-]*\) .*/\1/p'
}

# The usage lines and the option list of a verb's -h text (not its prose); with a subcommand,
# only the usage lines of that subcommand.
__git_dataops_help ()
{
	local help
	help=$(__git dataops "$1" -h) || return
	if [ -z "$2" ]; then
		printf '%s\n' "$help" | awk 'NR == 1, /^$/ { print; next } /^    -/ { print }'
		return
	fi
	printf '%s\n' "$help" | awk -v want="$2" '
		/^$/ { exit }
		/^(usage|   or): git dataops / { current = $5 }
		current == want { print }'
}

# The subcommands of a verb (env: list show diff), from its usage lines; none for most verbs.
__git_dataops_subcommands ()
{
	__git dataops "$1" -h |
		awk '/^$/ { exit } /^(usage|   or): git dataops / && $5 ~ /^[a-z][a-z-]*$/ { print $5 }' | sort -u
}

# What an option takes, from the help text: "<stage>", "<stage>=<remote>", "text|json", or
# nothing for a flag.
__git_dataops_option_value ()
{
	local help="$1" option="$2" value
	value=$(printf '%s\n' "$help" | grep -o -e "$option <[^ ]*>" -e "\[$option [a-z|]*\]" | head -n 1)
	value=${value#"["}
	value=${value%"]"}
	value=${value#"$option"}
	printf '%s\n' "${value# }"
}

__git_dataops_stages ()
{
	local stages
	stages=$(__git config --get dataops.stages)
	printf '%s\n' ${stages:-dev staging prod} | tr ',' '\n' | sed '/^$/d'
}

# The "name" keys of the objects one level into a JSON document printed with an indent of 2:
# environments in `env list`, plugins in `env show`.
__git_dataops_json_names ()
{
	sed -n 's/^      "name": "\(.*\)",$/\1/p'
}

__git_dataops_environments ()
{
	__git dataops env list --format json | __git_dataops_json_names
}

__git_dataops_plugins ()
{
	__git dataops env show "$1" --format json | __git_dataops_json_names
}

# Complete the value of an option: "$1" is what it takes, "$2" the text typed so far.
__git_dataops_complete_value ()
{
	local takes="$1" typed="$2"
	case "$takes" in
	*"|"*)
		__gitcomp "${takes//|/ }" "" "$typed" ;;
	"<"*">=<"*">")
		# <stage>=<value>: the stage first, then the value after '='.
		if [[ "$typed" == *=* ]]; then
			__git_dataops_complete_value "<${takes#*=<}" "${typed#*=}"
		else
			__gitcomp_nl "$(__git_dataops_stages)" "" "$typed" "="
		fi ;;
	"<stage>"|"<list>")
		__gitcomp_nl "$(__git_dataops_stages)" "" "$typed" ;;
	"<env>"|"<environment>"|"<name>")
		__gitcomp_nl "$(__git_dataops_environments)" "" "$typed" ;;
	"<remote>")
		__gitcomp_nl "$(__git_remotes)" "" "$typed" ;;
	"<rev>"|"<commit>")
		__git_complete_refs --cur="$typed" ;;
	"<dir>")
		compopt -o dirnames 2>/dev/null
		COMPREPLY=() ;;
	*)
		COMPREPLY=() ;;
	esac
}

_git_dataops ()
{
	# git's completion sets __git_cmd_idx to the index of "dataops" (1 when no git options).
	local verb_idx=$(( ${__git_cmd_idx:-1} + 1 ))
	if [ "$cword" -le "$verb_idx" ]; then
		case "$cur" in
		-*) __gitcomp "-h --version" ;;
		*) __gitcomp_nl "$(__git_dataops_verbs)" ;;
		esac
		return
	fi
	local verb="${words[verb_idx]}" sub="" first=$(( verb_idx + 1 ))
	local subcommands
	subcommands=$(__git_dataops_subcommands "$verb")
	if [ -n "$subcommands" ]; then
		if [ "$cword" -eq "$first" ]; then
			__gitcomp_nl "$subcommands"
			return
		fi
		sub="${words[first]}"
		first=$(( first + 1 ))
	fi
	local help
	help=$(__git_dataops_help "$verb" "$sub")

	# The value of an option: "--opt=<TAB>" or "--opt <TAB>".
	case "$cur" in
	--*=*)
		__git_dataops_complete_value "$(__git_dataops_option_value "$help" "${cur%%=*}")" "${cur#*=}"
		return ;;
	-*)
		__gitcomp "$(printf '%s\n' "$help" | grep -o -e '--[a-z][a-z-]*' | sort -u)"
		return ;;
	esac
	local previous="${words[cword - 1]}"
	if [ "$cword" -gt "$first" ] && [[ "$previous" == -* ]] && [[ "$previous" != *=* ]]; then
		local takes
		takes=$(__git_dataops_option_value "$help" "$previous")
		if [ -n "$takes" ]; then
			__git_dataops_complete_value "$takes" "$cur"
			return
		fi
	fi

	# Positional arguments: count those before the cursor, skipping options and their values.
	local i=$first positionals=() takes
	while [ "$i" -lt "$cword" ]; do
		case "${words[i]}" in
		--*=*) ;;
		-*)
			takes=$(__git_dataops_option_value "$help" "${words[i]}")
			[ -n "$takes" ] && i=$(( i + 1 )) ;;
		*) positionals+=("${words[i]}") ;;
		esac
		i=$(( i + 1 ))
	done
	case "$verb${sub:+ $sub}" in
	"promote"|"log"|"rollback")
		[ "${#positionals[@]}" -eq 0 ] && __gitcomp_nl "$(__git_dataops_stages)" ;;
	"env show")
		if [ "${#positionals[@]}" -eq 0 ]; then
			__gitcomp_nl "$(__git_dataops_environments)"
		else
			__gitcomp_nl "$(__git_dataops_plugins "${positionals[0]}")"
		fi ;;
	"env diff")
		[ "${#positionals[@]}" -lt 2 ] && __gitcomp_nl "$(__git_dataops_environments)" ;;
	"hooks run")
		[ "${#positionals[@]}" -eq 0 ] && __gitcomp "pre-push pre-receive" ;;
	esac
}

# `git-dataops <TAB>` (the binary itself) completes like `git dataops <TAB>`.
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-dataops _git_dataops
fi
