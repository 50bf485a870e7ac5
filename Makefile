.PHONY: run test test-fast lint format
run:  ## the whole portal on embedded defaults
	scripts/run
test:  ## the whole test suite on real PostgreSQL and Redis
	scripts/test
test-fast:  ## quick local run on SQLite (skips nothing silently: deselects the services tests)
	scripts/test --fast
lint:
	.venv/bin/ruff format --check . && .venv/bin/ruff check .
format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
