"""The ground floor: what every package may import. Nothing in `core` imports a project package."""
