# tritc.mk: compile neural-network models with tritc inside a GNU make build (make 4.2 or later).
#
#   include path/to/tritc/make/tritc.mk
#   digits_MODEL   = models/digits.onnx     # a model file or folder
#   digits_TARGET  = cortex-m4              # a tritc target (default host)
#   digits_OPTIONS = --kernel t5            # more tritc compile options (optional)
#   $(eval $(call tritc_model,digits))
#   firmware.elf: main.o $(TRITC_OUT)/digits/libdigits.a
#   main.o: CFLAGS += -I$(TRITC_OUT)/digits      # model.h; or order-only: | $(TRITC_OUT)/digits/libdigits.a
#
# $(call tritc_model,<name>) adds the rule for $(TRITC_OUT)/<name>/lib<name>.a: tritc compiles the model
# into $(TRITC_OUT)/<name>/, and that folder's own Makefile builds the library (the host's cc for
# host; zig cc for other targets, or the CC and CFLAGS_TARGET you give in <name>_MAKEFLAGS).
# tritc runs again when a file of the model changes or the command changes (target, options, tritc's
# version: a stamp, $(TRITC_OUT)/<name>.cmd, is rewritten only when the command differs).
#
# TRITC: how to run tritc (default: node with this package's bin/tritc.js). TRITC_OUT: where the
# models go (default: tritc-out).

TRITC_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
TRITC ?= node $(TRITC_ROOT)/bin/tritc.js
TRITC_OUT ?= tritc-out
TRITC_VERSION := $(shell sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' $(TRITC_ROOT)/package.json)

# The files a model is made of (a folder: every file in it, hidden ones aside).
tritc_files = $(if $(wildcard $(1)/.),$(shell find $(1) -type f ! -name '.*'),$(1))

define tritc_model
$(if $($(1)_MODEL),,$(error tritc_model($(1)): set $(1)_MODEL to the model file or folder))
tritc_default_goal := $$(.DEFAULT_GOAL)
$(1)_TRITC_CMD := $$(TRITC) compile $$($(1)_MODEL) --target $$(or $$($(1)_TARGET),host) -o $$(TRITC_OUT)/$(1) $$($(1)_OPTIONS)
$$(shell mkdir -p $$(TRITC_OUT))
ifneq ($$(file < $$(TRITC_OUT)/$(1).cmd),tritc $$(TRITC_VERSION): $$($(1)_TRITC_CMD))
$$(file > $$(TRITC_OUT)/$(1).cmd,tritc $$(TRITC_VERSION): $$($(1)_TRITC_CMD))
endif

$$(TRITC_OUT)/$(1)/tritc.json: $$(call tritc_files,$$($(1)_MODEL)) $$(TRITC_OUT)/$(1).cmd $$(TRITC_ROOT)/package.json
	$$($(1)_TRITC_CMD)

$$(TRITC_OUT)/$(1)/lib$(1).a: $$(TRITC_OUT)/$(1)/tritc.json
	$$(MAKE) -C $$(TRITC_OUT)/$(1) LIBRARY=lib$(1).a $$($(1)_MAKEFLAGS)

# These rules do not take the including Makefile's default goal.
.DEFAULT_GOAL := $$(tritc_default_goal)
endef
