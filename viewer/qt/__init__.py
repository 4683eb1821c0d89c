"""The Qt application. The only package that imports Qt."""
