"""Data -> look: small pure rules (value -> colour, matrix, text) and the adapters
that apply them in place to existing VTK objects. No Qt, no MQTT."""
