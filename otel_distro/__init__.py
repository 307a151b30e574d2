"""otel-distro."""
