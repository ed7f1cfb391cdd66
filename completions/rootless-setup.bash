# bash completion for rootless-setup(8)
_rootless_setup()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local verbs="check fix generate install uninstall launch nsenter ports oci rules explain diagnose"
	local global="--root --user --engine --distro --format --color --quiet --verbose --help --version"
	local engines="isulad containerd buildkit devkit podman kata oci all"

	case $prev in
	--engine) COMPREPLY=($(compgen -W "$engines" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--worker) COMPREPLY=($(compgen -W "oci containerd" -- "$cur")); return ;;
	--net) COMPREPLY=($(compgen -W "host slirp4netns none" -- "$cur")); return ;;
	--propagation) COMPREPLY=($(compgen -W "rprivate private rslave slave rshared shared" -- "$cur")); return ;;
	--distro) COMPREPLY=($(compgen -W "generic debian ubuntu rhel centos fedora openeuler opensuse arch alpine cos bottlerocket" -- "$cur")); return ;;
	--rule) COMPREPLY=($(compgen -W "$(rootless-setup rules 2>/dev/null | awk '{print $1}')" -- "$cur")); return ;;
	--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--root | --state-dir | --copy-up | -i | --input | -o | --output | --proot | --log)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac

	local verb="" w
	for w in "${words[@]:1:cword-1}"; do
		case " $verbs " in *" $w "*) verb=$w; break ;; esac
	done
	local opts=""
	case $verb in
	"") COMPREPLY=($(compgen -W "$verbs $global" -- "$cur")); return ;;
	check) opts="--strict --postinstall --rule --all-users --interval --report-file --ready-file --ready-test" ;;
	fix) opts="--dry-run --rule --yes --force" ;;
	launch) opts="--state-dir --copy-up --copy-up-mode --overlay-file --propagation --net --mtu --cidr --ifname --disable-host-loopback --ipv6 --slirp4netns-binary --slirp4netns-sandbox --slirp4netns-seccomp --pasta-binary --detach-netns --net-bypass --port-driver --publish --source-ip-transparent --cgroupns --pidns --reaper --evacuate-cgroup2 --ipcns --utsns --subid-source --debug --rootlesskit-compat --print-semver" ;;
	nsenter) opts="--state-dir" ;;
	ports) opts="--state-dir list add remove" ;;
	generate) opts="--output --force --default-runtime --worker" ;;
	install) opts="--dry-run --fix --no-start --force --default-runtime --worker" ;;
	uninstall) opts="--dry-run --purge --yes" ;;
	oci) opts="rootless --input --output --subids --host-net --proot" ;;
	diagnose) opts="--log --unit -" ;;
	explain)
		COMPREPLY=($(compgen -W "$(rootless-setup rules 2>/dev/null | awk '{print $1}')" -- "$cur"))
		return ;;
	esac
	COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
}
complete -F _rootless_setup rootless-setup
