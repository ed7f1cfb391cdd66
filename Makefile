# rootless-setup — plain Makefile. `make` builds build/rootless-setup;
# `make check` runs every test; `make SAN=1 check` runs them under ASan+UBSan.
VERSION := 0.1.0
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config

ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

PKGS := mount blkid libselinux jansson libseccomp
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libmount, libblkid, libselinux and libacl (and, in the embedded network's
# helper, libslirp and libseccomp) are opened on first use
# (src/host/libs.c), not linked: most runs need none of them. dlopen is in
# libc since glibc 2.34; -ldl only where it is not.
PKG_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null) \
	-Wl,--push-state,--as-needed -ldl -Wl,--pop-state
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Werror=missing-prototypes -Werror=implicit-function-declaration \
	-Werror=format=2 -Werror=format-security -Werror=return-type \
	-Wno-missing-field-initializers -Wswitch-enum
ALL_CFLAGS := $(CPPFLAGS) -std=gnu11 -D_GNU_SOURCE -DRS_VERSION='"$(VERSION)"' -Isrc -I$(BUILD)/gen \
	$(WARNINGS) $(PKG_CFLAGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS)

CORE_SRCS := $(sort $(wildcard src/lib/*.c src/host/*.c src/core/*.c src/checks/*.c src/launch/*.c src/ports/*.c src/oci/*.c \
	src/fixers/*.c src/install/*.c))
CLI_SRCS := $(sort $(wildcard src/main.c src/cmd-*.c))
DISTRO_JSON := $(sort $(wildcard distro/*.json))
GEN_DISTRO := $(BUILD)/gen/distro-data.c
TEMPLATE_DATA := $(sort $(wildcard src/install/data/*.in))
GEN_TEMPLATES := $(BUILD)/gen/template-data.c
ERRORS_JSON := $(sort $(wildcard data/errors/*.json))
GEN_ERRORS := $(BUILD)/gen/errors-data.c

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/distro-data.o $(BUILD)/gen/template-data.o \
	$(BUILD)/gen/errors-data.o
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
BIN := $(BUILD)/rootless-setup
LIBCORE := $(BUILD)/librs.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%-replay)

.PHONY: all check check-layers lint-shell check-unit check-fuzz check-cli check-live check-man check-san \
	check-launch check-oci check-fix check-generate check-engines check-package check-deploy check-security \
	check-diagnose \
	check-e2e deps fuzz bench install clean man deb image format format-check lint vm check-vm check-vm-smoke

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Data compiled into the program: distro profiles, the engines' file
# templates (src/install/data/NAME.in, filled by install/data.c), and
# the catalogue of known errors diagnose matches (data/errors/*.json).
$(GEN_DISTRO): $(DISTRO_JSON) scripts/embed-data.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-data.sh core/distro.h rs_distro_blob rs_distro_blobs .json \
		$(DISTRO_JSON) > $@.tmp && mv $@.tmp $@

$(GEN_TEMPLATES): $(TEMPLATE_DATA) scripts/embed-data.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-data.sh install/data.h rs_template_blob rs_template_blobs .in \
		$(TEMPLATE_DATA) > $@.tmp && mv $@.tmp $@

$(GEN_ERRORS): $(ERRORS_JSON) scripts/embed-data.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-data.sh core/errcat.h rs_errcat_blob rs_errcat_blobs .json \
		$(ERRORS_JSON) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIBCORE)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBCORE) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBCORE)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBCORE) $(ALL_LDFLAGS) $(PKG_LIBS) -lacl $(CMOCKA_LIBS)

# Fuzz targets: without libFuzzer they link a main() that replays the corpus,
# so every input ever found (crashes included) is a regression test.
$(BUILD)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/replay.c $(LIBCORE)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(LIBCORE) $(ALL_LDFLAGS) $(PKG_LIBS)

# libFuzzer build (clang): the library with coverage and ASan+UBSan (UB is
# fatal, so the fuzzer sees it), each target linked with -fsanitize=fuzzer.
# `make fuzz FUZZ_TIME=60` then runs each for that many seconds: new inputs
# go to build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/<target>/.
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TIME ?=
FUZZ_MAXLEN ?= 65536
fuzz:
	@mkdir -p build-fuzz/fuzz
	@echo '$(FUZZ_SANFLAGS)' | cmp -s - build-fuzz/.flags || \
		{ rm -rf build-fuzz/src build-fuzz/gen build-fuzz/librs.a; echo '$(FUZZ_SANFLAGS)' > build-fuzz/.flags; }
	$(MAKE) BUILD=build-fuzz CC=clang SAN=0 \
		SANFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SANFLAGS)" build-fuzz/librs.a
	for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer $(FUZZ_SANFLAGS) \
		$(PKG_CFLAGS) -o build-fuzz/fuzz/$$n $$f build-fuzz/librs.a $(PKG_LIBS) || exit 1; done
	@if [ -n "$(FUZZ_TIME)" ]; then for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		mkdir -p build-fuzz/corpus/$$n build-fuzz/artifacts/$$n; \
		echo "  FUZZ    $$n ($(FUZZ_TIME) s)"; \
		build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAXLEN) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=build-fuzz/artifacts/$$n/ \
			build-fuzz/corpus/$$n tests/fuzz/corpus/$$n > build-fuzz/$$n.log 2>&1 \
			|| { tail -40 build-fuzz/$$n.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' build-fuzz/$$n.log; done; fi

deps:
	sh scripts/deps.sh

# Style and lint (CI runs format-check and lint; both want zero findings).
FORMAT_SRCS = $(shell git ls-files 'src/*.[ch]' 'tests/unit/*.c' 'tests/fuzz/*.c' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@bad=0; for f in $(FORMAT_SRCS); do \
		clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || { echo "  needs 'make format': $$f"; bad=1; }; \
	done; [ $$bad = 0 ] && echo "format-check: $(words $(FORMAT_SRCS)) files formatted"; exit $$bad

# The compilation database for clang-tidy and editors (clangd), made by bear
# from a full build in a directory of its own.
compile_commands.json: $(CORE_SRCS) $(CLI_SRCS) Makefile
	bear --output $@ -- $(MAKE) -B BUILD=build-cc all >/dev/null

# The include graph goes downward only (docs/architecture.md, "Layers").
check-layers: $(CORE_OBJS) $(CLI_OBJS)
	@sh scripts/check-layers.sh src $(BUILD)/src

# shellcheck over the shell of the tests, scripts, the lab, deploy/ and bench/.
# Warnings and errors fail; its notes (info and style: SC2086 on the
# deliberate word splitting of option and id lists, SC1091 on sources
# whose path is computed from $0, SC2016 on code meant to expand in the
# shell it is handed to) are advice. Each remaining exception is a
# `# shellcheck disable=SCxxxx # why` on its line.
SHELL_SRCS = $(shell git ls-files 'tests/*.sh' 'scripts/*.sh' 'lab/*.sh' 'deploy/*.sh' 'bench/*.sh' 2>/dev/null)
lint-shell:
	@echo "  SHELLCHECK $(words $(SHELL_SRCS)) files"
	@shellcheck -S warning -x $(SHELL_SRCS)

lint: compile_commands.json check-layers lint-shell
	@echo "  TIDY    src (.clang-tidy)"
	@printf '%s\n' $(CORE_SRCS) $(CLI_SRCS) | xargs -P "$$(nproc)" -n 8 clang-tidy -p . --quiet \
		> build-cc/tidy.log 2>&1 || true
	@if grep -E 'warning:|error:' build-cc/tidy.log; then echo "lint: clang-tidy findings above"; exit 1; fi
	@echo "  CPPCHECK src"
	@cppcheck --quiet --enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
		--std=c11 -D_GNU_SOURCE -Isrc -Ibuild-cc/gen src
	@echo "lint: no findings"

check-unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

check-fuzz: $(FUZZ_REPLAY)
	@sh tests/fuzz/run-replay.sh $(BUILD)/fuzz

check-cli: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/cli/hosts.sh
	RS_BIN=$(abspath $(BIN)) bash tests/cli/run.sh

check-live: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/live/run.sh

check-launch: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/launch/launch.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/activation.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/containerd.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/compat.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/ports.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/source-ip.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/rk-integration.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/rk-scripts.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/libslirp.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/bypass.sh

# The programs people run, unmodified, with our launcher standing in for
# RootlessKit: Docker's dockerd-rootless.sh and rootlesskit-docker-proxy,
# and containerd run the way nerdctl's containerd-rootless.sh runs it.
# Once per `make check`: `make SAN=1 check` leaves it out (it exercises
# Docker more than our code, which check-launch already runs under ASan).
check-e2e: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/launch/docker.sh
	RS_BIN=$(abspath $(BIN)) bash tests/launch/containerd-rootless.sh

check-generate: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/generate/run.sh

# every engine this host can run, end to end as a throwaway user
check-engines: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/engines/run.sh

check-security: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/security/run.sh

check-deploy: $(BIN)
	RS_BIN=$(abspath $(BIN)) RS_IMAGE_CMD='$(MAKE) -s image BUILD=$(BUILD) SAN=$(SAN)' bash tests/deploy.sh

check-package:
	bash tests/package/run.sh

check-fix: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/fix/run.sh

check-oci: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/oci/run.sh

check-man: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/man/run.sh

# diagnose: the corpus of real error messages (tests/diagnose/corpus/), its
# verdicts under fixture hosts, and live cases for the throwaway user
check-diagnose: $(BIN)
	RS_BIN=$(abspath $(BIN)) bash tests/diagnose/run.sh

# Suites that need no root, and those that create a throwaway user, install
# packages or build trees with owners and device nodes (root only).
USER_SUITES := check-layers check-unit check-fuzz check-man
ROOT_SUITES := check-cli check-live check-launch check-oci check-fix check-generate \
	check-security check-diagnose
# Heavy end-to-end suites (real engines running containers, Docker under
# dockerd-rootless.sh, a debootstrap chroot, packages, a container image,
# ansible-playbook) run once, in the plain pass, never under SAN=1: the
# security and launch suites cover the same code paths under the sanitizers.
E2E_SUITES := check-engines check-e2e check-package check-deploy
check: deps
	$(MAKE) all
ifeq ($(shell id -u),0)
	$(MAKE) $(USER_SUITES) $(ROOT_SUITES)
ifneq ($(SAN),1)
	$(MAKE) $(E2E_SUITES)
else
	@echo "make check: SAN=1: the end-to-end suites ($(E2E_SUITES)) ran in the plain pass"
endif
else
	$(MAKE) $(USER_SUITES)
	@echo "make check: not root, so these suites did not run: $(ROOT_SUITES)"
	@echo "make check: they create a throwaway user with subordinate ids, run real engines as it,"
	@echo "make check: and build fixture trees with owners and device nodes; run 'make check' as root (CI does)"
endif

check-san:
	$(MAKE) SAN=1 check

# The lab: a Debian image really booted by qemu (systemd, pure cgroup v2, a
# lingering user); not part of `make check`. LAB_SUITE=bookworm for Debian 12;
# LAB_VARIANT=selinux for the image booted with SELinux enforcing.
# check-vm-smoke: scenario 1 only (systemd, cgroup v2, podman, containerd).
LAB_SUITE ?= trixie
LAB_VARIANT ?=
vm: $(BIN)
	RS_BIN=$(abspath $(BIN)) RS_LAB_VARIANT=$(LAB_VARIANT) bash lab/build-image.sh $(LAB_SUITE)

check-vm: vm
	RS_LAB_VARIANT=$(LAB_VARIANT) bash lab/run-vm.sh $(LAB_SUITE)

check-vm-smoke: vm
	RS_LAB_VARIANT=$(LAB_VARIANT) RS_LAB_SMOKE=1 bash lab/run-vm.sh $(LAB_SUITE)

bench: deps $(BIN)
	RS_BIN=$(abspath $(BIN)) bash bench/run.sh

man: $(BUILD)/rootless-setup.8 $(BUILD)/rootless-setup-rules.7

$(BUILD)/rootless-setup.8: man/rootless-setup.8.scd
	@mkdir -p $(BUILD)
	scdoc < $< > $@

# rules(7) is written from the program's own rule table and explanations
$(BUILD)/rootless-setup-rules.7: $(BIN) man/mkrules.sh
	sh man/mkrules.sh $(BIN) | scdoc > $@

install: $(BIN) man
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/rootless-setup
	install -D -m 0644 $(BUILD)/rootless-setup.8 $(DESTDIR)$(PREFIX)/share/man/man8/rootless-setup.8
	install -D -m 0644 $(BUILD)/rootless-setup-rules.7 \
		$(DESTDIR)$(PREFIX)/share/man/man7/rootless-setup-rules.7
	install -D -m 0644 completions/rootless-setup.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/rootless-setup
	# distro data (also compiled in) and the fixers' templates, for reference
	install -d $(DESTDIR)$(PREFIX)/share/rootless-setup/distro
	install -m 0644 $(DISTRO_JSON) $(DESTDIR)$(PREFIX)/share/rootless-setup/distro/
	install -d $(DESTDIR)$(PREFIX)/share/rootless-setup/errors
	install -m 0644 $(ERRORS_JSON) $(DESTDIR)$(PREFIX)/share/rootless-setup/errors/
	install -D -m 0644 data/99-rootless-setup-kvm.rules \
		$(DESTDIR)$(PREFIX)/share/rootless-setup/udev/99-rootless-setup-kvm.rules
	install -D -m 0644 data/apparmor-rootless-setup \
		$(DESTDIR)$(PREFIX)/share/rootless-setup/apparmor/rootless-setup

# A .deb with the Debian toolchain, from a copy of the tracked tree.
deb:
	rm -rf $(BUILD)/deb-src && mkdir -p $(BUILD)/deb-src/rootless-setup-$(VERSION)
	git ls-files -z | xargs -0 cp --parents -t $(BUILD)/deb-src/rootless-setup-$(VERSION)
	cd $(BUILD)/deb-src/rootless-setup-$(VERSION) && dpkg-buildpackage -b -us -uc >/dev/null
	mv $(BUILD)/deb-src/rootless-setup_$(VERSION)_*.deb $(BUILD)/
	@ls $(BUILD)/rootless-setup_$(VERSION)_*.deb

# The FROM scratch image (deploy/kubernetes/Containerfile) with Debian's
# podman, offline: no registry, no base image. runc: crun refuses some
# hosts' cgroup layouts.
IMAGE ?= localhost/rootless-setup:$(VERSION)
PODMAN_RUNTIME ?= runc
image: $(BIN)
	sh deploy/kubernetes/stage.sh $(BIN) $(BUILD)/image
	podman --runtime $(PODMAN_RUNTIME) build --network=none --pull=never -t $(IMAGE) \
		-f $(BUILD)/image/Containerfile $(BUILD)/image

clean:
	rm -rf build build-san build-fuzz build-cc compile_commands.json

-include $(shell find $(BUILD) -path $(BUILD)/lab -prune -o -name '*.d' -type f -print 2>/dev/null)
