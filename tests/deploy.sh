#!/bin/bash
# The Kubernetes manifest and the Ansible playbook parse, and the exact
# commands they run work against a fixture host tree put where the
# manifest mounts the node's / (the tree's path stands in for /host).
set -u
. "$(dirname "$0")/lib/tap.sh"
TOP="$(cd "$(dirname "$0")/.." && pwd)"
T=$(mktemp -d /tmp/rs-deploy.XXXXXX)
trap 'rm -rf "$T"' EXIT
python3 -c 'import yaml' 2>/dev/null || { skip "deploy" "python3-yaml missing"; done_testing; exit; }
ds="$TOP/deploy/kubernetes/daemonset.yaml"
pb="$TOP/deploy/ansible/rootless-setup.yml"
check "the DaemonSet parses" python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d["kind"] == "DaemonSet"' "$ds"
check "the playbook parses" python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); assert p[0]["tasks"]' "$pb"
mount=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); c = d["spec"]["template"]["spec"]["containers"][0]; print([m for m in c["volumeMounts"] if m["name"] == "host"][0]["mountPath"])' "$ds")
check "the node's / is mounted read-only at /host" [ "$mount" = /host ]
cmd=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(d["spec"]["template"]["spec"]["containers"][0]["args"][0].split(";")[0])' "$ds")
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/host"; bash "$TOP/tests/fixtures/mkhost.sh" debian12-healthy "$T/host"
	run=${cmd//\/host/$T/host}
	run=${run/rootless-setup/$RS_BIN}
	out=$(sh -c "$run")
	check "the DaemonSet's command reports on the mounted host ($cmd)" sh -c "printf '%s' '$out' | jq -e '.host.root == \"$T/host\" and (.results | length) > 20' > /dev/null"
	task=$(python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); print(p[0]["tasks"][0]["ansible.builtin.command"])' "$pb")
	run=$(echo "$task" | sed -e "s|{{ user_opt }}|--root $T/host --user alice|" -e 's|{{ engine }}|containerd|' -e "s|^rootless-setup|$RS_BIN|")
	sh -c "$run" > "$T/pb.json"; rc=$?
	check "the playbook's check command gives rc 0 or 1 and JSON ($rc)" sh -c "[ $rc -le 1 ] && jq -e .summary '$T/pb.json' > /dev/null"
	fixt=$(python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); print(p[0]["tasks"][3]["ansible.builtin.command"])' "$pb")
	run=$(echo "$fixt" | sed -e "s|{{ user_opt }}|--root $T/host --user alice|" -e 's|{{ engine }}|containerd|' -e "s|{{ '--dry-run' if ansible_check_mode else '' }}|--dry-run|" -e "s|^rootless-setup|$RS_BIN|")
	sh -c "$run" > "$T/fix.json"; rc=$?
	check "the playbook's fix command (check mode) gives actions/v1 ($rc)" sh -c "jq -e '.schema == \"rootless-setup/actions/v1\"' '$T/fix.json' > /dev/null"
else
	skip "deploy commands" "fixture trees need root"
fi
done_testing
