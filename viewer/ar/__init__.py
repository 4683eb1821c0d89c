"""AR: the live twin registered over a camera image of the real machine.

``camera`` (intrinsics, from a calibration or a stated field of view), ``calibration``
(intrinsics from chessboard views), ``pose`` (where the camera is: from the twin's markers
or from picked points, with the reprojection error that says how far to trust it).
OpenCV, no VTK or Qt.
"""
