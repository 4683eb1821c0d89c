"""The ``twinview`` command: demo, open, replay, check, watch, alarms, record, simulate, test-scenario, render, ar."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from viewer.samples import SAMPLES

# Each command imports what it uses after its arguments are parsed: `--help` and a
# mistyped option answer at once.


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, not {text!r}") from None
    return w, h


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twinview", description="Desktop digital-twin viewer.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="sample machine, embedded broker and simulator")
    demo.add_argument("--machine", choices=sorted(SAMPLES), default="pump")
    demo.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second (default 1)")
    _add_scenario(demo)
    demo.add_argument("--broker-kind", choices=["mosquitto", "amqtt"], default="mosquitto",
                      help="embedded broker to prefer (amqtt when Mosquitto is not installed)")
    _add_screenshot(demo)

    open_ = sub.add_parser("open", help="open a twin file (or a bare mesh) in the viewer")
    open_.add_argument("twin", type=Path)
    open_.add_argument("--broker", help="override the twin's broker, e.g. mqtt://host:1883")
    _add_protocol(open_)
    open_.add_argument("--allow-outside", action="store_true", help="let mesh paths leave the twin's folder")
    _add_scenario(open_)
    _add_screenshot(open_)

    check = sub.add_parser("check", help="validate a twin file (or read a mesh file); print every problem as "
                                         "FILE:LINE: message")
    check.add_argument("twin", type=Path)
    check.add_argument("--allow-outside", action="store_true")

    watch = sub.add_parser("watch", help="print every signal update and quality change as it happens")
    watch.add_argument("twin", type=Path)
    watch.add_argument("--broker", help="override the twin's broker")
    _add_protocol(watch)
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl+C)")
    watch.add_argument("--allow-outside", action="store_true")
    _add_scenario(watch)

    alarms = sub.add_parser("alarms", help="list the alarms active after watching the live data for a while; "
                                           "exit status 0 none, 4 warnings, 5 alarms, 3 no broker")
    alarms.add_argument("twin", type=Path)
    alarms.add_argument("--broker", help="override the twin's broker")
    _add_protocol(alarms)
    alarms.add_argument("--seconds", type=float, default=3.0, help="how long to watch first (default 3)")
    alarms.add_argument("--json", action="store_true", help="one JSON object per alarm")
    alarms.add_argument("--allow-outside", action="store_true")

    record = sub.add_parser("record", help="record every message the twin subscribes to into an MCAP file, "
                                           "no window needed")
    record.add_argument("twin", type=Path)
    record.add_argument("-o", "--output", required=True, type=Path, help="the .mcap file to write")
    record.add_argument("--duration", type=float, help="seconds to record (default: until Ctrl+C)")
    record.add_argument("--broker", help="override the twin's broker")
    _add_protocol(record)
    record.add_argument("--allow-outside", action="store_true")
    record.add_argument("--scenario", type=Path, help="attach a scenario: the replay applies it (a trainer's "
                                                      "session); the recording itself is what arrived")

    replay = sub.add_parser("replay", help="play a recording back in the window, through the live path")
    replay.add_argument("recording", type=Path, help="an .mcap file (twinview record, or another tool's)")
    replay.add_argument("--twin", type=Path, help="the twin to show it on (default: the one it was recorded with)")
    replay.add_argument("--speed", type=_speed, default=1.0, help="recorded seconds per second: 0.1 to 50, "
                                                                  "or max (default 1)")
    replay.add_argument("--allow-outside", action="store_true")
    _add_scenario(replay)
    _add_screenshot(replay)

    simulate = sub.add_parser("simulate", help="publish a twin's simulate section to a broker you name, or to a "
                                                "private one started here (never the twin's own by default)")
    simulate.add_argument("twin", type=Path)
    simulate.add_argument("--broker", help="where to publish (default: a private broker, its URL printed)")
    simulate.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second (default 1)")
    simulate.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl+C)")
    simulate.add_argument("--allow-outside", action="store_true")
    simulate.add_argument("--scenario", type=Path, help="virtual faults put into what is published")

    trial = sub.add_parser("test-scenario", help="run a scenario on the twin's simulator and models faster than "
                                                 "real time, no window: when each alarm and prediction comes")
    trial.add_argument("twin", type=Path)
    trial.add_argument("--scenario", type=Path, help="the virtual faults (default: none, the twin as simulated)")
    trial.add_argument("--until", type=_duration, default=3600.0, help="simulated time: 8h, 45m, 600s (default 1h)")
    trial.add_argument("-o", "--output", type=Path, help="also write OUTPUT.json and OUTPUT.html (with trends)")
    trial.add_argument("--allow-outside", action="store_true")

    ar = sub.add_parser("ar", help="the live twin over a camera's picture of the machine, registered by its "
                                   "markers, to a PNG")
    ar.add_argument("twin", type=Path)
    ar.add_argument("--camera", required=True, help="a camera number, a video file, a stream URL or a photo")
    ar.add_argument("--calibration", type=Path, help="the camera's calibration (YAML); without it, --fov is assumed")
    ar.add_argument("--fov", type=float, default=60.0, help="horizontal field of view in degrees, uncalibrated")
    ar.add_argument("-o", "--output", required=True, type=Path)
    ar.add_argument("--seconds", type=float, default=3.0, help="how long to collect live values")
    ar.add_argument("--broker", help="override the twin's broker")
    ar.add_argument("--allow-outside", action="store_true")

    calibrate = sub.add_parser("calibrate", help="a camera's intrinsics from photos of a printed chessboard")
    calibrate.add_argument("images", nargs="+", type=Path, help="photos of the board from different angles")
    calibrate.add_argument("-o", "--output", required=True, type=Path, help="the calibration (YAML) to write")
    calibrate.add_argument("--board", type=_size, default=(9, 6), help="inner corners, COLSxROWS (default 9x6)")
    calibrate.add_argument("--square", type=float, default=0.025, help="a square's side in metres (default 0.025)")

    render = sub.add_parser("render", help="render a twin with live values to a PNG, no display needed")
    render.add_argument("twin", type=Path)
    render.add_argument("-o", "--output", required=True, type=Path)
    render.add_argument("--seconds", type=float, default=3.0, help="how long to collect live values")
    render.add_argument("--broker", help="override the twin's broker")
    _add_protocol(render)
    render.add_argument("--size", type=_size, default=(1280, 800), help="WxH in pixels (default 1280x800)")
    render.add_argument("--allow-outside", action="store_true")
    return parser


def _speed(text: str) -> float:
    from viewer.live.replay import SPEEDS

    speed = float("inf") if text == "max" else float(text) if text.replace(".", "", 1).isdigit() else None
    if speed not in SPEEDS:
        raise argparse.ArgumentTypeError(f"speed must be one of {', '.join(f'{s:g}' for s in SPEEDS[:-1])} or max")
    return speed


def _duration(text: str) -> float:
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1.0)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 30 * 86400:
        raise argparse.ArgumentTypeError(f"a time such as 8h, 45m or 600s (at most 30 days), not {text!r}")
    return seconds


def _add_scenario(parser) -> None:
    parser.add_argument("--scenario", type=Path, help="virtual faults on what is shown (a scenario file); "
                                                      "nothing is published")


def _scenario(args, twin):
    from viewer.twin.scenario import load_scenario

    return load_scenario(args.scenario, twin.signals) if getattr(args, "scenario", None) else None


def _add_protocol(parser) -> None:
    parser.add_argument("--mqtt", choices=["3.1.1", "5"], help="override the twin's MQTT protocol version")


def _load(args, geometry: bool = True):
    """The twin named on the command line, with the protocol override applied."""
    from viewer.twin.loader import load_twin

    twin = load_twin(args.twin, allow_outside=args.allow_outside, geometry=geometry)
    if getattr(args, "mqtt", None) and twin.broker is not None:
        twin.broker = twin.broker.model_copy(update={"protocol": args.mqtt})
    return twin


def _add_screenshot(parser) -> None:
    parser.add_argument("--screenshot", type=Path, help="save the window to this PNG after --seconds, then quit")
    parser.add_argument("--seconds", type=float, default=5.0)


def main(argv=None) -> int:
    """Entry point of the ``twinview`` console script."""
    args = _parser().parse_args(argv)
    from meshes.formats import SUPPORTED_SUFFIXES, MeshImportError
    from viewer.live.mqtt import CredentialsError, password_for
    from viewer.live.replay import RecordingReadError
    from viewer.twin.loader import TwinError, load_twin, twin_from_mesh
    from viewer.twin.url import BrokerUrlError, parse_broker_url

    if threading.current_thread() is threading.main_thread():
        # `kill` ends a command the way Ctrl+C does: its clean-up runs (the window sets its own).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        if getattr(args, "broker", None):
            parse_broker_url(args.broker)
        if args.command == "check":
            if args.twin.suffix.lower() in SUPPORTED_SUFFIXES:  # a mesh: can it be read, and as what
                twin = twin_from_mesh(args.twin)
            else:
                twin = load_twin(args.twin, allow_outside=args.allow_outside)
            for note in twin.notes:
                print(f"{args.twin}: {note}")
            n = len(twin.procedures)
            procedures = f", {n} procedure{'' if n == 1 else 's'}" if n else ""
            print(f"{args.twin}: OK: {len(twin.assembly)} parts, {len(twin.signals)} signals, "
                  f"{len(twin.bindings)} bindings{procedures}")
            return 0
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "ar":
            from viewer.ar.camera import Intrinsics
            from viewer.ar_render import ar_render

            try:
                calibration = Intrinsics.load(args.calibration) if args.calibration else None
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            report = ar_render(_load(args), args.camera, str(args.output), calibration, args.fov, args.seconds,
                               args.broker)
            print(f"{args.output}: {report.message}")
            return report.exit_status
        if args.command == "watch":
            from viewer.watch import watch

            twin = _load(args, geometry=False)  # text only: no meshes, no VTK
            watch(twin, args.broker, args.json, args.seconds, password=password_for(twin.broker),
                  scenario=_scenario(args, twin))
            return 0
        if args.command == "alarms":
            from viewer.watch import alarms_now, print_alarms

            twin = _load(args, geometry=False)
            found, connected = alarms_now(twin, args.broker, args.seconds, password_for(twin.broker))
            if not connected:
                print(f"broker not reachable: {args.broker or twin.broker_url}", file=sys.stderr)
            return print_alarms(twin, found, connected, args.json)
        if args.command == "record":
            from viewer.live.recorder import RecordingError
            from viewer.record import record

            twin = _load(args, geometry=False)
            try:
                _scenario(args, twin)  # checked before anything is recorded
                return record(twin, args.output, args.broker, args.duration, password_for(twin.broker),
                              scenario=args.scenario)
            except RecordingError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        if args.command == "simulate":
            from viewer.simulate import simulate

            twin = _load(args, geometry=False)
            return simulate(twin, args.broker, args.speed, args.seconds, scenario=_scenario(args, twin))
        if args.command == "test-scenario":
            import json

            from viewer.virtual_test import html, run_scenario

            twin = _load(args, geometry=False)
            report = run_scenario(twin, _scenario(args, twin), args.until)
            text = json.dumps(report.as_dict(), ensure_ascii=False)
            if args.output is not None:
                args.output.with_suffix(".json").write_text(text)
                args.output.with_suffix(".html").write_text(html(report))
                print(f"wrote {args.output.with_suffix('.json')} and {args.output.with_suffix('.html')}", file=sys.stderr)
            summary = {k: v for k, v in report.as_dict().items() if k != "traces"}
            print(json.dumps(summary, ensure_ascii=False, indent=1))
            return 0
        if args.command == "render":
            from viewer.render import render_twin

            twin = _load(args)
            report = render_twin(twin, str(args.output), args.seconds, args.size, args.broker,
                                 password_for(twin.broker))
            print(f"wrote {args.output} ({report.status})")
            if report.qualities and not report.connected:
                print(f"broker not reachable: drawn with no data ({report.status})", file=sys.stderr)
            else:
                for name, quality in report.qualities.items():
                    if quality != "live":
                        print(f"not live: {name} ({quality})", file=sys.stderr)
            return report.exit_status
        _require_display()
        from viewer.qt.app import run_demo, run_window

        if args.command == "demo":
            return run_demo(args.machine, args.screenshot, args.seconds, args.speed, args.broker_kind, args.scenario)
        if args.command == "replay":
            from viewer.live.replay import ReplaySource

            source = ReplaySource(args.recording, args.speed)
            args.twin = args.twin or (Path(source.info.twin) if source.info.twin else None)
            if args.twin is None or not args.twin.is_file():
                source.stop()
                where = f" ({source.info.twin} is not here)" if source.info.twin else ""
                print(f"error: the recording names no twin file to show it on{where}: give --twin TWIN.yaml",
                      file=sys.stderr)
                return 1
            twin = _load(args)
            scenario = _scenario(args, twin)
            if scenario is None and source.info.scenario is not None:  # the one the session was prepared with
                from viewer.twin.scenario import load_scenario

                name, text = source.info.scenario
                scenario = load_scenario(f"{args.recording}:{name}", twin.signals, text.decode())
            return run_window(twin, None, None, args.screenshot, args.seconds, source=source, scenario=scenario)
        path = args.twin
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            twin = twin_from_mesh(path)
        else:
            twin = _load(args)
        return run_window(twin, args.broker, None, args.screenshot, args.seconds, scenario=_scenario(args, twin))
    except TwinError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    except (MeshImportError, BrokerUrlError, CredentialsError, RecordingReadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _calibrate(args) -> int:
    """``twinview calibrate``: the intrinsics, their error, and which parts of the picture
    the board has not been in (where to hold it next time)."""
    import cv2

    from viewer.ar.calibration import COVERAGE_GRID, Board, CalibrationError, calibrate, coverage

    board = Board(args.board, args.square)
    images = []
    for path in args.images:
        image = cv2.imread(str(path))
        if image is None:
            print(f"error: cannot read the image {path}", file=sys.stderr)
            return 1
        images.append(image)
    try:
        camera, used = calibrate(images, board)
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    camera.save(args.output)
    found = [c for c in (board.find(i) for i in images) if c is not None]
    empty = int((coverage(found, camera.size) == 0).sum())
    fx, fy, cx, cy = camera.matrix[0, 0], camera.matrix[1, 1], camera.matrix[0, 2], camera.matrix[1, 2]
    print(f"{args.output}: {camera.size[0]}x{camera.size[1]}, fx {fx:.1f} fy {fy:.1f} px, centre ({cx:.1f}, {cy:.1f}), "
          f"reprojection error {camera.error_px:.2f} px, from {used} of {len(images)} photos")
    if empty:
        cells = COVERAGE_GRID[0] * COVERAGE_GRID[1]
        print(f"the board was never in {empty} of the picture's {cells} parts: more photos with it near the edges "
              "and corners make the lens's distortion surer")
    return 0


def _require_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        sys.exit("twinview: no display. Run it under a desktop session or `xvfb-run -a twinview ...`; "
                 "`twinview render` draws a PNG with no display at all.")


if __name__ == "__main__":
    sys.exit(main())
