"""Customer-economics warehouse helpers: raw contract, loader, demo generator, models."""
