"""status_patch writes only what changed; conditions keep their transition time."""

from datetime import UTC, datetime, timedelta

from alertsync.models import AlertIntegrationStatus, CurrentState
from alertsync.status import set_condition, status_patch, to_wire

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_unchanged_status_within_the_heartbeat_writes_nothing() -> None:
    old = AlertIntegrationStatus(current_state=CurrentState.ENABLED, last_reconcile_at=T0)
    new = old.model_copy(update={"last_reconcile_at": T0 + timedelta(minutes=3)})
    assert status_patch(to_wire(old), new, T0 + timedelta(minutes=3)) is None


def test_unchanged_status_after_the_heartbeat_refreshes_the_timestamp_only() -> None:
    old = AlertIntegrationStatus(current_state=CurrentState.ENABLED, last_reconcile_at=T0)
    later = T0 + timedelta(minutes=11)
    new = old.model_copy(update={"last_reconcile_at": later})
    assert status_patch(to_wire(old), new, later) == {"lastReconcileAt": "2026-11-23T12:11:00Z"}


def test_a_change_is_written_with_the_fresh_timestamp() -> None:
    old = AlertIntegrationStatus(current_state=CurrentState.ENABLED, last_reconcile_at=T0)
    now = T0 + timedelta(seconds=5)
    new = old.model_copy(update={"current_state": CurrentState.ABSENT, "last_reconcile_at": now})
    assert status_patch(to_wire(old), new, now) == {
        "currentState": "absent",
        "lastReconcileAt": "2026-11-23T12:00:05Z",
    }


def test_a_cleared_field_is_sent_as_null_and_foreign_keys_are_left_alone() -> None:
    old = {**to_wire(AlertIntegrationStatus(last_error="boom")), "someoneElses": 1}
    assert status_patch(old, AlertIntegrationStatus(), T0) == {"lastError": None}


def test_condition_transition_time_moves_only_when_its_status_does() -> None:
    first = set_condition((), "Ready", "True", "Reconciled", "ok", T0, 1)
    later = T0 + timedelta(hours=1)
    same = set_condition(first, "Ready", "True", "Reconciled", "still ok", later, 2)
    assert same[0].last_transition_time == T0
    assert (same[0].message, same[0].observed_generation) == ("still ok", 2)
    flipped = set_condition(same, "Ready", "False", "InvalidSpec", "bad", later, 2)
    assert flipped[0].last_transition_time == later
