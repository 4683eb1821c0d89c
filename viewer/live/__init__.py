"""Live data: MQTT sources, payload decoding, the embedded broker and the simulator."""
