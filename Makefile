# stratum -- PGXS build.
#
# The install script stratum--$(EXTVERSION).sql is built by concatenating the
# SQL sources in src/sql/ in file-name order (NN_topic.sql), the way pgvector
# builds its versioned script from one edited source.  The install scripts of
# released versions and the upgrade scripts stratum--A--B.sql are tracked
# files in sql/ and installed as they are (see docs/upgrading.md).  Each
# capability folder under src/ may add build rules in src/<folder>/<folder>.mk.

EXTENSION = stratum
EXTVERSION = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")

MODULE_big = stratum
SQL_SOURCES = $(sort $(wildcard src/sql/*.sql))
C_SOURCES = $(sort $(wildcard src/*.c src/*/*.c))
OBJS = $(C_SOURCES:.c=.o)

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
DOCS = README.md

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
SHLIB_LINK = -lcurl -lcrypto -lssl

# pg_regress: every sql/*.sql file except the built install script, on a
# temporary instance with the library preloaded (as pg_cron does).
REGRESS = $(sort $(filter-out $(EXTENSION)--%,$(notdir $(basename $(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --temp-instance=./tmp_regress --temp-config=test/regress.conf --load-extension=$(EXTENSION)

ISOLATION = $(sort $(notdir $(basename $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso --temp-instance=./tmp_isolation --temp-config=test/regress.conf --load-extension=$(EXTENSION)

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
PROVE_FLAGS = -I ./test/perl

EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql tmp_regress tmp_isolation output_iso results regression.diffs regression.out

# JIT bitcode is not needed and doubles build time.
with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(wildcard src/*/*.mk)

# PGXS tracks no header dependencies; a changed struct in a header must not
# leave stale objects behind (they crash, they do not fail to link).
$(OBJS): $(wildcard src/*.h src/*/*.h)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SOURCES) $(EXTENSION).control
	cat $(SQL_SOURCES) > $@

# Separate targets so the test runner can report each suite.
.PHONY: regress isolation tap
regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
tap:
	$(prove_installcheck)
