# Two commands: `make book` builds the site into _build/html, `make test` runs every check.
# Both first make .venv from the lock (requirements.txt) when it is missing or older than the lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# -n: every cross-reference must resolve; -W: a warning is an error; --keep-going: report them all.
BOOK_FLAGS := -W -n --keep-going

.PHONY: book exercises pdf test determinism bench mutation mutation-pages lock clean

# jupyter-book, leaving without the interpreter's teardown (_ext/build_book.py).
BUILD := $(BIN)/python _ext/build_book.py build . $(BOOK_FLAGS)

book: $(READY)
	$(BUILD)

# The student edition, into _build/exercises/_build/html: the same pages without their answers
# (_ext/exercises.py), from the full book's execution cache.
exercises: $(READY)
	BOOK_EDITION=exercises $(BUILD) --path-output _build/exercises

# The PDF edition, printed by Debian's chromium (apt-get install chromium) from the built site and
# the student edition (_ext/pdf_edition.py): the whole book into _build/html/pdf/, and a problem
# sheet per chapter beside it; then the checks of what was printed.
pdf: book exercises
	$(BIN)/python _ext/pdf_edition.py
	$(BIN)/python -m pytest tests/site/test_pdf.py -n 0

# nbval stores every page it executes in the execution cache, so the build that follows
# executes nothing; the site tests then read what the build produced.
test: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/python -m pytest
	$(BUILD)
	$(BIN)/python -m pytest tests/site --dist load

# Every page executed twice in fresh kernels must glue the same numbers and draw the same
# figures: the run `make test` cached, where still valid, and one more. That takes minutes, so
# CI runs it after `make test` rather than in it.
determinism: $(READY)
	$(BIN)/python -m pytest tests/determinism

# Setup, build, rebuild and test times, measured in a scratch copy (table in _build/bench.md),
# then one MDRNN layer evaluated three ways.
bench: $(READY)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_mdrnn.py --threads 1

# Mutation testing of src/derived ([tool.mutmut] in pyproject.toml): each mutant is run against the
# unit tests that call the mutated function; results stay in mutants/ (`mutmut results`,
# `mutmut show NAME`), and a later run tests only the mutants not checked yet or whose function
# changed. Survivors and why each is equivalent: tests/MUTANTS.md.
# One thread per test process: mutmut runs one process per core.
mutation: $(READY)
	OMP_NUM_THREADS=1 $(BIN)/mutmut run
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/mutmut results

# The same question asked of the pages (benchmarks/mutation_pages.py): faults made only in the
# library lines a page executes (src/derived/checkers excluded), each run against the page's own
# cells in a scratch copy of the library. Table in _build/mutation-pages.md, survivors with their
# diffs and what each changes on the page in _build/mutation-pages-survivors.md. Slow, so not part
# of `make test` or CI; options: MUTATION_PAGES_FLAGS="--page ID --max-mutants N --jobs N".
mutation-pages: $(READY)
	$(BIN)/python benchmarks/mutation_pages.py $(MUTATION_PAGES_FLAGS)

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.txt -e .
	$(BIN)/python -m pip check
	touch $@

# Regenerate the lock from a fresh environment installed here (setuptools and wheel included, since
# packages need them at run time), then pin torch to its public version.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet "torch==2.13.0" -e ".[book]"
	$(VENV)-lock/bin/python -m pip freeze --all --exclude pip --exclude-editable \
		| sed -e 's/^torch==2\.13\.0+cpu$$/torch==2.13.0/' > requirements.txt
	rm -rf $(VENV)-lock

clean:
	rm -rf _build $(VENV)
