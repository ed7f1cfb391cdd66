/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "core/engine.h"
#include "host/host.h"
#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

#define BINS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* BuildKit's client, which DevKit's daemon serves too: buildctl reads
 * BUILDKIT_HOST; a first build FROM scratch needs no registry */
#define BUILDCTL_CLIENT                                                                    \
	.client_var = "BUILDKIT_HOST", .client_url = true, .client_run = "buildctl build", \
	.client_args = "--frontend dockerfile.v0 --local context=DIR --local "             \
		       "dockerfile=DIR [--output type=local,dest=DIR]",                    \
	.client_what = "a build", .client_direct = true,                                   \
	.first_prep = "mkdir -p first-build && echo 'FROM scratch' > "                     \
		      "first-build/Dockerfile && echo 'COPY Dockerfile /' >> "             \
		      "first-build/Dockerfile",                                            \
	.first_args = "--frontend dockerfile.v0 --local context=first-build "              \
		      "--local dockerfile=first-build --output type=local,dest=first-build/out"

/* Where an engine's programs are looked for (core/find.c), after the
 * caller's own PATH when the caller is the user: the user's directories
 * below the home (Debian's, Ubuntu's and Fedora's shell profiles put
 * ~/.local/bin and ~/bin first in PATH), then the system's in the order
 * of the user unit's PATH (install/data/user.service.in), then the
 * engine's own opt_dir. */
const char *const rs_engine_home_dirs[] = {".local/bin", "bin", NULL};
const char *const rs_engine_system_dirs[] =
	{"usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin", NULL};

/* the directories whose files rootless iSulad reads */
static const char *const isulad_dirs[] = {"etc/isulad", "etc/default/isulad",
					  "etc/default/isulad/hooks", NULL};

static const struct rs_engine_info engines[RS_ENGINE_COUNT] = {
	[RS_ENGINE_ISULAD] =
		{
			.name = "isulad",
			.title = "iSulad",
			.programs = BINS("isulad"),
			.opt_dir = "opt/isulad/bin",
			.data_dir = ".local/share/isulad",
			.daemon = "isulad",
			.config = "isulad/daemon.json",
			.run_dir = "isulad",
			.socket = "isulad/isulad.sock",
			.rootful_socket = "var/run/isulad.sock", /* iSulad: DEFAULT_UNIX_SOCKET */
			.client_var = "ISULAD_HOST",
			.client_url = true,
			.client_run = "isula run --rm",
			.client_args = "IMAGE [COMMAND]",
			.first_pull = "isula pull docker.io/library/alpine:latest",
			.first_args = "docker.io/library/alpine:latest echo hello",
			.copied_dirs = isulad_dirs,
			.copies_dir = RS_ISULAD_COPY_DIR,
		},
	[RS_ENGINE_CONTAINERD] =
		{
			.name = "containerd",
			.title = "containerd",
			.programs = BINS("containerd"),
			.opt_dir = "opt/containerd/bin",
			.data_dir = ".local/share/containerd",
			.daemon = "containerd",
			.config = "containerd/config.toml",
			.run_dir = "containerd",
			.socket = "containerd/containerd.sock",
			.rootful_socket = "run/containerd/containerd.sock",
			.client_var = "CONTAINERD_ADDRESS",
			/* ctr asks for a cgroup (and a CPU weight) per container, which
		 * runc then cannot create below the user's v1 hierarchies
		 * ("mkdir /sys/fs/cgroup/cpuset/default: permission denied") */
			.client_run = "ctr run --rm",
			.client_args = "IMAGE ID [COMMAND]",
			.no_cgroup_flags = "--cgroup \"\" --cpu-shares 0",
			/* ctr run never pulls */
			.first_pull = "ctr image pull docker.io/library/alpine:latest",
			.first_args = "docker.io/library/alpine:latest first echo hello",
		},
	[RS_ENGINE_BUILDKIT] =
		{
			.name = "buildkit",
			.title = "BuildKit",
			.programs = BINS("buildkitd"),
			.opt_dir = "opt/buildkit/bin",
			.data_dir = ".local/share/buildkit",
			.daemon = "buildkitd",
			.config = "buildkit/buildkitd.toml",
			.run_dir = "buildkit",
			.socket = "buildkit/buildkitd.sock",
			.rootful_socket = "run/buildkit/buildkitd.sock",
			BUILDCTL_CLIENT,
		},
	/* DevKit mirrors BuildKit's layout under its own names; its clients
	 * speak BuildKit's API and read BUILDKIT_HOST */
	[RS_ENGINE_DEVKIT] =
		{
			.name = "devkit",
			.title = "DevKit",
			.programs = BINS("devkitd"),
			.opt_dir = "opt/devkit/bin",
			.data_dir = ".local/share/devkit",
			.daemon = "devkitd",
			.config = "devkit/devkitd.toml",
			.run_dir = "devkit",
			.socket = "devkit/devkitd.sock",
			BUILDCTL_CLIENT,
		},
	[RS_ENGINE_PODMAN] =
		{
			.name = "podman",
			.title = "Podman",
			.programs = BINS("podman"),
			.opt_dir = "opt/podman/bin",
			.data_dir = ".local/share/containers/storage",
			/* what Podman adds beside its storage: the blob cache, CNI's lock
		 * (network configs the user makes stay theirs) */
			.more_data = BINS(".local/share/containers/cache",
					  ".config/cni/net.d/cni.lock"),
			.config = "containers/containers.conf.d/50-rootless-setup.conf",
			.run_dir = "libpod",
			.client_run = "podman run --rm",
			.client_args = "IMAGE [COMMAND]",
			.first_args = "docker.io/library/alpine:latest echo hello",
		},
	[RS_ENGINE_KATA] =
		{
			.name = "kata",
			.title = "Kata Containers",
			.programs = BINS("kata-runtime", "containerd-shim-kata-v2"),
			/* kata-deploy's tree */
			.opt_dir = "opt/kata/bin",
			.data_dir = ".local/share/containers/storage",
			.config = "containers/containers.conf.d/60-rootless-setup-kata.conf",
			.run_dir = "libpod",
			.client_run = "podman run --rm --runtime kata",
			.client_args = "IMAGE [COMMAND]",
			/* the guest's kernel, not the host's */
			.first_args = "docker.io/library/alpine:latest uname -r",
		},
	[RS_ENGINE_OCI] =
		{
			.name = "oci",
			.title = "OCI runtime",
			.programs = BINS("runc", "crun"),
		},
};

const struct rs_engine_info *rs_engine_info(enum rs_engine e)
{
	return e < RS_ENGINE_COUNT ? &engines[e] : NULL;
}

const char *rs_engine_name(enum rs_engine e)
{
	return e < RS_ENGINE_COUNT ? engines[e].name : "common";
}

int rs_engine_parse(const char *name, unsigned *mask)
{
	if (strcmp(name, "all") == 0) {
		*mask = RS_ENGINES_ALL;
		return 0;
	}
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++) {
		if (strcmp(name, engines[i].name) == 0) {
			*mask = RS_ENGINE_BIT(i);
			return 0;
		}
	}
	return -EINVAL;
}

char *rs_engine_client_value(enum rs_engine e, const char *run)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	if (!ei || !ei->client_var || !ei->socket)
		return NULL;
	return rs_xasprintf("%s%s/%s", ei->client_url ? "unix://" : "", run, ei->socket);
}

int rs_engine_each_copied(const struct rs_host *h, enum rs_engine e, bool cached, rs_copied_fn *fn,
			  void *arg)
{
	const struct rs_engine_info *ei = rs_engine_info(e);

	for (const char *const *d = ei ? ei->copied_dirs : NULL; d && *d; d++) {
		_cleanup_strv_ struct rs_strv names = {0};
		if ((cached && !rs_host_exists_host(h, *d)) ||
		    rs_host_listdir(h, *d, &names, NULL) < 0)
			continue;
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, names.v[i]);
			struct stat st;
			int r = cached ? rs_host_stat_host(h, rel, &st, false)
				       : rs_host_stat(h, rel, &st, false);
			if (r < 0 || S_ISDIR(st.st_mode))
				continue;
			r = fn(rel, &st, arg);
			if (r)
				return r;
		}
	}
	return 0;
}
