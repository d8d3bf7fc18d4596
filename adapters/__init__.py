"""Adapters: persistence, CLI and exports. They depend inward on domain/ and projections/."""
