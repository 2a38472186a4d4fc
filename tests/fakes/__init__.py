"""Fakes of outside services, used by the tests, benchmarks and the dev instance."""
