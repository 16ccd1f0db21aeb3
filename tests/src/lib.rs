//! The end-to-end tests live in tests/e2e/: one test binary, a module per area (see its main.rs).
