#!/usr/bin/env python3
"""Regenerates src/intel/migrations_sql.cpp from the .sql files beside this
script (the files are the source of truth; unit_intel's MigrationFiles tests
fail while the two disagree). Usage: python3 src/intel/migrations/embed.py"""
import pathlib
import re

here = pathlib.Path(__file__).resolve().parent
out = here.parent / "migrations_sql.cpp"
parts = [
    "// The SQL of src/intel/migrations/<dialect>/NNNN_name.sql as raw string literals,\n"
    "// written by src/intel/migrations/embed.py; do not edit by hand.\n"
    "// (A unit test compares every literal with its file.)\n"
    '#include "intel/migrations.h"\n\n'
    "namespace sentinel::intel {\n"
]
for dialect, fn in (("sqlite", "sqlite_migrations"), ("postgres", "postgres_migrations")):
    rows = []
    for f in sorted((here / dialect).glob("*.sql")):
        m = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", f.name)
        if not m:
            raise SystemExit(f"{f}: name must be NNNN_name.sql")
        sql = f.read_text(encoding="utf-8")
        if ")sql\"" in sql:
            raise SystemExit(f"{f}: contains the raw string delimiter")
        rows.append(f'    {{{int(m.group(1))}, "{m.group(2)}", R"sql({sql})sql"}},\n')
    parts.append(f"\nstd::span<const Migration> {fn}() {{\n  static const Migration kMigrations[] = {{\n")
    parts.extend(rows)
    parts.append("  };\n  return kMigrations;\n}\n")
parts.append("\n}  // namespace sentinel::intel\n")
out.write_text("".join(parts), encoding="utf-8")
