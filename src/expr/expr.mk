# src/expr/expr.mk -- build rules for the condition language (included by
# the top-level Makefile).  The grammar and scanner are generated with
# bison and flex; the generated files are gitignored.

EXPR_GEN_OBJS = src/expr/expr_gram.o src/expr/expr_scan.o
OBJS := $(filter-out $(EXPR_GEN_OBJS),$(OBJS)) $(EXPR_GEN_OBJS)

# PGXS expanded the library's prerequisites before this file was included
$(shlib): $(EXPR_GEN_OBJS)

src/expr/expr_gram.c src/expr/expr_gram.h: src/expr/expr_gram.y
	bison -Wall -Werror -d -o src/expr/expr_gram.c $<

src/expr/expr_scan.c: src/expr/expr_scan.l
	flex -o $@ $<

src/expr/expr_scan.o: src/expr/expr_scan.c src/expr/expr_gram.h
src/expr/expr_gram.o: src/expr/expr_gram.c
$(filter src/expr/%.o,$(OBJS)): src/expr/expr_core.h src/expr/expr_parse.h src/expr/expr.h

EXTRA_CLEAN += src/expr/expr_gram.c src/expr/expr_gram.h src/expr/expr_scan.c test/fuzz/build

.PHONY: fuzz
fuzz:
	test/fuzz/run long
