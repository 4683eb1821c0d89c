"""TwinView, the application: twin files, live sources, state, scene, Qt and CLI."""
