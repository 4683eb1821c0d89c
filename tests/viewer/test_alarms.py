"""Alarms: limits with deadband and delays, the ISA-18.2 life cycle, shelving, quality alarms."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viewer.alarm_types import AlarmSpec, AlarmState, Severity
from viewer.alarms import AlarmBook

NORMAL, UNACK, ACKED, RTN_UNACK = (AlarmState.NORMAL, AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED,
                                   AlarmState.RETURNED_UNACKED)
BEARING = AlarmSpec(warn_high=85.0, alarm_high=95.0, deadband=2.0)


def book(**spec) -> AlarmBook:
    return AlarmBook({"temp": AlarmSpec(**spec)})


def feed(alarms: AlarmBook, *samples, signal="temp", quality="live"):
    """Give (time, value) samples in order."""
    for t, value in samples:
        alarms.update(signal, value, quality, t)


def kinds(alarms: AlarmBook) -> list[tuple]:
    return [(e.time, e.kind, e.state, e.severity) for e in alarms.drain_events()]


# -- limits and deadband --------------------------------------------------------------------


def test_a_high_limit_raises_above_it_not_at_it():
    alarms = book(alarm_high=95.0)
    feed(alarms, (1.0, 95.0))
    assert alarms.get("temp").state is NORMAL
    assert alarms.update("temp", 95.1, "live", 2.0) is True
    alarm = alarms.get("temp")
    assert (alarm.state, alarm.severity, alarm.condition.name, alarm.limit, alarm.value, alarm.raised_at) == \
        (UNACK, Severity.ALARM, "alarm_high", 95.0, 95.1, 2.0)


def test_a_low_limit_raises_below_it_not_at_it():
    alarms = book(warn_low=10.0, alarm_low=5.0)
    feed(alarms, (1.0, 10.0))
    assert alarms.get("temp").state is NORMAL
    feed(alarms, (2.0, 9.9))
    assert (alarms.get("temp").condition.name, alarms.get("temp").severity) == ("warn_low", Severity.WARNING)
    feed(alarms, (3.0, 4.0))
    assert (alarms.get("temp").condition.name, alarms.get("temp").limit) == ("alarm_low", 5.0)


def test_a_high_alarm_clears_only_below_the_limit_minus_the_deadband():
    alarms = book(alarm_high=95.0, deadband=2.0)
    feed(alarms, (1.0, 96.0), (2.0, 94.0), (3.0, 93.0))  # 93 is the clear point itself: still in
    assert alarms.get("temp").state is UNACK
    feed(alarms, (4.0, 92.99))
    alarm = alarms.get("temp")
    assert (alarm.state, alarm.returned_at, alarm.condition.name) == (RTN_UNACK, 4.0, "alarm_high")


def test_a_low_alarm_clears_only_above_the_limit_plus_the_deadband():
    alarms = book(alarm_low=5.0, deadband=1.0)
    feed(alarms, (1.0, 4.0), (2.0, 5.5), (3.0, 6.0))
    assert alarms.get("temp").state is UNACK
    feed(alarms, (4.0, 6.01))
    assert alarms.get("temp").state is RTN_UNACK


def test_the_worst_exceeded_limit_is_the_active_one_and_a_jump_raises_once():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (1.0, 20.0), (2.0, 120.0))
    assert kinds(alarms) == [(2.0, "raised", UNACK, Severity.ALARM)]
    assert alarms.get("temp").condition.name == "alarm_high"


# -- delays ------------------------------------------------------------------------------------


def test_a_crossing_shorter_than_the_on_delay_raises_nothing():
    alarms = book(alarm_high=95.0, on_delay=5.0)
    feed(alarms, (0.0, 96.0), (4.9, 94.0))
    alarms.tick(20.0)
    assert alarms.get("temp").state is NORMAL
    assert alarms.drain_events() == []


def test_the_on_delay_must_hold_continuously_it_starts_over_after_a_dip():
    alarms = book(alarm_high=95.0, on_delay=5.0)
    feed(alarms, (0.0, 96.0), (3.0, 90.0), (4.0, 97.0))
    alarms.tick(8.9)
    assert alarms.get("temp").state is NORMAL
    assert alarms.tick(9.0) == ["temp"]
    assert alarms.get("temp").raised_at == 9.0


def test_the_on_delay_raises_at_the_instant_it_elapses_whatever_the_tick_rate():
    ticked, untouched = book(alarm_high=95.0, on_delay=5.0), book(alarm_high=95.0, on_delay=5.0)
    feed(ticked, (10.0, 96.0))
    feed(untouched, (10.0, 96.0))
    ticked.tick(12.5)
    ticked.tick(17.0)
    feed(untouched, (30.0, 97.0))  # no tick at all: the next update settles the delay first
    assert ticked.get("temp").raised_at == untouched.get("temp").raised_at == 15.0
    assert kinds(ticked) == kinds(untouched) == [(15.0, "raised", UNACK, Severity.ALARM)]


def test_the_off_delay_keeps_the_alarm_through_a_brief_dip():
    alarms = book(alarm_high=95.0, off_delay=3.0)
    feed(alarms, (0.0, 96.0), (10.0, 80.0), (12.0, 96.0))
    alarms.tick(30.0)
    assert alarms.get("temp").state is UNACK
    feed(alarms, (40.0, 80.0))
    alarms.tick(42.9)
    assert alarms.get("temp").state is UNACK
    alarms.tick(43.0)
    assert (alarms.get("temp").state, alarms.get("temp").returned_at) == (RTN_UNACK, 43.0)


def test_delays_of_two_limits_elapse_in_time_order():
    alarms = AlarmBook({"temp": AlarmSpec(warn_high=85.0, alarm_high=95.0, on_delay=5.0)})
    feed(alarms, (0.0, 90.0), (2.0, 100.0))  # warning pending from 0, alarm from 2
    alarms.tick(60.0)
    assert kinds(alarms) == [(5.0, "raised", UNACK, Severity.WARNING), (7.0, "escalated", UNACK, Severity.ALARM)]


# -- the life cycle -------------------------------------------------------------------------


def _in_state(state: AlarmState) -> AlarmBook:
    alarms = book(alarm_high=95.0)
    if state is not NORMAL:
        feed(alarms, (1.0, 96.0))
    if state is ACKED:
        alarms.acknowledge("temp", "ann", 2.0)
    if state is RTN_UNACK:
        feed(alarms, (2.0, 90.0))
    alarms.drain_events()
    return alarms


@pytest.mark.parametrize("before, acknowledged, after", [
    (NORMAL, False, NORMAL),
    (UNACK, True, ACKED),
    (ACKED, False, ACKED),
    (RTN_UNACK, True, NORMAL),
])
def test_acknowledge_in_every_state(before, acknowledged, after):
    alarms = _in_state(before)
    assert alarms.get("temp").state is before
    assert alarms.acknowledge("temp", "bob", 5.0) is acknowledged
    alarm = alarms.get("temp")
    assert alarm.state is after
    events = alarms.drain_events()
    if acknowledged:
        assert [(e.time, e.kind, e.state, e.who) for e in events] == [(5.0, "acknowledged", after, "bob")]
        assert (alarm.acked_by, alarm.acked_at) == ("bob", 5.0)
    else:
        assert events == []


def test_an_acknowledge_sees_the_delays_that_elapsed_before_it_and_needs_who():
    alarms = book(alarm_high=95.0, off_delay=5.0)
    feed(alarms, (0.0, 96.0), (10.0, 90.0))  # returns at 15, no tick since
    assert alarms.acknowledge("temp", "ann", 20.0) is True
    assert alarms.get("temp").state is NORMAL
    assert kinds(alarms) == [(0.0, "raised", UNACK, Severity.ALARM), (15.0, "returned", RTN_UNACK, Severity.ALARM),
                             (20.0, "acknowledged", NORMAL, Severity.ALARM)]
    with pytest.raises(ValueError):
        alarms.acknowledge("temp", " ", 21.0)


def test_an_acknowledged_alarm_returns_straight_to_normal():
    alarms = _in_state(ACKED)
    feed(alarms, (3.0, 80.0))
    assert alarms.get("temp").state is NORMAL
    assert kinds(alarms) == [(3.0, "returned", NORMAL, Severity.ALARM)]
    assert alarms.active() == []


def test_a_returned_alarm_stays_listed_until_acknowledged_then_is_normal():
    alarms = _in_state(RTN_UNACK)
    [row] = alarms.active()
    assert (row.state, row.active, row.severity, row.duration(100.0)) == (RTN_UNACK, False, Severity.ALARM, 1.0)
    assert alarms.counts()[Severity.ALARM] == 0  # listed, but nothing is wrong now
    alarms.acknowledge("temp", "ann", 4.0)
    assert alarms.active() == []


def test_a_returned_alarm_that_comes_back_is_raised_again():
    alarms = _in_state(RTN_UNACK)
    feed(alarms, (7.0, 99.0))
    alarm = alarms.get("temp")
    assert (alarm.state, alarm.raised_at, alarm.returned_at) == (UNACK, 7.0, None)
    assert kinds(alarms) == [(7.0, "raised", UNACK, Severity.ALARM)]


def test_escalation_and_deescalation_while_unacknowledged():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (1.0, 90.0), (2.0, 96.0), (3.0, 93.5), (4.0, 90.0))  # 93.5 is inside alarm_high's deadband
    assert kinds(alarms) == [(1.0, "raised", UNACK, Severity.WARNING), (2.0, "escalated", UNACK, Severity.ALARM),
                             (4.0, "deescalated", UNACK, Severity.WARNING)]
    alarm = alarms.get("temp")
    assert (alarm.condition.name, alarm.limit, alarm.raised_at) == ("warn_high", 85.0, 1.0)  # one episode


def test_escalation_asks_for_a_new_acknowledge_and_deescalation_keeps_it():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (1.0, 90.0))
    alarms.acknowledge("temp", "ann", 1.5)
    feed(alarms, (2.0, 96.0))
    assert (alarms.get("temp").state, alarms.get("temp").acked_by) == (UNACK, "")
    alarms.acknowledge("temp", "ann", 2.5)
    feed(alarms, (3.0, 90.0))
    assert (alarms.get("temp").state, alarms.get("temp").severity) == (ACKED, Severity.WARNING)
    feed(alarms, (4.0, 80.0))
    assert alarms.get("temp").state is NORMAL


def test_acknowledge_all_acknowledges_the_listed_or_the_given_alarms():
    spec = AlarmSpec(alarm_high=95.0)
    alarms = AlarmBook({"a": spec, "b": spec, "c": spec})
    for signal in "abc":
        alarms.update(signal, 96.0, "live", 1.0)
    assert alarms.acknowledge_all("ann", 2.0, signals=["a", "b"]) == ["a", "b"]
    assert alarms.acknowledge_all("ann", 3.0) == ["c"]  # a and b are acknowledged already
    assert {a.state for a in alarms.active()} == {ACKED}


# -- shelving -----------------------------------------------------------------------------------


def test_shelving_hides_an_alarm_until_the_shelf_expires_then_it_comes_back_unacknowledged():
    alarms = _in_state(ACKED)
    alarms.shelve("temp", 600.0, "sensor being replaced", "ann", 10.0)
    assert alarms.active() == [] and alarms.counts()[Severity.ALARM] == 0
    [shelved] = alarms.shelved()
    assert (shelved.shelved_until, shelved.shelved_by, shelved.shelve_reason) == \
        (610.0, "ann", "sensor being replaced")
    assert alarms.tick(609.9) == []
    assert alarms.tick(700.0) == ["temp"]
    assert [(e.time, e.kind, e.state, e.note) for e in alarms.drain_events()] == [
        (10.0, "shelved", ACKED, "sensor being replaced"), (610.0, "shelf expired", UNACK, "")]
    assert [a.signal for a in alarms.active()] == ["temp"] and alarms.shelved() == []


def test_a_shelved_alarm_follows_its_condition_unseen_and_unshelving_a_returned_one_leaves_it_normal():
    alarms = book(alarm_high=95.0)
    alarms.shelve("temp", 60.0, "chattering", "ann", 0.0)  # shelved before it ever raised
    feed(alarms, (1.0, 96.0), (2.0, 90.0))
    assert alarms.get("temp").state is RTN_UNACK and alarms.active() == []
    assert alarms.unshelve("temp", "bob", 3.0) is True
    assert alarms.get("temp").state is NORMAL
    assert [(e.kind, e.who) for e in alarms.drain_events()][-1] == ("unshelved", "bob")
    assert alarms.unshelve("temp", "bob", 4.0) is False


def test_an_update_after_the_shelf_expired_expires_it_at_its_own_time():
    alarms = _in_state(UNACK)
    alarms.shelve("temp", 5.0, "known", "ann", 10.0)
    feed(alarms, (20.0, 97.0))
    assert [(e.time, e.kind) for e in alarms.drain_events()] == [(10.0, "shelved"), (15.0, "shelf expired")]


@pytest.mark.parametrize("seconds, reason, who", [(0.0, "r", "ann"), (-5.0, "r", "ann"), (60.0, " ", "ann"),
                                                  (60.0, "r", "")])
def test_shelving_needs_a_positive_time_a_reason_and_who(seconds, reason, who):
    with pytest.raises(ValueError):
        book(alarm_high=95.0).shelve("temp", seconds, reason, who, 0.0)


# -- quality ----------------------------------------------------------------------------------


def test_stale_and_offline_raise_a_warning_by_default_and_clear_when_live():
    alarms = book(alarm_high=95.0)
    feed(alarms, (1.0, 50.0))
    alarms.update("temp", None, "stale", 11.0)  # a quality change alone: no new value
    alarm = alarms.get("temp")
    assert (alarm.state, alarm.severity, alarm.condition.name, alarm.limit, alarm.value) == \
        (UNACK, Severity.WARNING, "stale", None, 50.0)
    alarms.update("temp", None, "offline", 12.0)
    assert alarms.get("temp").condition.name == "offline"
    feed(alarms, (13.0, 51.0))
    assert alarms.get("temp").state is RTN_UNACK
    assert [e.kind for e in alarms.drain_events()] == ["raised", "changed", "returned"]


def test_quality_severities_are_configurable_or_off():
    alarms = AlarmBook({"a": AlarmSpec(on_stale=None, on_offline=Severity.ALARM),
                        "b": AlarmSpec(on_stale=Severity.INFO)})
    alarms.update("a", None, "stale", 1.0)
    alarms.update("b", None, "stale", 1.0)
    assert (alarms.get("a").state, alarms.get("b").severity) == (NORMAL, Severity.INFO)
    alarms.update("a", None, "offline", 2.0)
    assert alarms.get("a").severity is Severity.ALARM
    for quality in ("no data", "last known", "live"):
        alarms.update("b", None, quality, 3.0)
        assert not alarms.get("b").active


def test_quality_severities_may_be_given_by_name_as_a_twin_file_writes_them():
    assert AlarmSpec(on_stale="info", on_offline="ALARM").on_stale is Severity.INFO
    with pytest.raises(ValueError, match="on_stale 'critical' is none of info, warning, alarm"):
        AlarmSpec(on_stale="critical")


def test_an_update_without_a_quality_keeps_the_last_one():
    alarms = book(alarm_high=95.0)
    alarms.update("temp", None, "offline", 1.0)
    alarms.update("temp", 20.0, None, 2.0)
    assert (alarms.get("temp").quality, alarms.get("temp").condition.name) == ("offline", "offline")


def test_a_value_alarm_outranks_a_quality_warning_and_wins_a_tie():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (1.0, 96.0))
    alarms.update("temp", None, "offline", 2.0)  # the last value is held: still above alarm_high
    assert alarms.get("temp").condition.name == "alarm_high"
    feed(alarms, (3.0, 90.0), quality="stale")
    assert alarms.get("temp").condition.name == "warn_high"  # warning against warning: the process wins


# -- states of boolean and enumerated signals -----------------------------------------------------


def test_alarm_when_and_warn_when_on_an_enumerated_signal():
    alarms = book(alarm_when="FAULT", warn_when={"STARTING", "STOPPING"})
    feed(alarms, (1.0, "RUNNING"))
    assert alarms.get("temp").state is NORMAL
    feed(alarms, (2.0, "STARTING"))
    assert (alarms.get("temp").condition.name, alarms.get("temp").severity) == ("warn_when", Severity.WARNING)
    feed(alarms, (3.0, "FAULT"))
    assert (alarms.get("temp").condition.name, alarms.get("temp").limit) == ("alarm_when", None)
    feed(alarms, (4.0, "RUNNING"))
    assert alarms.get("temp").state is RTN_UNACK


def test_alarm_when_on_a_boolean_matches_its_numeric_form_and_honours_delays():
    alarms = book(alarm_when=True, on_delay=2.0)
    feed(alarms, (0.0, 1.0), (1.0, 0.0), (5.0, True))  # a 1 s blip, then true for good
    alarms.tick(6.9)
    assert alarms.get("temp").state is NORMAL
    alarms.tick(7.0)
    assert alarms.get("temp").state is UNACK


def test_enumerated_states_mapped_to_numbers_compare_as_numbers():
    alarms = book(alarm_when=[3, 4])  # the twin's map: {FAULT: 3, ESTOP: 4}
    feed(alarms, (1.0, 4.0))
    assert alarms.get("temp").condition.name == "alarm_when"


# -- the book -------------------------------------------------------------------------------------


def test_active_is_sorted_by_severity_then_newest_first_and_counted_per_severity():
    spec = AlarmSpec(warn_high=85.0, alarm_high=95.0)
    alarms = AlarmBook({name: spec for name in ("w_old", "w_new", "a_old", "a_new", "calm")})
    for t, (signal, value) in enumerate([("w_old", 90.0), ("a_old", 99.0), ("w_new", 90.0), ("a_new", 99.0),
                                         ("calm", 20.0)]):
        alarms.update(signal, value, "live", float(t))
    assert [a.signal for a in alarms.active()] == ["a_new", "a_old", "w_new", "w_old"]
    assert alarms.counts() == {Severity.ALARM: 2, Severity.WARNING: 2, Severity.INFO: 0}


def test_a_row_has_what_the_alarm_list_shows():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (100.0, 102.0), (130.0, 103.5))
    [row] = alarms.active()
    assert (row.severity, row.signal, row.value, row.limit, row.raised_at, row.duration(160.0), row.state) == \
        (Severity.ALARM, "temp", 103.5, 95.0, 100.0, 60.0, UNACK)
    row.state = NORMAL  # a copy: the book is not changed through it
    assert alarms.get("temp").state is UNACK


def test_events_drain_once_oldest_first_with_plain_json_fields():
    alarms = AlarmBook({"temp": BEARING})
    feed(alarms, (1.0, 96.0))
    [event] = alarms.drain_events()
    assert event.as_dict() == {"time": 1.0, "signal": "temp", "alarm": "raised", "state": "active unacknowledged",
                               "severity": "alarm", "condition": "alarm_high", "value": 96.0, "limit": 95.0,
                               "who": "", "note": ""}
    assert alarms.drain_events() == []


def test_signals_without_a_spec_are_ignored():
    alarms = AlarmBook({"temp": BEARING})
    assert alarms.signals == {"temp"}
    assert alarms.update("speed", 1e9, "offline", 1.0) is False
    assert alarms.active() == [] and alarms.drain_events() == []


def test_a_spec_reports_every_problem_at_once():
    with pytest.raises(ValueError) as raised:
        AlarmSpec(warn_low=10.0, warn_high=95.0, alarm_high=90.0, deadband=-1.0, on_delay=float("nan"))
    message = str(raised.value)
    for part in ("warn_high 95.0 must be below alarm_high 90.0", "deadband -1.0", "on_delay nan"):
        assert part in message


def test_a_deadband_wider_than_the_gap_between_low_and_high_limits_is_refused():
    with pytest.raises(ValueError, match="wider than the gap from warn_low 10.0 to warn_high 20.0"):
        AlarmSpec(warn_low=10.0, warn_high=20.0, deadband=11.0)
    AlarmSpec(warn_low=10.0, warn_high=20.0, deadband=10.0)


# -- properties ------------------------------------------------------------------------------------

LIMIT, DEADBAND = 95.0, 2.0
in_the_band = st.floats(LIMIT - DEADBAND, LIMIT)
steps = st.floats(0.001, 10.0)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.tuples(steps, in_the_band), min_size=1, max_size=50),
       on_delay=st.sampled_from([0.0, 1.0, 5.0]), off_delay=st.sampled_from([0.0, 1.0, 5.0]))
def test_a_value_oscillating_inside_the_deadband_never_toggles_a_high_alarm(values, on_delay, off_delay):
    raised = AlarmBook({"temp": AlarmSpec(alarm_high=LIMIT, deadband=DEADBAND, on_delay=on_delay,
                                          off_delay=off_delay)})
    calm = AlarmBook({"temp": AlarmSpec(alarm_high=LIMIT, deadband=DEADBAND, on_delay=on_delay,
                                        off_delay=off_delay)})
    feed(raised, (0.0, LIMIT + 1.0))
    raised.tick(on_delay)
    assert raised.get("temp").active
    raised.drain_events()
    t = on_delay
    for step, value in values:
        t += step
        for alarms in (raised, calm):
            alarms.update("temp", value, "live", t)
            alarms.tick(t + step / 2)
    assert raised.get("temp").active and not calm.get("temp").active
    assert raised.drain_events() == [] and calm.drain_events() == []


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.tuples(steps, st.floats(10.0, 10.0 + DEADBAND)), min_size=1, max_size=50))
def test_a_value_oscillating_inside_the_deadband_never_toggles_a_low_alarm(values):
    alarms = AlarmBook({"temp": AlarmSpec(alarm_low=10.0, deadband=DEADBAND, off_delay=1.0)})
    feed(alarms, (0.0, 9.0))
    alarms.drain_events()
    t = 0.0
    for step, value in values:
        t += step
        alarms.update("temp", value, "live", t)
    alarms.tick(t + 100.0)
    assert alarms.get("temp").active and alarms.drain_events() == []
