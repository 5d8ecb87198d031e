# hotline — one non-recursive Makefile for every daemon, tool and test.
#
#   make            build everything (release flags, hardening)
#   make deps       install the Debian packages hotline needs (as root; idempotent)
#   make test       deps + build + every test, ending in "N passed, N failed"
#   make asan test  the same, built with AddressSanitizer and UBSan
#   make run        deps + build + private PostgreSQL + migrate + demo data + daemons
#   make stop       stop a stack started with `make run DETACH=1`
#   make lint format-check   banned functions; clang-format
#
# Dependency flags come from pkg-config, read lazily so that `make deps`
# works on a machine that has none of them yet.

.DEFAULT_GOAL := all
SHELL := /bin/sh

VARIANT := release
ifneq ($(filter asan,$(MAKECMDGOALS)),)
VARIANT := asan
endif
B := build/$(VARIANT)

CC ?= cc
# `make V=1` shows the full commands.
V ?= 0
ifeq ($(V),0)
Q := @
say = printf '  %-5s %s\n' '$(1)' '$(2)';
else
Q :=
say =
endif
# One list of the libraries' pkg-config names; jansson, libmicrohttpd,
# libcurl, Cairo and Pango (rich menu images: hotlinectl) are linked only
# where used thanks to --as-needed.
PKGS := gmime-3.0 libpq libpcre2-8 libmicrohttpd jansson inih openssl pangocairo cairo
# Debian 12's libetpan-dev pulls in libcurl4-gnutls-dev, which conflicts
# with libcurl4-openssl-dev, so the headers we compile against come from the
# GnuTLS flavour's package.  The API is the same; we link the OpenSSL
# flavour (libcurl4, soname libcurl.so.4) by name, as the city's crypto
# policy requires OpenSSL.
CURL_LIBS := -l:libcurl.so.4

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wcast-qual -Wformat=2 -Wundef -Wvla -fno-common
ifeq ($(VARIANT),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT := -fsanitize=address,undefined
else
OPT := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
LDOPT := -Wl,-z,relro,-z,now
endif
HL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(OPT) -fPIE \
	-Ilib -MMD -MP $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
HL_LDFLAGS = -pie -Wl,--as-needed $(LDOPT) $(LDFLAGS)
# libetpan has no .pc file on Debian (and libetpan-config is not shipped):
# linked by name, only hotline-imapd needs it (--as-needed drops it elsewhere).
HL_LIBS = $(shell pkg-config --libs $(PKGS)) $(CURL_LIBS) -lmilter -letpan -lpthread

# --- shared modules -------------------------------------------------------
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIB_A := $(B)/libhotline.a

# --- programs ---------------------------------------------------------------
# The LINE simulator (tests, benchmarks, the demo, city staging).
LINESIM_SRCS := $(wildcard tools/linesim/*.c)
BINS := $(B)/bin/hotlinectl $(B)/bin/hotline-webhook $(B)/bin/hotline-admin \
	$(B)/bin/hotline-pusher $(B)/bin/hotline-lmtpd $(B)/bin/hotline-milter $(B)/bin/linesim \
	$(B)/bin/hotline-imapd

CTL_SRCS := tools/hotlinectl/hotlinectl.c tools/hotlinectl/migrate.c \
	tools/hotlinectl/store_schema.c tools/hotlinectl/admin_create.c \
	tools/hotlinectl/rules_test.c tools/hotlinectl/mail_send.c \
	tools/hotlinectl/richmenu.c tools/hotlinectl/audit.c
WEBHOOK_SRCS := webhook/main.c webhook/events.c webhook/worker.c webhook/dbpool.c \
	webhook/intake.c webhook/liff.c
# Every .c in admin/ is part of hotline-admin (one endpoint module per area).
ADMIN_SRCS := $(wildcard admin/*.c)
PUSHER_SRCS := pusher/main.c pusher/pusher.c pusher/planner.c pusher/store_push.c \
	pusher/metrics.c pusher/ratelimit.c
LMTPD_SRCS := milter/lmtpd.c milter/lmtp.c
MILTERD_SRCS := milter/milterd.c milter/match.c
IMAPD_SRCS := milter/imapd.c milter/imap_fetch.c

# --- unit tests -------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

ALL_SRCS := $(LIB_SRCS) $(CTL_SRCS) $(WEBHOOK_SRCS) $(ADMIN_SRCS) $(PUSHER_SRCS) \
	$(LINESIM_SRCS) $(LMTPD_SRCS) $(MILTERD_SRCS) $(IMAPD_SRCS) $(UNIT_SRCS)
ALL_HDRS := $(wildcard lib/*.h tools/hotlinectl/*.h tools/linesim/*.h milter/*.h pusher/*.h \
	webhook/*.h admin/*.h)

# Test drivers that integration tests run (tests/tools/x.c → $(B)/tests/tools/x).
TOOL_SRCS := tests/tools/message_build.c tests/tools/totp_code.c
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/tools/%)
ALL_SRCS += $(TOOL_SRCS)

.PHONY: all asan deps test run stop db-start db-stop db-psql lint format format-check clean fuzz
all: $(BINS) $(UNIT_BINS)

# `make asan test`: the goal switches VARIANT above; deps first, as on a fresh machine.
asan:
	@tools/dev/deps
	@$(MAKE) --no-print-directory all VARIANT=asan

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(CC) $(HL_CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(Q)$(call say,AR,$@)ar rcs $@ $^

define link_program
$(B)/bin/$(1): $(2:%.c=$(B)/obj/%.o) $(LIB_A)
	@mkdir -p $$(@D)
	$$(Q)$$(call say,LD,$$@)$$(CC) $$(HL_LDFLAGS) -o $$@ $$^ $$(HL_LIBS)
endef
$(eval $(call link_program,hotlinectl,$(CTL_SRCS)))
$(eval $(call link_program,hotline-webhook,$(WEBHOOK_SRCS)))
$(eval $(call link_program,hotline-admin,$(ADMIN_SRCS)))
# Only hotline-admin draws QR codes (TOTP enrolment).
$(B)/bin/hotline-admin: HL_LIBS += $(shell pkg-config --libs libqrencode)
$(eval $(call link_program,hotline-pusher,$(PUSHER_SRCS)))
$(eval $(call link_program,hotline-lmtpd,$(LMTPD_SRCS)))
$(eval $(call link_program,hotline-milter,$(MILTERD_SRCS)))
$(eval $(call link_program,hotline-imapd,$(IMAPD_SRCS)))
$(eval $(call link_program,linesim,$(LINESIM_SRCS)))

# Modules of one daemon are tested with that daemon's objects.
$(B)/obj/tests/unit/test_lmtp.o: HL_CFLAGS += -Imilter
$(B)/tests/test_lmtp: $(B)/obj/tests/unit/test_lmtp.o $(B)/obj/milter/lmtp.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

$(B)/obj/tests/unit/test_milter_match.o: HL_CFLAGS += -Imilter
$(B)/tests/test_milter_match: $(B)/obj/tests/unit/test_milter_match.o $(B)/obj/milter/match.o \
		$(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

$(B)/obj/tests/unit/test_webhook_events.o: HL_CFLAGS += -Iwebhook
$(B)/tests/test_webhook_events: $(B)/obj/tests/unit/test_webhook_events.o \
		$(B)/obj/webhook/events.o $(B)/obj/webhook/worker.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

$(B)/obj/tests/unit/test_ratelimit.o: HL_CFLAGS += -Ipusher
$(B)/tests/test_ratelimit: $(B)/obj/tests/unit/test_ratelimit.o $(B)/obj/pusher/ratelimit.o \
		$(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

$(B)/obj/tests/unit/test_allow.o: HL_CFLAGS += -Iadmin
$(B)/tests/test_allow: $(B)/obj/tests/unit/test_allow.o $(B)/obj/admin/allow.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

$(B)/obj/tests/unit/test_imap_fetch.o: HL_CFLAGS += -Imilter
$(B)/tests/test_imap_fetch: $(B)/obj/tests/unit/test_imap_fetch.o $(B)/obj/milter/imap_fetch.o \
		$(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

# A unit test links the shared library and, for tests/unit/test_linesim_*.c,
# the simulator's modules but its main().
LINESIM_MODS = $(filter-out $(B)/obj/tools/linesim/main.o,$(LINESIM_SRCS:%.c=$(B)/obj/%.o))
$(B)/tests/test_linesim_%: $(B)/obj/tests/unit/test_linesim_%.o $(LINESIM_MODS) $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)
all: $(TOOL_BINS)

# The resident pages (hotline-webhook's [webhook] liff_dir): webhook/www/liff
# copied, plus the LIFF SDK from npm (@line/liff, package-lock.json, installed
# by tools/dev/deps) bundled by esbuild into sdk.js: served by us, no CDN.
LIFF_WWW := $(B)/www/liff
all: $(addprefix $(LIFF_WWW)/,index.html app.js style.css sdk.js)
$(LIFF_WWW)/%: webhook/www/liff/%
	@mkdir -p $(@D)
	$(Q)$(call say,CP,$@)cp $< $@
$(LIFF_WWW)/sdk.js: webhook/www/liff/sdk-entry.mjs package-lock.json
	@mkdir -p $(@D)
	@test -x node_modules/.bin/esbuild || \
		{ echo "$@: no esbuild: run tools/dev/deps (npm ci)" >&2; exit 1; }
	$(Q)$(call say,JS,$@)node_modules/.bin/esbuild --bundle --minify --format=iife \
		--target=es2019 --log-level=warning $< --outfile=$@
# The staff UI (hotline-admin's [admin] www_dir): admin/www copied as it is.
ADMIN_WWW := $(B)/www/admin
all: $(patsubst admin/www/%,$(ADMIN_WWW)/%,$(wildcard admin/www/*.*))
$(ADMIN_WWW)/%: admin/www/%
	@mkdir -p $(@D)
	$(Q)$(call say,CP,$@)cp $< $@
$(B)/tests/tools/%: $(B)/obj/tests/tools/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS)
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS) $(shell pkg-config --libs cmocka)

-include $(ALL_SRCS:%.c=$(B)/obj/%.d)
# Keep the unit tests' objects: they are intermediate files to make.
.SECONDARY:

# --- setup, tests and the demo ---------------------------------------------
deps:
	@tools/dev/deps

# FUZZ_SECONDS=N adds N seconds of fuzzing per target as a last suite.
test:
	@tools/dev/deps
	@$(MAKE) --no-print-directory all VARIANT=$(VARIANT)
	@$(if $(FUZZ_SECONDS),$(MAKE) --no-print-directory build/fuzz/fuzz_mail)
	@HL_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run $(B)

run:
	@tools/dev/deps
	@$(MAKE) --no-print-directory all VARIANT=$(VARIANT)
	@tools/dev/run-stack $(B) $(if $(DETACH),--detach)

stop:
	@tools/dev/run-stack $(B) --stop

db-start:
	@tools/dev/pgctl start
db-stop:
	@tools/dev/pgctl stop
db-psql:
	@tools/dev/pgctl psql -d hotline

# --- fuzzing: clang's libFuzzer with ASan and UBSan --------------------------
# `make fuzz` runs each target for FUZZ_SECONDS (verbose, by hand); CI runs
# them as the last suite of `make test FUZZ_SECONDS=60`.
# New inputs the fuzzer finds are kept in var/fuzz/, the fixtures are seeds,
# and a crash leaves its input in var/fuzz/ and fails the run.
FUZZ_CC := clang-14
FUZZ_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Ilib \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
build/fuzz/fuzz_mail: tests/fuzz/fuzz_mail.c lib/mail.c lib/mail.h lib/str.c lib/status.c lib/utf8.c
	@mkdir -p $(@D)
	$(Q)$(call say,FUZZ,$@)$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags gmime-3.0) \
		$(filter %.c,$^) $(shell pkg-config --libs gmime-3.0 openssl) -o $@

fuzz: build/fuzz/fuzz_mail
	@tools/dev/deps
	@mkdir -p var/fuzz/mail
	build/fuzz/fuzz_mail -max_total_time=$(or $(FUZZ_SECONDS),60) -max_len=65536 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix=var/fuzz/ var/fuzz/mail tests/fixtures/mail

# No unbounded string functions anywhere (STYLE.md, rule 5).
lint:
	@if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok)\s*\(' \
		$(ALL_SRCS) $(ALL_HDRS); then \
		echo "lint: use the bounded helpers in lib/str.h instead" >&2; exit 1; fi
	@echo "lint: ok"

format:
	clang-format -i $(ALL_SRCS) $(ALL_HDRS)
format-check:
	@clang-format --dry-run -Werror $(ALL_SRCS) $(ALL_HDRS)
	@echo "format-check: ok"

clean:
	rm -rf build
