"""Items, scenario sets and forms as plain frozen dataclasses; no Flask, no database."""
